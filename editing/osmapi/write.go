package osmapi

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// The changeset and write calls, as openstreetmap.org serves them
// (cgimap src/routes.cpp for changesets, uploads and the single-element
// calls; openstreetmap-website config/routes.rb for the rest). Each
// handler checks the caller first, as cgimap does before it reads a
// body, then reads and parses the body, then calls editing.Service.

// writeRoute is one method and pattern of a write call.
type writeRoute struct {
	method  string
	pattern string
	handle  func(a *API, w http.ResponseWriter, r *http.Request)
}

func writeRoutes() []writeRoute {
	routes := []writeRoute{
		{http.MethodPut, "/api/0.6/changeset/create", (*API).createChangeset},
		{http.MethodPost, "/api/0.6/changesets", (*API).createChangeset},
		{http.MethodPut, "/api/0.6/changeset/{id}", (*API).updateChangeset},
		{http.MethodPut, "/api/0.6/changeset/{id}/close", (*API).closeChangeset},
		{http.MethodPost, "/api/0.6/changeset/{id}/upload", (*API).upload},
	}
	for _, t := range osmdata.ElementTypes {
		base := "/api/0.6/" + t.String()
		routes = append(routes,
			writeRoute{http.MethodPut, base + "/create", elementWrite(t, (*API).createElement)},
			writeRoute{http.MethodPut, base + "/{id}", elementWrite(t, (*API).modifyElement)},
			writeRoute{http.MethodDelete, base + "/{id}", elementWrite(t, (*API).deleteElement)},
		)
	}
	return routes
}

// changesetReadRoutes are the changeset reads, registered like the other
// read routes.
var changesetReadRoutes = []struct {
	pattern string
	handle  func(a *API, w http.ResponseWriter, r *http.Request)
}{
	{"/api/0.6/changeset/{id}", (*API).getChangeset},
	{"/api/0.6/changesets", (*API).listChangesets},
	{"/api/0.6/changeset/{id}/download", (*API).downloadChangeset},
	{"/api/0.6/changeset/{id}/conflicts", (*API).changesetConflicts},
}

func elementWrite(t osmdata.ElementType, h func(*API, osmdata.ElementType, http.ResponseWriter, *http.Request)) func(*API, http.ResponseWriter, *http.Request) {
	return func(a *API, w http.ResponseWriter, r *http.Request) { h(a, t, w, r) }
}

// registerWrites adds the write routes and the changeset reads, and
// returns the method+pattern pairs they claim so that the read routes do
// not answer them with 405.
func (a *API) registerWrites(mux *http.ServeMux, edit *editing.Service) map[string]bool {
	claimed := map[string]bool{}
	methodsOf := map[string][]string{}
	for _, rt := range writeRoutes() {
		methodsOf[rt.pattern] = append(methodsOf[rt.pattern], rt.method)
	}
	readPatterns := map[string]bool{}
	for _, rt := range routes {
		readPatterns[rt.pattern] = true
	}
	for _, rt := range changesetReadRoutes {
		readPatterns[rt.pattern] = true
	}
	// Preflights and CORS headers list every method of the path.
	allowOf := func(p string) string {
		var m []string
		if readPatterns[p] {
			m = append(m, http.MethodGet, http.MethodHead)
		}
		m = append(m, methodsOf[p]...)
		return strings.Join(append(m, http.MethodOptions), ", ")
	}
	for _, rt := range writeRoutes() {
		rt := rt
		mux.Handle(rt.method+" "+rt.pattern, a.withCORSMethods(allowOf(rt.pattern), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rt.handle(a, w, r)
		})))
		claimed[rt.method+" "+rt.pattern] = true
	}
	for p := range methodsOf {
		allow := allowOf(p)
		mux.Handle(http.MethodOptions+" "+p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if preflightMethods(w, r, allow) {
				return
			}
			corsHeadersFor(w, r, allow)
			writeError(w, r, newError(errMethodNotAllowed))
		}))
		claimed[http.MethodOptions+" "+p] = true
	}
	for _, rt := range changesetReadRoutes {
		rt := rt
		h := a.withCORSMethods(allowOf(rt.pattern), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rt.handle(a, w, r) }))
		for _, p := range patternVariants(rt.pattern) {
			mux.Handle("GET "+p, h)
			claimed["GET "+p] = true
			for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodOptions} {
				if !claimed[m+" "+p] {
					mux.Handle(m+" "+p, http.HandlerFunc(otherMethod))
					claimed[m+" "+p] = true
				}
			}
		}
	}
	return claimed
}

