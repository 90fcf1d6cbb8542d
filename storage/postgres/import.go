package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Import loads the initial dataset from src in one transaction: a binary
// COPY per element type streamed from src, then the derived tables, users
// and changesets in one statement each, then the sequences.
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
	err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM nodes) OR EXISTS (SELECT 1 FROM ways) OR EXISTS (SELECT 1 FROM relations)`).Scan(&hasElements)
	if err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: check the dataset is empty: %w", err)
	}
	if hasElements {
		return storage.ImportResult{}, fmt.Errorf("import: %w", storage.ErrNotEmpty)
	}

	agg := newImportAggregates()
	p := startPrefetch(src, agg)
	res, err := copyElements(ctx, tx, p)
	// The reader goroutine must be gone before the caller may close src,
	// and before agg is read.
	p.close()
	if err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: %w", err)
	}

	if err := deriveCurrentMembers(ctx, tx, true, nil, nil); err != nil {
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
	// Fresh statistics, or the first map calls after an import are planned
	// for empty tables.
	if _, err := tx.Exec(ctx, "ANALYZE nodes, ways, relations, current_way_nodes, current_relation_members"); err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: analyze: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: commit: %w", err)
	}
	res.Duration = time.Since(start)
	return res, nil
}

// copyElements COPYs the nodes, then the ways, then the relations of the
// stream, each COPY stopping at the first element of the next type.
func copyElements(ctx context.Context, tx pgx.Tx, p *prefetcher) (storage.ImportResult, error) {
	var res storage.ImportResult
	counts := map[osmdata.ElementType]*int64{osmdata.Node: &res.Nodes, osmdata.Way: &res.Ways, osmdata.Relation: &res.Relations}
	for _, t := range osmdata.ElementTypes {
		rows := &typedRows{p: p, t: t}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{tableOf[t]}, writeColumns(t), rows)
		if p.err != nil {
			// The source's own error says more than the aborted COPY's.
			return res, fmt.Errorf("read source: %w", p.err)
		}
		if err != nil {
			return res, fmt.Errorf("copy %s: %w", tableOf[t], err)
		}
		*counts[t] = n
	}
	if e := p.peek(); e != nil {
		return res, fmt.Errorf("read source: element of unknown type %d (id %d)", e.Type, e.ID)
	}
	if p.err != nil {
		return res, fmt.Errorf("read source: %w", p.err)
	}
	return res, nil
}

// typedRows feeds one COPY with the elements of one type. The element
// that ends it stays in the prefetcher for the next type's COPY.
type typedRows struct {
	p   *prefetcher
	t   osmdata.ElementType
	e   *osmdata.Element
	enc rowEncoder
}

func (r *typedRows) Next() bool {
	e := r.p.peek()
	if e == nil || e.Type != r.t {
		return false
	}
	r.p.advance()
	r.e = e
	return true
}

// Import rows are all current: the source has one version per element.
func (r *typedRows) Values() ([]any, error) { return r.enc.row(r.e, true), nil }

func (r *typedRows) Err() error { return r.p.err }

const prefetchBatch = 1024

type prefetchedBatch struct {
	elements []osmdata.Element
	err      error // io.EOF at the end of the source
}

// prefetcher reads the source on its own goroutine, a batch at a time, so
// that decoding the file overlaps with encoding COPY rows. The reading
// goroutine also checks the order and gathers the aggregates, which keeps
// that work off the encoding goroutine.
type prefetcher struct {
	batches chan prefetchedBatch
	free    chan []osmdata.Element
	stop    chan struct{}
	done    chan struct{}

	cur   []osmdata.Element
	i     int
	ended bool
	err   error // the source's error, io.EOF excluded
}

func startPrefetch(src storage.ElementSource, agg *importAggregates) *prefetcher {
	p := &prefetcher{
		batches: make(chan prefetchedBatch, 4),
		free:    make(chan []osmdata.Element, 6),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go p.read(src, agg)
	return p
}

func (p *prefetcher) read(src storage.ElementSource, agg *importAggregates) {
	defer close(p.done)
	var last osmdata.Key
	for {
		var buf []osmdata.Element
		select {
		case buf = <-p.free:
			buf = buf[:0]
		default:
			buf = make([]osmdata.Element, 0, prefetchBatch)
		}
		var err error
		for len(buf) < prefetchBatch {
			var e *osmdata.Element
			e, err = src.Next()
			if err != nil {
				break
			}
			if e == nil {
				err = errors.New("the source returned no element and no error")
				break
			}
			k := e.Key()
			if agg.elements > 0 && !last.Less(k) {
				// Import relies on the order: the COPY per type, and
				// one version per element, depend on it.
				err = fmt.Errorf("the source is not in OSM order: %s after %s", k, last)
				break
			}
			last = k
			agg.add(e)
			buf = append(buf, *e)
		}
		select {
		case p.batches <- prefetchedBatch{buf, err}:
		case <-p.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// peek returns the next element without consuming it; nil at the end of
// the source or after its error (then in p.err).
func (p *prefetcher) peek() *osmdata.Element {
	for p.i >= len(p.cur) {
		if p.ended {
			return nil
		}
		if p.cur != nil {
			// Every row of this batch has been encoded: pgx asks for the
			// next row only after encoding the previous one.
			select {
			case p.free <- p.cur:
			default:
			}
		}
		b := <-p.batches
		p.cur, p.i = b.elements, 0
		if b.err != nil {
			p.ended = true
			if b.err != io.EOF {
				p.err = b.err
				return nil
			}
		}
	}
	return &p.cur[p.i]
}

func (p *prefetcher) advance() { p.i++ }

// close stops the reading goroutine and waits for it, so that the source
// is no longer used once close returns.
func (p *prefetcher) close() {
	close(p.stop)
	<-p.done
}

// importAggregates gathers, while streaming, what the users and changesets
// tables and the sequences need.
type importAggregates struct {
	elements   int64
	users      map[int64]*importedUser
	changesets map[int64]*importedChangeset
	maxID      map[osmdata.ElementType]int64
}

type importedUser struct {
	name    string
	created time.Time
}

type importedChangeset struct {
	uid             int64
	user            string
	created, closed time.Time
	changes         int32
	hasBox          bool
	box             osmdata.Box
}

func newImportAggregates() *importAggregates {
	return &importAggregates{
		users:      map[int64]*importedUser{},
		changesets: map[int64]*importedChangeset{},
		maxID:      map[osmdata.ElementType]int64{},
	}
}

func (a *importAggregates) add(e *osmdata.Element) {
	a.elements++
	if e.ID > a.maxID[e.Type] {
		a.maxID[e.Type] = e.ID
	}
	// uid 0 without a name is an anonymous edit (or a file without
	// metadata), not a user.
	if e.UID != 0 || e.User != "" {
		u := a.users[e.UID]
		if u == nil {
			a.users[e.UID] = &importedUser{name: e.User, created: e.Timestamp}
		} else {
			u.name = e.User
			if e.Timestamp.Before(u.created) {
				u.created = e.Timestamp
			}
		}
	}
	if e.Changeset == 0 {
		return
	}
	c := a.changesets[e.Changeset]
	if c == nil {
		c = &importedChangeset{uid: e.UID, user: e.User, created: e.Timestamp, closed: e.Timestamp}
		a.changesets[e.Changeset] = c
	}
	c.changes++
	if e.Timestamp.Before(c.created) {
		c.created = e.Timestamp
	}
	if e.Timestamp.After(c.closed) {
		c.closed = e.Timestamp
	}
	if e.Type == osmdata.Node && e.Visible {
		if !c.hasBox {
			c.hasBox = true
			c.box = osmdata.Box{MinLat: e.Lat, MinLon: e.Lon, MaxLat: e.Lat, MaxLon: e.Lon}
		} else {
			c.box.MinLat, c.box.MaxLat = min(c.box.MinLat, e.Lat), max(c.box.MaxLat, e.Lat)
			c.box.MinLon, c.box.MaxLon = min(c.box.MinLon, e.Lon), max(c.box.MaxLon, e.Lon)
		}
	}
}

func (a *importAggregates) insertUsers(ctx context.Context, tx pgx.Tx) (int64, error) {
	ids := make([]int64, 0, len(a.users))
	names := make([]string, 0, len(a.users))
	created := make([]time.Time, 0, len(a.users))
	for id, u := range a.users {
		ids = append(ids, id)
		names = append(names, u.name)
		created = append(created, u.created)
	}
	// A user that already exists (an account made before the import)
	// keeps its own row.
	tag, err := tx.Exec(ctx, `INSERT INTO users (id, display_name, created_at)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[])
		ON CONFLICT (id) DO NOTHING`, ids, names, created)
	if err != nil {
		return 0, fmt.Errorf("insert users: %w", err)
	}
	return tag.RowsAffected(), nil
}

func (a *importAggregates) insertChangesets(ctx context.Context, tx pgx.Tx) (int64, error) {
	n := len(a.changesets)
	ids, uids := make([]int64, 0, n), make([]int64, 0, n)
	names := make([]string, 0, n)
	created, closed := make([]time.Time, 0, n), make([]time.Time, 0, n)
	changes := make([]int32, 0, n)
	minLat, minLon, maxLat, maxLon := make([]*int32, 0, n), make([]*int32, 0, n), make([]*int32, 0, n), make([]*int32, 0, n)
	for id, c := range a.changesets {
		ids, uids, names = append(ids, id), append(uids, c.uid), append(names, c.user)
		created, closed, changes = append(created, c.created), append(closed, c.closed), append(changes, c.changes)
		if c.hasBox {
			b := c.box
			minLat, minLon, maxLat, maxLon = append(minLat, &b.MinLat), append(minLon, &b.MinLon), append(maxLat, &b.MaxLat), append(maxLon, &b.MaxLon)
		} else {
			minLat, minLon, maxLat, maxLon = append(minLat, nil), append(minLon, nil), append(maxLat, nil), append(maxLon, nil)
		}
	}
	tag, err := tx.Exec(ctx, `INSERT INTO changesets
			(id, user_id, user_name, created_at, closed_at, is_open, num_changes,
			 min_lat, min_lon, max_lat, max_lon, review_state)
		SELECT id, uid, name, created, closed, false, changes, min_lat, min_lon, max_lat, max_lon, 'merged'
		FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::int[],
			$7::int[], $8::int[], $9::int[], $10::int[])
			AS c(id, uid, name, created, closed, changes, min_lat, min_lon, max_lat, max_lon)
		ON CONFLICT (id) DO NOTHING`,
		ids, uids, names, created, closed, changes, minLat, minLon, maxLat, maxLon)
	if err != nil {
		return 0, fmt.Errorf("insert changesets: %w", err)
	}
	return tag.RowsAffected(), nil
}

// moveSequences sets each id sequence above the largest imported id (and
// never backwards).
func (a *importAggregates) moveSequences(ctx context.Context, tx pgx.Tx) error {
	var maxChangeset, maxUser int64
	for id := range a.changesets {
		maxChangeset = max(maxChangeset, id)
	}
	for id := range a.users {
		maxUser = max(maxUser, id)
	}
	_, err := tx.Exec(ctx, `SELECT
		setval('node_id_seq', greatest($1::bigint, (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM node_id_seq)), false),
		setval('way_id_seq', greatest($2::bigint, (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM way_id_seq)), false),
		setval('relation_id_seq', greatest($3::bigint, (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM relation_id_seq)), false),
		setval('changeset_id_seq', greatest($4::bigint, (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM changeset_id_seq)), false),
		setval('user_id_seq', greatest($5::bigint, (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM user_id_seq)), false)`,
		a.maxID[osmdata.Node]+1, a.maxID[osmdata.Way]+1, a.maxID[osmdata.Relation]+1, maxChangeset+1, maxUser+1)
	if err != nil {
		return fmt.Errorf("move id sequences: %w", err)
	}
	return nil
}
