package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/pkce"

	"github.com/geocommuns/geocommuns/storage"
)

// fositeStore adapts storage.Accounts to the storage interfaces of
// fosite's handlers. Every code, PKCE challenge and token lives in the
// store's oauth_grants table under its signature, so a flow begun on one
// server process finishes on any other.
type fositeStore struct {
	accounts storage.Accounts
}

var (
	_ fosite.ClientManager          = fositeStore{}
	_ oauth2.CoreStorage            = fositeStore{}
	_ oauth2.TokenRevocationStorage = fositeStore{}
	_ pkce.PKCERequestStorage       = fositeStore{}
)

// secretFormKeys never reach the store, whatever a handler passes on:
// client secrets, PKCE verifiers, passwords and codes are credentials.
var secretFormKeys = []string{"client_secret", "code_verifier", "password", "code", "refresh_token", "token"}

// GetClient loads a registered client application.
func (f fositeStore) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := f.accounts.OAuthClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fosite.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return fositeClient(c), nil
}

func fositeClient(c storage.OAuthClient) *fosite.DefaultClient {
	return &fosite.DefaultClient{
		ID:           c.ID,
		Secret:       []byte(c.SecretHash),
		RedirectURIs: c.RedirectURIs,
		// openstreetmap.org issues no refresh tokens: its access tokens
		// last until revoked, and editors have no refresh flow.
		GrantTypes:    []string{"authorization_code"},
		ResponseTypes: []string{"code"},
		Scopes:        c.Scopes,
		Public:        !c.Confidential,
	}
}

// ClientAssertionJWTValid: no client authenticates with a JWT here
// (private_key_jwt is not offered), so no JTI is ever known.
func (fositeStore) ClientAssertionJWTValid(context.Context, string) error { return nil }

// SetClientAssertionJWT: see ClientAssertionJWTValid.
func (fositeStore) SetClientAssertionJWT(context.Context, string, time.Time) error { return nil }

func (f fositeStore) create(ctx context.Context, kind storage.OAuthGrantKind, tokenType fosite.TokenType, signature string, r fosite.Requester) error {
	session, ok := r.GetSession().(*fosite.DefaultSession)
	if !ok {
		return fmt.Errorf("oauth session of type %T", r.GetSession())
	}
	uid, err := strconv.ParseInt(session.Subject, 10, 64)
	if err != nil {
		return fmt.Errorf("oauth session without a user: %w", err)
	}
	data, err := json.Marshal(session)
	if err != nil {
		return fmt.Errorf("encode oauth session: %w", err)
	}
	form := url.Values{}
	for k, v := range r.GetRequestForm() {
		form[k] = v
	}
	for _, k := range secretFormKeys {
		delete(form, k)
	}
	expires := session.GetExpiresAt(tokenType)
	if expires.IsZero() {
		// A PKCE challenge lives as long as its code.
		expires = session.GetExpiresAt(fosite.AuthorizeCode)
	}
	return f.accounts.CreateOAuthGrant(ctx, storage.OAuthGrant{
		Kind:          kind,
		Signature:     signature,
		RequestID:     r.GetID(),
		ClientID:      r.GetClient().GetID(),
		UserID:        uid,
		RequestedAt:   r.GetRequestedAt(),
		ExpiresAt:     expires,
		Scopes:        r.GetRequestedScopes(),
		GrantedScopes: r.GetGrantedScopes(),
		Form:          form.Encode(),
		Session:       data,
	})
}

// get reads a grant back as the request it was stored from, hydrating
// session. Revoked grants read as not found, as fosite expects of a
// deleted one; ResolveBearer tells revoked from unknown itself.
func (f fositeStore) get(ctx context.Context, kind storage.OAuthGrantKind, signature string, session fosite.Session) (fosite.Requester, storage.OAuthGrant, error) {
	g, err := f.accounts.OAuthGrant(ctx, kind, signature)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, g, fosite.ErrNotFound
	}
	if err != nil {
		return nil, g, err
	}
	if !g.RevokedAt.IsZero() {
		return nil, g, fosite.ErrNotFound
	}
	if session == nil {
		session = new(fosite.DefaultSession)
	}
	if err := json.Unmarshal(g.Session, session); err != nil {
		return nil, g, fmt.Errorf("decode oauth session: %w", err)
	}
	form, err := url.ParseQuery(g.Form)
	if err != nil {
		return nil, g, fmt.Errorf("decode oauth form: %w", err)
	}
	client, err := f.GetClient(ctx, g.ClientID)
	if err != nil {
		return nil, g, err
	}
	return &fosite.Request{
		ID:                g.RequestID,
		RequestedAt:       g.RequestedAt,
		Client:            client,
		RequestedScope:    fosite.Arguments(g.Scopes),
		GrantedScope:      fosite.Arguments(g.GrantedScopes),
		Form:              form,
		Session:           session,
		RequestedAudience: fosite.Arguments{},
		GrantedAudience:   fosite.Arguments{},
	}, g, nil
}

