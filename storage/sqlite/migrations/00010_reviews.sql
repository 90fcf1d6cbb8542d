-- The review's side of changesets on SQLite: the same tables as on
-- PostgreSQL (see its 00012_reviews.sql), times as INTEGER Unix seconds.

-- +goose Up
CREATE TABLE changeset_validations (
    changeset_id INTEGER PRIMARY KEY,
    risk         INTEGER NOT NULL,
    computed_at  INTEGER NOT NULL
) STRICT;

-- elements: [[type, id], ...], the first the one to show; lon and lat
-- NULL for a finding without a location.
CREATE TABLE changeset_findings (
    changeset_id INTEGER NOT NULL,
    ordinal      INTEGER NOT NULL,
    rule         TEXT    NOT NULL,
    severity     TEXT    NOT NULL CHECK (severity IN ('error', 'warning')),
    elements     TEXT    NOT NULL,
    message      TEXT    NOT NULL,
    lon          REAL,
    lat          REAL,
    PRIMARY KEY (changeset_id, ordinal)
) STRICT;
CREATE INDEX changeset_findings_rule ON changeset_findings (rule, changeset_id);

CREATE TABLE changeset_scopes (
    changeset_id INTEGER NOT NULL,
    scope        TEXT    NOT NULL,
    approved_by  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (changeset_id, scope)
) STRICT, WITHOUT ROWID;
CREATE INDEX changeset_scopes_waiting ON changeset_scopes (scope, changeset_id) WHERE approved_by = 0;

CREATE TABLE changeset_approvals (
    changeset_id INTEGER NOT NULL,
    reviewer_id  INTEGER NOT NULL,
    PRIMARY KEY (changeset_id, reviewer_id)
) STRICT, WITHOUT ROWID;

-- See PostgreSQL's: escalated_submission is the closed_at of the
-- submission that was escalated.
ALTER TABLE changesets ADD COLUMN approvals_required INTEGER NOT NULL DEFAULT 1 CHECK (approvals_required >= 1);
ALTER TABLE changesets ADD COLUMN assignee INTEGER NOT NULL DEFAULT 0;
ALTER TABLE changesets ADD COLUMN escalated_submission INTEGER;
CREATE INDEX changesets_review_queue ON changesets (review_state, closed_at, id);
CREATE INDEX changesets_review_contributor ON changesets (user_id, review_state, closed_at);

CREATE TABLE changeset_subscriptions (
    changeset_id INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    PRIMARY KEY (changeset_id, user_id)
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE changeset_subscriptions;
DROP INDEX changesets_review_contributor;
DROP INDEX changesets_review_queue;
ALTER TABLE changesets DROP COLUMN escalated_submission;
ALTER TABLE changesets DROP COLUMN assignee;
ALTER TABLE changesets DROP COLUMN approvals_required;
DROP TABLE changeset_approvals;
DROP TABLE changeset_scopes;
DROP TABLE changeset_findings;
DROP TABLE changeset_validations;
