package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// UndecidedChangesets lists submitted changesets awaiting the policy,
// through the changesets_undecided partial index.
func (s *Store) UndecidedChangesets(ctx context.Context, limit int) ([]osmdata.Changeset, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+changesetColumns+` FROM changesets
		WHERE review_state = 'submitted' AND NOT policy_decided
		ORDER BY closed_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("undecided changesets: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (osmdata.Changeset, error) { return scanChangeset(row) })
	if err != nil {
		return nil, fmt.Errorf("undecided changesets: %w", err)
	}
	return out, nil
}

// DecideChangeset is one conditional UPDATE: of several processes
// deciding at once, exactly one changes the row. An approval writes its
// event (by the system) in the same transaction.
func (s *Store) DecideChangeset(ctx context.Context, id int64, approve bool) (bool, error) {
	var decided bool
	err := s.inReviewTx(ctx, fmt.Sprintf("decide on changeset %d", id), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE changesets
			SET policy_decided = true, review_state = CASE WHEN $2 THEN 'approved' ELSE review_state END
			WHERE id = $1 AND review_state = 'submitted' AND NOT policy_decided`, id, approve)
		if err != nil {
			return err
		}
		decided = tag.RowsAffected() == 1
		if !decided || !approve {
			return nil
		}
		_, err = s.writeReviewEvents(ctx, tx, osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventApproved,
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
	rows, err := s.pool.Query(ctx, `SELECT id FROM changesets WHERE review_state = 'approved' ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("approved changesets: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("approved changesets: %w", err)
	}
	return ids, nil
}

var _ storage.MergeQueue = (*Store)(nil)