// who is the caller, nil when anonymous.
func who(r *http.Request) *auth.Identity { return auth.FromContext(r.Context()) }

// checkWriter answers a caller that may not write; it reports whether it
// did.
func (a *API) checkWriter(w http.ResponseWriter, r *http.Request) bool {
	if err := editing.CheckWriter(who(r)); err != nil {
		a.fail(w, r, err)
		return true
	}
	return false
}

// writeText answers text/plain, as cgimap's text_responder does for new
// ids and versions.
func writeText(w http.ResponseWriter, text string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "private, max-age=0, must-revalidate")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, text)
}

func (a *API) maxUploadBytes() int64 {
	if a.MaxUploadBytes > 0 {
		return a.MaxUploadBytes
	}
	if edit := a.editingService(); edit != nil {
		return edit.Limits().MaxUploadBytes
	}
	return editing.DefaultMaxUploadBytes
}

func (a *API) maxInflateRatio() int {
	if a.MaxInflateRatio > 0 {
		return a.MaxInflateRatio
	}
	return DefaultMaxInflateRatio
}

// PUT /api/0.6/changeset/create and POST /api/0.6/changesets: the new
// changeset's id as text.
func (a *API) createChangeset(w http.ResponseWriter, r *http.Request) {
	if a.checkWriter(w, r) {
		return
	}
	tags, ok := a.changesetBody(w, r)
	if !ok {
		return
	}
	cs, err := a.editingService().CreateChangeset(r.Context(), who(r), tags)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeText(w, strconv.FormatInt(cs.ID, 10))
}

// changesetBody reads the tags of a changeset body.
func (a *API) changesetBody(w http.ResponseWriter, r *http.Request) (osmdata.Tags, bool) {
	limit := a.maxUploadBytes()
	body, aerr := requestBody(w, r, limit, a.maxInflateRatio())
	if aerr != nil {
		writeError(w, r, aerr)
		return nil, false
	}
	defer body.Close()
	tags, err := a.editingService().ReadChangesetBody(body)
	if err != nil {
		a.failBody(w, r, err, limit)
		return nil, false
	}
	return tags, true
}

// changesetID reads the changeset id of the path; an id that is not one
// matches no route in cgimap: 404.
func changesetID(r *http.Request) (int64, *apiError) {
	return pathID(r)
}

