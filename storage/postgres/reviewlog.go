package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.ReviewLog = (*Store)(nil)

// reviewEventColumns is what scanReviewEvent reads, from review_events e
// joined with reviewEventActor. The join leaves out uid 0, the system,
// even where an import brought a user 0 along.
const (
	reviewEventColumns = `e.seq, e.changeset_id, e.kind, e.actor_id, coalesce(u.display_name, ''), e.scope, e.comment, e.state, e.created_at`
	reviewEventActor   = `LEFT JOIN users u ON u.id = e.actor_id AND e.actor_id <> 0`
)

func scanReviewEvent(row scanner) (osmdata.ReviewEvent, error) {
	var ev osmdata.ReviewEvent
	var kind, state string
	if err := row.Scan(&ev.Seq, &ev.Changeset, &kind, &ev.ActorUID, &ev.Actor, &ev.Scope, &ev.Comment, &state, &ev.Time); err != nil {
		return ev, err
	}
	ev.Kind, ev.State, ev.Time = osmdata.ReviewEventKind(kind), osmdata.ReviewState(state), ev.Time.UTC()
	return ev, nil
}

func collectReviewEvents(rows pgx.Rows) ([]osmdata.ReviewEvent, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (osmdata.ReviewEvent, error) { return scanReviewEvent(row) })
}

// writeReviewEventsSQL numbers the events of its arrays in their order
// and writes them. The counter's row lock is taken here and held to
// commit, so this must be the transaction's last statement: the changeset
// rows are locked before, never after (no deadlock with a transaction
// waiting for the counter), and the counter is held only for the commit.
// The time is taken under the lock, so times follow seq.
const writeReviewEventsSQL = `WITH counter AS (
		UPDATE review_event_state SET last_seq = last_seq + cardinality($1::bigint[]) WHERE id = 1
		RETURNING last_seq - cardinality($1::bigint[]) AS base, date_trunc('second', clock_timestamp()) AS at),
	written AS (
		INSERT INTO review_events (seq, changeset_id, kind, actor_id, scope, comment, state, created_at)
		SELECT counter.base + e.o, e.c, e.k, e.a, e.s, e.m, e.st, counter.at
		FROM counter, unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[])
			WITH ORDINALITY AS e(c, k, a, s, m, st, o)
		RETURNING *)
	SELECT ` + reviewEventColumns + ` FROM written e ` + reviewEventActor + ` ORDER BY e.seq`

// queueReviewEvents queues the events' notification and, last, their
// writing (writeReviewEventsSQL) at the end of b; written receives them
// as stored. events must not be empty.
func queueReviewEvents(b *pgx.Batch, channel string, events []osmdata.ReviewEvent, written *[]osmdata.ReviewEvent) {
	n := len(events)
	changesets, actors := make([]int64, n), make([]int64, n)
	kinds, scopes, comments, states := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, ev := range events {
		changesets[i], actors[i] = ev.Changeset, ev.ActorUID
		kinds[i], scopes[i], comments[i], states[i] = string(ev.Kind), ev.Scope, ev.Comment, string(ev.State)
	}
	// The payload is the same for every event, so that PostgreSQL folds
	// a transaction's notifications into one; listeners read the counter.
	b.Queue(`SELECT pg_notify($1, '')`, channel)
	b.Queue(writeReviewEventsSQL, changesets, kinds, actors, scopes, comments, states).Query(func(rows pgx.Rows) error {
		var err error
		if *written, err = collectReviewEvents(rows); err != nil {
			return fmt.Errorf("write review events: %w", err)
		}
		return nil
	})
}

// writeReviewEvents writes the events in tx, in one round trip; it must
// be tx's last statement before the commit (writeReviewEventsSQL).
func (s *Store) writeReviewEvents(ctx context.Context, tx pgx.Tx, events ...osmdata.ReviewEvent) ([]osmdata.ReviewEvent, error) {
	var written []osmdata.ReviewEvent
	b := &pgx.Batch{}
	queueReviewEvents(b, s.feed.reviewChannel, events, &written)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return written, nil
}

