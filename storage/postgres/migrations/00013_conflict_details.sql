-- The structured report of a conflict line (issue 7): for an element both
-- sides edited (kind 'edited'), the fields in conflict and the element's
-- content at the base, now and as the changeset has it, in the one JSON
-- form both backends store (storage.EncodeConflictDetail). '' for a line
-- without one: every other kind, and the lines written before.

-- +goose Up
ALTER TABLE merge_conflicts ADD COLUMN detail text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE merge_conflicts DROP COLUMN detail;
