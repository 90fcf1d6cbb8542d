package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.Mirror = (*Store)(nil)

// MirrorPosition reads the mirror's position; see storage.Mirror.
func (s *Store) MirrorPosition(ctx context.Context) (storage.MirrorPosition, bool, error) {
	return mirrorPosition(ctx, s.reader)
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func mirrorPosition(ctx context.Context, q queryRower) (storage.MirrorPosition, bool, error) {
	var p storage.MirrorPosition
	err := q.QueryRowContext(ctx, "SELECT source, merge_seq, imported FROM mirror_position").
		Scan(&p.Source, &p.MergeSeq, &p.Imported)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.MirrorPosition{}, false, nil
	}
	if err != nil {
		return storage.MirrorPosition{}, false, fmt.Errorf("read mirror position: %w", err)
	}
	return p, true, nil
}

// BeginMirror records a dump's import as under way; see storage.Mirror.
func (s *Store) BeginMirror(ctx context.Context, source string, mergeSeq int64) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin mirror: %w", err)
	}
	defer tx.Rollback()
	if p, ok, err := mirrorPosition(ctx, tx); err != nil {
		return fmt.Errorf("begin mirror: %w", err)
	} else if ok && p.Imported {
		return fmt.Errorf("begin mirror: the dataset already mirrors %s from merge %d", p.Source, p.MergeSeq)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO mirror_position (only_row, source, merge_seq, imported) VALUES (1, ?, ?, 0)
		ON CONFLICT (only_row) DO UPDATE SET source = excluded.source, merge_seq = excluded.merge_seq, imported = 0`,
		source, mergeSeq); err != nil {
		return fmt.Errorf("begin mirror: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("begin mirror: commit: %w", err)
	}
	return nil
}

// MirrorImported marks the dump imported; see storage.Mirror.
func (s *Store) MirrorImported(ctx context.Context) error {
	res, err := s.writer.ExecContext(ctx, "UPDATE mirror_position SET imported = 1")
	if err != nil {
		return fmt.Errorf("mark mirror imported: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("mark mirror imported: no mirror position recorded (%d rows, %v)", n, err)
	}
	return nil
}

// ApplyMirrored appends a merge's versions with the position; see
// storage.Mirror.
func (s *Store) ApplyMirrored(ctx context.Context, mergeSeq int64, versions []osmdata.Element) error {
	tx, err := s.writer.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the merge lock
	if err != nil {
		return fmt.Errorf("apply merge %d: %w", mergeSeq, err)
	}
	defer tx.Rollback()
	p, ok, err := mirrorPosition(ctx, tx)
	switch {
	case err != nil:
		return fmt.Errorf("apply merge %d: %w", mergeSeq, err)
	case !ok || !p.Imported:
		return fmt.Errorf("apply merge %d: the dataset has no imported mirror position", mergeSeq)
	case mergeSeq <= p.MergeSeq:
		return fmt.Errorf("apply merge %d: the mirror is at merge %d: %w", mergeSeq, p.MergeSeq, storage.ErrMergeApplied)
	}
	if len(versions) > 0 {
		if err := applyVersions(ctx, tx, versions); err != nil {
			return fmt.Errorf("apply merge %d: %w", mergeSeq, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE mirror_position SET merge_seq = ?", mergeSeq); err != nil {
		return fmt.Errorf("apply merge %d: record position: %w", mergeSeq, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("apply merge %d: commit: %w", mergeSeq, err)
	}
	return nil
}