// inReviewTx runs fn in a transaction that writes review events and, once
// it committed, wakes this process's WaitReviewEvent calls at once
// (others wake on the notification).
func (s *Store) inReviewTx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	s.feed.reviews.Notify()
	return nil
}

// AddReviewEvent records a comment, an assignment or an escalation. The
// changeset's row is share-locked first, so the event's state is the one
// the changeset has when the event commits.
func (s *Store) AddReviewEvent(ctx context.Context, ev osmdata.ReviewEvent) (osmdata.ReviewEvent, error) {
	what := fmt.Sprintf("add a %s event to changeset %d", ev.Kind, ev.Changeset)
	if err := storage.CheckAddedKind(ev.Kind); err != nil {
		return osmdata.ReviewEvent{}, fmt.Errorf("%s: %w", what, err)
	}
	var written []osmdata.ReviewEvent
	err := s.inReviewTx(ctx, what, func(tx pgx.Tx) error {
		var state string
		err := tx.QueryRow(ctx, `SELECT review_state FROM changesets WHERE id = $1 FOR SHARE`, ev.Changeset).Scan(&state)
		if errors.Is(err, pgx.ErrNoRows) {
			return storage.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock the changeset: %w", err)
		}
		ev.State = osmdata.ReviewState(state)
		if storage.SubscribesActor(ev) {
			if _, err := tx.Exec(ctx, `INSERT INTO changeset_subscriptions (changeset_id, user_id) VALUES ($1, $2)
				ON CONFLICT DO NOTHING`, ev.Changeset, ev.ActorUID); err != nil {
				return fmt.Errorf("subscribe the commenter: %w", err)
			}
		}
		written, err = s.writeReviewEvents(ctx, tx, ev)
		return err
	})
	if err != nil {
		return osmdata.ReviewEvent{}, err
	}
	return written[0], nil
}

// ReviewEvents reads events after afterSeq in seq order. Commit order is
// seq order, so a reader never sees an event before a lower one.
func (s *Store) ReviewEvents(ctx context.Context, afterSeq int64, limit int) ([]osmdata.ReviewEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+reviewEventColumns+` FROM review_events e `+reviewEventActor+`
		WHERE e.seq > $1 ORDER BY e.seq LIMIT $2`, afterSeq, max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("review events after %d: %w", afterSeq, err)
	}
	events, err := collectReviewEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("review events after %d: %w", afterSeq, err)
	}
	return events, nil
}

// ChangesetReviewEvents reads one changeset's events through the
// (changeset_id, seq) index.
func (s *Store) ChangesetReviewEvents(ctx context.Context, changeset int64) ([]osmdata.ReviewEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+reviewEventColumns+` FROM review_events e `+reviewEventActor+`
		WHERE e.changeset_id = $1 ORDER BY e.seq`, changeset)
	if err != nil {
		return nil, fmt.Errorf("review events of changeset %d: %w", changeset, err)
	}
	events, err := collectReviewEvents(rows)
	if err != nil {
		return nil, fmt.Errorf("review events of changeset %d: %w", changeset, err)
	}
	return events, nil
}

// lastReviewSeq reads the counter without locking it: it shows only
// committed events, all of which are below it.
func (s *Store) lastReviewSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.pool.QueryRow(ctx, `SELECT last_seq FROM review_event_state WHERE id = 1`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("last review event seq: %w", err)
	}
	return seq, nil
}

// WaitReviewEvent wakes on the dataset's review event notifications,
// through the same listening connection as WaitMerge, and polls in case
// one was missed (mergePoll).
func (s *Store) WaitReviewEvent(ctx context.Context, afterSeq int64) (int64, error) {
	s.feed.start()
	seq, err := s.feed.reviews.WaitPast(ctx, afterSeq, s.feed.poll, s.lastReviewSeq)
	if err != nil && ctx.Err() == nil {
		return 0, fmt.Errorf("wait for a review event after %d: %w", afterSeq, err)
	}
	return seq, err
}
