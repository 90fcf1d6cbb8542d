package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// importTables are the tables an import fills row by row; their indexes
// are built once after loading rather than maintained per row.
var importTables = []string{"nodes", "ways", "relations", "current_way_nodes", "current_relation_members"}

// Import loads the initial dataset from src in one transaction:
//
//   - the replication_state row lock, then the emptiness check;
//   - the indexes of the element and derived tables are dropped, to be
//     built in bulk at the end (several times faster than inserting 10^6
//     keys one by one into each btree);
//   - one binary COPY per element type, streamed from src, with the
//     derived rows of ways and relations COPYed in segments between them;
//   - the indexes rebuilt, then users and changesets from the aggregates
//     gathered while streaming, one statement each, then the sequences,
//     then ANALYZE;
//   - after the commit, VACUUM of the derived tables, for the map call's
//     index-only scans.
//
// Dropping the indexes takes an exclusive lock on those tables until the
// import commits: readers wait for the dataset instead of seeing it empty.
func (s *Store) Import(ctx context.Context, src storage.ElementSource) (storage.ImportResult, error) {
	start := time.Now()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := lockDataset(ctx, tx); err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: %w", err)
	}
	var hasElements bool
	err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM nodes) OR EXISTS (SELECT 1 FROM ways) OR EXISTS (SELECT 1 FROM relations)
  OR EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM changesets)`).Scan(&hasElements)
	if err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: check the dataset is empty: %w", err)
	}
	if hasElements {
		return storage.ImportResult{}, fmt.Errorf("import: %w", storage.ErrNotEmpty)
	}
	// Room to sort the index keys in memory; LOCAL ends with the import.
	if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '256MB'"); err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: %w", err)
	}
	indexes, err := dropIndexes(ctx, tx, importTables)
	if err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: %w", err)
	}

	agg := newImportAggregates()
	p := startPrefetch(src, agg)
	res, err := copyElements(ctx, tx, p)
	// The reading goroutine must be gone before the caller may close src,
	// and before agg is read.
	p.close()
	if err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: %w", err)
	}

	if err := indexes.restore(ctx, tx); err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: %w", err)
	}
	if res.Users, err = agg.insertUsers(ctx, tx); err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: %w", err)
	}
	if res.Changesets, err = agg.insertChangesets(ctx, tx); err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: %w", err)
	}
	if err := agg.moveSequences(ctx, tx); err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: %w", err)
	}
	// Statistics now rather than at autovacuum's next round, for the
	// columns that plans depend on (the array columns' element statistics
	// would cost more than the rest of them together).
	if _, err := tx.Exec(ctx, `ANALYZE nodes (id, is_current, visible, tile), ways (id, is_current, visible),
		relations (id, is_current, visible), current_way_nodes (way_id, node_id),
		current_relation_members (relation_id, member_type, member_id)`); err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: analyze: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: commit: %w", err)
	}
	// The map call's reverse lookups are index-only scans of the derived
	// tables (migration 00016), which read the heap for every row until
	// the visibility map says its page is all visible; a fresh COPY has
	// none set, and autovacuum would set them some time later. VACUUM
	// cannot run in a transaction, so it comes after the commit (about
	// 0.1 s for Delaware's 840,000 way nodes).
	if _, err := s.pool.Exec(ctx, `VACUUM current_way_nodes, current_relation_members`); err != nil {
		return res, fmt.Errorf("import: the dataset is imported, but vacuuming its derived tables failed: %w", err)
	}
	res.Duration = time.Since(start)
	return res, nil
}

// derivedSegment bounds the derived rows buffered in memory: when a
// segment is full, the element COPY ends, the derived rows are COPYed, and
// a new element COPY goes on where the previous one stopped.
const derivedSegment = 1 << 20

// copyElements COPYs the nodes, then the ways, then the relations of the
// stream, each COPY stopping at the first element of the next type (or at
// a full segment of derived rows).
func copyElements(ctx context.Context, tx pgx.Tx, p *prefetcher) (storage.ImportResult, error) {
	var res storage.ImportResult
	counts := map[osmdata.ElementType]*int64{osmdata.Node: &res.Nodes, osmdata.Way: &res.Ways, osmdata.Relation: &res.Relations}
	derived := map[osmdata.ElementType]derivedRows{osmdata.Way: &wayNodeRows{}, osmdata.Relation: &memberRows{}}
	for _, t := range osmdata.ElementTypes {
		d := derived[t]
		for {
			rows := &typedRows{p: p, t: t, derived: d}
			n, err := tx.CopyFrom(ctx, pgx.Identifier{tableOf[t]}, writeColumns(t), rows)
			if p.err != nil {
				// The source's own error says more than the aborted COPY's.
				return res, fmt.Errorf("read source: %w", p.err)
			}
			if err != nil {
				return res, fmt.Errorf("copy %s: %w", tableOf[t], err)
			}
			*counts[t] += n
			if d != nil && d.len() > 0 {
				if err := d.copy(ctx, tx); err != nil {
					return res, err
				}
			}
			if e := p.peek(); e == nil || e.Type != t {
				break
			}
		}
	}
	if e := p.peek(); e != nil {
		return res, fmt.Errorf("read source: element of unknown type %d (id %d)", e.Type, e.ID)
	}
	if p.err != nil {
		return res, fmt.Errorf("read source: %w", p.err)
	}
	return res, nil
}

// typedRows feeds one COPY with the elements of one type, gathering their
// derived rows. The element that ends it stays in the prefetcher for the
// next COPY.
type typedRows struct {
	p       *prefetcher
	t       osmdata.ElementType
	derived derivedRows // nil for nodes
	e       *osmdata.Element
	enc     rowEncoder
}

func (r *typedRows) Next() bool {
	if r.derived != nil && r.derived.len() >= derivedSegment {
		return false
	}
	e := r.p.peek()
	if e == nil || e.Type != r.t {
		return false
	}
	r.p.advance()
	r.e = e
	if r.derived != nil && e.Visible {
		r.derived.add(e)
	}
	return true
}

// Import rows are all current: the source has one version per element.
func (r *typedRows) Values() ([]any, error) { return r.enc.row(r.e, true), nil }

func (r *typedRows) Err() error { return r.p.err }
