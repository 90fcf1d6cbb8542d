package sqlite

import (
	"context"
	"fmt"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// ReviewCommentCounts counts in one statement on the read pool, the ids
// and kinds as JSON arrays (SQLite has no array parameters); trim with
// its second argument removes whole UTF-8 characters.
func (s *Store) ReviewCommentCounts(ctx context.Context, changesets []int64, kinds []osmdata.ReviewEventKind) (map[int64]int, error) {
	counts := make(map[int64]int)
	if len(changesets) == 0 || len(kinds) == 0 {
		return counts, nil
	}
	kindNames := make([]string, len(kinds))
	for i, k := range kinds {
		kindNames[i] = string(k)
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT changeset_id, count(*) FROM review_events
		WHERE changeset_id IN (SELECT value FROM json_each(?)) AND kind IN (SELECT value FROM json_each(?))
			AND trim(comment, ?) <> ''
		GROUP BY changeset_id`, idsJSON(changesets), stringsJSON(kindNames), storage.CommentSpace)
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
