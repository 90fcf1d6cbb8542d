-- The OSM replication feed (design.md): one row per file, numbered by
-- replication_seq, with the merges it covers and the .osc.gz bytes every
-- process serves.

-- +goose Up
CREATE TABLE replication_files (
    replication_seq bigint      PRIMARY KEY CHECK (replication_seq > 0),
    first_merge_seq bigint      NOT NULL,
    last_merge_seq  bigint      NOT NULL,
    -- The merge time of the last merge, whole seconds.
    data_timestamp  timestamptz NOT NULL,
    osc_gz          bytea       NOT NULL,
    cut_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (first_merge_seq > 0 AND last_merge_seq >= first_merge_seq)
);

-- +goose Down
DROP TABLE replication_files;
