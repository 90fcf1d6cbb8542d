package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
)

// CopyBaseline is the anchor of the import benchmark: a plain binary COPY
// of the same rows, already in memory, into the same nodes, ways and
// relations tables, in a transaction it rolls back. It returns the time
// the database work took (the COPYs, not splitting the rows by type). The
// dataset must be empty, or the rows may collide with existing ones.
func (s *Store) CopyBaseline(ctx context.Context, elements []osmdata.Element) (time.Duration, error) {
	byType := map[osmdata.ElementType][]*osmdata.Element{}
	for i := range elements {
		e := &elements[i]
		if _, ok := tableOf[e.Type]; !ok {
			return 0, fmt.Errorf("copy baseline: element %d has unknown type %d", e.ID, e.Type)
		}
		byType[e.Type] = append(byType[e.Type], e)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("copy baseline: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	start := time.Now()
	for _, t := range osmdata.ElementTypes {
		rows := byType[t]
		var enc rowEncoder
		n, err := tx.CopyFrom(ctx, pgx.Identifier{tableOf[t]}, writeColumns(t), pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			return enc.row(rows[i], true), nil
		}))
		if err != nil {
			return 0, fmt.Errorf("copy baseline: copy %s: %w", tableOf[t], err)
		}
		if n != int64(len(rows)) {
			return 0, fmt.Errorf("copy baseline: copied %d %s rows of %d", n, tableOf[t], len(rows))
		}
	}
	return time.Since(start), nil
}
