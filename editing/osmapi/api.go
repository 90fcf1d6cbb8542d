// Package osmapi serves OpenStreetMap's API 0.6 as openstreetmap.org's
// cgimap serves it: the map call, elements, their history and versions,
// multi-fetch, way and relation "full", the ways and relations using an
// element, and the capabilities and versions documents, in XML and JSON;
// and the changeset and write calls (write.go) over editing.Service,
// whose overlay shows an authenticated author's pending work in every
// read.
//
// Each endpoint is two steps, as in cgimap: parsing the request into a
// query (request.go), then running the query against a storage.Reader
// (query.go). The reply is streamed through osmdata's document writers.
package osmapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
)

// DefaultHeader is what replies say about themselves unless configured
// otherwise: the attribution openstreetmap.org's cgimap writes, since the
// data imported is OpenStreetMap's.
var DefaultHeader = osmdata.DocumentHeader{
	Generator:   "geocommuns",
	Copyright:   "OpenStreetMap and contributors",
	Attribution: "http://www.openstreetmap.org/copyright",
	License:     "http://opendatacommons.org/licenses/odbl/1-0/",
}

// DefaultTimeout is openstreetmap.org's API timeout, which the
// capabilities document announces.
const DefaultTimeout = 300 * time.Second

// API holds the read handlers. The zero value of every field but Reader
// means openstreetmap.org's setting.
type API struct {
	// Reader serves every read.
	Reader storage.Reader
	// Header is the root element's attributes; the zero value means
	// DefaultHeader.
	Header osmdata.DocumentHeader
	// MaxMapNodes and MaxMapArea limit the map call (storage.MaxMapNodes
	// and storage.MaxMapArea when zero).
	MaxMapNodes int
	MaxMapArea  float64
	// Timeout is announced in the capabilities document; the server
	// enforces it (DefaultTimeout when zero).
	Timeout time.Duration
	// Logger receives failures of the store and of writing replies.
	Logger *slog.Logger
	// Editing serves the changeset and write calls and lays an
	// authenticated author's pending changes over the reads. When nil,
	// Register builds one over Reader if Reader is a store that edits;
	// otherwise the API is read-only and answers writes 405.
	Editing *editing.Service
	// MaxUploadBytes bounds request bodies, compressed and decompressed
	// (Editing's limit when zero).
	MaxUploadBytes int64
	// MaxInflateRatio bounds how many times its compressed size a
	// request body may inflate to (DefaultMaxInflateRatio when zero).
	MaxInflateRatio int
	// Review serves the changeset discussion and the review log
	// (discussion.go); without it those calls are not mounted and
	// changesets show comments_count="0".
	Review *review.Service

	edit *editing.Service // Editing, or the one Register built
}

// route is one endpoint: a path pattern (without method) and how its
// request becomes a query.
type route struct {
	pattern string
	parse   func(a *API, r *http.Request) (query, *apiError)
}

// routes are cgimap's read routes (src/routes.cpp), in the Go 1.22
// pattern syntax. A route ending in a literal segment also answers with
// .json and .xml appended; one ending in a wildcard reads the suffix off
// the wildcard.
var routes = []route{
	{"/api/0.6/map", parseMap},

	{"/api/0.6/node/{id}", elementRoute(osmdata.Node)},
	{"/api/0.6/node/{id}/history", historyRoute(osmdata.Node)},
	{"/api/0.6/node/{id}/{version}", versionRoute(osmdata.Node)},
	{"/api/0.6/node/{id}/ways", parseNodeWays},
	{"/api/0.6/node/{id}/relations", relationsRoute(osmdata.Node)},
	{"/api/0.6/nodes", multiRoute(osmdata.Node, "nodes", errNodesParam)},

	{"/api/0.6/way/{id}", elementRoute(osmdata.Way)},
	{"/api/0.6/way/{id}/history", historyRoute(osmdata.Way)},
	{"/api/0.6/way/{id}/{version}", versionRoute(osmdata.Way)},
	{"/api/0.6/way/{id}/full", parseWayFull},
	{"/api/0.6/way/{id}/relations", relationsRoute(osmdata.Way)},
	{"/api/0.6/ways", multiRoute(osmdata.Way, "ways", errWaysParam)},

	{"/api/0.6/relation/{id}", elementRoute(osmdata.Relation)},
	{"/api/0.6/relation/{id}/history", historyRoute(osmdata.Relation)},
	{"/api/0.6/relation/{id}/{version}", versionRoute(osmdata.Relation)},
	{"/api/0.6/relation/{id}/full", parseRelationFull},
	{"/api/0.6/relation/{id}/relations", relationsRoute(osmdata.Relation)},
	{"/api/0.6/relations", multiRoute(osmdata.Relation, "relations", errRelationsParam)},
}

