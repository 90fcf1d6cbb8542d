package osmapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// redactRoutes are openstreetmap-website's redact calls (config/routes.rb
// post "node/:id/:version/redact" => "old_nodes#redact", and for ways and
// relations): an administrator (OSM's moderator) hides a historical
// version with ?redaction=ID, and shows it again without it. Redaction
// is Rails', not cgimap's. Anonymous callers get 401, other users 403.
var redactRoutes = []struct {
	pattern string
	typ     osmdata.ElementType
}{
	{"/api/0.6/node/{id}/{version}/redact", osmdata.Node},
	{"/api/0.6/way/{id}/{version}/redact", osmdata.Way},
	{"/api/0.6/relation/{id}/{version}/redact", osmdata.Relation},
}

// registerRedactions mounts the redact calls when the API reads a store
// that redacts (a read-only mirror does not).
func (a *API) registerRedactions(mux *http.ServeMux) {
	ops, ok := a.Reader.(storage.Operations)
	if !ok {
		return
	}
	for _, rt := range redactRoutes {
		mux.Handle("POST "+rt.pattern, a.withCORS(a.redactHandler(ops, rt.typ)))
	}
}

// redactHandler redacts (redaction given) or unredacts (none) one
// version and answers 200 with an empty body, as openstreetmap-website's
// old_elements_controller redact does. The reason, kept in the audit
// log, is ours: OSM's reason lives on its redaction object.
func (a *API) redactHandler(ops storage.Operations, t osmdata.ElementType) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := editing.CheckWriter(who(r)); err != nil {
			a.fail(w, r, err)
			return
		}
		caller := who(r)
		if caller.Role != auth.RoleAdmin {
			writeError(w, r, newError(editing.ErrAdminOnly))
			return
		}
		id, idOK := parseID(r.PathValue("id"))
		v, vOK := parseVersion(r.PathValue("version"))
		if !idOK || !vOK {
			writeError(w, r, newError(errNotFound))
			return
		}
		key := storage.VersionKey{Element: osmdata.Key{Type: t, ID: id}, Version: v}
		reason := r.FormValue("reason")
		var err error
		if param := r.FormValue("redaction"); param == "" {
			err = a.unredact(r, ops, key, caller.UserID, reason)
		} else {
			// Rails' Redaction.find: an id that names no redaction is 404.
			redaction, perr := strconv.ParseInt(param, 10, 64)
			if perr != nil || redaction <= 0 {
				writeError(w, r, newError(errNotFound))
				return
			}
			_, err = ops.Redact(r.Context(), storage.Redaction{Version: key, RedactionID: redaction, Reason: reason, AdminID: caller.UserID})
		}
		switch {
		case errors.Is(err, storage.ErrNotFound):
			writeError(w, r, newError(errNotFound))
		case errors.Is(err, storage.ErrCannotRedactCurrent):
			writeError(w, r, newError(editing.ErrCannotRedactCurrent))
		case err != nil:
			a.fail(w, r, err)
		default:
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusOK)
		}
	})
}

// unredact shows a version again; like openstreetmap-website's, it
// succeeds on a version that is not redacted, and is 404 only for a
// version that does not exist.
func (a *API) unredact(r *http.Request, ops storage.Operations, key storage.VersionKey, admin int64, reason string) error {
	err := ops.Unredact(r.Context(), key, admin, reason)
	if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	_, verr := a.Reader.ElementVersion(r.Context(), key.Element.Type, key.Element.ID, key.Version)
	return verr
}

// showRedactions is what a version read or a history reads redacted
// versions through: the store's administrative reads when an
// administrator (OSM's moderator) asks ?show_redactions=true, nil for
// everyone else, who get what they get without the parameter, as
// openstreetmap-website's Api::OldElementsController#show_redactions?
// has it (current_user&.moderator? && params[:show_redactions] == "true":
// the role alone, no OAuth scope; the value exactly "true").
func (a *API) showRedactions(r *http.Request) storage.Operations {
	if r.URL.Query().Get("show_redactions") != "true" {
		return nil
	}
	if caller := who(r); caller == nil || caller.Role != auth.RoleAdmin {
		return nil
	}
	ops, _ := a.Reader.(storage.Operations)
	return ops
}
