package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.Accounts = (*Store)(nil)

// accountRow is *sql.Row and *sql.Rows.
type accountRow interface{ Scan(dest ...any) error }

func isConstraintUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// noRowsAsNotFound turns database/sql's "no rows" into
// storage.ErrNotFound.
func noRowsAsNotFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return storage.ErrNotFound
	}
	return err
}

// unixTime reads a Unix-seconds column; NULL is the zero time.
func unixTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.Unix(v.Int64, 0).UTC()
}

const accountColumns = `id, display_name, created_at, role, trusted, coalesce(password_hash, '')`

func scanAccount(row accountRow) (storage.Account, error) {
	var a storage.Account
	var created int64
	if err := row.Scan(&a.ID, &a.DisplayName, &created, &a.Role, &a.Trusted, &a.PasswordHash); err != nil {
		return storage.Account{}, err
	}
	a.CreatedAt = time.Unix(created, 0).UTC()
	return a, nil
}

// CreateAccount adds a user with a role; see storage.Accounts.
func (s *Store) CreateAccount(ctx context.Context, na storage.NewAccount) (storage.Account, error) {
	a, err := s.createAccount(ctx, na)
	if err != nil {
		return storage.Account{}, fmt.Errorf("create account %q: %w", na.DisplayName, err)
	}
	return a, nil
}

func (s *Store) createAccount(ctx context.Context, na storage.NewAccount) (storage.Account, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return storage.Account{}, err
	}
	defer tx.Rollback()
	// An imported contributor's exact name is refused too: their history
	// and the new account would read as one user's.
	var taken bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE display_name = ?)`,
		na.DisplayName).Scan(&taken); err != nil {
		return storage.Account{}, err
	}
	if taken {
		return storage.Account{}, storage.ErrNameTaken
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `UPDATE next_ids SET next_id = next_id + 1 WHERE name = 'user'
		RETURNING next_id - 1`).Scan(&id); err != nil {
		return storage.Account{}, fmt.Errorf("allocate a user id: %w", err)
	}
	a, err := scanAccount(tx.QueryRowContext(ctx, `
		INSERT INTO users (id, display_name, created_at, role, trusted, password_hash, login_name)
		VALUES (?, ?, unixepoch(), ?, ?, nullif(?, ''), ?)
		RETURNING `+accountColumns,
		id, na.DisplayName, na.Role, na.Trusted, na.PasswordHash, storage.AccountNameKey(na.DisplayName)))
	if isConstraintUnique(err) {
		return storage.Account{}, storage.ErrNameTaken
	}
	if err != nil {
		return storage.Account{}, err
	}
	return a, tx.Commit()
}

// Account returns the account of a user id; see storage.Accounts.
func (s *Store) Account(ctx context.Context, id int64) (storage.Account, error) {
	a, err := scanAccount(s.reader.QueryRowContext(ctx,
		`SELECT `+accountColumns+` FROM users WHERE id = ? AND role IS NOT NULL`, id))
	if err != nil {
		return storage.Account{}, fmt.Errorf("account %d: %w", id, noRowsAsNotFound(err))
	}
	return a, nil
}

// AccountByName returns an account by display name, up to case.
func (s *Store) AccountByName(ctx context.Context, name string) (storage.Account, error) {
	a, err := scanAccount(s.reader.QueryRowContext(ctx,
		`SELECT `+accountColumns+` FROM users WHERE login_name = ?`, storage.AccountNameKey(name)))
	if err != nil {
		return storage.Account{}, fmt.Errorf("account %q: %w", name, noRowsAsNotFound(err))
	}
	return a, nil
}

// ChangesetCount counts the changesets of a user.
func (s *Store) ChangesetCount(ctx context.Context, uid int64) (int, error) {
	var n int
	if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM changesets WHERE user_id = ?`, uid).Scan(&n); err != nil {
		return 0, fmt.Errorf("count changesets of user %d: %w", uid, err)
	}
	return n, nil
}

const apiTokenColumns = `id, user_id, token_hash, created_at, revoked_at, expires_at`

func scanAPIToken(row accountRow) (storage.APIToken, error) {
	var t storage.APIToken
	var created int64
	var revoked, expires sql.NullInt64
	if err := row.Scan(&t.ID, &t.UserID, &t.Hash, &created, &revoked, &expires); err != nil {
		return storage.APIToken{}, err
	}
	t.CreatedAt = time.Unix(created, 0).UTC()
	t.RevokedAt = unixTime(revoked)
	t.ExpiresAt = unixTime(expires)
	return t, nil
}

