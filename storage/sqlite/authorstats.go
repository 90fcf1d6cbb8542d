package sqlite

import (
	"context"
	"fmt"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.AuthorStats = (*Store)(nil)

// MergedChangesetCount counts uid's merged changesets.
func (s *Store) MergedChangesetCount(ctx context.Context, uid int64) (int, error) {
	var n int
	err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM changesets WHERE user_id = ? AND review_state = ?`,
		uid, string(osmdata.ReviewMerged)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("merged changesets of user %d: %w", uid, err)
	}
	return n, nil
}