// CreateAuthorizeCodeSession stores an authorization code's request.
func (f fositeStore) CreateAuthorizeCodeSession(ctx context.Context, signature string, r fosite.Requester) error {
	return f.create(ctx, storage.GrantAuthorizationCode, fosite.AuthorizeCode, signature, r)
}

// GetAuthorizeCodeSession reads a code's request; a used code returns
// the request with fosite.ErrInvalidatedAuthorizeCode, so that fosite
// revokes what the first exchange issued.
func (f fositeStore) GetAuthorizeCodeSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	r, g, err := f.get(ctx, storage.GrantAuthorizationCode, signature, session)
	if err != nil {
		return nil, err
	}
	if g.Used {
		return r, fosite.ErrInvalidatedAuthorizeCode
	}
	return r, nil
}

// InvalidateAuthorizeCodeSession marks a code used. Of two exchanges of
// one code racing, the second fails here.
func (f fositeStore) InvalidateAuthorizeCodeSession(ctx context.Context, signature string) error {
	return f.accounts.UseOAuthGrant(ctx, storage.GrantAuthorizationCode, signature)
}

// CreatePKCERequestSession stores a code's PKCE challenge.
func (f fositeStore) CreatePKCERequestSession(ctx context.Context, signature string, r fosite.Requester) error {
	return f.create(ctx, storage.GrantPKCE, fosite.AuthorizeCode, signature, r)
}

// GetPKCERequestSession reads a code's PKCE challenge.
func (f fositeStore) GetPKCERequestSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	r, _, err := f.get(ctx, storage.GrantPKCE, signature, session)
	return r, err
}

// DeletePKCERequestSession removes a code's PKCE challenge once checked.
func (f fositeStore) DeletePKCERequestSession(ctx context.Context, signature string) error {
	return f.accounts.DeleteOAuthGrant(ctx, storage.GrantPKCE, signature)
}

// CreateAccessTokenSession stores an access token's request.
func (f fositeStore) CreateAccessTokenSession(ctx context.Context, signature string, r fosite.Requester) error {
	return f.create(ctx, storage.GrantAccessToken, fosite.AccessToken, signature, r)
}

// GetAccessTokenSession reads an access token's request.
func (f fositeStore) GetAccessTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	r, _, err := f.get(ctx, storage.GrantAccessToken, signature, session)
	return r, err
}

// DeleteAccessTokenSession removes an access token.
func (f fositeStore) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	return f.accounts.DeleteOAuthGrant(ctx, storage.GrantAccessToken, signature)
}

// CreateRefreshTokenSession stores a refresh token's request. No client
// is given the refresh_token grant today; the methods complete the
// interface fosite's revocation handler needs.
func (f fositeStore) CreateRefreshTokenSession(ctx context.Context, signature, _ string, r fosite.Requester) error {
	return f.create(ctx, storage.GrantRefreshToken, fosite.RefreshToken, signature, r)
}

// GetRefreshTokenSession reads a refresh token's request.
func (f fositeStore) GetRefreshTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	r, _, err := f.get(ctx, storage.GrantRefreshToken, signature, session)
	return r, err
}

// DeleteRefreshTokenSession removes a refresh token.
func (f fositeStore) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	return f.accounts.DeleteOAuthGrant(ctx, storage.GrantRefreshToken, signature)
}

// RotateRefreshToken retires the refresh tokens of an authorization.
func (f fositeStore) RotateRefreshToken(ctx context.Context, requestID, _ string) error {
	return f.accounts.RevokeOAuthGrants(ctx, storage.GrantRefreshToken, requestID)
}

// RevokeRefreshToken revokes the refresh tokens of an authorization.
func (f fositeStore) RevokeRefreshToken(ctx context.Context, requestID string) error {
	return f.accounts.RevokeOAuthGrants(ctx, storage.GrantRefreshToken, requestID)
}

// RevokeAccessToken revokes the access tokens of an authorization.
func (f fositeStore) RevokeAccessToken(ctx context.Context, requestID string) error {
	return f.accounts.RevokeOAuthGrants(ctx, storage.GrantAccessToken, requestID)
}
