-- Operations (issue 9): redactions hide historical versions from every
-- read and feed (a legal takedown), replication files already cut are
-- rendered again, and admin_audit records every action
-- of an administrator on the dataset (redactions, account deletions), in
-- the transaction that does it.

-- +goose Up
CREATE TABLE redactions (
    element_type smallint    NOT NULL,
    element_id   bigint      NOT NULL,
    version      integer     NOT NULL,
    -- The operator's reference of the takedown (openstreetmap.org's
    -- redaction id); 0 when there is none.
    redaction_id bigint      NOT NULL DEFAULT 0,
    reason       text        NOT NULL DEFAULT '',
    admin_id     bigint      NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    PRIMARY KEY (element_type, element_id, version)
);

CREATE TABLE admin_audit (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    admin_id   bigint      NOT NULL REFERENCES users (id),
    action     text        NOT NULL CHECK (action IN ('redact', 'unredact', 'delete_account')),
    target     text        NOT NULL,
    reason     text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT date_trunc('second', now())
);

-- How many redactions or unredactions touched a file's merges since it
-- was written: the feed renders such a file again before serving it
-- (storage.ReplicationRewriter); 0 when its content is current.
ALTER TABLE replication_files ADD COLUMN redactions_pending integer NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE replication_files DROP COLUMN redactions_pending;
DROP TABLE admin_audit;
DROP TABLE redactions;
