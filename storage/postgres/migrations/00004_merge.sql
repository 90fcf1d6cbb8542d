-- The merge (design.md): the final version each pending change became,
-- the outbox row of every merge, and the report of a conflicted one.

-- +goose Up
-- Set by the merge: provisional versions of a merged change resolve to
-- it, and a stacked child's base (a parent's provisional version)
-- resolves to the parent's final version.
ALTER TABLE pending_changes ADD COLUMN final_version integer;

-- One row per merge, written in the merge transaction; the elements are
-- parallel arrays (old_versions 0 for a created element).
CREATE TABLE outbox (
    merge_seq    bigint      PRIMARY KEY,
    changeset_id bigint      NOT NULL,
    merged_at    timestamptz NOT NULL,
    elem_types   smallint[]  NOT NULL,
    elem_ids     bigint[]    NOT NULL,
    old_versions integer[]   NOT NULL,
    new_versions integer[]   NOT NULL
);
CREATE UNIQUE INDEX outbox_changeset ON outbox (changeset_id);

-- The report of a changeset's last conflicted merge, one row per
-- element and reason.
CREATE TABLE merge_conflicts (
    changeset_id    bigint   NOT NULL,
    elem_type       smallint NOT NULL,
    elem_id         bigint   NOT NULL,
    kind            text     NOT NULL,
    base_version    integer  NOT NULL,
    current_version integer  NOT NULL,
    parent_id       bigint   NOT NULL,
    message         text     NOT NULL
);
CREATE INDEX merge_conflicts_changeset ON merge_conflicts (changeset_id);

-- +goose Down
DROP TABLE merge_conflicts;
DROP TABLE outbox;
ALTER TABLE pending_changes DROP COLUMN final_version;
