package storage

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Account errors.
var (
	// ErrNameTaken refuses an account whose display name another user
	// already has.
	ErrNameTaken = errors.New("display name already taken")
	// ErrGrantUsed: an OAuth grant (an authorization code) was used
	// already; it is used once.
	ErrGrantUsed = errors.New("oauth grant already used")
)

// Account is a user who may sign in: a row of the users table with a
// role. Users known only from imported data have no role and are no
// accounts.
type Account struct {
	ID          int64
	DisplayName string
	CreatedAt   time.Time
	// Role is "contributor", "reviewer" or "admin" (auth.Role; storage
	// sits below auth and keeps it a string).
	Role    string
	Trusted bool
	// PasswordHash is the password in PHC string form (argon2id); empty
	// when the account cannot sign in with a password.
	PasswordHash string
}

// NewAccount is what `geocommuns user add` stores.
type NewAccount struct {
	DisplayName  string
	Role         string
	Trusted      bool
	PasswordHash string
}

// APIToken is a personal API token. Only its SHA-256 hash is stored: the
// token itself is shown once, when created.
type APIToken struct {
	ID        int64
	UserID    int64
	Hash      []byte
	CreatedAt time.Time
	// RevokedAt is zero while the token is valid.
	RevokedAt time.Time
	// ExpiresAt is when the token stops working, in whole seconds; zero
	// for a token that works until revoked.
	ExpiresAt time.Time
}

// OAuthClient is a registered OAuth 2 client application.
type OAuthClient struct {
	ID   string
	Name string
	// SecretHash is the bcrypt hash of a confidential client's secret;
	// empty for a public client (iD, JOSM), which must use PKCE.
	SecretHash string
	// RedirectURIs are matched exactly.
	RedirectURIs []string
	// Scopes are the scopes the client may ask for.
	Scopes       []string
	Confidential bool
	CreatedAt    time.Time
}

// OAuthGrantKind is what an OAuth grant row is.
type OAuthGrantKind string

const (
	GrantAuthorizationCode OAuthGrantKind = "code"
	GrantPKCE              OAuthGrantKind = "pkce"
	GrantAccessToken       OAuthGrantKind = "access"
	GrantRefreshToken      OAuthGrantKind = "refresh"
)

// OAuthGrant is one step of an OAuth 2 flow kept in the store, so that any
// server process can finish a flow another one started: an authorization
// code, its PKCE challenge, an access or refresh token. Signature is a
// keyed hash of the code or token, never the code or token itself.
type OAuthGrant struct {
	Kind      OAuthGrantKind
	Signature string
	// RequestID ties together the grants of one authorization, so that
	// revoking one revokes its siblings.
	RequestID     string
	ClientID      string
	UserID        int64
	RequestedAt   time.Time
	ExpiresAt     time.Time
	Scopes        []string
	GrantedScopes []string
	// Form is the request's parameters that the flow needs later
	// (redirect_uri, code_challenge, …), URL-encoded; secrets are never
	// kept there.
	Form string
	// Session is the OAuth library's session, serialized.
	Session []byte
	// Used is set once an authorization code was exchanged.
	Used bool
	// RevokedAt is zero until the grant is revoked.
	RevokedAt time.Time
}

