-- The review event log (storage.ReviewLog): every move of a changeset's
-- review state, decision, assignment and comment, numbered by its own
-- gapless sequence (design.md: feeds of data never skip numbers).

-- +goose Up
CREATE TABLE review_events (
    seq          bigint      PRIMARY KEY CHECK (seq > 0),
    changeset_id bigint      NOT NULL,
    kind         text        NOT NULL,
    -- 0 is the system (the sweeper, the policy, the merge job).
    actor_id     bigint      NOT NULL,
    -- The review scope a decision counts for, '' for all.
    scope        text        NOT NULL,
    comment      text        NOT NULL,
    -- The changeset's review state after the event.
    state        text        NOT NULL,
    -- The database's clock, whole seconds, taken under the counter's
    -- lock so that times follow seq.
    created_at   timestamptz NOT NULL
);
CREATE INDEX review_events_changeset ON review_events (changeset_id, seq);

-- The seq allocator, as replication_state is merge_seq's: its row lock,
-- taken by a transaction's last statement and held to commit, makes
-- commit order seq order, and a rollback gives the numbers back. It is
-- taken after any changeset row, never before.
CREATE TABLE review_event_state (
    id       integer PRIMARY KEY CHECK (id = 1),
    last_seq bigint  NOT NULL DEFAULT 0
);
INSERT INTO review_event_state (id) VALUES (1);

-- +goose Down
DROP TABLE review_event_state;
DROP TABLE review_events;
