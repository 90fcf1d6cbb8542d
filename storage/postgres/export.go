package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
)

// Export streams the visible current elements from one REPEATABLE READ
// snapshot, row by row as the server sends them, so a whole planet never
// sits in memory.
func (s *Store) Export(ctx context.Context, fn func(*osmdata.Element) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("export: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, t := range osmdata.ElementTypes {
		if err := exportType(ctx, tx, t, fn); err != nil {
			return fmt.Errorf("export %ss: %w", t, err)
		}
	}
	return tx.Commit(ctx)
}

func exportType(ctx context.Context, tx pgx.Tx, t osmdata.ElementType, fn func(*osmdata.Element) error) error {
	rows, err := tx.Query(ctx, `SELECT `+readColumns(t, "")+` FROM `+tableOf[t]+`
		WHERE is_current AND visible ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	s := newElementScanner(t)
	for rows.Next() {
		e, err := s.scan(rows)
		if err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}
