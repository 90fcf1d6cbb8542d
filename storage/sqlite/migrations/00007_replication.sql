-- The OSM replication feed (design.md): one row per file, numbered by
-- replication_seq, with the merges it covers and the .osc.gz bytes every
-- process serves.

-- +goose Up
CREATE TABLE replication_files (
    replication_seq INTEGER PRIMARY KEY CHECK (replication_seq > 0),
    first_merge_seq INTEGER NOT NULL,
    last_merge_seq  INTEGER NOT NULL,
    -- The merge time of the last merge, Unix seconds.
    data_timestamp  INTEGER NOT NULL,
    osc_gz          BLOB    NOT NULL,
    cut_at          INTEGER NOT NULL DEFAULT (unixepoch()),
    CHECK (first_merge_seq > 0 AND last_merge_seq >= first_merge_seq)
) STRICT;

-- +goose Down
DROP TABLE replication_files;
