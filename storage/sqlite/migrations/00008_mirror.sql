-- A mirror's position (geocommuns mirror): the source it copies and the
-- last merge_seq whose versions it holds. One row at most; it changes in
-- the transaction that appends a merge's versions, so the two never
-- disagree after a crash.

-- +goose Up
CREATE TABLE mirror_position (
    only_row  INTEGER PRIMARY KEY CHECK (only_row = 1),
    source    TEXT    NOT NULL,
    merge_seq INTEGER NOT NULL CHECK (merge_seq >= 0),
    -- 0 while the dump matching merge_seq is being imported: Import is a
    -- transaction of its own, so a restart tells from the dataset whether
    -- it committed.
    imported  INTEGER NOT NULL CHECK (imported IN (0, 1))
) STRICT;

-- +goose Down
DROP TABLE mirror_position;