// Register adds every read route to mux, each answering GET and HEAD,
// CORS preflights, 405 for POST and PUT and 404 for other methods and for
// unknown paths under /api/, as cgimap does.
func (a *API) Register(mux *http.ServeMux) {
	a.edit = a.Editing
	if a.edit == nil {
		if store, ok := a.Reader.(storage.Store); ok {
			// A store without editing leaves the API read-only.
			a.edit, _ = editing.NewService(store, editing.Limits{MaxUploadBytes: a.MaxUploadBytes}, a.Logger)
		}
	}
	claimed := map[string]bool{}
	if a.edit != nil {
		claimed = a.registerWrites(mux, a.edit)
		if a.Review != nil {
			a.registerDiscussion(mux)
		}
	}
	for _, rt := range routes {
		a.handle(mux, rt.pattern, a.documentHandler(rt.parse), claimed)
	}
	a.handle(mux, "/api/capabilities", a.withCORS(http.HandlerFunc(a.capabilities)), claimed)
	a.handle(mux, "/api/0.6/capabilities", a.withCORS(http.HandlerFunc(a.capabilities)), claimed)
	a.handle(mux, "/api/versions", a.withCORS(http.HandlerFunc(a.versions)), claimed)
	a.registerAccounts(mux)
	a.registerRedactions(mux) // redact.go: POST …/{type}/{id}/{version}/redact, administrators only
	// Everything else under /api/, including methods cgimap does not know
	// (DELETE, PATCH) on known paths, matches no route there: 404.
	mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, newError(errNotFound))
	}))
}

// handle registers one route and its format variants. Other methods get
// patterns of their own rather than one method-less pattern, which
// ServeMux would find in conflict with the GET patterns of sibling routes
// (GET …/{id}/{version} against …/{id}/history).
// Method and pattern pairs the write routes claimed are left to them.
func (a *API) handle(mux *http.ServeMux, pattern string, h http.Handler, claimed map[string]bool) {
	for _, p := range patternVariants(pattern) {
		mux.Handle("GET "+p, h)
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodOptions} {
			if !claimed[m+" "+p] {
				mux.Handle(m+" "+p, http.HandlerFunc(otherMethod))
			}
		}
	}
}

// editingService is the editing service, nil for a read-only API.
func (a *API) editingService() *editing.Service { return a.edit }

// readerFor is what the caller reads: the authoritative dataset, with the
// caller's own pending changes laid over it when the caller is
// authenticated (design.md).
func (a *API) readerFor(r *http.Request) storage.Reader {
	if a.edit == nil {
		return a.Reader
	}
	if id := who(r); id != nil {
		return a.edit.Reader(id)
	}
	return a.Reader
}

func patternVariants(p string) []string {
	if p[len(p)-1] == '}' {
		return []string{p}
	}
	return []string{p, p + ".json", p + ".xml"}
}

// otherMethod answers a known path asked with POST, PUT or OPTIONS: a
// CORS preflight is allowed, the rest is 405 (cgimap src/routes.cpp
// router::match, test/node.testcore/node_invalid_method_1.case and
// node_options_method.case).
func otherMethod(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions && preflight(w, r) {
		return
	}
	corsHeaders(w, r)
	writeError(w, r, newError(errMethodNotAllowed))
}

func (a *API) header() osmdata.DocumentHeader {
	if a.Header == (osmdata.DocumentHeader{}) {
		return DefaultHeader
	}
	return a.Header
}

func (a *API) maxMapNodes() int {
	if a.MaxMapNodes > 0 {
		return a.MaxMapNodes
	}
	return storage.MaxMapNodes
}

