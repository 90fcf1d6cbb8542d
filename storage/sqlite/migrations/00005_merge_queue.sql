-- The merge job's queue (storage.MergeQueue): whether the review policy
-- has decided on a changeset since it was last submitted. Every change of
-- review state resets it; only the policy's decision sets it.

-- +goose Up
ALTER TABLE changesets ADD COLUMN policy_decided INTEGER NOT NULL DEFAULT 0;
CREATE INDEX changesets_undecided ON changesets (closed_at, id)
    WHERE review_state = 'submitted' AND policy_decided = 0;
CREATE INDEX changesets_approved ON changesets (id) WHERE review_state = 'approved';

-- +goose Down
DROP INDEX changesets_approved;
DROP INDEX changesets_undecided;
ALTER TABLE changesets DROP COLUMN policy_decided;
