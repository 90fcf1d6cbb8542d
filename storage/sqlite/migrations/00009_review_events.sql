-- The review event log (storage.ReviewLog): every move of a changeset's
-- review state, decision, assignment and comment, numbered by its own
-- gapless sequence (design.md: feeds of data never skip numbers).

-- +goose Up
CREATE TABLE review_events (
    seq          INTEGER PRIMARY KEY CHECK (seq > 0),
    changeset_id INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    -- 0 is the system (the sweeper, the policy, the merge job).
    actor_id     INTEGER NOT NULL,
    -- The review scope a decision counts for, '' for all.
    scope        TEXT    NOT NULL,
    comment      TEXT    NOT NULL,
    -- The changeset's review state after the event.
    state        TEXT    NOT NULL,
    -- The database's clock, Unix seconds.
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX review_events_changeset ON review_events (changeset_id, seq);

-- The seq allocator. The lock is SQLite's one writer (BEGIN IMMEDIATE),
-- held to commit, so commit order is seq order and a rollback gives the
-- numbers back; the row keeps the counter.
CREATE TABLE review_event_state (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO review_event_state (id, last_seq) VALUES (1, 0);

-- +goose Down
DROP TABLE review_event_state;
DROP TABLE review_events;
