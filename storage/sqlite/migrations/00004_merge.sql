-- The merge (design.md): the final version each pending change became,
-- the outbox row of every merge, and the report of a conflicted one.

-- +goose Up
-- Set by the merge: provisional versions of a merged change resolve to
-- it, and a stacked child's base (a parent's provisional version)
-- resolves to the parent's final version.
ALTER TABLE pending_changes ADD COLUMN final_version INTEGER;

-- One row per merge, written in the merge transaction. versions is
-- [[type, id, old version (0 for a create), new version], ...].
CREATE TABLE outbox (
    merge_seq    INTEGER PRIMARY KEY,
    changeset_id INTEGER NOT NULL UNIQUE,
    merged_at    INTEGER NOT NULL,
    versions     TEXT    NOT NULL
) STRICT;

-- The report of a changeset's last conflicted merge.
CREATE TABLE merge_conflicts (
    changeset_id    INTEGER NOT NULL,
    elem_type       INTEGER NOT NULL,
    elem_id         INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    base_version    INTEGER NOT NULL,
    current_version INTEGER NOT NULL,
    parent_id       INTEGER NOT NULL,
    message         TEXT    NOT NULL
) STRICT;
CREATE INDEX merge_conflicts_changeset ON merge_conflicts (changeset_id);

-- +goose Down
DROP TABLE merge_conflicts;
DROP TABLE outbox;
ALTER TABLE pending_changes DROP COLUMN final_version;