func (a *API) maxMapArea() float64 {
	if a.MaxMapArea > 0 {
		return a.MaxMapArea
	}
	return storage.MaxMapArea
}

func (a *API) timeout() time.Duration {
	if a.Timeout > 0 {
		return a.Timeout
	}
	return DefaultTimeout
}

func (a *API) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// documentHandler runs one endpoint: parse, query, then reply.
func (a *API) documentHandler(parse func(*API, *http.Request) (query, *apiError)) http.Handler {
	return a.withCORS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, perr := parse(a, r)
		if perr != nil {
			writeError(w, r, perr)
			return
		}
		doc, err := q.run(r.Context(), a.readerFor(r))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.writeDocument(w, r, doc)
	}))
}

// fail answers err: its own text when it is an API error, a 500 for a
// failing store.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var aerr *apiError
	if storage.IsUnavailable(err) {
		// Before editing's errors: one that wraps the outage is the outage.
		aerr = unavailableError(err)
		a.logger().Warn("the store is unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	} else if eerr := editing.AsError(err); eerr != nil {
		aerr = editingError(eerr)
	} else if !errors.As(err, &aerr) {
		aerr = internalError(err)
	}
	if aerr.kind == errInternal {
		level := slog.LevelError
		if errors.Is(err, context.Canceled) {
			level = slog.LevelInfo // the client went away
		}
		a.logger().Log(r.Context(), level, "read failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, r, aerr)
}

func parseMap(a *API, r *http.Request) (query, *apiError) {
	box, err := parseMapBox(r, a.maxMapArea())
	if err != nil {
		return nil, err
	}
	return mapQuery{box: box, maxNodes: a.maxMapNodes()}, nil
}

func pathID(r *http.Request) (int64, *apiError) {
	id, ok := parseID(pathValue(r, "id"))
	if !ok {
		return 0, newError(errNotFound)
	}
	return id, nil
}

func elementRoute(t osmdata.ElementType) func(*API, *http.Request) (query, *apiError) {
	return func(_ *API, r *http.Request) (query, *apiError) {
		id, err := pathID(r)
		if err != nil {
			return nil, err
		}
		return elementQuery{typ: t, id: id}, nil
	}
}

func historyRoute(t osmdata.ElementType) func(*API, *http.Request) (query, *apiError) {
	return func(a *API, r *http.Request) (query, *apiError) {
		id, err := pathID(r)
		if err != nil {
			return nil, err
		}
		return historyQuery{typ: t, id: id, withRedacted: a.showRedactions(r)}, nil
	}
}

func versionRoute(t osmdata.ElementType) func(*API, *http.Request) (query, *apiError) {
	return func(a *API, r *http.Request) (query, *apiError) {
		id, err := pathID(r)
		if err != nil {
			return nil, err
		}
		v, ok := parseVersion(pathValue(r, "version"))
		if !ok {
			return nil, newError(errNotFound)
		}
		return versionQuery{typ: t, id: id, version: v, withRedacted: a.showRedactions(r)}, nil
	}
}

func relationsRoute(t osmdata.ElementType) func(*API, *http.Request) (query, *apiError) {
	return func(_ *API, r *http.Request) (query, *apiError) {
		id, err := pathID(r)
		if err != nil {
			return nil, err
		}
		return relationsQuery{typ: t, id: id}, nil
	}
}

func multiRoute(t osmdata.ElementType, param string, missing errorKind) func(*API, *http.Request) (query, *apiError) {
	return func(_ *API, r *http.Request) (query, *apiError) {
		items := parseIDList(r, param)
		if len(items) == 0 {
			return nil, newError(missing)
		}
		if len(items) > MaxMultiFetchIDs {
			return nil, newError(editing.ErrTooManyIDs, param, len(items), MaxMultiFetchIDs)
		}
		return multiQuery{typ: t, items: items}, nil
	}
}

func parseNodeWays(_ *API, r *http.Request) (query, *apiError) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return nodeWaysQuery{id: id}, nil
}

func parseWayFull(_ *API, r *http.Request) (query, *apiError) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return wayFullQuery{id: id}, nil
}

func parseRelationFull(_ *API, r *http.Request) (query, *apiError) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return relationFullQuery{id: id}, nil
}
