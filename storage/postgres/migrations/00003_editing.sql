-- Changesets and uploads (design.md): the content each upload staged per
-- element and changeset (pending_changes, kept forever), the way and
-- relation references of that content for the reverse lookups, the
-- provisional versions re-uploads replaced (they stay citable), and the
-- changesets a changeset builds on. Everything here is append-only but
-- for a re-upload replacing its changeset's row of an element.

-- +goose Up
-- Orders the staged changes: each WritePending takes one value, and its
-- rows get seq = value * 2^24 + their index, so a whole upload costs one
-- nextval. The latest seq of an author's element is what the author's
-- overlay shows. Gaps do not matter.
CREATE SEQUENCE pending_seq;

CREATE TABLE pending_changes (
    changeset_id      bigint      NOT NULL,
    elem_type         smallint    NOT NULL,
    elem_id           bigint      NOT NULL,
    author_id         bigint      NOT NULL,
    user_name         text        NOT NULL,
    action            smallint    NOT NULL,
    -- The provisional version the last diffResult gave.
    version           integer     NOT NULL,
    visible           boolean     NOT NULL,
    -- Nodes only; tile is osmdata.QuadTile(lat, lon).
    lat               integer,
    lon               integer,
    tile              bigint,
    -- Flattened k1, v1, k2, v2 as in the element tables.
    tags              text[],
    nodes             bigint[],
    member_types      smallint[],
    member_ids        bigint[],
    member_roles      text[],
    base_version      integer     NOT NULL,
    base_changeset_id bigint      NOT NULL,
    seq               bigint      NOT NULL,
    uploaded_at       timestamptz NOT NULL,
    PRIMARY KEY (changeset_id, elem_type, elem_id)
);
-- The author's latest pending change per element.
CREATE INDEX pending_changes_author ON pending_changes (author_id, elem_type, elem_id, seq);
-- The author's pending nodes by quadtile, with the exact box test on the
-- index.
CREATE INDEX pending_changes_tile ON pending_changes (author_id, tile, lat, lon)
    WHERE elem_type = 1 AND visible;

-- Way nodes and relation members of visible pending ways and relations,
-- one row per distinct reference. Append-only: a re-upload adds the new
-- content's rows and leaves the old ones, so readers take these as
-- candidates and check the latest row's content.
CREATE TABLE pending_refs (
    author_id bigint   NOT NULL,
    elem_type smallint NOT NULL,
    elem_id   bigint   NOT NULL,
    ref_type  smallint NOT NULL,
    ref_id    bigint   NOT NULL
);
-- Covering, for index-only scans.
CREATE INDEX pending_refs_ref ON pending_refs (ref_type, ref_id, author_id, elem_type, elem_id);

-- The provisional versions that a re-upload (or a later occurrence of the
-- element in the same upload) superseded in their changeset; with the
-- versions of the current rows, every version an author was given. Each
-- resolves to its changeset's row of the element, whose current content
-- is the base.
CREATE TABLE pending_versions (
    author_id    bigint   NOT NULL,
    elem_type    smallint NOT NULL,
    elem_id      bigint   NOT NULL,
    version      integer  NOT NULL,
    changeset_id bigint   NOT NULL,
    seq          bigint   NOT NULL,
    PRIMARY KEY (author_id, elem_type, elem_id, version, changeset_id)
);

-- Stacking: a child merges only after its parents.
CREATE TABLE changeset_parents (
    child  bigint NOT NULL,
    parent bigint NOT NULL,
    PRIMARY KEY (child, parent)
);
CREATE INDEX changeset_parents_parent ON changeset_parents (parent);

-- The start of the changeset's current open window: its creation, or its
-- reopening after changes were requested (design.md gives a reopened
-- changeset a fresh 24 h). NULL for imported changesets.
ALTER TABLE changesets ADD COLUMN opened_at timestamptz;

-- GET /changesets: newest first, by user, and the sweeper's open ones.
CREATE INDEX changesets_created ON changesets (created_at DESC, id DESC);
CREATE INDEX changesets_user ON changesets (user_id, created_at DESC, id DESC);
CREATE INDEX changesets_open ON changesets (closed_at) WHERE is_open;

-- +goose Down
ALTER TABLE changesets DROP COLUMN opened_at;
DROP INDEX changesets_open;
DROP INDEX changesets_user;
DROP INDEX changesets_created;
DROP TABLE changeset_parents;
DROP TABLE pending_versions;
DROP TABLE pending_refs;
DROP TABLE pending_changes;
DROP SEQUENCE pending_seq;
