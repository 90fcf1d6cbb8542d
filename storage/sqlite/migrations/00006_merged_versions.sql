-- Version resolution after a merge (see PostgreSQL's): the author's
-- merged changes whose provisional version is not their final one, which
-- every cited current version is checked against.

-- +goose Up
CREATE INDEX pending_changes_moved ON pending_changes (author_id, elem_type, elem_id, version)
    WHERE final_version <> version;

-- +goose Down
DROP INDEX pending_changes_moved;
