-- The authoritative dataset on SQLite: the same tables as on PostgreSQL,
-- adapted to what SQLite has. Timestamps are INTEGER Unix seconds (UTC,
-- whole seconds, as OSM has them); booleans are 0/1; tags are a JSON array
-- of [key, value] pairs so their order survives; way node lists and
-- relation members are JSON arrays, since SQLite has no array type.

-- +goose Up
CREATE TABLE users (
    id           INTEGER PRIMARY KEY,
    display_name TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE changesets (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL,
    user_name    TEXT,
    created_at   INTEGER NOT NULL,
    closed_at    INTEGER,
    is_open      INTEGER NOT NULL DEFAULT 0,
    tags         TEXT,
    num_changes  INTEGER NOT NULL DEFAULT 0,
    min_lat      INTEGER,
    min_lon      INTEGER,
    max_lat      INTEGER,
    max_lon      INTEGER,
    review_state TEXT    NOT NULL DEFAULT ''
) STRICT;

-- One row per version. Node rows are small and arrive in key order, so the
-- primary key is the table itself (WITHOUT ROWID) and needs no second
-- b-tree; way and relation rows carry node and member lists, too long for
-- that layout to pay off.
CREATE TABLE nodes (
    id           INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    changeset_id INTEGER NOT NULL,
    visible      INTEGER NOT NULL,
    ts           INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    user_name    TEXT    NOT NULL,
    tags         TEXT,
    is_current   INTEGER NOT NULL,
    lat          INTEGER NOT NULL,
    lon          INTEGER NOT NULL,
    tile         INTEGER NOT NULL,
    PRIMARY KEY (id, version)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX nodes_current ON nodes (id) WHERE is_current;
-- lat and lon ride along so that the exact box test runs on the index
-- before any row is read.
CREATE INDEX nodes_tile ON nodes (tile, lat, lon) WHERE is_current AND visible;

CREATE TABLE ways (
    id           INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    changeset_id INTEGER NOT NULL,
    visible      INTEGER NOT NULL,
    ts           INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    user_name    TEXT    NOT NULL,
    tags         TEXT,
    is_current   INTEGER NOT NULL,
    nodes        TEXT    NOT NULL, -- [node id, ...]
    PRIMARY KEY (id, version)
) STRICT;
CREATE UNIQUE INDEX ways_current ON ways (id) WHERE is_current;

CREATE TABLE relations (
    id           INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    changeset_id INTEGER NOT NULL,
    visible      INTEGER NOT NULL,
    ts           INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    user_name    TEXT    NOT NULL,
    tags         TEXT,
    is_current   INTEGER NOT NULL,
    members      TEXT    NOT NULL, -- [[member type, member id, role], ...]
    PRIMARY KEY (id, version)
) STRICT;
CREATE UNIQUE INDEX relations_current ON relations (id) WHERE is_current;

-- Reverse lookups of current visible ways and relations (cgimap's
-- current_way_nodes and current_relation_members), derived from the
-- lists above.
CREATE TABLE current_way_nodes (
    way_id  INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    node_id INTEGER NOT NULL,
    PRIMARY KEY (way_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX current_way_nodes_node ON current_way_nodes (node_id);

CREATE TABLE current_relation_members (
    relation_id INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    member_type INTEGER NOT NULL,
    member_id   INTEGER NOT NULL,
    role        TEXT    NOT NULL,
    PRIMARY KEY (relation_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX current_relation_members_member ON current_relation_members (member_type, member_id);

-- design.md's merge lock and merge_seq allocator. On SQLite the lock is
-- BEGIN IMMEDIATE itself; the row keeps the counter.
CREATE TABLE replication_state (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO replication_state (id, last_seq) VALUES (1, 0);

-- SQLite has no sequences: the next id of each, advanced in the writing
-- transaction.
CREATE TABLE next_ids (
    name    TEXT    PRIMARY KEY,
    next_id INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO next_ids (name, next_id) VALUES
    ('node', 1), ('way', 1), ('relation', 1), ('changeset', 1), ('user', 1);

-- +goose Down
DROP TABLE next_ids;
DROP TABLE replication_state;
DROP TABLE current_relation_members;
DROP TABLE current_way_nodes;
DROP TABLE relations;
DROP TABLE ways;
DROP TABLE nodes;
DROP TABLE changesets;
DROP TABLE users;
