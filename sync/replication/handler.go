package replication

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Cache headers. A published file never changes (its number is taken
// for good: AddReplicationFile refuses to store another), so caches keep
// it for a year; the latest state changes with every file.
const (
	immutableCache = "public, max-age=31536000, immutable"
	latestCache    = "no-cache"
)

// Handler serves the feed from the store, as planet.openstreetmap.org
// lays it out under /replication/minute/, and the dump a consumer starts
// from.
type Handler struct {
	Store storage.Replication
	// Dataset, when set, serves /replication/dump/latest.osm.gz; Header
	// is what that file says about itself.
	Dataset DumpSource
	Header  osmdata.DocumentHeader
	Logger  *slog.Logger
}

// Register adds the feed's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /replication/minute/state.txt", h.latestState)
	mux.HandleFunc("GET /replication/minute/{aaa}/{bbb}/{file}", h.file)
	if h.Dataset != nil {
		mux.HandleFunc("GET /replication/dump/latest.osm.gz", h.dump)
	}
}

// zeroTime leaves Last-Modified out.
var zeroTime time.Time

func (h *Handler) latestState(w http.ResponseWriter, r *http.Request) {
	st, err := h.Store.LatestReplicationState(r.Context())
	if errors.Is(err, storage.ErrNotFound) {
		notFound(w, "no replication file has been cut yet: the first one follows the first merge")
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", latestCache)
	// No Last-Modified: two files cut within one second share their
	// timestamp, and If-Modified-Since would hide the second.
	serveBytes(w, r, "text/plain; charset=utf-8", st, zeroTime, []byte(StateText(st)))
}

// file serves CCC.osc.gz and CCC.state.txt.
func (h *Handler) file(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	ccc, ext, _ := strings.Cut(name, ".")
	seq, err := ParseSeqPath(r.PathValue("aaa"), r.PathValue("bbb"), ccc)
	if err != nil || (ext != "osc.gz" && ext != "state.txt") {
		notFound(w, fmt.Sprintf("%s is not a replication file: they are named like 000/012/345.osc.gz and 000/012/345.state.txt", r.URL.Path))
		return
	}
	switch ext {
	case "state.txt":
		st, err := h.Store.ReplicationState(r.Context(), seq)
		if h.missing(w, r, seq, err) {
			return
		}
		w.Header().Set("Cache-Control", immutableCache)
		serveBytes(w, r, "text/plain; charset=utf-8", st, st.Timestamp, []byte(StateText(st)))
	case "osc.gz":
		f, err := h.Store.ReplicationFile(r.Context(), seq)
		if h.missing(w, r, seq, err) {
			return
		}
		if f.OsmChangeGzip, err = h.withoutRedacted(r.Context(), f); err != nil {
			h.fail(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", immutableCache)
		// The gzip is the file itself, not a transfer encoding: with
		// Content-Encoding, HTTP clients (python requests, which pyosmium
		// uses) would unpack it and hand the tools plain XML.
		serveBytes(w, r, "application/gzip", f.ReplicationState, f.Timestamp, f.OsmChangeGzip)
	}
}

// missing answers the error of a read of file seq, if any, and says
// whether it did.
func (h *Handler) missing(w http.ResponseWriter, r *http.Request, seq int64, err error) bool {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		notFound(w, fmt.Sprintf("replication file %d has not been cut yet", seq))
		return true
	case err != nil:
		h.fail(w, r, err)
		return true
	}
	return false
}

// serveBytes answers content with its file's number as ETag (and
// modified as Last-Modified unless zero), so that conditional and range
// requests work as they do on planet's static files.
func serveBytes(w http.ResponseWriter, r *http.Request, contentType string, st storage.ReplicationState, modified time.Time, content []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("ETag", fmt.Sprintf(`"%d-%d"`, st.Seq, len(content)))
	http.ServeContent(w, r, "", modified, bytes.NewReader(content))
}

func notFound(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintln(w, msg)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if storage.IsUnavailable(err) {
		// Replication clients (osmium, pyosmium, osm2pgsql) poll again
		// anyway; 503 with Retry-After tells them it is temporary.
		if h.Logger != nil {
			h.Logger.Warn("replication feed: the store is unavailable", "path", r.URL.Path, "err", err)
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Retry-After", strconv.Itoa(storage.UnavailableRetryAfter))
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "Database unavailable, retry later")
		return
	}
	if h.Logger != nil {
		h.Logger.Error("replication feed: read the store", "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintln(w, "the replication feed could not be read")
}
