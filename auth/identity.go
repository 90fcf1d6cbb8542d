// Package auth knows who is calling: the identity of an authenticated
// request and how credentials (HTTP Basic passwords, API tokens, OAuth 2
// access tokens) become one. The HTTP wiring puts the identity in the
// request context; editing and review read it from there.
package auth

import "context"

// Role is what a user may do beyond contributing.
type Role string

const (
	RoleContributor Role = "contributor"
	RoleReviewer    Role = "reviewer"
	RoleAdmin       Role = "admin"
)

// Identity is the authenticated caller of one request.
type Identity struct {
	UserID      int64
	DisplayName string
	Role        Role
	Trusted     bool
	// Scopes are the OSM permissions the credential grants (read_prefs,
	// write_api, …); passwords and API tokens grant all of them.
	Scopes []string
}

// HasScope reports whether the credential grants scope.
func (i *Identity) HasScope(scope string) bool {
	for _, s := range i.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

type identityKey struct{}

// WithIdentity returns ctx carrying the caller's identity.
func WithIdentity(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the caller's identity, or nil for an anonymous call.
func FromContext(ctx context.Context) *Identity {
	id, _ := ctx.Value(identityKey{}).(*Identity)
	return id
}
