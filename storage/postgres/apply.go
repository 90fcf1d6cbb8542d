package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Apply appends versions in one transaction under the dataset lock: one
// statement reads the current versions, one flips is_current off, one
// COPY per type writes the new rows, and the derived rows of the touched
// ways and relations are rebuilt.
func (s *Store) Apply(ctx context.Context, versions []osmdata.Element) error {
	if len(versions) == 0 {
		return nil
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("apply: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := lockDataset(ctx, tx); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	if err := applyVersions(ctx, tx, versions); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("apply: commit: %w", err)
	}
	return nil
}

// applyVersions is Apply inside the caller's transaction, which holds the
// dataset lock, so that a mirror records its position with the versions
// it appends.
func applyVersions(ctx context.Context, tx pgx.Tx, versions []osmdata.Element) error {
	ids := map[osmdata.ElementType][]int64{}
	lastIndex := map[osmdata.Key]int{}
	for i := range versions {
		e := &versions[i]
		if _, ok := tableOf[e.Type]; !ok {
			return fmt.Errorf("element %d has unknown type %d", e.ID, e.Type)
		}
		if _, seen := lastIndex[e.Key()]; !seen {
			ids[e.Type] = append(ids[e.Type], e.ID)
		}
		lastIndex[e.Key()] = i
	}
	current, err := currentVersions(ctx, tx, ids)
	if err != nil {
		return err
	}
	for i := range versions {
		e := &versions[i]
		k := e.Key()
		cur := current[k]
		if e.Version != cur+1 {
			if cur == 0 {
				return fmt.Errorf("%s: version %d given, the dataset has no version of it (expected 1): %w", k, e.Version, storage.ErrVersionConflict)
			}
			return fmt.Errorf("%s: version %d given, current is %d: %w", k, e.Version, cur, storage.ErrVersionConflict)
		}
		current[k] = e.Version
	}
	return writeVersions(ctx, tx, versions, ids, lastIndex)
}

// writeVersions appends versions whose numbers have been checked: it
// retires the current rows of ids, copies the new rows (the last one of
// each element, by lastIndex, becomes current), and rebuilds the derived
// rows of the touched ways and relations.
func writeVersions(ctx context.Context, tx pgx.Tx, versions []osmdata.Element, ids map[osmdata.ElementType][]int64, lastIndex map[osmdata.Key]int) error {
	if _, err := tx.Exec(ctx, retireCurrent, retireArgs(ids)...); err != nil {
		return fmt.Errorf("retire current versions: %w", err)
	}
	if err := copyVersionRows(ctx, tx, versions, ids, lastIndex); err != nil {
		return err
	}
	return rederiveCurrentMembers(ctx, tx, ids[osmdata.Way], ids[osmdata.Relation])
}

// retireCurrent, with retireArgs, clears is_current on the current rows
// of the elements a write gives new versions, before their rows are
// copied in (one current row per element: the indexes are unique).
const retireCurrent = `WITH
		n AS (UPDATE nodes SET is_current = false WHERE is_current AND id = ANY($1)),
		w AS (UPDATE ways SET is_current = false WHERE is_current AND id = ANY($2))
		UPDATE relations SET is_current = false WHERE is_current AND id = ANY($3)`

func retireArgs(ids map[osmdata.ElementType][]int64) []any {
	return []any{nonNil(ids[osmdata.Node]), nonNil(ids[osmdata.Way]), nonNil(ids[osmdata.Relation])}
}

// copyVersionRows copies the new rows of writeVersions, once the current
// ones are retired.
func copyVersionRows(ctx context.Context, tx pgx.Tx, versions []osmdata.Element, ids map[osmdata.ElementType][]int64, lastIndex map[osmdata.Key]int) error {
	for _, t := range osmdata.ElementTypes {
		if len(ids[t]) == 0 {
			continue
		}
		var rows []int
		for i := range versions {
			if versions[i].Type == t {
				rows = append(rows, i)
			}
		}
		var enc rowEncoder
		_, err := tx.CopyFrom(ctx, pgx.Identifier{tableOf[t]}, writeColumns(t), pgx.CopyFromSlice(len(rows), func(j int) ([]any, error) {
			i := rows[j]
			return enc.row(&versions[i], lastIndex[versions[i].Key()] == i), nil
		}))
		if err != nil {
			return fmt.Errorf("write %s: %w", tableOf[t], err)
		}
	}
	return nil
}

// currentVersions reads the current version of every given element in one
// statement; elements the dataset does not have are left out.
func currentVersions(ctx context.Context, tx pgx.Tx, ids map[osmdata.ElementType][]int64) (map[osmdata.Key]int, error) {
	rows, err := tx.Query(ctx, `
		SELECT 1::smallint, id, version FROM nodes WHERE is_current AND id = ANY($1)
		UNION ALL SELECT 2::smallint, id, version FROM ways WHERE is_current AND id = ANY($2)
		UNION ALL SELECT 3::smallint, id, version FROM relations WHERE is_current AND id = ANY($3)`,
		nonNil(ids[osmdata.Node]), nonNil(ids[osmdata.Way]), nonNil(ids[osmdata.Relation]))
	if err != nil {
		return nil, fmt.Errorf("read current versions: %w", err)
	}
	defer rows.Close()
	current := map[osmdata.Key]int{}
	for rows.Next() {
		var t int16
		var id int64
		var v int32
		if err := rows.Scan(&t, &id, &v); err != nil {
			return nil, fmt.Errorf("read current versions: %w", err)
		}
		current[osmdata.Key{Type: osmdata.ElementType(t), ID: id}] = int(v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read current versions: %w", err)
	}
	return current, nil
}

// nonNil makes an empty id list an empty array rather than NULL, so that
// "= ANY" matches nothing instead of yielding NULL.
func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}
