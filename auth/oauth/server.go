// Package oauth is the OAuth 2 authorization server of geocommuns, as
// openstreetmap.org has one: the authorization-code flow at
// /oauth2/authorize and /oauth2/token, PKCE (S256) required of public
// clients such as iD and JOSM, token revocation at /oauth2/revoke, and
// openstreetmap.org's scopes (read_prefs, write_api, …). The protocol is
// github.com/ory/fosite's; this package supplies its storage (the
// store's oauth tables, so any server process finishes a flow another
// began), a plain server-rendered sign-in page and consent page, and the
// resolution of access tokens into an auth.Identity for the API.
package oauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/storage"
)

// Config is how the authorization server runs. Zero fields take the
// defaults below.
type Config struct {
	// AccessTokenLifespan is how long an access token is valid.
	AccessTokenLifespan time.Duration
	// AuthorizeCodeLifespan is how long a code may wait for its exchange.
	AuthorizeCodeLifespan time.Duration
	// SessionLifespan is how long a browser stays signed in to the
	// sign-in pages.
	SessionLifespan time.Duration
	// SecureCookies marks the sign-in cookies Secure even on plain HTTP
	// requests (behind a TLS-terminating proxy); they are Secure on TLS
	// requests anyway.
	SecureCookies bool
	// Logger receives failures of the store; nil discards.
	Logger *slog.Logger
	// AllowOrigin says whether a web page of an origin may exchange and
	// revoke tokens from the browser (CORS on /oauth2/token and
	// /oauth2/revoke); nil allows none.
	AllowOrigin func(origin string) bool
}

// Defaults of Config. openstreetmap.org's access tokens never expire and
// editors have no refresh flow (iD signs the user out when a read is
// refused), so a token lasts a year unless revoked.
const (
	DefaultAccessTokenLifespan   = 365 * 24 * time.Hour
	DefaultAuthorizeCodeLifespan = 10 * time.Minute
	DefaultSessionLifespan       = 12 * time.Hour
)

func (c Config) withDefaults() Config {
	if c.AccessTokenLifespan <= 0 {
		c.AccessTokenLifespan = DefaultAccessTokenLifespan
	}
	if c.AuthorizeCodeLifespan <= 0 {
		c.AuthorizeCodeLifespan = DefaultAuthorizeCodeLifespan
	}
	if c.SessionLifespan <= 0 {
		c.SessionLifespan = DefaultSessionLifespan
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Names of the server secrets kept in the store, shared by every process.
const (
	hmacSecretName = "oauth2-hmac"
	csrfSecretName = "sign-in-csrf"
)

// Server is the authorization server. It is safe for concurrent use.
type Server struct {
	cfg      Config
	accounts storage.Accounts
	provider fosite.OAuth2Provider
	strategy *oauth2.HMACSHAStrategy
	csrfKey  []byte
}

var _ auth.BearerResolver = (*Server)(nil)

// New returns the authorization server over accounts. Its secrets (the
// key of code and token signatures, the key of CSRF tokens) come from the
// store, created by whichever process asks first.
func New(ctx context.Context, accounts storage.Accounts, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	hmacKey, err := auth.ServerSecret(ctx, accounts, hmacSecretName)
	if err != nil {
		return nil, err
	}
	csrfKey, err := auth.ServerSecret(ctx, accounts, csrfSecretName)
	if err != nil {
		return nil, err
	}
	fc := &fosite.Config{
		AccessTokenLifespan:   cfg.AccessTokenLifespan,
		AuthorizeCodeLifespan: cfg.AuthorizeCodeLifespan,
		GlobalSecret:          hmacKey,
		// OSM's scopes are flat names: "write_api" grants nothing else.
		ScopeStrategy:            fosite.ExactScopeStrategy,
		AudienceMatchingStrategy: fosite.DefaultAudienceMatchingStrategy,
		// iD and JOSM are public clients: a stolen code is useless
		// without the verifier. The plain method would send the
		// verifier itself.
		EnforcePKCEForPublicClients:    true,
		EnablePKCEPlainChallengeMethod: false,
		SendDebugMessagesToClients:     false,
	}
	strategy := compose.NewOAuth2HMACStrategy(fc)
	store := fositeStore{accounts: accounts}
	provider := compose.Compose(fc, store, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2PKCEFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
	)
	return &Server{cfg: cfg, accounts: accounts, provider: provider, strategy: strategy, csrfKey: csrfKey}, nil
}

// Register adds the OAuth 2 endpoints and the sign-in pages to mux.
func (s *Server) Register(mux *http.ServeMux) {
	pages := http.NewCrossOriginProtection()
	mux.HandleFunc("GET /oauth2/authorize", s.authorize)
	mux.Handle("POST /oauth2/authorize", pages.Handler(http.HandlerFunc(s.authorize)))
	mux.HandleFunc("GET /oauth2/sign_in", s.signInPage)
	mux.Handle("POST /oauth2/sign_in", pages.Handler(http.HandlerFunc(s.signIn)))
	mux.Handle("POST /oauth2/sign_out", pages.Handler(http.HandlerFunc(s.signOut)))
	// Web editors exchange and revoke tokens from their own origin, as
	// openstreetmap.org allows (openstreetmap-website
	// config/initializers/cors.rb), when the operator allows their origin.
	mux.Handle("POST /oauth2/token", s.withTokenCORS(http.HandlerFunc(s.token)))
	mux.Handle("OPTIONS /oauth2/token", s.withTokenCORS(http.HandlerFunc(noContent)))
	mux.Handle("POST /oauth2/revoke", s.withTokenCORS(http.HandlerFunc(s.revoke)))
	mux.Handle("OPTIONS /oauth2/revoke", s.withTokenCORS(http.HandlerFunc(noContent)))
}

func (s *Server) withTokenCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" && s.cfg.AllowOrigin != nil && s.cfg.AllowOrigin(origin) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Allow-Methods", "POST")
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", req)
			}
		}
		next.ServeHTTP(w, r)
	})
}

