package webapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
)

// DefaultSessionLifespan is how long a web session lasts after signing
// in: a working day of review, after which the reviewer signs in again.
const DefaultSessionLifespan = 12 * time.Hour

// maxRequestBytes bounds a JSON request body: ids, a comment and a list
// of element keys at most.
const maxRequestBytes = 1 << 20

// Config is what the web app serves.
type Config struct {
	// Service decides who may do what and records it.
	Service *review.Service
	// Store is the dataset: accounts and the session key, and the
	// geometry the pages draw.
	Store review.Store
	// Review is the review configuration the Service runs under (which
	// scopes a reviewer has); review.DefaultConfig when nil.
	Review *review.Config
	// Authenticator checks sign-in passwords; one over Store when nil.
	Authenticator *auth.Authenticator
	// Basemap is a raster tile URL template ({z}/{x}/{y}); empty draws
	// no basemap, so the page works offline.
	Basemap string
	// Attribution is shown on the map for the basemap.
	Attribution string
	// SecureCookies marks the session cookie Secure even when the
	// request did not come over TLS (a TLS-terminating proxy in front).
	SecureCookies bool
	// SessionLifespan is DefaultSessionLifespan when zero.
	SessionLifespan time.Duration
	// Logger receives failures of the store, which the browser sees as
	// 500 without their text; nil discards.
	Logger *slog.Logger
}

// App is the review web app: its pages and JSON routes.
type App struct {
	cfg      Config
	sessions *sessions
	csp      string // the pages' Content-Security-Policy
}

// New returns the web app under cfg; Register mounts it.
func New(cfg Config) *App {
	if cfg.Review == nil {
		cfg.Review = review.DefaultConfig()
	}
	if cfg.Authenticator == nil {
		cfg.Authenticator = &auth.Authenticator{Accounts: cfg.Store}
	}
	if cfg.SessionLifespan <= 0 {
		cfg.SessionLifespan = DefaultSessionLifespan
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &App{cfg: cfg, sessions: &sessions{accounts: cfg.Store, lifespan: cfg.SessionLifespan, secure: cfg.SecureCookies},
		csp: contentSecurityPolicy(cfg.Basemap)}
}

// Register mounts the pages at /review/ and the JSON routes at
// /review/api/ on mux, one pattern per route so that the server's logs
// and metrics tell them apart.
func (a *App) Register(mux *http.ServeMux) {
	// Browsers send Sec-Fetch-Site and Origin: a state-changing request
	// from another origin is refused before the CSRF token is even read.
	crossOrigin := http.NewCrossOriginProtection()
	write := func(h http.HandlerFunc) http.Handler { return crossOrigin.Handler(h) }

	mux.HandleFunc("GET /review", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/review/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /review/{$}", a.index)
	mux.Handle("GET /review/", a.assets())

	mux.Handle("POST /review/api/session", write(a.signIn))
	mux.Handle("DELETE /review/api/session", write(a.withCSRF(a.signOut)))
	mux.HandleFunc("GET /review/api/me", a.withSession(a.me))
	mux.HandleFunc("GET /review/api/config", a.withSession(a.config))
	mux.HandleFunc("GET /review/api/queue", a.withSession(a.queue))
	mux.HandleFunc("GET /review/api/changesets/{id}", a.withSession(a.detail))
	mux.Handle("POST /review/api/changesets/{id}/approve", write(a.withCSRF(a.approve)))
	mux.Handle("POST /review/api/changesets/{id}/request_changes", write(a.withCSRF(a.requestChanges)))
	mux.Handle("POST /review/api/changesets/{id}/reject", write(a.withCSRF(a.reject)))
	mux.Handle("POST /review/api/changesets/{id}/approve_elements", write(a.withCSRF(a.approveElements)))
	mux.Handle("POST /review/api/changesets/{id}/comment", write(a.withCSRF(a.comment)))
}

// signedIn is the account of a request's valid session.
type signedIn struct {
	caller review.Caller
	csrf   string
}

type sessionHandler func(w http.ResponseWriter, r *http.Request, who signedIn)

// withSession answers 401 to a request without a valid session.
func (a *App) withSession(next sessionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who, err := a.sessions.read(r)
		if err != nil {
			a.sessionError(w, r, err)
			return
		}
		next(w, r, who)
	}
}

// withCSRF also needs the session's CSRF token in X-CSRF-Token (403
// without it): a page of another origin can make the browser send the
// cookie, never read the token.
func (a *App) withCSRF(next sessionHandler) http.HandlerFunc {
	return a.withSession(func(w http.ResponseWriter, r *http.Request, who signedIn) {
		if !validCSRF(r.Header.Get(csrfHeader), who.csrf) {
			writeError(w, http.StatusForbidden, "missing or wrong "+csrfHeader+" header: reload the page")
			return
		}
		next(w, r, who)
	})
}

func (a *App) sessionError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errNoSession) {
		writeError(w, http.StatusUnauthorized, "sign in first")
		return
	}
	a.internalError(w, r, "read the session", err)
}

func (a *App) internalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	if storage.IsUnavailable(err) {
		a.cfg.Logger.WarnContext(r.Context(), "review web app: "+what+": the store is unavailable", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(storage.UnavailableRetryAfter))
		writeError(w, http.StatusServiceUnavailable, "database unavailable, retry later")
		return
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		writeError(w, http.StatusServiceUnavailable, "the request took too long")
		return
	}
	a.cfg.Logger.ErrorContext(r.Context(), "review web app: "+what, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "internal error; the server's log has the details")
}

// refusals map review.Service's and the store's refusals to statuses
// (doc.go), most specific first.
var refusals = []struct {
	err    error
	status int
}{
	{storage.ErrSelfReview, http.StatusForbidden},
	{storage.ErrNotOwner, http.StatusForbidden},
	{storage.ErrReviewState, http.StatusConflict},
	{storage.ErrNotMergeable, http.StatusConflict},
	// Another process moved the changes while the call read them: the
	// page may simply retry.
	{storage.ErrRebaseStale, http.StatusConflict},
	{storage.ErrInvalidSplit, http.StatusBadRequest},
	{storage.ErrNotFound, http.StatusNotFound},
	{review.ErrForbidden, http.StatusForbidden},
	{review.ErrBadRequest, http.StatusBadRequest},
}

// reviewError answers a failure of review.Service: its message for a
// refusal, a logged 500 otherwise.
func (a *App) reviewError(w http.ResponseWriter, r *http.Request, id int64, err error) {
	for _, rf := range refusals {
		if errors.Is(err, rf.err) {
			msg := err.Error()
			if name := fmt.Sprintf("changeset %d", id); !strings.Contains(msg, name) {
				msg = name + ": " + msg
			}
			writeError(w, rf.status, msg)
			return
		}
	}
	a.internalError(w, r, fmt.Sprintf("changeset %d", id), err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	// Answers depend on who is signed in.
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// readJSON decodes a request body into v; false after answering 400.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "the body must be JSON (Content-Type: application/json)")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", maxRequestBytes))
			return false
		}
		writeError(w, http.StatusBadRequest, "the body is not the JSON expected: "+err.Error())
		return false
	}
	return true
}
