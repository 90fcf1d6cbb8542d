-- Version resolution after a merge (design.md): an upload citing an
-- element's current version must still find the author's merged change
-- that gave that version as a provisional one with another final
-- version. Such changes are few (an element changed in two uploads of
-- one changeset, or stacked), so the check of every cited version probes
-- an index of them only and usually finds nothing.

-- +goose Up
CREATE INDEX pending_changes_moved ON pending_changes (author_id, elem_type, elem_id, version)
    WHERE final_version <> version;

-- +goose Down
DROP INDEX pending_changes_moved;
