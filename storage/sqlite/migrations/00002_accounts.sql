-- Accounts and sign-in, as in the PostgreSQL backend's 00002_accounts.sql:
-- a role for users who may sign in, API tokens, OAuth 2 client
-- applications and grants, the server's own secrets and the web sessions
-- of the sign-in pages. Nothing secret is stored in clear. Times are Unix
-- seconds, as in 00001.

-- +goose Up
ALTER TABLE users ADD COLUMN role TEXT CHECK (role IN ('contributor', 'reviewer', 'admin'));
ALTER TABLE users ADD COLUMN trusted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_hash TEXT;
-- storage.AccountNameKey(display_name), for accounts only.
ALTER TABLE users ADD COLUMN login_name TEXT;
CREATE UNIQUE INDEX users_login_name ON users (login_name) WHERE login_name IS NOT NULL;

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    token_hash BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE oauth_clients (
    id            TEXT    PRIMARY KEY,
    name          TEXT    NOT NULL,
    secret_hash   TEXT,
    redirect_uris TEXT    NOT NULL,
    scopes        TEXT    NOT NULL,
    confidential  INTEGER NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE oauth_grants (
    kind           TEXT    NOT NULL CHECK (kind IN ('code', 'pkce', 'access', 'refresh')),
    signature      TEXT    NOT NULL,
    request_id     TEXT    NOT NULL,
    client_id      TEXT    NOT NULL REFERENCES oauth_clients (id),
    user_id        INTEGER NOT NULL REFERENCES users (id),
    requested_at   INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    scopes         TEXT    NOT NULL,
    granted_scopes TEXT    NOT NULL,
    form           TEXT    NOT NULL,
    session        BLOB    NOT NULL,
    used           INTEGER NOT NULL DEFAULT 0,
    revoked_at     INTEGER,
    PRIMARY KEY (kind, signature)
) STRICT, WITHOUT ROWID;
CREATE INDEX oauth_grants_request ON oauth_grants (request_id);

CREATE TABLE server_secrets (
    name   TEXT PRIMARY KEY,
    secret BLOB NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE web_sessions (
    session_hash BLOB    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE web_sessions;
DROP TABLE server_secrets;
DROP TABLE oauth_grants;
DROP TABLE oauth_clients;
DROP TABLE api_tokens;
DROP INDEX users_login_name;
ALTER TABLE users DROP COLUMN login_name;
ALTER TABLE users DROP COLUMN password_hash;
ALTER TABLE users DROP COLUMN trusted;
ALTER TABLE users DROP COLUMN role;
