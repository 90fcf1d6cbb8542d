package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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

// scanReviewEvents takes a query's results as they come.
func scanReviewEvents(rows *sql.Rows, err error) ([]osmdata.ReviewEvent, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []osmdata.ReviewEvent
	for rows.Next() {
		var ev osmdata.ReviewEvent
		var kind, state string
		var at int64
		if err := rows.Scan(&ev.Seq, &ev.Changeset, &kind, &ev.ActorUID, &ev.Actor, &ev.Scope, &ev.Comment, &state, &at); err != nil {
			return nil, err
		}
		ev.Kind, ev.State, ev.Time = osmdata.ReviewEventKind(kind), osmdata.ReviewState(state), time.Unix(at, 0).UTC()
		out = append(out, ev)
	}
	return out, rows.Err()
}

// writeReviewEvents numbers the events in their order and writes them in
// tx, whose BEGIN IMMEDIATE holds SQLite's one write lock to commit: the
// counter needs no lock of its own, and commit order is seq order. It
// returns them as stored.
func writeReviewEvents(ctx context.Context, tx *sql.Tx, events ...osmdata.ReviewEvent) ([]osmdata.ReviewEvent, error) {
	var last, at int64
	if err := tx.QueryRowContext(ctx, `UPDATE review_event_state SET last_seq = last_seq + ? WHERE id = 1
		RETURNING last_seq, unixepoch()`, len(events)).Scan(&last, &at); err != nil {
		return nil, fmt.Errorf("number review events: %w", err)
	}
	first := last - int64(len(events)) + 1
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO review_events (seq, changeset_id, kind, actor_id, scope, comment, state, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("write review events: %w", err)
	}
	defer stmt.Close()
	for i, ev := range events {
		if _, err := stmt.ExecContext(ctx, first+int64(i), ev.Changeset, string(ev.Kind), ev.ActorUID, ev.Scope, ev.Comment,
			string(ev.State), at); err != nil {
			return nil, fmt.Errorf("write review event of changeset %d: %w", ev.Changeset, err)
		}
	}
	written, err := scanReviewEvents(tx.QueryContext(ctx, `SELECT `+reviewEventColumns+` FROM review_events e `+reviewEventActor+`
		WHERE e.seq BETWEEN ? AND ? ORDER BY e.seq`, first, last))
	if err != nil {
		return nil, fmt.Errorf("read the review events written: %w", err)
	}
	return written, nil
}

// inReviewTx is writeTx for a transaction that writes review events: once
// it committed, it wakes this process's WaitReviewEvent calls.
func (s *Store) inReviewTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	if err := s.writeTx(ctx, what, fn); err != nil {
		return err
	}
	s.reviewed.Notify()
	return nil
}

// AddReviewEvent records a comment, an assignment or an escalation, with
// the changeset's state as it is under the write lock.
func (s *Store) AddReviewEvent(ctx context.Context, ev osmdata.ReviewEvent) (osmdata.ReviewEvent, error) {
	what := fmt.Sprintf("add a %s event to changeset %d", ev.Kind, ev.Changeset)
	if err := storage.CheckAddedKind(ev.Kind); err != nil {
		return osmdata.ReviewEvent{}, fmt.Errorf("%s: %w", what, err)
	}
	var written []osmdata.ReviewEvent
	err := s.inReviewTx(ctx, what, func(tx *sql.Tx) error {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT review_state FROM changesets WHERE id = ?`, ev.Changeset).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return storage.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read the changeset: %w", err)
		}
		ev.State = osmdata.ReviewState(state)
		if storage.SubscribesActor(ev) {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO changeset_subscriptions (changeset_id, user_id)
				VALUES (?, ?)`, ev.Changeset, ev.ActorUID); err != nil {
				return fmt.Errorf("subscribe the commenter: %w", err)
			}
		}
		written, err = writeReviewEvents(ctx, tx, ev)
		return err
	})
	if err != nil {
		return osmdata.ReviewEvent{}, err
	}
	return written[0], nil
}

// ReviewEvents reads events after afterSeq in seq order.
func (s *Store) ReviewEvents(ctx context.Context, afterSeq int64, limit int) ([]osmdata.ReviewEvent, error) {
	events, err := scanReviewEvents(s.reader.QueryContext(ctx, `SELECT `+reviewEventColumns+` FROM review_events e `+reviewEventActor+`
		WHERE e.seq > ? ORDER BY e.seq LIMIT ?`, afterSeq, max(limit, 0)))
	if err != nil {
		return nil, fmt.Errorf("review events after %d: %w", afterSeq, err)
	}
	return events, nil
}

// ChangesetReviewEvents reads one changeset's events through the
// (changeset_id, seq) index.
func (s *Store) ChangesetReviewEvents(ctx context.Context, changeset int64) ([]osmdata.ReviewEvent, error) {
	events, err := scanReviewEvents(s.reader.QueryContext(ctx, `SELECT `+reviewEventColumns+` FROM review_events e `+reviewEventActor+`
		WHERE e.changeset_id = ? ORDER BY e.seq`, changeset))
	if err != nil {
		return nil, fmt.Errorf("review events of changeset %d: %w", changeset, err)
	}
	return events, nil
}

func (s *Store) lastReviewSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.reader.QueryRowContext(ctx, `SELECT last_seq FROM review_event_state WHERE id = 1`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("last review event seq: %w", err)
	}
	return seq, nil
}

// WaitReviewEvent waits for this process's next review event, or polls
// (mergePoll) for another process's.
func (s *Store) WaitReviewEvent(ctx context.Context, afterSeq int64) (int64, error) {
	seq, err := s.reviewed.WaitPast(ctx, afterSeq, mergePoll, s.lastReviewSeq)
	if err != nil && ctx.Err() == nil {
		return 0, fmt.Errorf("wait for a review event after %d: %w", afterSeq, err)
	}
	return seq, err
}
