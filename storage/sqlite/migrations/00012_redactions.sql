-- Redactions and the administrators' audit log on SQLite: the same tables
-- as on PostgreSQL (see its 00014_redactions.sql); times are Unix seconds.

-- +goose Up
CREATE TABLE redactions (
    element_type INTEGER NOT NULL,
    element_id   INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    redaction_id INTEGER NOT NULL DEFAULT 0,
    reason       TEXT    NOT NULL DEFAULT '',
    admin_id     INTEGER NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (element_type, element_id, version)
) WITHOUT ROWID;

CREATE TABLE admin_audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    admin_id   INTEGER NOT NULL REFERENCES users (id),
    action     TEXT    NOT NULL CHECK (action IN ('redact', 'unredact', 'delete_account')),
    target     TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

ALTER TABLE replication_files ADD COLUMN redactions_pending INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE replication_files DROP COLUMN redactions_pending;
DROP TABLE admin_audit;
DROP TABLE redactions;
