-- The review's side of changesets (storage.Reviews, issue 6): the stored
-- validation and its findings, the scopes a submission needs approved and
-- who approved them, the distinct approvers, assignment, escalation and
-- discussion subscriptions. Every state move these record writes its
-- review event (00011) in the same transaction.

-- +goose Up
-- A changeset's validation, replaced whole by each run (on submit and
-- again before merge).
CREATE TABLE changeset_validations (
    changeset_id bigint      PRIMARY KEY,
    risk         integer     NOT NULL,
    computed_at  timestamptz NOT NULL
);

-- Findings in the order the validator reported them. elements is a JSON
-- array of [type, id] pairs, the first the one to show: findings are
-- written in bulk through unnest, which cannot carry an array per row.
-- lon and lat are NULL for a finding without a location.
CREATE TABLE changeset_findings (
    changeset_id bigint  NOT NULL,
    ordinal      integer NOT NULL,
    rule         text    NOT NULL,
    severity     text    NOT NULL CHECK (severity IN ('error', 'warning')),
    elements     jsonb   NOT NULL,
    message      text    NOT NULL,
    lon          double precision,
    lat          double precision,
    PRIMARY KEY (changeset_id, ordinal)
);
-- The queue's reason filter.
CREATE INDEX changeset_findings_rule ON changeset_findings (rule, changeset_id);

-- The scopes the current submission needs approved; approved_by is the
-- first reviewer who approved the scope, 0 while nobody has.
CREATE TABLE changeset_scopes (
    changeset_id bigint NOT NULL,
    scope        text   NOT NULL,
    approved_by  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (changeset_id, scope)
);
-- A reviewer's own work first: the scopes still waiting for an approval.
CREATE INDEX changeset_scopes_waiting ON changeset_scopes (scope, changeset_id) WHERE approved_by = 0;

-- Every distinct reviewer who approved the current submission, whatever
-- the scopes: approvals_required counts these, and a second reviewer of
-- an already approved scope still counts.
CREATE TABLE changeset_approvals (
    changeset_id bigint NOT NULL,
    reviewer_id  bigint NOT NULL,
    PRIMARY KEY (changeset_id, reviewer_id)
);

-- approvals_required: distinct approvers the submission needs (policy).
-- assignee: the reviewer who took it, 0 for nobody.
-- escalated_submission: the closed_at of the submission that was
-- escalated; a resubmission closes at a later time, so it waits afresh
-- without anyone having to clear a flag.
ALTER TABLE changesets
    ADD COLUMN approvals_required   integer NOT NULL DEFAULT 1 CHECK (approvals_required >= 1),
    ADD COLUMN assignee             bigint  NOT NULL DEFAULT 0,
    ADD COLUMN escalated_submission timestamptz;
-- The queue by state and submission time (oldest first), and escalation.
CREATE INDEX changesets_review_queue ON changesets (review_state, closed_at, id);
-- The queue of one contributor.
CREATE INDEX changesets_review_contributor ON changesets (user_id, review_state, closed_at);

-- OSM's changeset discussion subscriptions.
CREATE TABLE changeset_subscriptions (
    changeset_id bigint NOT NULL,
    user_id      bigint NOT NULL,
    PRIMARY KEY (changeset_id, user_id)
);

-- +goose Down
DROP TABLE changeset_subscriptions;
DROP INDEX changesets_review_contributor;
DROP INDEX changesets_review_queue;
ALTER TABLE changesets
    DROP COLUMN escalated_submission,
    DROP COLUMN assignee,
    DROP COLUMN approvals_required;
DROP TABLE changeset_approvals;
DROP TABLE changeset_scopes;
DROP TABLE changeset_findings;
DROP TABLE changeset_validations;
