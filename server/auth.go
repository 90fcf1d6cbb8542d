package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/auth/oauth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/editing/osmapi"
	"github.com/geocommuns/geocommuns/storage"
)

// Sign-in: the OAuth 2 authorization server's routes, and the middleware
// that turns every request's credentials (HTTP Basic, API tokens, OAuth 2
// access tokens) into the identity the OSM API and Connect read.

// oauthRoutes are the authorization server's own paths. The middleware
// leaves them alone: a confidential client authenticates at the token
// endpoint with HTTP Basic of its client id and secret, which are no user
// credentials.
const oauthRoutes = "/oauth2/"

// lazyOAuth builds the authorization server on first use, and again after
// a failure: it reads its secrets from the store, which may not answer
// yet when the process starts.
type lazyOAuth struct {
	accounts storage.Accounts
	cfg      oauth.Config

	mu  sync.Mutex
	srv *oauth.Server
	mux *http.ServeMux
}

// get returns the authorization server and a mux holding its routes.
func (l *lazyOAuth) get(ctx context.Context) (*oauth.Server, *http.ServeMux, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.srv != nil {
		return l.srv, l.mux, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	srv, err := oauth.New(ctx, l.accounts, l.cfg)
	if err != nil {
		return nil, nil, err
	}
	l.srv, l.mux = srv, http.NewServeMux()
	srv.Register(l.mux)
	return l.srv, l.mux, nil
}

// ResolveBearer resolves OAuth 2 access tokens for the middleware.
func (l *lazyOAuth) ResolveBearer(ctx context.Context, token string) (*auth.Identity, error) {
	srv, _, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return srv.ResolveBearer(ctx, token)
}

// ServeHTTP serves the authorization server's routes.
func (l *lazyOAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, mux, err := l.get(r.Context())
	if err != nil {
		l.cfg.Logger.Error("the OAuth 2 server cannot start", "err", err)
		http.Error(w, "The sign-in service is unavailable; the server's log has the details.", http.StatusServiceUnavailable)
		return
	}
	mux.ServeHTTP(w, r)
}

// registerAuth mounts the authorization server under /oauth2/ and
// returns the authentication middleware to put in front of the mux.
func (s *Server) registerAuth() func(http.Handler) http.Handler {
	cfg := s.cfg.OAuth
	if cfg.Logger == nil {
		cfg.Logger = s.logger
	}
	if cfg.AllowOrigin == nil {
		cfg.AllowOrigin = s.cfg.CORS.Allows
	}
	lazy := &lazyOAuth{accounts: s.store, cfg: cfg}
	s.mux.Handle(oauthRoutes, lazy)
	authn := &auth.Authenticator{Accounts: s.store, OAuth: lazy}
	return func(next http.Handler) http.Handler {
		checked := authn.Middleware(next, s.rejectCredentials)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, oauthRoutes) {
				next.ServeHTTP(w, r)
				return
			}
			checked.ServeHTTP(w, r)
		})
	}
}

// rejectCredentials answers a request whose credentials are not valid:
// 401 with openstreetmap.org's text on the OSM API, an unauthenticated
// error on Connect, 500 when the store could not check them.
func (s *Server) rejectCredentials(w http.ResponseWriter, r *http.Request, err error) {
	// The route the request was for, for the request log and metrics.
	_, r.Pattern = s.mux.Handler(r)
	switch {
	case storage.IsUnavailable(err):
		s.logger.Warn("credentials could not be checked: the store is unavailable", "path", r.URL.Path, "err", err)
	case !auth.IsRejection(err):
		s.logger.Error("credentials could not be checked", "path", r.URL.Path, "err", err)
	}
	if !strings.HasPrefix(r.URL.Path, connectRoutes) {
		osmapi.WriteCredentialsError(w, r, err)
		return
	}
	// Connect's code names and numbers, with the OSM API's text, so that
	// Connect and the API say the same.
	code, grpcCode, status, msg := "internal", "13", http.StatusInternalServerError, "internal error"
	h := w.Header()
	if kind, ok := osmapi.CredentialsErrorKind(err); ok {
		code, grpcCode, status, msg = "unauthenticated", "16", http.StatusUnauthorized, editing.Golden[kind].Text
	} else if storage.IsUnavailable(err) {
		code, grpcCode, status, msg = "unavailable", "14", http.StatusServiceUnavailable, editing.Golden[editing.ErrUnavailable].Text
		h.Set("Retry-After", strconv.Itoa(storage.UnavailableRetryAfter))
	}
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/grpc") {
		// gRPC and gRPC-Web: a trailers-only answer, the status in the
		// headers of a 200.
		h.Set("Content-Type", ct)
		h.Set("Grpc-Status", grpcCode)
		h.Set("Grpc-Message", url.PathEscape(msg))
		w.WriteHeader(http.StatusOK)
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "message": msg})
}

// connectRoutes start the paths of the Connect services
// (/geocommuns.v1.MapService/GetMap, …).
const connectRoutes = "/geocommuns."
