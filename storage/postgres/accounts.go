package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.Accounts = (*Store)(nil)

// pgUniqueViolation is PostgreSQL's SQLSTATE for a duplicate key.
const pgUniqueViolation = "23505"

func isDuplicateKey(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == pgUniqueViolation
}

// asNotFound turns pgx's "no rows" into storage.ErrNotFound.
func asNotFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.ErrNotFound
	}
	return err
}

const accountColumns = `id, display_name, created_at, role, trusted, coalesce(password_hash, '')`

func scanAccount(row pgx.Row) (storage.Account, error) {
	var a storage.Account
	err := row.Scan(&a.ID, &a.DisplayName, &a.CreatedAt, &a.Role, &a.Trusted, &a.PasswordHash)
	a.CreatedAt = a.CreatedAt.UTC()
	return a, err
}

// CreateAccount adds a user with a role; see storage.Accounts.
func (s *Store) CreateAccount(ctx context.Context, na storage.NewAccount) (storage.Account, error) {
	var a storage.Account
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// An imported contributor's exact name is refused too: their
		// history and the new account would read as one user's.
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE display_name = $1)`,
			na.DisplayName).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return storage.ErrNameTaken
		}
		var err error
		a, err = scanAccount(tx.QueryRow(ctx, `
			INSERT INTO users (id, display_name, created_at, role, trusted, password_hash, login_name)
			VALUES (nextval('user_id_seq'), $1, date_trunc('second', now()), $2, $3, nullif($4, ''), $5)
			RETURNING `+accountColumns,
			na.DisplayName, na.Role, na.Trusted, na.PasswordHash, storage.AccountNameKey(na.DisplayName)))
		if isDuplicateKey(err) {
			return storage.ErrNameTaken
		}
		return err
	})
	if err != nil {
		return storage.Account{}, fmt.Errorf("create account %q: %w", na.DisplayName, err)
	}
	return a, nil
}

// Account returns the account of a user id; see storage.Accounts.
func (s *Store) Account(ctx context.Context, id int64) (storage.Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx,
		`SELECT `+accountColumns+` FROM users WHERE id = $1 AND role IS NOT NULL`, id))
	if err != nil {
		return storage.Account{}, fmt.Errorf("account %d: %w", id, asNotFound(err))
	}
	return a, nil
}

// AccountByName returns an account by display name, up to case.
func (s *Store) AccountByName(ctx context.Context, name string) (storage.Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx,
		`SELECT `+accountColumns+` FROM users WHERE login_name = $1`, storage.AccountNameKey(name)))
	if err != nil {
		return storage.Account{}, fmt.Errorf("account %q: %w", name, asNotFound(err))
	}
	return a, nil
}

// ChangesetCount counts the changesets of a user.
func (s *Store) ChangesetCount(ctx context.Context, uid int64) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM changesets WHERE user_id = $1`, uid).Scan(&n); err != nil {
		return 0, fmt.Errorf("count changesets of user %d: %w", uid, err)
	}
	return n, nil
}

const apiTokenColumns = `id, user_id, token_hash, created_at, revoked_at, expires_at`

