package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Apply appends versions in one transaction; see storage.Store.
func (s *Store) Apply(ctx context.Context, versions []osmdata.Element) error {
	if len(versions) == 0 {
		return nil
	}
	tx, err := s.writer.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the merge lock
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	defer tx.Rollback()
	if err := applyVersions(ctx, tx, versions); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("apply: commit: %w", err)
	}
	return nil
}

// applyVersions is Apply inside the caller's transaction, so that a
// mirror records its position with the versions it appends.
func applyVersions(ctx context.Context, tx *sql.Tx, versions []osmdata.Element) error {
	byType := map[osmdata.ElementType][]int64{}
	seen := map[osmdata.Key]bool{}
	for i := range versions {
		k := versions[i].Key()
		if _, err := table(k.Type); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		if !seen[k] {
			seen[k] = true
			byType[k.Type] = append(byType[k.Type], k.ID)
		}
	}
	current, err := currentVersions(ctx, tx, byType)
	if err != nil {
		return err
	}
	// Check every version before writing any: the last version given of
	// each element becomes its current one.
	last := make(map[osmdata.Key]int, len(seen))
	for i := range versions {
		e := &versions[i]
		k := e.Key()
		cur := current[k]
		if e.Version != cur+1 {
			if cur == 0 {
				return fmt.Errorf("%s: version %d given, the dataset has no version of it (expected 1): %w",
					k, e.Version, storage.ErrVersionConflict)
			}
			return fmt.Errorf("%s: version %d given, current is %d: %w",
				k, e.Version, cur, storage.ErrVersionConflict)
		}
		current[k] = e.Version
		last[k] = i
	}

	if err := writeVersions(ctx, tx, versions, byType, last); err != nil {
		return err
	}
	var maxIDs storage.IDs
	for i := range versions {
		e := &versions[i]
		switch e.Type {
		case osmdata.Node:
			maxIDs.Node = max(maxIDs.Node, e.ID)
		case osmdata.Way:
			maxIDs.Way = max(maxIDs.Way, e.ID)
		case osmdata.Relation:
			maxIDs.Relation = max(maxIDs.Relation, e.ID)
		}
	}
	// Ids come from the sequences in normal operation; versions applied
	// with other ids must still never be handed out again.
	return raiseNextIDs(ctx, tx, maxIDs)
}

// writeVersions appends versions whose numbers have been checked: it
// retires the current rows of byType's ids, inserts the new rows (the one
// at last[key] becomes current), and rebuilds the derived lists of the
// touched ways and relations.
func writeVersions(ctx context.Context, tx *sql.Tx, versions []osmdata.Element, byType map[osmdata.ElementType][]int64, last map[osmdata.Key]int) error {
	// Flip is_current off first: the partial unique index allows one
	// current row per id.
	for t, ids := range byType {
		tbl, _ := table(t)
		if _, err := tx.ExecContext(ctx, "UPDATE "+tbl+
			" SET is_current = 0 WHERE is_current AND id IN (SELECT value FROM json_each(?))",
			idsJSON(ids)); err != nil {
			return fmt.Errorf("retire current %ss: %w", t, err)
		}
	}
	ins := newElementInserters(tx)
	for i := range versions {
		e := &versions[i]
		if err := ins.add(ctx, e, last[e.Key()] == i); err != nil {
			return err
		}
	}
	if err := ins.flush(ctx); err != nil {
		return err
	}
	// Ways and relations touched get their derived rows rebuilt: empty for
	// a deleted one, the new list for a visible one. Emptiness must not
	// read as "all", hence the non-nil slices.
	ways, rels := byType[osmdata.Way], byType[osmdata.Relation]
	if ways == nil {
		ways = []int64{}
	}
	if rels == nil {
		rels = []int64{}
	}
	return rebuildCurrentLists(ctx, tx, ways, rels)
}

// currentVersions reads the current version of every given element in one
// statement; elements the dataset does not have are absent.
func currentVersions(ctx context.Context, tx *sql.Tx, byType map[osmdata.ElementType][]int64) (map[osmdata.Key]int, error) {
	rows, err := tx.QueryContext(ctx, `
SELECT 1, id, version FROM nodes WHERE is_current AND id IN (SELECT value FROM json_each(?1))
UNION ALL
SELECT 2, id, version FROM ways WHERE is_current AND id IN (SELECT value FROM json_each(?2))
UNION ALL
SELECT 3, id, version FROM relations WHERE is_current AND id IN (SELECT value FROM json_each(?3))`,
		idsJSON(byType[osmdata.Node]), idsJSON(byType[osmdata.Way]), idsJSON(byType[osmdata.Relation]))
	if err != nil {
		return nil, fmt.Errorf("current versions: %w", err)
	}
	defer rows.Close()
	current := map[osmdata.Key]int{}
	for rows.Next() {
		var t, id, version int64
		if err := rows.Scan(&t, &id, &version); err != nil {
			return nil, fmt.Errorf("current versions: %w", err)
		}
		current[osmdata.Key{Type: osmdata.ElementType(t), ID: id}] = int(version)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("current versions: %w", err)
	}
	return current, nil
}
