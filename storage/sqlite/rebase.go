package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.Rebaser = (*Store)(nil)

// RebasePending replaces the rows of changes in one write transaction;
// see storage.Rebaser. A row keeps its provisional version, seq and
// upload time, so citations of it and the author's overlay order stay as
// they were. The rows are deleted and inserted again, as WritePending
// replaces them (which recomputes a node's tile), and the references of
// the new content are added to pending_refs, whose entries readers check
// against the row, so those of the old content may stay.
func (s *Store) RebasePending(ctx context.Context, id int64, changes []storage.RebasedChange) error {
	what := fmt.Sprintf("rebase %d pending changes of changeset %d", len(changes), id)
	return s.writeTx(ctx, what, func(tx *sql.Tx) error {
		if err := checkMergeable(ctx, tx, id); err != nil {
			return err
		}
		if len(changes) == 0 {
			return nil
		}
		pairs := make([][2]int64, len(changes))
		for i, c := range changes {
			pairs[i] = [2]int64{int64(c.Element.Type), c.Element.ID}
		}
		keys, err := json.Marshal(pairs)
		if err != nil {
			return fmt.Errorf("encode the keys: %w", err)
		}
		const ofChanges = ` WHERE changeset_id = ?1
			AND (elem_type, elem_id) IN (SELECT value->>0, value->>1 FROM json_each(?2))`
		read, err := collectPending(tx.QueryContext(ctx, `SELECT `+pendingColumns+` FROM pending_changes p`+ofChanges, id, string(keys)))
		if err != nil {
			return fmt.Errorf("read the rows: %w", err)
		}
		rows, err := storage.RebasedRows(read, changes)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM pending_changes`+ofChanges, id, string(keys)); err != nil {
			return fmt.Errorf("delete the rows: %w", err)
		}
		inserted := newBatchInserter(tx, "pending_changes", pendingWriteColumns)
		refs := newBatchInserter(tx, "pending_refs", []string{"author_id", "elem_type", "elem_id", "ref_type", "ref_id"})
		var enc pendingEncoder
		seen := map[osmdata.Key]bool{}
		for i := range rows {
			if err := inserted.add(ctx, enc.row(&rows[i])...); err != nil {
				return fmt.Errorf("write the rows: %w", err)
			}
			if err := addRefs(ctx, refs, &rows[i], seen); err != nil {
				return fmt.Errorf("references: %w", err)
			}
		}
		for _, b := range []*batchInserter{inserted, refs} {
			if err := b.flush(ctx); err != nil {
				return fmt.Errorf("write the rows: %w", err)
			}
		}
		return nil
	})
}

// checkMergeable checks that the changeset is submitted or approved.
func checkMergeable(ctx context.Context, tx *sql.Tx, id int64) error {
	var state string
	err := tx.QueryRowContext(ctx, `SELECT review_state FROM changesets WHERE id = ?`, id).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("changeset %d: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("read changeset %d: %w", id, err)
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
	return s.inReviewTx(ctx, what, func(tx *sql.Tx) error {
		if err := checkMergeable(ctx, tx, id); err != nil {
			return err
		}
		marked, err := writeConflicts(ctx, tx, id, report)
		if err == nil && !marked {
			err = fmt.Errorf("changeset %d left its review state under the write lock", id)
		}
		return err
	})
}
