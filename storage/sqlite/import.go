package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// importCacheKiB is the page cache the writer connection gets for an
// import (then gives back): pages spilled before the commit are written
// twice, and the index builds at the end sort in it.
const importCacheKiB = 256 << 10

// bulkConn runs fn on the writer connection with the page cache and
// temporary storage of a bulk load, then gives them back.
func (s *Store) bulkConn(ctx context.Context, fn func(conn *sql.Conn) error) error {
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(
		"PRAGMA cache_size = -%d; PRAGMA temp_store = MEMORY", importCacheKiB)); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size = -2000; PRAGMA temp_store = DEFAULT")
	return fn(conn)
}

// Import loads the initial dataset from src in one transaction.
func (s *Store) Import(ctx context.Context, src storage.ElementSource) (storage.ImportResult, error) {
	start := time.Now()
	var res storage.ImportResult
	err := s.bulkConn(ctx, func(conn *sql.Conn) error {
		var err error
		res, err = load(ctx, conn, src)
		return err
	})
	if err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: %w", err)
	}
	res.Duration = time.Since(start)
	return res, nil
}

func load(ctx context.Context, conn *sql.Conn, src storage.ElementSource) (storage.ImportResult, error) {
	var res storage.ImportResult
	tx, err := conn.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		return res, err
	}
	defer tx.Rollback()
	if err := refuseNonEmpty(ctx, tx); err != nil {
		return res, err
	}
	indexes, err := dropIndexes(ctx, tx, indexesBuiltAfterLoad)
	if err != nil {
		return res, err
	}

	ins := newElementInserters(tx)
	agg := newImportAggregates()
	for {
		e, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("read the source: %w", err)
		}
		if err := ins.add(ctx, e, true); err != nil {
			return res, err
		}
		agg.add(e)
	}
	if err := ins.flush(ctx); err != nil {
		return res, err
	}
	if err := agg.write(ctx, tx); err != nil {
		return res, err
	}
	if err := rebuildCurrentLists(ctx, tx, nil, nil); err != nil {
		return res, err
	}
	for _, idx := range indexes {
		if _, err := tx.ExecContext(ctx, idx.sql); err != nil {
			return res, fmt.Errorf("recreate index %s: %w", idx.name, err)
		}
	}
	if err := raiseNextIDs(ctx, tx, agg.maxIDs); err != nil {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("commit: %w", err)
	}
	// The whole dataset went through the WAL; copy it into the database
	// now and truncate the WAL rather than leave readers to search a WAL of
	// hundreds of MiB. Best effort: a busy reader only delays it.
	conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")

	res.Nodes = ins.by[osmdata.Node].rows
	res.Ways = ins.by[osmdata.Way].rows
	res.Relations = ins.by[osmdata.Relation].rows
	res.Users = int64(len(agg.users))
	res.Changesets = int64(len(agg.changesets))
	return res, nil
}

// refuseNonEmpty fails with ErrNotEmpty when the dataset has any element.
// It runs inside the import's transaction, so no other writer can add one
// between the test and the load.
func refuseNonEmpty(ctx context.Context, tx *sql.Tx) error {
	var any bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM nodes) OR EXISTS (SELECT 1 FROM ways)
  OR EXISTS (SELECT 1 FROM relations)
  OR EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM changesets)`).Scan(&any)
	if err != nil {
		return fmt.Errorf("check the dataset is empty: %w", err)
	}
	if any {
		return storage.ErrNotEmpty
	}
	return nil
}

// indexesBuiltAfterLoad are the indexes whose keys arrive in random order
// during an import. Maintained row by row they fit delaware in the page
// cache and cost about the same as a build by sorting (measured), but a
// larger extract would overflow the cache and turn each insert into disk
// reads; a sort scales. The other indexes follow load order and are
// appended to as the rows arrive.
var indexesBuiltAfterLoad = []string{"nodes_tile", "current_way_nodes_node", "current_relation_members_member"}

type index struct{ name, sql string }

// dropIndexes drops the named indexes, returning their definitions (from
// the schema itself, so they cannot drift from the migrations) to create
// them again.
func dropIndexes(ctx context.Context, tx *sql.Tx, names []string) ([]index, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema
WHERE type = 'index' AND name IN (SELECT value FROM json_each(?)) ORDER BY name`, stringsJSON(names))
	if err != nil {
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	var indexes []index
	for rows.Next() {
		var idx index
		if err := rows.Scan(&idx.name, &idx.sql); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list indexes: %w", err)
		}
		indexes = append(indexes, idx)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	if len(indexes) != len(names) {
		return nil, fmt.Errorf("the schema lacks some of the indexes %v", names)
	}
	for _, idx := range indexes {
		if _, err := tx.ExecContext(ctx, `DROP INDEX "`+idx.name+`"`); err != nil {
			return nil, fmt.Errorf("drop index %s: %w", idx.name, err)
		}
	}
	return indexes, nil
}

// importAggregates collects what the users and changesets tables need
// while the elements stream past, and the largest id of each sequence.
type importAggregates struct {
	users      map[int64]*importedUser
	changesets map[int64]*importedChangeset
	maxIDs     storage.IDs
}

type importedUser struct {
	name  string // the last name seen: the user's name when the file was cut
	first int64  // earliest element timestamp, standing in for the signup
}

type importedChangeset struct {
	uid         int64
	user        string
	first, last int64
	changes     int64
	hasBox      bool
	box         osmdata.Box
}

