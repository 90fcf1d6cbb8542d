package postgres

import (
	"context"
	"fmt"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// ReviewCommentCounts counts in one statement, through the
// (changeset_id, seq) index.
func (s *Store) ReviewCommentCounts(ctx context.Context, changesets []int64, kinds []osmdata.ReviewEventKind) (map[int64]int, error) {
	counts := make(map[int64]int)
	if len(changesets) == 0 || len(kinds) == 0 {
		return counts, nil
	}
	kindNames := make([]string, len(kinds))
	for i, k := range kinds {
		kindNames[i] = string(k)
	}
	rows, err := s.pool.Query(ctx, `SELECT changeset_id, count(*) FROM review_events
		WHERE changeset_id = ANY($1::bigint[]) AND kind = ANY($2::text[]) AND btrim(comment, $3) <> ''
		GROUP BY changeset_id`, changesets, kindNames, storage.CommentSpace)
	if err != nil {
		return nil, fmt.Errorf("comment counts of %d changesets: %w", len(changesets), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("comment counts of %d changesets: %w", len(changesets), err)
		}
		counts[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comment counts of %d changesets: %w", len(changesets), err)
	}
	return counts, nil
}