// CreateAPIToken stores the hash of a new API token, valid until revoked.
func (s *Store) CreateAPIToken(ctx context.Context, uid int64, hash []byte) (storage.APIToken, error) {
	return s.CreateAPITokenUntil(ctx, uid, hash, time.Time{})
}

// CreateAPITokenUntil stores the hash of a new API token valid until
// expiresAt.
func (s *Store) CreateAPITokenUntil(ctx context.Context, uid int64, hash []byte, expiresAt time.Time) (storage.APIToken, error) {
	var expires sql.NullInt64
	if !expiresAt.IsZero() {
		expires = sql.NullInt64{Int64: expiresAt.Unix(), Valid: true}
	}
	t, err := scanAPIToken(s.writer.QueryRowContext(ctx, `
		INSERT INTO api_tokens (user_id, token_hash, created_at, expires_at) VALUES (?, ?, unixepoch(), ?)
		RETURNING `+apiTokenColumns, uid, hash, expires))
	if err != nil {
		return storage.APIToken{}, fmt.Errorf("create an API token for user %d: %w", uid, err)
	}
	return t, nil
}

// APIToken returns a token by hash.
func (s *Store) APIToken(ctx context.Context, hash []byte) (storage.APIToken, error) {
	t, err := scanAPIToken(s.reader.QueryRowContext(ctx,
		`SELECT `+apiTokenColumns+` FROM api_tokens WHERE token_hash = ?`, hash))
	if err != nil {
		return storage.APIToken{}, fmt.Errorf("API token: %w", noRowsAsNotFound(err))
	}
	return t, nil
}

// RevokeAPIToken revokes a token by id.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64) (storage.APIToken, error) {
	t, err := scanAPIToken(s.writer.QueryRowContext(ctx, `
		UPDATE api_tokens SET revoked_at = coalesce(revoked_at, unixepoch()) WHERE id = ?
		RETURNING `+apiTokenColumns, id))
	if err != nil {
		return storage.APIToken{}, fmt.Errorf("revoke API token %d: %w", id, noRowsAsNotFound(err))
	}
	return t, nil
}

