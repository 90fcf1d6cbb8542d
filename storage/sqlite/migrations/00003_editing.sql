-- Changesets and uploads on SQLite: the same tables as on PostgreSQL
-- (see its 00003_editing.sql), with the lists as JSON columns and times
-- as INTEGER Unix seconds.

-- +goose Up
-- The start of the changeset's current open window: its creation, or its
-- reopening after changes were requested. NULL for imported changesets.
ALTER TABLE changesets ADD COLUMN opened_at INTEGER;

-- The counter that orders every staged change (PostgreSQL's pending_seq).
INSERT INTO next_ids (name, next_id) VALUES ('pending', 1);

CREATE TABLE pending_changes (
    changeset_id      INTEGER NOT NULL,
    elem_type         INTEGER NOT NULL,
    elem_id           INTEGER NOT NULL,
    author_id         INTEGER NOT NULL,
    user_name         TEXT    NOT NULL,
    action            INTEGER NOT NULL,
    version           INTEGER NOT NULL, -- provisional
    visible           INTEGER NOT NULL,
    lat               INTEGER,          -- nodes only
    lon               INTEGER,
    tile              INTEGER,
    tags              TEXT,             -- [["key","value"],...]
    nodes             TEXT,             -- ways only: [id,...]
    members           TEXT,             -- relations only: [[type,id,"role"],...]
    base_version      INTEGER NOT NULL,
    base_changeset_id INTEGER NOT NULL,
    seq               INTEGER NOT NULL,
    uploaded_at       INTEGER NOT NULL,
    PRIMARY KEY (changeset_id, elem_type, elem_id)
) STRICT;
CREATE INDEX pending_changes_author ON pending_changes (author_id, elem_type, elem_id, seq);
CREATE INDEX pending_changes_tile ON pending_changes (author_id, tile, lat, lon)
    WHERE elem_type = 1 AND visible;

-- Append-only candidates for the reverse lookups (see PostgreSQL's).
CREATE TABLE pending_refs (
    author_id INTEGER NOT NULL,
    elem_type INTEGER NOT NULL,
    elem_id   INTEGER NOT NULL,
    ref_type  INTEGER NOT NULL,
    ref_id    INTEGER NOT NULL
) STRICT;
CREATE INDEX pending_refs_ref ON pending_refs (ref_type, ref_id, author_id, elem_type, elem_id);

-- Provisional versions superseded in their changeset (see PostgreSQL's).
CREATE TABLE pending_versions (
    author_id    INTEGER NOT NULL,
    elem_type    INTEGER NOT NULL,
    elem_id      INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    changeset_id INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    PRIMARY KEY (author_id, elem_type, elem_id, version, changeset_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE changeset_parents (
    child  INTEGER NOT NULL,
    parent INTEGER NOT NULL,
    PRIMARY KEY (child, parent)
) STRICT, WITHOUT ROWID;
CREATE INDEX changeset_parents_parent ON changeset_parents (parent);

CREATE INDEX changesets_created ON changesets (created_at DESC, id DESC);
CREATE INDEX changesets_user ON changesets (user_id, created_at DESC, id DESC);
CREATE INDEX changesets_open ON changesets (closed_at) WHERE is_open;

-- +goose Down
DROP INDEX changesets_open;
DROP INDEX changesets_user;
DROP INDEX changesets_created;
DROP TABLE changeset_parents;
DROP TABLE pending_versions;
DROP TABLE pending_refs;
DROP TABLE pending_changes;
DELETE FROM next_ids WHERE name = 'pending';
ALTER TABLE changesets DROP COLUMN opened_at;
