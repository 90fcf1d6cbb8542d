package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.Mirror = (*Store)(nil)

// MirrorPosition reads the mirror's position; see storage.Mirror.
func (s *Store) MirrorPosition(ctx context.Context) (storage.MirrorPosition, bool, error) {
	return mirrorPosition(ctx, s.pool, "")
}

type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func mirrorPosition(ctx context.Context, q rowQuerier, lock string) (storage.MirrorPosition, bool, error) {
	var p storage.MirrorPosition
	err := q.QueryRow(ctx, "SELECT source, merge_seq, imported FROM mirror_position "+lock).
		Scan(&p.Source, &p.MergeSeq, &p.Imported)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.MirrorPosition{}, false, nil
	}
	if err != nil {
		return storage.MirrorPosition{}, false, fmt.Errorf("read mirror position: %w", err)
	}
	return p, true, nil
}

// BeginMirror records a dump's import as under way; see storage.Mirror.
func (s *Store) BeginMirror(ctx context.Context, source string, mergeSeq int64) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin mirror: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := lockDataset(ctx, tx); err != nil {
		return fmt.Errorf("begin mirror: %w", err)
	}
	if p, ok, err := mirrorPosition(ctx, tx, ""); err != nil {
		return fmt.Errorf("begin mirror: %w", err)
	} else if ok && p.Imported {
		return fmt.Errorf("begin mirror: the dataset already mirrors %s from merge %d", p.Source, p.MergeSeq)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO mirror_position (source, merge_seq, imported) VALUES ($1, $2, false)
		ON CONFLICT (only_row) DO UPDATE SET source = excluded.source, merge_seq = excluded.merge_seq, imported = false`,
		source, mergeSeq); err != nil {
		return fmt.Errorf("begin mirror: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("begin mirror: commit: %w", err)
	}
	return nil
}

// MirrorImported marks the dump imported; see storage.Mirror.
func (s *Store) MirrorImported(ctx context.Context) error {
	tag, err := s.pool.Exec(ctx, "UPDATE mirror_position SET imported = true")
	if err != nil {
		return fmt.Errorf("mark mirror imported: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return errors.New("mark mirror imported: no mirror position recorded")
	}
	return nil
}

// ApplyMirrored appends a merge's versions with the position, under the
// dataset lock; see storage.Mirror.
func (s *Store) ApplyMirrored(ctx context.Context, mergeSeq int64, versions []osmdata.Element) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("apply merge %d: begin: %w", mergeSeq, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := lockDataset(ctx, tx); err != nil {
		return fmt.Errorf("apply merge %d: %w", mergeSeq, err)
	}
	p, ok, err := mirrorPosition(ctx, tx, "FOR UPDATE")
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
	if _, err := tx.Exec(ctx, "UPDATE mirror_position SET merge_seq = $1", mergeSeq); err != nil {
		return fmt.Errorf("apply merge %d: record position: %w", mergeSeq, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("apply merge %d: commit: %w", mergeSeq, err)
	}
	return nil
}
