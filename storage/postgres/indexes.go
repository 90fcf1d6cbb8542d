package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// droppedIndexes are the definitions of indexes and key constraints an
// import dropped, read from the catalog so that they come back exactly as
// the migrations made them.
type droppedIndexes struct {
	constraints []string // ALTER TABLE … ADD CONSTRAINT …
	indexes     []string // CREATE INDEX …
}

// dropIndexes drops every index of tables, primary and unique keys
// included, and returns what recreates them.
func dropIndexes(ctx context.Context, tx pgx.Tx, tables []string) (*droppedIndexes, error) {
	var d droppedIndexes
	var drops []string
	rows, err := tx.Query(ctx, `
		SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname),
			format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid))
		FROM pg_constraint c
		WHERE c.conrelid = ANY($1::text[]::regclass[]) AND c.contype IN ('p', 'u')
		ORDER BY c.conrelid::regclass::text, c.conname`, tables)
	if err != nil {
		return nil, fmt.Errorf("read key constraints: %w", err)
	}
	for rows.Next() {
		var drop, create string
		if err := rows.Scan(&drop, &create); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read key constraints: %w", err)
		}
		drops = append(drops, drop)
		d.constraints = append(d.constraints, create)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read key constraints: %w", err)
	}
	rows, err = tx.Query(ctx, `
		SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
		FROM pg_index i
		WHERE i.indrelid = ANY($1::text[]::regclass[])
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		ORDER BY i.indexrelid::regclass::text`, tables)
	if err != nil {
		return nil, fmt.Errorf("read indexes: %w", err)
	}
	for rows.Next() {
		var drop, create string
		if err := rows.Scan(&drop, &create); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read indexes: %w", err)
		}
		drops = append(drops, drop)
		d.indexes = append(d.indexes, create)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read indexes: %w", err)
	}
	for _, stmt := range drops {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return nil, fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return &d, nil
}

// restore builds the dropped indexes over the loaded rows.
func (d *droppedIndexes) restore(ctx context.Context, tx pgx.Tx) error {
	for _, stmt := range append(append([]string{}, d.constraints...), d.indexes...) {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}
