package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// UndecidedChangesets lists submitted changesets awaiting the policy,
// through the changesets_undecided partial index.
func (s *Store) UndecidedChangesets(ctx context.Context, limit int) ([]osmdata.Changeset, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+changesetColumns+` FROM changesets
		WHERE review_state = 'submitted' AND policy_decided = 0
		ORDER BY closed_at, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("undecided changesets: %w", err)
	}
	defer rows.Close()
	var out []osmdata.Changeset
	for rows.Next() {
		c, err := scanChangeset(rows)
		if err != nil {
			return nil, fmt.Errorf("undecided changesets: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("undecided changesets: %w", err)
	}
	return out, nil
}

// DecideChangeset is one conditional UPDATE under the write lock; an
// approval writes its event (by the system) in the same transaction.
func (s *Store) DecideChangeset(ctx context.Context, id int64, approve bool) (bool, error) {
	var decided bool
	err := s.inReviewTx(ctx, fmt.Sprintf("decide on changeset %d", id), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE changesets
			SET policy_decided = 1, review_state = CASE WHEN ?2 THEN 'approved' ELSE review_state END
			WHERE id = ?1 AND review_state = 'submitted' AND policy_decided = 0`, id, approve)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		decided = n == 1
		if !decided || !approve {
			return nil
		}
		_, err = writeReviewEvents(ctx, tx, osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventApproved,
			Comment: storage.PolicyApprovalComment, State: osmdata.ReviewApproved})
		return err
	})
	if err != nil {
		return false, err
	}
	return decided, nil
}

// ApprovedChangesets lists the merge job's work, through the
// changesets_approved partial index.
func (s *Store) ApprovedChangesets(ctx context.Context, limit int) ([]int64, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT id FROM changesets WHERE review_state = 'approved' ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("approved changesets: %w", err)
	}
	ids, err := scanIDs(rows)
	if err != nil {
		return nil, fmt.Errorf("approved changesets: %w", err)
	}
	return ids, nil
}

var _ storage.MergeQueue = (*Store)(nil)
