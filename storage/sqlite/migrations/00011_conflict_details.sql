-- The structured report of a conflict line on SQLite: the same column as
-- on PostgreSQL (see its 00013_conflict_details.sql).

-- +goose Up
ALTER TABLE merge_conflicts ADD COLUMN detail TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE merge_conflicts DROP COLUMN detail;