func scanAPIToken(row pgx.Row) (storage.APIToken, error) {
	var t storage.APIToken
	var revoked, expires *time.Time
	if err := row.Scan(&t.ID, &t.UserID, &t.Hash, &t.CreatedAt, &revoked, &expires); err != nil {
		return storage.APIToken{}, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	if revoked != nil {
		t.RevokedAt = revoked.UTC()
	}
	if expires != nil {
		t.ExpiresAt = expires.UTC()
	}
	return t, nil
}

// CreateAPIToken stores the hash of a new API token, valid until revoked.
func (s *Store) CreateAPIToken(ctx context.Context, uid int64, hash []byte) (storage.APIToken, error) {
	return s.CreateAPITokenUntil(ctx, uid, hash, time.Time{})
}

// CreateAPITokenUntil stores the hash of a new API token valid until
// expiresAt.
func (s *Store) CreateAPITokenUntil(ctx context.Context, uid int64, hash []byte, expiresAt time.Time) (storage.APIToken, error) {
	var expires *time.Time
	if !expiresAt.IsZero() {
		// Whole seconds, as on SQLite.
		e := expiresAt.UTC().Truncate(time.Second)
		expires = &e
	}
	t, err := scanAPIToken(s.pool.QueryRow(ctx, `
		INSERT INTO api_tokens (user_id, token_hash, expires_at) VALUES ($1, $2, $3) RETURNING `+apiTokenColumns, uid, hash, expires))
	if err != nil {
		return storage.APIToken{}, fmt.Errorf("create an API token for user %d: %w", uid, err)
	}
	return t, nil
}

// APIToken returns a token by hash.
func (s *Store) APIToken(ctx context.Context, hash []byte) (storage.APIToken, error) {
	t, err := scanAPIToken(s.pool.QueryRow(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE token_hash = $1`, hash))
	if err != nil {
		return storage.APIToken{}, fmt.Errorf("API token: %w", asNotFound(err))
	}
	return t, nil
}

// RevokeAPIToken revokes a token by id.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64) (storage.APIToken, error) {
	t, err := scanAPIToken(s.pool.QueryRow(ctx, `
		UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1
		RETURNING `+apiTokenColumns, id))
	if err != nil {
		return storage.APIToken{}, fmt.Errorf("revoke API token %d: %w", id, asNotFound(err))
	}
	return t, nil
}

// CreateOAuthClient registers a client application.
func (s *Store) CreateOAuthClient(ctx context.Context, c storage.OAuthClient) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO oauth_clients (id, name, secret_hash, redirect_uris, scopes, confidential)
		VALUES ($1, $2, nullif($3, ''), $4, $5, $6)`,
		c.ID, c.Name, c.SecretHash, strings.Join(c.RedirectURIs, "\n"), strings.Join(c.Scopes, " "), c.Confidential)
	if err != nil {
		return fmt.Errorf("register OAuth client %q: %w", c.Name, err)
	}
	return nil
}

// OAuthClient returns a client application.
func (s *Store) OAuthClient(ctx context.Context, id string) (storage.OAuthClient, error) {
	var c storage.OAuthClient
	var uris, scopes string
	err := s.pool.QueryRow(ctx, `
		SELECT id, name, coalesce(secret_hash, ''), redirect_uris, scopes, confidential, created_at
		FROM oauth_clients WHERE id = $1`, id).
		Scan(&c.ID, &c.Name, &c.SecretHash, &uris, &scopes, &c.Confidential, &c.CreatedAt)
	if err != nil {
		return storage.OAuthClient{}, fmt.Errorf("OAuth client %q: %w", id, asNotFound(err))
	}
	c.CreatedAt = c.CreatedAt.UTC()
	c.RedirectURIs = strings.Fields(uris)
	c.Scopes = strings.Fields(scopes)
	return c, nil
}

// CreateOAuthGrant stores a grant.
func (s *Store) CreateOAuthGrant(ctx context.Context, g storage.OAuthGrant) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO oauth_grants (kind, signature, request_id, client_id, user_id, requested_at, expires_at,
			scopes, granted_scopes, form, session)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		string(g.Kind), g.Signature, g.RequestID, g.ClientID, g.UserID, g.RequestedAt, g.ExpiresAt,
		strings.Join(g.Scopes, " "), strings.Join(g.GrantedScopes, " "), g.Form, g.Session)
	if err != nil {
		return fmt.Errorf("store OAuth %s grant: %w", g.Kind, err)
	}
	return nil
}

// OAuthGrant returns a grant.
func (s *Store) OAuthGrant(ctx context.Context, kind storage.OAuthGrantKind, signature string) (storage.OAuthGrant, error) {
	g := storage.OAuthGrant{Kind: kind, Signature: signature}
	var scopes, granted string
	var revoked *time.Time
	err := s.pool.QueryRow(ctx, `
		SELECT request_id, client_id, user_id, requested_at, expires_at, scopes, granted_scopes, form, session,
			used, revoked_at
		FROM oauth_grants WHERE kind = $1 AND signature = $2`, string(kind), signature).
		Scan(&g.RequestID, &g.ClientID, &g.UserID, &g.RequestedAt, &g.ExpiresAt, &scopes, &granted, &g.Form,
			&g.Session, &g.Used, &revoked)
	if err != nil {
		return storage.OAuthGrant{}, fmt.Errorf("OAuth %s grant: %w", kind, asNotFound(err))
	}
	g.RequestedAt, g.ExpiresAt = g.RequestedAt.UTC(), g.ExpiresAt.UTC()
	g.Scopes, g.GrantedScopes = strings.Fields(scopes), strings.Fields(granted)
	if revoked != nil {
		g.RevokedAt = revoked.UTC()
	}
	return g, nil
}

