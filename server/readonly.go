package server

import (
	"net/http"
	"strings"

	"github.com/geocommuns/geocommuns/editing/connectapi"
	"github.com/geocommuns/geocommuns/editing/osmapi"
	"github.com/geocommuns/geocommuns/storage"
)

// readOnlyReader hides every method of the store but the reads, so that
// the APIs cannot build an editing service over it.
type readOnlyReader struct{ storage.Reader }

// registerReadOnly mounts the read API only, for a copy of another
// dataset (geocommuns mirror) whose every write comes from its source:
// the OSM API's read routes and MapService, with no changeset or upload
// route, no merge job, no replication feed and no Subscribe (the copy
// has no outbox of its own; consumers follow the source).
func (s *Server) registerReadOnly() {
	reader := readOnlyReader{s.store}
	api := &osmapi.API{Reader: reader, Header: s.cfg.Header, Timeout: s.cfg.RequestTimeout, Logger: s.logger}
	api.Register(s.mux)
	connectapi.Register(s.mux, connectapi.Config{Reader: reader, MaxReadBytes: s.cfg.MaxUploadBytes, Logger: s.logger})
}

// readOnlyMessage tells a client that sent a write where it belongs.
const readOnlyMessage = "This server is a read-only copy: edit on the dataset it mirrors.\n"

// refuseWrites answers every write to the OSM API 405 Method Not Allowed
// with Allow: GET, HEAD, OPTIONS, as cgimap answers a method a route does
// not serve: on a read-only server no route serves writes. Not 403: that
// says this caller may not, and OSM editors read it as a blocked account
// or unaccepted terms, while no credential would make the write succeed
// here. Connect's write procedures are simply not mounted (404, which
// Connect clients read as Unimplemented).
func refuseWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Allow", "GET, HEAD, OPTIONS")
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusMethodNotAllowed)
		_, _ = w.Write([]byte(readOnlyMessage))
	})
}
