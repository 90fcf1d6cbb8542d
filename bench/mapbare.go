package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// bareNodesInBox runs the store's nodes-in-box statement directly on the
// database, outside the store, reading every row: the anchor of the map
// call's figures. It returns the number of rows.
type bareNodesInBox interface {
	nodesInBox(ctx context.Context, box osmdata.Box) (int, error)
}

// openWithBareSQL opens a fresh store of b as b.open does, and a
// connection of its own to the same database for bareNodesInBox.
func openWithBareSQL(ctx context.Context, b backend) (storage.Store, bareNodesInBox, func(), error) {
	switch b := b.(type) {
	case postgresBackend:
		return openPostgresWithBareSQL(ctx, b.url)
	case sqliteBackend:
		return openSQLiteWithBareSQL(ctx)
	default:
		return nil, nil, nil, fmt.Errorf("no bare SQL for the %s backend", b.name())
	}
}

func openPostgresWithBareSQL(ctx context.Context, url string) (storage.Store, bareNodesInBox, func(), error) {
	schema := "bench_" + randomSuffix()
	s, err := postgres.Open(ctx, postgres.Config{URL: url, Schema: schema})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open postgres store: %w", err)
	}
	drop := func() {
		s.Close()
		if err := dropSchema(context.Background(), url, schema); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		}
	}
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		drop()
		return nil, nil, nil, fmt.Errorf("parse postgres url: %w", err)
	}
	// As the store's own pool: its schema, and no JIT.
	pc.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	pc.ConnConfig.RuntimeParams["jit"] = "off"
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		drop()
		return nil, nil, nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return s, pgBare{pool}, func() { pool.Close(); drop() }, nil
}

type pgBare struct{ pool *pgxpool.Pool }

// pgNodesInBoxSQL is storage/postgres's NodesInBox statement (read.go),
// word for word: one index scan of the tile index per quadtile range.
const pgNodesInBoxSQL = `SELECT n.id, n.version, n.changeset_id, n.visible, n.ts, n.user_id, n.user_name, n.tags, n.lat, n.lon
		FROM unnest($1::bigint[], $2::bigint[]) AS r(lo, hi)
		CROSS JOIN LATERAL (
			SELECT * FROM nodes
			WHERE tile BETWEEN r.lo AND r.hi AND is_current AND visible
				AND lat BETWEEN $3 AND $4 AND lon BETWEEN $5 AND $6
			OFFSET 0) AS n
		ORDER BY n.id LIMIT $7`

func (p pgBare) nodesInBox(ctx context.Context, box osmdata.Box) (int, error) {
	ranges := osmdata.TilesForBox(box)
	lo, hi := make([]int64, len(ranges)), make([]int64, len(ranges))
	for i, r := range ranges {
		lo[i], hi[i] = int64(r.Lo), int64(r.Hi)
	}
	rows, err := p.pool.Query(ctx, pgNodesInBoxSQL, lo, hi, box.MinLat, box.MaxLat, box.MinLon, box.MaxLon, storage.MaxMapNodes+1)
	if err != nil {
		return 0, fmt.Errorf("bare nodes in box: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		// The raw column bytes: the rows travel and are read, nothing is
		// decoded into elements.
		_ = rows.RawValues()
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("bare nodes in box: %w", err)
	}
	return n, nil
}

func openSQLiteWithBareSQL(ctx context.Context) (storage.Store, bareNodesInBox, func(), error) {
	dir, err := os.MkdirTemp("", "geocommuns-bench-")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("temp dir: %w", err)
	}
	s, err := sqlite.Open(ctx, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, nil, fmt.Errorf("open sqlite store: %w", err)
	}
	// As the store's read pool opens it (storage/sqlite's readerDSNParams).
	db, err := sql.Open("sqlite", sqlite.Path(dir)+"?_pragma=query_only(1)&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		s.Close()
		os.RemoveAll(dir)
		return nil, nil, nil, fmt.Errorf("open %s: %w", sqlite.Path(dir), err)
	}
	return s, sqliteBare{db}, func() { db.Close(); s.Close(); os.RemoveAll(dir) }, nil
}

type sqliteBare struct{ db *sql.DB }

// sqliteNodesInBoxSQL is storage/sqlite's nodesInBoxQuery (read.go), word
// for word: the tile index walked once per range of a JSON array.
const sqliteNodesInBoxSQL = `SELECT n.id, n.version, n.changeset_id, n.visible, n.ts, n.user_id, n.user_name, n.tags, n.lat, n.lon
FROM json_each(?1) AS r CROSS JOIN nodes AS n
WHERE n.tile BETWEEN r.value->>0 AND r.value->>1
  AND n.is_current AND n.visible
  AND n.lat BETWEEN ?2 AND ?3 AND n.lon BETWEEN ?4 AND ?5
ORDER BY n.id LIMIT ?6`

func (s sqliteBare) nodesInBox(ctx context.Context, box osmdata.Box) (int, error) {
	ranges := osmdata.TilesForBox(box)
	js := make([]byte, 0, 24*len(ranges))
	js = append(js, '[')
	for i, r := range ranges {
		if i > 0 {
			js = append(js, ',')
		}
		js = append(js, '[')
		js = strconv.AppendUint(js, uint64(r.Lo), 10)
		js = append(js, ',')
		js = strconv.AppendUint(js, uint64(r.Hi), 10)
		js = append(js, ']')
	}
	js = append(js, ']')
	rows, err := s.db.QueryContext(ctx, sqliteNodesInBoxSQL, string(js), box.MinLat, box.MaxLat, box.MinLon, box.MaxLon, storage.MaxMapNodes+1)
	if err != nil {
		return 0, fmt.Errorf("bare nodes in box: %w", err)
	}
	defer rows.Close()
	// Every column is read, as raw bytes where the driver allows.
	var (
		id, version, cs, ts, uid, lat, lon int64
		visible                            bool
		user                               sql.NullString
		tags                               sql.RawBytes
	)
	n := 0
	for rows.Next() {
		if err := rows.Scan(&id, &version, &cs, &visible, &ts, &uid, &user, &tags, &lat, &lon); err != nil {
			return 0, fmt.Errorf("bare nodes in box: %w", err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("bare nodes in box: %w", err)
	}
	return n, nil
}
