-- The authoritative dataset: every version of every element (history),
-- the current rows flagged is_current, the derived reverse-lookup tables
-- the map call reads, the users and changesets imports record, and the
-- replication_state row that serializes imports, applies and merges.

-- +goose Up
CREATE TABLE users (
    id           bigint PRIMARY KEY,
    display_name text NOT NULL,
    created_at   timestamptz NOT NULL
);

CREATE TABLE changesets (
    id           bigint PRIMARY KEY,
    user_id      bigint NOT NULL,
    user_name    text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    closed_at    timestamptz,
    is_open      boolean NOT NULL DEFAULT false,
    -- Tags are ordered key/value pairs flattened as k1, v1, k2, v2: osmium
    -- compares tag lists in order, so a set or a map would lose it.
    tags         text[],
    num_changes  integer NOT NULL DEFAULT 0,
    min_lat      integer,
    min_lon      integer,
    max_lat      integer,
    max_lon      integer,
    review_state text NOT NULL DEFAULT ''
);

-- One row per version. Coordinates are 1e-7 degrees; tile is
-- osmdata.QuadTile of them, computed in Go for writes and queries alike.
CREATE TABLE nodes (
    id           bigint NOT NULL,
    version      integer NOT NULL,
    changeset_id bigint NOT NULL,
    visible      boolean NOT NULL,
    ts           timestamptz NOT NULL,
    user_id      bigint NOT NULL,
    user_name    text NOT NULL,
    tags         text[],
    is_current   boolean NOT NULL,
    lat          integer NOT NULL,
    lon          integer NOT NULL,
    tile         bigint NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE UNIQUE INDEX nodes_current_id ON nodes (id) WHERE is_current;
CREATE INDEX nodes_current_tile ON nodes (tile) WHERE is_current AND visible;

CREATE TABLE ways (
    id           bigint NOT NULL,
    version      integer NOT NULL,
    changeset_id bigint NOT NULL,
    visible      boolean NOT NULL,
    ts           timestamptz NOT NULL,
    user_id      bigint NOT NULL,
    user_name    text NOT NULL,
    tags         text[],
    is_current   boolean NOT NULL,
    nodes        bigint[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (id, version)
);
CREATE UNIQUE INDEX ways_current_id ON ways (id) WHERE is_current;

-- Members are three parallel arrays (type, ref, role) so that one
-- unnest(...) WITH ORDINALITY derives current_relation_members.
CREATE TABLE relations (
    id           bigint NOT NULL,
    version      integer NOT NULL,
    changeset_id bigint NOT NULL,
    visible      boolean NOT NULL,
    ts           timestamptz NOT NULL,
    user_id      bigint NOT NULL,
    user_name    text NOT NULL,
    tags         text[],
    is_current   boolean NOT NULL,
    member_types smallint[] NOT NULL DEFAULT '{}',
    member_ids   bigint[] NOT NULL DEFAULT '{}',
    member_roles text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (id, version)
);
CREATE UNIQUE INDEX relations_current_id ON relations (id) WHERE is_current;

-- Derived from the current visible ways and relations only, for the
-- reverse lookups (ways using a node, relations having a member), as
-- cgimap reads them.
CREATE TABLE current_way_nodes (
    way_id  bigint NOT NULL,
    seq     integer NOT NULL,
    node_id bigint NOT NULL,
    PRIMARY KEY (way_id, seq)
);
CREATE INDEX current_way_nodes_node ON current_way_nodes (node_id);

CREATE TABLE current_relation_members (
    relation_id bigint NOT NULL,
    seq         integer NOT NULL,
    member_type smallint NOT NULL,
    member_id   bigint NOT NULL,
    role        text NOT NULL,
    PRIMARY KEY (relation_id, seq)
);
CREATE INDEX current_relation_members_member ON current_relation_members (member_type, member_id);

-- The merge lock and merge_seq allocator (design.md): one row, locked by
-- every write to the dataset, incremented by merges only.
CREATE TABLE replication_state (
    id       integer PRIMARY KEY CHECK (id = 1),
    last_seq bigint NOT NULL DEFAULT 0
);
INSERT INTO replication_state (id) VALUES (1);

CREATE SEQUENCE node_id_seq;
CREATE SEQUENCE way_id_seq;
CREATE SEQUENCE relation_id_seq;
CREATE SEQUENCE changeset_id_seq;
CREATE SEQUENCE user_id_seq;

-- +goose Down
DROP SEQUENCE user_id_seq;
DROP SEQUENCE changeset_id_seq;
DROP SEQUENCE relation_id_seq;
DROP SEQUENCE way_id_seq;
DROP SEQUENCE node_id_seq;
DROP TABLE replication_state;
DROP TABLE current_relation_members;
DROP TABLE current_way_nodes;
DROP TABLE relations;
DROP TABLE ways;
DROP TABLE nodes;
DROP TABLE changesets;
DROP TABLE users;