// WebSession is a signed-in browser of the OAuth sign-in pages. Only the
// SHA-256 hash of its cookie is stored. Web sessions never authorize the
// OSM API or Connect (design.md).
type WebSession struct {
	Hash      []byte
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Accounts is the store's side of users, credentials and OAuth 2. Every
// method is one statement or one transaction, safe for concurrent use
// from several processes.
type Accounts interface {
	// CreateAccount adds a user with a role, its id taken from the user
	// sequence. It returns ErrNameTaken when an account has the same
	// display name up to case, or any user (imported ones included) has
	// exactly this display name.
	CreateAccount(ctx context.Context, a NewAccount) (Account, error)
	// Account returns the account of a user id, or ErrNotFound (also
	// for an imported user without an account).
	Account(ctx context.Context, id int64) (Account, error)
	// AccountByName returns the account whose display name equals name up
	// to case, or ErrNotFound.
	AccountByName(ctx context.Context, name string) (Account, error)
	// ChangesetCount counts the changesets of a user.
	ChangesetCount(ctx context.Context, uid int64) (int, error)

	// CreateAPIToken stores the hash of a new API token of uid, valid
	// until revoked.
	CreateAPIToken(ctx context.Context, uid int64, hash []byte) (APIToken, error)
	// CreateAPITokenUntil is CreateAPIToken for a token valid until
	// expiresAt (truncated to the second); zero is until revoked.
	CreateAPITokenUntil(ctx context.Context, uid int64, hash []byte, expiresAt time.Time) (APIToken, error)
	// APIToken returns the token with this hash, revoked or not, or
	// ErrNotFound.
	APIToken(ctx context.Context, hash []byte) (APIToken, error)
	// RevokeAPIToken revokes a token by id and returns it; revoking a
	// revoked token keeps its first revocation time. ErrNotFound when no
	// token has that id.
	RevokeAPIToken(ctx context.Context, id int64) (APIToken, error)

	// CreateOAuthClient registers a client application.
	CreateOAuthClient(ctx context.Context, c OAuthClient) error
	// OAuthClient returns a client application, or ErrNotFound.
	OAuthClient(ctx context.Context, id string) (OAuthClient, error)
	// CreateOAuthGrant stores a grant.
	CreateOAuthGrant(ctx context.Context, g OAuthGrant) error
	// OAuthGrant returns a grant, used or revoked ones too, or
	// ErrNotFound.
	OAuthGrant(ctx context.Context, kind OAuthGrantKind, signature string) (OAuthGrant, error)
	// UseOAuthGrant marks a grant used, once: ErrGrantUsed when it was
	// used already (two exchanges of one code racing), ErrNotFound when
	// there is no such grant.
	UseOAuthGrant(ctx context.Context, kind OAuthGrantKind, signature string) error
	// DeleteOAuthGrant removes a grant; removing a missing one is no
	// error.
	DeleteOAuthGrant(ctx context.Context, kind OAuthGrantKind, signature string) error
	// RevokeOAuthGrants revokes every grant of a kind that belongs to one
	// authorization.
	RevokeOAuthGrants(ctx context.Context, kind OAuthGrantKind, requestID string) error

	// ServerSecret returns the secret stored under name. When there is
	// none yet it stores candidate and returns it: every process that
	// asks gets the same secret (the key of the OAuth token signatures,
	// of the CSRF tokens).
	ServerSecret(ctx context.Context, name string, candidate []byte) ([]byte, error)

	// CreateWebSession stores a signed-in browser.
	CreateWebSession(ctx context.Context, s WebSession) error
	// WebSession returns a web session by the hash of its cookie, expired
	// or not, or ErrNotFound.
	WebSession(ctx context.Context, hash []byte) (WebSession, error)
	// DeleteWebSession signs a browser out; deleting a missing session is
	// no error.
	DeleteWebSession(ctx context.Context, hash []byte) error

	// PurgeExpiredSignIns deletes, in one transaction, the OAuth grants
	// that expired or were revoked before `before` and the web sessions
	// that expired before it, and says how many of each went. Callers
	// pass a time well before now: a grant is refused once expired or
	// revoked whether its row is kept or not, but a used code must stay
	// until it has expired, so that its reuse is still told apart from
	// an unknown code (fosite then revokes what the code issued).
	PurgeExpiredSignIns(ctx context.Context, before time.Time) (PurgedSignIns, error)
}

// PurgedSignIns counts what PurgeExpiredSignIns deleted.
type PurgedSignIns struct {
	OAuthGrants int64
	WebSessions int64
}

// AccountNameKey is the form of a display name that account names are
// unique in and looked up by: names differing only in case are one
// account, as on openstreetmap.org. One Go function for both backends, so
// that they agree beyond ASCII.
func AccountNameKey(name string) string { return strings.ToLower(name) }