func newImportAggregates() *importAggregates {
	return &importAggregates{
		users:      map[int64]*importedUser{},
		changesets: map[int64]*importedChangeset{},
	}
}

// add records one element. uid 0 without a name (an anonymous edit in old
// data, or a file stripped of metadata) is nobody, and changeset 0 no
// changeset: neither gets a row. A changeset's box spans its visible
// nodes; deleted ones have no position to speak of.
func (a *importAggregates) add(e *osmdata.Element) {
	ts := e.Timestamp.Unix()
	switch e.Type {
	case osmdata.Node:
		a.maxIDs.Node = max(a.maxIDs.Node, e.ID)
	case osmdata.Way:
		a.maxIDs.Way = max(a.maxIDs.Way, e.ID)
	case osmdata.Relation:
		a.maxIDs.Relation = max(a.maxIDs.Relation, e.ID)
	}
	if e.UID != 0 || e.User != "" {
		u := a.users[e.UID]
		if u == nil {
			u = &importedUser{first: ts}
			a.users[e.UID] = u
			a.maxIDs.User = max(a.maxIDs.User, e.UID)
		}
		u.name = e.User
		u.first = min(u.first, ts)
	}
	if e.Changeset != 0 {
		cs := a.changesets[e.Changeset]
		if cs == nil {
			cs = &importedChangeset{uid: e.UID, user: e.User, first: ts, last: ts}
			a.changesets[e.Changeset] = cs
			a.maxIDs.Changeset = max(a.maxIDs.Changeset, e.Changeset)
		}
		cs.first, cs.last = min(cs.first, ts), max(cs.last, ts)
		cs.changes++
		if e.Type == osmdata.Node && e.Visible {
			if !cs.hasBox {
				cs.hasBox = true
				cs.box = osmdata.Box{MinLat: e.Lat, MinLon: e.Lon, MaxLat: e.Lat, MaxLon: e.Lon}
			} else {
				cs.box.MinLat, cs.box.MaxLat = min(cs.box.MinLat, e.Lat), max(cs.box.MaxLat, e.Lat)
				cs.box.MinLon, cs.box.MaxLon = min(cs.box.MinLon, e.Lon), max(cs.box.MaxLon, e.Lon)
			}
		}
	}
}

// write inserts the users and the changesets, by id. Imported changesets
// are closed and merged: they are the reviewed dataset's history.
func (a *importAggregates) write(ctx context.Context, tx *sql.Tx) error {
	users := newBatchInserter(tx, "users", []string{"id", "display_name", "created_at"})
	for _, id := range sortedKeys(a.users) {
		u := a.users[id]
		if err := users.add(ctx, id, u.name, u.first); err != nil {
			return fmt.Errorf("insert users: %w", err)
		}
	}
	if err := users.flush(ctx); err != nil {
		return fmt.Errorf("insert users: %w", err)
	}
	changesets := newBatchInserter(tx, "changesets", []string{"id", "user_id", "user_name",
		"created_at", "closed_at", "is_open", "num_changes", "min_lat", "min_lon", "max_lat", "max_lon",
		"review_state"})
	for _, id := range sortedKeys(a.changesets) {
		cs := a.changesets[id]
		var minLat, minLon, maxLat, maxLon any
		if cs.hasBox {
			minLat, minLon = int64(cs.box.MinLat), int64(cs.box.MinLon)
			maxLat, maxLon = int64(cs.box.MaxLat), int64(cs.box.MaxLon)
		}
		if err := changesets.add(ctx, id, cs.uid, cs.user, cs.first, cs.last, false, cs.changes,
			minLat, minLon, maxLat, maxLon, string(osmdata.ReviewMerged)); err != nil {
			return fmt.Errorf("insert changesets: %w", err)
		}
	}
	if err := changesets.flush(ctx); err != nil {
		return fmt.Errorf("insert changesets: %w", err)
	}
	return nil
}

func sortedKeys[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// CopyBaseline inserts elements into the element tables the plainest fast
// way SQLite has (one prepared single-row INSERT per row, in one
// transaction, indexes as they are, with Import's page cache) and rolls
// back. The elapsed time of the inserts is the same-run reference that
// `geocommuns bench` sets Import against. The dataset must be empty.
func (s *Store) CopyBaseline(ctx context.Context, elements []osmdata.Element) (time.Duration, error) {
	var elapsed time.Duration
	err := s.bulkConn(ctx, func(conn *sql.Conn) error {
		var err error
		elapsed, err = copyRows(ctx, conn, elements)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("copy baseline: %w", err)
	}
	return elapsed, nil
}

func copyRows(ctx context.Context, conn *sql.Conn, elements []osmdata.Element) (time.Duration, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if err := refuseNonEmpty(ctx, tx); err != nil {
		return 0, err
	}
	start := time.Now()
	stmts := map[osmdata.ElementType]*sql.Stmt{}
	for _, t := range osmdata.ElementTypes {
		tbl, _ := table(t)
		stmt, err := tx.PrepareContext(ctx, newBatchInserter(tx, tbl, elementColumns[t]).query(1))
		if err != nil {
			return 0, err
		}
		defer stmt.Close()
		stmts[t] = stmt
	}
	var enc rowEncoder
	for i := range elements {
		e := &elements[i]
		values, err := enc.row(e, true)
		if err != nil {
			return 0, err
		}
		if _, err := stmts[e.Type].ExecContext(ctx, values...); err != nil {
			return 0, fmt.Errorf("%s: %w", e.Key(), err)
		}
	}
	return time.Since(start), nil
}
