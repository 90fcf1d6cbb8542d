package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"github.com/ory/fosite"
	"golang.org/x/crypto/bcrypt"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/storage"
)

// NewClient is a client application to register
// (`geocommuns oauth-app add`).
type NewClient struct {
	Name         string
	RedirectURIs []string
	// Scopes the client may ask for; empty means every scope.
	Scopes []string
	// Confidential clients (a server-side application) get a secret;
	// public ones (iD, JOSM, any browser or desktop application) must use
	// PKCE instead.
	Confidential bool
}

// RegisterClient registers a client application and returns it with its
// secret, empty for a public client. The secret is shown once: only its
// bcrypt hash is stored, which fosite compares against.
func RegisterClient(ctx context.Context, accounts storage.Accounts, nc NewClient) (storage.OAuthClient, string, error) {
	if nc.Name == "" {
		return storage.OAuthClient{}, "", errors.New("an application needs a name")
	}
	if len(nc.RedirectURIs) == 0 {
		return storage.OAuthClient{}, "", errors.New("an application needs at least one redirect URI")
	}
	for _, raw := range nc.RedirectURIs {
		if err := checkRedirectURI(raw); err != nil {
			return storage.OAuthClient{}, "", err
		}
	}
	scopes := nc.Scopes
	if len(scopes) == 0 {
		scopes = auth.AllScopes
	}
	for _, s := range scopes {
		if !auth.IsScope(s) {
			return storage.OAuthClient{}, "", fmt.Errorf("unknown scope %q; the scopes are %v", s, auth.AllScopes)
		}
	}
	id, err := randomToken()
	if err != nil {
		return storage.OAuthClient{}, "", err
	}
	c := storage.OAuthClient{
		ID: id, Name: nc.Name, RedirectURIs: nc.RedirectURIs, Scopes: scopes, Confidential: nc.Confidential,
	}
	secret := ""
	if nc.Confidential {
		if secret, err = randomToken(); err != nil {
			return storage.OAuthClient{}, "", err
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.DefaultCost)
		if err != nil {
			return storage.OAuthClient{}, "", fmt.Errorf("hash the client secret: %w", err)
		}
		c.SecretHash = string(hash)
	}
	if err := accounts.CreateOAuthClient(ctx, c); err != nil {
		return storage.OAuthClient{}, "", err
	}
	stored, err := accounts.OAuthClient(ctx, c.ID)
	return stored, secret, err
}

// checkRedirectURI refuses what RFC 6749 §3.1.2 forbids (relative URIs,
// fragments). fosite then matches redirect URIs exactly, except that a
// registered loopback URI (http://127.0.0.1/…, http://[::1]/…) accepts
// any port, as RFC 8252 §7.3 asks for desktop applications.
func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("redirect URI %q: %w", raw, err)
	}
	web := u.Scheme == "http" || u.Scheme == "https"
	// Whitespace would also split the store's list of URIs.
	if !u.IsAbs() || u.Fragment != "" || web && u.Host == "" || strings.ContainsFunc(raw, unicode.IsSpace) {
		return fmt.Errorf("redirect URI %q: must be absolute, without a fragment or spaces", raw)
	}
	// fosite refuses these at every authorization: say so now.
	if !fosite.IsRedirectURISecure(context.Background(), u) {
		return fmt.Errorf("redirect URI %q: plain http is allowed for localhost and loopback addresses only", raw)
	}
	return nil
}
