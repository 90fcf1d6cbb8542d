-- Accounts and sign-in: users who may sign in get a role (imported
-- contributors keep none), API tokens, OAuth 2 client applications and
-- grants, the server's own secrets, and the web sessions of the sign-in
-- pages. No password, token, code or session cookie is stored in clear:
-- passwords as argon2id PHC strings, API tokens and cookies as SHA-256
-- hashes, OAuth codes and tokens as keyed signatures, client secrets as
-- bcrypt hashes.

-- +goose Up
ALTER TABLE users
    ADD COLUMN role          text CHECK (role IN ('contributor', 'reviewer', 'admin')),
    ADD COLUMN trusted       boolean NOT NULL DEFAULT false,
    ADD COLUMN password_hash text,
    -- storage.AccountNameKey(display_name), set for accounts only: names
    -- differing in case are one account. Computed in Go so that both
    -- backends fold case alike.
    ADD COLUMN login_name    text;
CREATE UNIQUE INDEX users_login_name ON users (login_name) WHERE login_name IS NOT NULL;

CREATE TABLE api_tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id),
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE oauth_clients (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    secret_hash   text,
    -- One URI per line and space-separated scopes, as Doorkeeper keeps
    -- them on openstreetmap.org.
    redirect_uris text NOT NULL,
    scopes        text NOT NULL,
    confidential  boolean NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Authorization codes, their PKCE challenges, access and refresh tokens,
-- keyed by their signature: any server process can finish a flow that
-- another one started.
CREATE TABLE oauth_grants (
    kind           text NOT NULL CHECK (kind IN ('code', 'pkce', 'access', 'refresh')),
    signature      text NOT NULL,
    request_id     text NOT NULL,
    client_id      text NOT NULL REFERENCES oauth_clients (id),
    user_id        bigint NOT NULL REFERENCES users (id),
    requested_at   timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    scopes         text NOT NULL,
    granted_scopes text NOT NULL,
    form           text NOT NULL,
    session        bytea NOT NULL,
    used           boolean NOT NULL DEFAULT false,
    revoked_at     timestamptz,
    PRIMARY KEY (kind, signature)
);
CREATE INDEX oauth_grants_request ON oauth_grants (request_id);

CREATE TABLE server_secrets (
    name   text PRIMARY KEY,
    secret bytea NOT NULL
);

CREATE TABLE web_sessions (
    session_hash bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

-- +goose Down
DROP TABLE web_sessions;
DROP TABLE server_secrets;
DROP TABLE oauth_grants;
DROP TABLE oauth_clients;
DROP TABLE api_tokens;
DROP INDEX users_login_name;
ALTER TABLE users
    DROP COLUMN login_name,
    DROP COLUMN password_hash,
    DROP COLUMN trusted,
    DROP COLUMN role;
