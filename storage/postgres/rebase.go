package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.Rebaser = (*Store)(nil)

// RebasePending replaces the rows of changes in one transaction; see
// storage.Rebaser. It takes the author's lock, then the changeset's, as
// Stage does: an upload of the same author resolving a version to one of
// these rows sees either the old content or the rebased one. A row keeps
// its provisional version, seq and upload time, so citations of it and
// the author's overlay order stay as they were. The rows are deleted and
// copied again, as WritePending replaces them, and their references and
// node runs are added: those tables hold candidates that readers check
// against the row, so the entries of the old content may stay.
func (s *Store) RebasePending(ctx context.Context, id int64, changes []storage.RebasedChange) error {
	what := fmt.Sprintf("rebase %d pending changes of changeset %d", len(changes), id)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := s.lockMergeable(ctx, tx, id); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if len(changes) == 0 {
		return nil
	}
	types, ids := make([]int16, len(changes)), make([]int64, len(changes))
	for i, c := range changes {
		types[i], ids[i] = int16(c.Element.Type), c.Element.ID
	}
	read, err := collectPending(tx.Query(ctx, `SELECT `+pendingColumns+`
		FROM pending_changes p JOIN unnest($2::smallint[], $3::bigint[]) AS k(t, id) ON p.elem_type = k.t AND p.elem_id = k.id
		WHERE p.changeset_id = $1`, id, types, ids))
	if err != nil {
		return fmt.Errorf("%s: read the rows: %w", what, err)
	}
	rows, err := storage.RebasedRows(read, changes)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM pending_changes p USING unnest($2::smallint[], $3::bigint[]) AS k(t, id)
		WHERE p.changeset_id = $1 AND p.elem_type = k.t AND p.elem_id = k.id`, id, types, ids); err != nil {
		return fmt.Errorf("%s: delete the rows: %w", what, err)
	}
	if err := copyPending(ctx, tx, rows, elementOrder(rows)); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := copyPendingRefs(ctx, tx, rows); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if runs := nodeRuns(rows); len(runs.lo) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO pending_node_boxes (changeset_id, min_lat, min_lon, max_lat, max_lon, node_ids)
			SELECT $1, r.min_lat, r.min_lon, r.max_lat, r.max_lon, ($8::bigint[])[r.lo:r.hi]
			FROM unnest($2::int[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[])
				AS r(min_lat, min_lon, max_lat, max_lon, lo, hi)`,
			id, runs.minLat, runs.minLon, runs.maxLat, runs.maxLon, runs.lo, runs.hi, runs.ids); err != nil {
			return fmt.Errorf("%s: node runs: %w", what, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// lockMergeable takes the lock of the changeset's author (Stage's), then
// the changeset's row, and checks that it is submitted or approved.
func (s *Store) lockMergeable(ctx context.Context, tx pgx.Tx, id int64) error {
	var uid int64
	err := tx.QueryRow(ctx, `SELECT user_id FROM changesets WHERE id = $1`, id).Scan(&uid)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("changeset %d: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("read changeset %d: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.authorLockKey(uid)); err != nil {
		return fmt.Errorf("lock user %d: %w", uid, err)
	}
	var state string
	if err := tx.QueryRow(ctx, `SELECT review_state FROM changesets WHERE id = $1 FOR UPDATE`, id).Scan(&state); err != nil {
		return fmt.Errorf("lock changeset %d: %w", id, err)
	}
	if st := osmdata.ReviewState(state); st != osmdata.ReviewSubmitted && st != osmdata.ReviewApproved {
		return fmt.Errorf("changeset %d is %q: %w", id, st, storage.ErrNotMergeable)
	}
	return nil
}

// RecordConflicts makes changeset id conflicted with report; see
// storage.Rebaser.
func (s *Store) RecordConflicts(ctx context.Context, id int64, report []storage.MergeConflict) error {
	what := fmt.Sprintf("record the conflicts of changeset %d", id)
	if len(report) == 0 {
		return fmt.Errorf("%s: a conflicted changeset needs a report", what)
	}
	return s.inReviewTx(ctx, what, func(tx pgx.Tx) error {
		marked, err := s.writeConflicts(ctx, tx, id, report)
		if err != nil || marked {
			return err
		}
		var state string
		err = tx.QueryRow(ctx, `SELECT review_state FROM changesets WHERE id = $1`, id).Scan(&state)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("changeset %d: %w", id, storage.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read changeset %d: %w", id, err)
		}
		return fmt.Errorf("changeset %d is %q: %w", id, state, storage.ErrNotMergeable)
	})
}