// CreateOAuthClient registers a client application.
func (s *Store) CreateOAuthClient(ctx context.Context, c storage.OAuthClient) error {
	_, err := s.writer.ExecContext(ctx, `
		INSERT INTO oauth_clients (id, name, secret_hash, redirect_uris, scopes, confidential, created_at)
		VALUES (?, ?, nullif(?, ''), ?, ?, ?, unixepoch())`,
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
	var created int64
	err := s.reader.QueryRowContext(ctx, `
		SELECT id, name, coalesce(secret_hash, ''), redirect_uris, scopes, confidential, created_at
		FROM oauth_clients WHERE id = ?`, id).
		Scan(&c.ID, &c.Name, &c.SecretHash, &uris, &scopes, &c.Confidential, &created)
	if err != nil {
		return storage.OAuthClient{}, fmt.Errorf("OAuth client %q: %w", id, noRowsAsNotFound(err))
	}
	c.CreatedAt = time.Unix(created, 0).UTC()
	c.RedirectURIs = strings.Fields(uris)
	c.Scopes = strings.Fields(scopes)
	return c, nil
}

// CreateOAuthGrant stores a grant.
func (s *Store) CreateOAuthGrant(ctx context.Context, g storage.OAuthGrant) error {
	_, err := s.writer.ExecContext(ctx, `
		INSERT INTO oauth_grants (kind, signature, request_id, client_id, user_id, requested_at, expires_at,
			scopes, granted_scopes, form, session)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(g.Kind), g.Signature, g.RequestID, g.ClientID, g.UserID, g.RequestedAt.Unix(), g.ExpiresAt.Unix(),
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
	var requested, expires int64
	var revoked sql.NullInt64
	err := s.reader.QueryRowContext(ctx, `
		SELECT request_id, client_id, user_id, requested_at, expires_at, scopes, granted_scopes, form, session,
			used, revoked_at
		FROM oauth_grants WHERE kind = ? AND signature = ?`, string(kind), signature).
		Scan(&g.RequestID, &g.ClientID, &g.UserID, &requested, &expires, &scopes, &granted, &g.Form,
			&g.Session, &g.Used, &revoked)
	if err != nil {
		return storage.OAuthGrant{}, fmt.Errorf("OAuth %s grant: %w", kind, noRowsAsNotFound(err))
	}
	g.RequestedAt, g.ExpiresAt = time.Unix(requested, 0).UTC(), time.Unix(expires, 0).UTC()
	g.Scopes, g.GrantedScopes = strings.Fields(scopes), strings.Fields(granted)
	g.RevokedAt = unixTime(revoked)
	return g, nil
}

// UseOAuthGrant marks a grant used, once.
func (s *Store) UseOAuthGrant(ctx context.Context, kind storage.OAuthGrantKind, signature string) error {
	// The condition on used makes the update the check: of two exchanges
	// of one code racing, exactly one updates the row.
	res, err := s.writer.ExecContext(ctx, `
		UPDATE oauth_grants SET used = 1 WHERE kind = ? AND signature = ? AND NOT used`, string(kind), signature)
	if err != nil {
		return fmt.Errorf("use OAuth %s grant: %w", kind, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return nil
	}
	if _, err := s.OAuthGrant(ctx, kind, signature); err != nil {
		return fmt.Errorf("use: %w", err)
	}
	return fmt.Errorf("use OAuth %s grant: %w", kind, storage.ErrGrantUsed)
}

// DeleteOAuthGrant removes a grant.
func (s *Store) DeleteOAuthGrant(ctx context.Context, kind storage.OAuthGrantKind, signature string) error {
	if _, err := s.writer.ExecContext(ctx, `DELETE FROM oauth_grants WHERE kind = ? AND signature = ?`,
		string(kind), signature); err != nil {
		return fmt.Errorf("delete OAuth %s grant: %w", kind, err)
	}
	return nil
}

// RevokeOAuthGrants revokes the grants of a kind of one authorization.
func (s *Store) RevokeOAuthGrants(ctx context.Context, kind storage.OAuthGrantKind, requestID string) error {
	if _, err := s.writer.ExecContext(ctx, `
		UPDATE oauth_grants SET revoked_at = unixepoch()
		WHERE request_id = ? AND kind = ? AND revoked_at IS NULL`, requestID, string(kind)); err != nil {
		return fmt.Errorf("revoke OAuth %s grants: %w", kind, err)
	}
	return nil
}

// ServerSecret returns the secret named name, storing candidate first if
// there is none.
func (s *Store) ServerSecret(ctx context.Context, name string, candidate []byte) ([]byte, error) {
	var secret []byte
	// The no-op update makes RETURNING give the row that won a race.
	err := s.writer.QueryRowContext(ctx, `
		INSERT INTO server_secrets (name, secret) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET name = excluded.name
		RETURNING secret`, name, candidate).Scan(&secret)
	if err != nil {
		return nil, fmt.Errorf("server secret %s: %w", name, err)
	}
	return secret, nil
}

// CreateWebSession stores a signed-in browser.
func (s *Store) CreateWebSession(ctx context.Context, ws storage.WebSession) error {
	if _, err := s.writer.ExecContext(ctx, `
		INSERT INTO web_sessions (session_hash, user_id, created_at, expires_at) VALUES (?, ?, unixepoch(), ?)`,
		ws.Hash, ws.UserID, ws.ExpiresAt.Unix()); err != nil {
		return fmt.Errorf("create web session: %w", err)
	}
	return nil
}

// WebSession returns a web session by the hash of its cookie.
func (s *Store) WebSession(ctx context.Context, hash []byte) (storage.WebSession, error) {
	ws := storage.WebSession{Hash: hash}
	var created, expires int64
	err := s.reader.QueryRowContext(ctx, `SELECT user_id, created_at, expires_at FROM web_sessions WHERE session_hash = ?`, hash).
		Scan(&ws.UserID, &created, &expires)
	if err != nil {
		return storage.WebSession{}, fmt.Errorf("web session: %w", noRowsAsNotFound(err))
	}
	ws.CreatedAt, ws.ExpiresAt = time.Unix(created, 0).UTC(), time.Unix(expires, 0).UTC()
	return ws, nil
}

// DeleteWebSession signs a browser out.
func (s *Store) DeleteWebSession(ctx context.Context, hash []byte) error {
	if _, err := s.writer.ExecContext(ctx, `DELETE FROM web_sessions WHERE session_hash = ?`, hash); err != nil {
		return fmt.Errorf("delete web session: %w", err)
	}
	return nil
}