// UseOAuthGrant marks a grant used, once.
func (s *Store) UseOAuthGrant(ctx context.Context, kind storage.OAuthGrantKind, signature string) error {
	// The condition on used makes the update the check: of two exchanges
	// of one code racing, exactly one updates the row.
	tag, err := s.pool.Exec(ctx, `
		UPDATE oauth_grants SET used = true WHERE kind = $1 AND signature = $2 AND NOT used`, string(kind), signature)
	if err != nil {
		return fmt.Errorf("use OAuth %s grant: %w", kind, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	if _, err := s.OAuthGrant(ctx, kind, signature); err != nil {
		return fmt.Errorf("use: %w", err)
	}
	return fmt.Errorf("use OAuth %s grant: %w", kind, storage.ErrGrantUsed)
}

// DeleteOAuthGrant removes a grant.
func (s *Store) DeleteOAuthGrant(ctx context.Context, kind storage.OAuthGrantKind, signature string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM oauth_grants WHERE kind = $1 AND signature = $2`, string(kind), signature); err != nil {
		return fmt.Errorf("delete OAuth %s grant: %w", kind, err)
	}
	return nil
}

// RevokeOAuthGrants revokes the grants of a kind of one authorization.
func (s *Store) RevokeOAuthGrants(ctx context.Context, kind storage.OAuthGrantKind, requestID string) error {
	if _, err := s.pool.Exec(ctx, `
		UPDATE oauth_grants SET revoked_at = now()
		WHERE request_id = $1 AND kind = $2 AND revoked_at IS NULL`, requestID, string(kind)); err != nil {
		return fmt.Errorf("revoke OAuth %s grants: %w", kind, err)
	}
	return nil
}

// ServerSecret returns the secret named name, storing candidate first if
// there is none.
func (s *Store) ServerSecret(ctx context.Context, name string, candidate []byte) ([]byte, error) {
	var secret []byte
	// The no-op update makes RETURNING give the row that won a race.
	err := s.pool.QueryRow(ctx, `
		INSERT INTO server_secrets (name, secret) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET name = excluded.name
		RETURNING secret`, name, candidate).Scan(&secret)
	if err != nil {
		return nil, fmt.Errorf("server secret %s: %w", name, err)
	}
	return secret, nil
}

// CreateWebSession stores a signed-in browser.
func (s *Store) CreateWebSession(ctx context.Context, ws storage.WebSession) error {
	if _, err := s.pool.Exec(ctx, `
		INSERT INTO web_sessions (session_hash, user_id, expires_at) VALUES ($1, $2, $3)`,
		ws.Hash, ws.UserID, ws.ExpiresAt); err != nil {
		return fmt.Errorf("create web session: %w", err)
	}
	return nil
}

// WebSession returns a web session by the hash of its cookie.
func (s *Store) WebSession(ctx context.Context, hash []byte) (storage.WebSession, error) {
	ws := storage.WebSession{Hash: hash}
	err := s.pool.QueryRow(ctx, `SELECT user_id, created_at, expires_at FROM web_sessions WHERE session_hash = $1`, hash).
		Scan(&ws.UserID, &ws.CreatedAt, &ws.ExpiresAt)
	if err != nil {
		return storage.WebSession{}, fmt.Errorf("web session: %w", asNotFound(err))
	}
	ws.CreatedAt, ws.ExpiresAt = ws.CreatedAt.UTC(), ws.ExpiresAt.UTC()
	return ws, nil
}

// DeleteWebSession signs a browser out.
func (s *Store) DeleteWebSession(ctx context.Context, hash []byte) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE session_hash = $1`, hash); err != nil {
		return fmt.Errorf("delete web session: %w", err)
	}
	return nil
}