// PUT /api/0.6/changeset/ID: replaces the tags and answers the changeset.
func (a *API) updateChangeset(w http.ResponseWriter, r *http.Request) {
	id, aerr := changesetID(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	if a.checkWriter(w, r) {
		return
	}
	tags, ok := a.changesetBody(w, r)
	if !ok {
		return
	}
	cs, err := a.editingService().UpdateChangeset(r.Context(), who(r), id, tags)
	updated := []osmdata.Changeset{cs}
	if err == nil {
		err = a.addCommentCounts(r.Context(), updated)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeChangesets(w, r, updated, true)
}

// PUT /api/0.6/changeset/ID/close: an empty 200.
func (a *API) closeChangeset(w http.ResponseWriter, r *http.Request) {
	id, aerr := changesetID(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	if a.checkWriter(w, r) {
		return
	}
	if _, err := a.editingService().CloseChangeset(r.Context(), who(r), id); err != nil {
		a.fail(w, r, err)
		return
	}
	writeText(w, "")
}

// GET /api/0.6/changeset/ID (.json): the changeset with its review state.
func (a *API) getChangeset(w http.ResponseWriter, r *http.Request) {
	id, aerr := changesetID(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	cs, err := a.editingService().Changeset(r.Context(), id)
	if err == nil {
		err = a.addDiscussion(r.Context(), &cs, includeDiscussion(r))
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeChangesets(w, r, []osmdata.Changeset{cs}, true)
}

// GET /api/0.6/changesets (.json): the changesets the query selects,
// newest first.
func (a *API) listChangesets(w http.ResponseWriter, r *http.Request) {
	q, aerr := parseChangesetQuery(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	list, err := a.editingService().Changesets(r.Context(), q)
	if err == nil {
		err = a.addCommentCounts(r.Context(), list)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeChangesets(w, r, list, false)
}

func (a *API) writeChangesets(w http.ResponseWriter, r *http.Request, list []osmdata.Changeset, single bool) {
	body, f, finish, ok := a.startReply(w, r, availableFormats, nil)
	if !ok {
		return
	}
	var err error
	now := time.Now()
	switch {
	case f == formatJSON && single:
		err = osmdata.WriteChangesetJSON(body, a.header(), now, list[0])
	case f == formatJSON:
		err = osmdata.WriteChangesetsJSON(body, a.header(), now, list)
	default:
		err = osmdata.WriteChangesetsXML(body, a.header(), now, list...)
	}
	a.finishSmallReply(r, finish, err)
}

// GET /api/0.6/changeset/ID/download: the changeset as osmChange, one
// version per element (design.md): once merged, the final versions.
func (a *API) downloadChangeset(w http.ResponseWriter, r *http.Request) {
	id, aerr := changesetID(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	changes, err := a.editingService().Download(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	cs, err := a.editingService().Changeset(r.Context(), id)
	if err == nil {
		changes, err = a.mergedDownload(r.Context(), cs, changes)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	body, _, finish, ok := a.startReply(w, r, []format{formatXML}, nil)
	if !ok {
		return
	}
	cw := osmdata.NewChangeWriter(body, a.header())
	var err2 error
	for i := range changes {
		if err2 = cw.WriteChange(osmdata.Action(changes[i].Action), &changes[i].Element); err2 != nil {
			break
		}
	}
	if err2 == nil {
		err2 = cw.Close()
	}
	a.finishSmallReply(r, finish, err2)
}

// POST /api/0.6/changeset/ID/upload: the osmChange body, streamed
// through the parser, staged all or nothing; the diffResult.
func (a *API) upload(w http.ResponseWriter, r *http.Request) {
	id, aerr := changesetID(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	if a.checkWriter(w, r) {
		return
	}
	limit := a.maxUploadBytes()
	body, aerr := requestBody(w, r, limit, a.maxInflateRatio())
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	defer body.Close()
	res, err := a.editingService().UploadOsmChange(r.Context(), who(r), id, body)
	if err != nil {
		a.failBody(w, r, err, limit)
		return
	}
	replyBody, _, finish, ok := a.startReply(w, r, []format{formatXML}, nil)
	if !ok {
		return
	}
	entries := make([]osmdata.DiffResultEntry, len(res.Entries))
	for i, e := range res.Entries {
		entries[i] = osmdata.DiffResultEntry{Type: e.Type, OldID: e.OldID, NewID: e.NewID, NewVersion: e.NewVersion,
			OldIDOnly: e.Action == storage.Delete && !e.Skipped}
	}
	a.finishSmallReply(r, finish, osmdata.WriteDiffResult(replyBody, a.header(), entries))
}

// failBody answers a failure that may come from reading the body.
func (a *API) failBody(w http.ResponseWriter, r *http.Request, err error, limit int64) {
	if isBodyError(err) {
		writeError(w, r, bodyError(err, limit))
		return
	}
	a.fail(w, r, err)
}

// elementBody reads the body of a single-element call.
func (a *API) elementBody(w http.ResponseWriter, r *http.Request, t osmdata.ElementType, action storage.Action) (osmdata.Element, bool) {
	limit := a.maxUploadBytes()
	body, aerr := requestBody(w, r, limit, a.maxInflateRatio())
	if aerr != nil {
		writeError(w, r, aerr)
		return osmdata.Element{}, false
	}
	defer body.Close()
	e, err := a.editingService().ReadElementBody(body, t, action)
	if err != nil {
		a.failBody(w, r, err, limit)
		return osmdata.Element{}, false
	}
	return e, true
}

// PUT /api/0.6/{type}/create: the new id as text.
func (a *API) createElement(t osmdata.ElementType, w http.ResponseWriter, r *http.Request) {
	if a.checkWriter(w, r) {
		return
	}
	e, ok := a.elementBody(w, r, t, storage.Create)
	if !ok {
		return
	}
	id, err := a.editingService().CreateElement(r.Context(), who(r), e)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeText(w, strconv.FormatInt(id, 10))
}

// bodyForID reads the body of a modify or delete of the path's element,
// whose id the body must repeat (openstreetmap-website nodes_controller.rb).
func (a *API) bodyForID(t osmdata.ElementType, action storage.Action, w http.ResponseWriter, r *http.Request) (osmdata.Element, bool) {
	id, aerr := pathID(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return osmdata.Element{}, false
	}
	if a.checkWriter(w, r) {
		return osmdata.Element{}, false
	}
	e, ok := a.elementBody(w, r, t, action)
	if !ok {
		return osmdata.Element{}, false
	}
	if e.ID != id {
		writeError(w, r, newError(editing.ErrURLIDMismatch, id, e.ID))
		return osmdata.Element{}, false
	}
	return e, true
}

// PUT /api/0.6/{type}/ID: the new version as text.
func (a *API) modifyElement(t osmdata.ElementType, w http.ResponseWriter, r *http.Request) {
	e, ok := a.bodyForID(t, storage.Modify, w, r)
	if !ok {
		return
	}
	v, err := a.editingService().ModifyElement(r.Context(), who(r), e)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeText(w, strconv.Itoa(v))
}

// DELETE /api/0.6/{type}/ID: the new version as text.
func (a *API) deleteElement(t osmdata.ElementType, w http.ResponseWriter, r *http.Request) {
	e, ok := a.bodyForID(t, storage.Delete, w, r)
	if !ok {
		return
	}
	v, err := a.editingService().DeleteElement(r.Context(), who(r), e)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeText(w, strconv.Itoa(v))
}

// parseChangesetQuery reads GET /api/0.6/changesets's parameters as
// openstreetmap-website's changesets_controller.rb query does, plus
// review_state (a comma-separated list of states).
func parseChangesetQuery(r *http.Request) (storage.ChangesetQuery, *apiError) {
	var q storage.ChangesetQuery
	if v, ok := queryParam(r, "bbox"); ok {
		box, err := osmdata.ParseBBox(v)
		switch err {
		case nil:
		case osmdata.ErrBoxRange:
			return q, newError(errBBoxRange)
		default:
			return q, newError(errBBoxFormat)
		}
		fixed := box.Fixed()
		q.Box = &fixed
	}
	user, hasUser := queryParam(r, "user")
	name, hasName := queryParam(r, "display_name")
	switch {
	case hasUser && hasName:
		return q, newError(editing.ErrQueryUserAndName)
	case hasUser:
		uid := int64(rubyNumber(user, 63))
		if uid < 1 {
			return q, newError(editing.ErrQueryInvalidUser)
		}
		q.UID = uid
	case hasName:
		q.DisplayName = name
	}
	if v, ok := queryParam(r, "time"); ok {
		parts := strings.Split(v, ",")
		if len(parts) > 2 {
			return q, newError(editing.ErrQueryTimeRange)
		}
		from, err := parseQueryTime(parts[0])
		if err != nil {
			return q, newError(editing.ErrQueryTime, parts[0])
		}
		q.ClosedAfter = from
		if len(parts) == 2 {
			to, err := parseQueryTime(parts[1])
			if err != nil {
				return q, newError(editing.ErrQueryTime, parts[1])
			}
			q.CreatedBefore = to
		}
	}
	_, q.OnlyOpen = queryParam(r, "open")
	_, q.OnlyClosed = queryParam(r, "closed")
	if v, ok := queryParam(r, "changesets"); ok {
		for _, s := range strings.Split(v, ",") {
			if id := int64(rubyNumber(s, 63)); id > 0 {
				q.IDs = append(q.IDs, id)
			}
		}
		if len(q.IDs) == 0 {
			return q, newError(editing.ErrQueryNoChangesets)
		}
	}
	if v, ok := queryParam(r, "review_state"); ok {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				q.ReviewStates = append(q.ReviewStates, osmdata.ReviewState(s))
			}
		}
	}
	q.Limit = editing.DefaultChangesetQueryLimit
	return q, nil
}

// queryTimeLayouts are the forms clients send (ISO 8601 with or without
// a zone, or a date), the common subset of what Ruby's Time.parse reads.
var queryTimeLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02"}

func parseQueryTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range queryTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unknown time %q", s)
}
