package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/storage"
)

// Rejections of credentials that were given but are not valid. Each is
// answered 401 with openstreetmap.org's text (editing's golden table);
// absent or unreadable credentials are no rejection: the request goes on
// anonymously, as cgimap lets it.
var (
	// ErrBadPassword: HTTP Basic with an unknown user name or a wrong
	// password (not told apart).
	ErrBadPassword = errors.New("incorrect user or password")
	// ErrInvalidToken: a Bearer token nobody issued.
	ErrInvalidToken = errors.New("invalid token")
	// ErrTokenExpired: an OAuth 2 access token past its lifetime, or an
	// API token past its expiry.
	ErrTokenExpired = errors.New("token expired")
	// ErrTokenRevoked: a revoked API token or OAuth 2 access token.
	ErrTokenRevoked = errors.New("token revoked")
)

// BearerResolver resolves OAuth 2 access tokens; the authorization server
// (auth/oauth) implements it. Its errors are ErrInvalidToken,
// ErrTokenExpired, ErrTokenRevoked, or a failure of the store.
type BearerResolver interface {
	ResolveBearer(ctx context.Context, token string) (*Identity, error)
}

// Authenticator turns the credentials of a request into an Identity: HTTP
// Basic passwords, API tokens and OAuth 2 access tokens. Web session
// cookies are never read here: they authorize no API call (design.md).
type Authenticator struct {
	Accounts storage.Accounts
	// OAuth resolves Bearer tokens that are no API tokens; nil rejects
	// them all as invalid.
	OAuth BearerResolver
}

// The header forms cgimap reads (src/basicauth.cpp, src/oauth2.cpp);
// other forms leave the request anonymous.
var (
	basicHeader  = regexp.MustCompile(`^[Bb][Aa][Ss][Ii][Cc] ([A-Za-z0-9+/]+=*)`)
	bearerHeader = regexp.MustCompile(`^Bearer ([A-Za-z0-9~_\-.+/]+=*)$`)
)

// Authenticate returns the caller's identity: nil and no error when the
// request carries no credentials it can read, nil and a rejection error
// (ErrBadPassword, ErrInvalidToken, …, which errors.Is tells apart from
// a failing store) when they are not valid.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request) (*Identity, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return nil, nil
	}
	if m := bearerHeader.FindStringSubmatch(header); m != nil {
		return a.bearer(ctx, m[1])
	}
	if m := basicHeader.FindStringSubmatch(header); m != nil {
		decoded, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			return nil, nil
		}
		name, password, ok := strings.Cut(string(decoded), ":")
		if !ok || name == "" || password == "" {
			return nil, nil
		}
		return a.SignIn(ctx, name, password)
	}
	return nil, nil
}

// SignIn checks a user name and password: the identity of the account,
// or ErrBadPassword for an unknown name and a wrong password alike (both
// cost one argon2id hash, so timing does not tell which).
func (a *Authenticator) SignIn(ctx context.Context, name, password string) (*Identity, error) {
	acc, err := a.Accounts.AccountByName(ctx, name)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && acc.PasswordHash == "") {
		spendPasswordCheck(password)
		return nil, ErrBadPassword
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	ok, err := CheckPassword(acc.PasswordHash, password)
	if err != nil {
		return nil, fmt.Errorf("authenticate %q: %w", acc.DisplayName, err)
	}
	if !ok {
		return nil, ErrBadPassword
	}
	return IdentityOf(acc, AllScopes), nil
}

func (a *Authenticator) bearer(ctx context.Context, token string) (*Identity, error) {
	if !IsAPIToken(token) {
		if a.OAuth == nil {
			return nil, ErrInvalidToken
		}
		return a.OAuth.ResolveBearer(ctx, token)
	}
	t, err := a.Accounts.APIToken(ctx, HashAPIToken(token))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if !t.RevokedAt.IsZero() {
		return nil, ErrTokenRevoked
	}
	if !t.ExpiresAt.IsZero() && !time.Now().Before(t.ExpiresAt) {
		return nil, ErrTokenExpired
	}
	acc, err := a.Accounts.Account(ctx, t.UserID)
	if err != nil {
		return nil, fmt.Errorf("authenticate API token %d: %w", t.ID, err)
	}
	return IdentityOf(acc, AllScopes), nil
}

// IdentityOf is the identity of an account whose credential grants
// scopes.
func IdentityOf(acc storage.Account, scopes []string) *Identity {
	return &Identity{
		UserID:      acc.ID,
		DisplayName: acc.DisplayName,
		Role:        Role(acc.Role),
		Trusted:     acc.Trusted,
		Scopes:      scopes,
	}
}

// IsRejection says whether err is a rejection of the credentials (401)
// rather than a failure to check them (500).
func IsRejection(err error) bool {
	return errors.Is(err, ErrBadPassword) || errors.Is(err, ErrInvalidToken) ||
		errors.Is(err, ErrTokenExpired) || errors.Is(err, ErrTokenRevoked)
}

// Middleware puts the caller's identity in each request's context
// (WithIdentity). A request without credentials goes on anonymously;
// one whose credentials are rejected, or cannot be checked, is answered
// by reject instead.
func (a *Authenticator) Middleware(next http.Handler, reject func(http.ResponseWriter, *http.Request, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := a.Authenticate(r.Context(), r)
		switch {
		case err != nil:
			reject(w, r, err)
		case id == nil:
			next.ServeHTTP(w, r)
		default:
			r2 := r.WithContext(WithIdentity(r.Context(), id))
			next.ServeHTTP(w, r2)
			// ServeMux records the matched pattern on the request it is
			// handed; the request logs and metrics above read it from r.
			r.Pattern = r2.Pattern
		}
	})
}