func noContent(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }

// token is the token endpoint: a code and its PKCE verifier (and a
// confidential client's secret, Basic or in the form) for an access
// token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := queryAsForm(w, r); err != nil {
		s.provider.WriteAccessError(ctx, w, nil, fosite.ErrInvalidRequest.WithHint("The request body could not be read."))
		return
	}
	ar, err := s.provider.NewAccessRequest(ctx, r, new(fosite.DefaultSession))
	if err != nil {
		s.logFailure(r, err)
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.logFailure(r, err)
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	// openstreetmap.org (Doorkeeper) answers the token's creation time;
	// osm-api's login() fails without it ("Invalid time value").
	resp.SetExtra("created_at", time.Now().Unix())
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

// maxTokenRequestBytes bounds a token request's body: a few parameters.
const maxTokenRequestBytes = 64 << 10

// queryAsForm lets a token request carry its parameters in the query
// string with an empty body, as openstreetmap.org (Doorkeeper) accepts and
// the npm osm-api client sends them; RFC 6749 asks for a form body, which
// fosite alone reads. A request with a body is left as it is.
func queryAsForm(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenRequestBytes))
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 && r.URL.RawQuery != "" {
		body = []byte(r.URL.RawQuery)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.URL.RawQuery = ""
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return nil
}

// revoke is RFC 7009's revocation endpoint.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := s.provider.NewRevocationRequest(ctx, r)
	s.logFailure(r, err)
	s.provider.WriteRevocationResponse(ctx, w, err)
}

// logFailure logs what the store failed at; a client's own mistakes
// (a wrong verifier, an unknown code) are answered, not logged. The
// request's form, which holds codes and secrets, is never logged.
func (s *Server) logFailure(r *http.Request, err error) {
	if err == nil {
		return
	}
	var rfc *fosite.RFC6749Error
	if errors.As(err, &rfc) && rfc.CodeField < http.StatusInternalServerError {
		return
	}
	s.cfg.Logger.Error("oauth request failed", "path", r.URL.Path, "err", err)
}

// ResolveBearer returns the identity an OAuth 2 access token stands for,
// with the scopes it was granted. It tells unknown, expired and revoked
// tokens apart, as cgimap's texts do (src/oauth2.cpp).
func (s *Server) ResolveBearer(ctx context.Context, token string) (*auth.Identity, error) {
	grant, err := s.accounts.OAuthGrant(ctx, storage.GrantAccessToken, s.strategy.AccessTokenSignature(ctx, token))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, auth.ErrInvalidToken
	case err != nil:
		return nil, fmt.Errorf("resolve access token: %w", err)
	case !grant.RevokedAt.IsZero():
		return nil, auth.ErrTokenRevoked
	case !time.Now().Before(grant.ExpiresAt):
		return nil, auth.ErrTokenExpired
	}
	session := new(fosite.DefaultSession)
	_, ar, err := s.provider.IntrospectToken(ctx, token, fosite.AccessToken, session)
	if errors.Is(err, fosite.ErrTokenExpired) {
		return nil, auth.ErrTokenExpired
	}
	if err != nil {
		// The signature matched a stored token but fosite refuses it:
		// a forged or damaged token.
		return nil, auth.ErrInvalidToken
	}
	uid, err := strconv.ParseInt(session.Subject, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("access token of no user: %w", err)
	}
	acc, err := s.accounts.Account(ctx, uid)
	if err != nil {
		return nil, fmt.Errorf("resolve access token: %w", err)
	}
	return auth.IdentityOf(acc, ar.GetGrantedScopes()), nil
}
