package postgres

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Stage runs fn in one transaction that holds the author's lock and the
// changeset's row lock.
//
// The author's lock is a transaction advisory lock rather than a users
// row: imported and unknown uids have no row. Its key comes from the
// schema, so that datasets in other schemas of the same database
// (parallel tests) do not wait for each other. The author is locked
// before the changeset, always in that order; the changeset's other
// writers (tags, close, the sweeper) take only the changeset's lock.
func (s *Store) Stage(ctx context.Context, id, uid int64, fn func(ctx context.Context, tx storage.StageTx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("stage to changeset %d: begin: %w", id, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// An upload reads thousands of elements by id, from tables that are
	// in memory while it runs; at the default random_page_cost (4, a
	// disk's seek) the planner prefers scanning a whole table of a small
	// dataset, three times slower, to probing its index.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1), set_config('random_page_cost', '1.1', true)`, s.authorLockKey(uid)); err != nil {
		return fmt.Errorf("stage to changeset %d: lock user %d: %w", id, uid, err)
	}
	cs, err := lockOwnChangeset(ctx, tx, id, uid)
	if err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	if err := fn(ctx, &stageTx{queries: queries{tx}, tx: tx, cs: cs}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("stage to changeset %d: commit: %w", id, err)
	}
	return nil
}

func (s *Store) authorLockKey(uid int64) int64 {
	h := fnv.New64a()
	h.Write([]byte("geocommuns stage " + s.schema + " " + strconv.FormatInt(uid, 10)))
	return int64(h.Sum64())
}

// stageTx is an upload's transaction; its Reader methods read on it.
type stageTx struct {
	queries
	tx pgx.Tx
	cs osmdata.Changeset
}

func (t *stageTx) LockedChangeset() osmdata.Changeset { return t.cs }

func (t *stageTx) Pending() storage.PendingReader {
	return pendingReader{db: t.tx, author: t.cs.UID}
}

// Export streams inside the upload's transaction (Store.Export opens its
// own snapshot instead).
func (t *stageTx) Export(ctx context.Context, fn func(*osmdata.Element) error) error {
	for _, typ := range osmdata.ElementTypes {
		if err := exportType(ctx, t.tx, typ, fn); err != nil {
			return fmt.Errorf("export %ss: %w", typ, err)
		}
	}
	return nil
}

var idSequences = map[osmdata.ElementType]string{
	osmdata.Node: "node_id_seq", osmdata.Way: "way_id_seq", osmdata.Relation: "relation_id_seq",
}

// AllocateIDs takes n ids from the type's sequence in one statement.
// Like any sequence, ids taken by a transaction that rolls back are not
// handed out again.
func (t *stageTx) AllocateIDs(ctx context.Context, typ osmdata.ElementType, n int) ([]int64, error) {
	return allocateIDs(ctx, t.tx, typ, n)
}

// AllocateIDs is the stage's AllocateIDs outside any transaction
// (storage.EarlyReader): a sequence is not transactional anyway.
func (s *Store) AllocateIDs(ctx context.Context, typ osmdata.ElementType, n int) ([]int64, error) {
	return allocateIDs(ctx, s.early, typ, n)
}

func allocateIDs(ctx context.Context, db dbtx, typ osmdata.ElementType, n int) ([]int64, error) {
	seq, ok := idSequences[typ]
	if !ok {
		return nil, fmt.Errorf("allocate ids: unknown element type %d", typ)
	}
	if n <= 0 {
		return nil, nil
	}
	var ids []int64
	if err := db.QueryRow(ctx, `SELECT array(SELECT nextval('`+seq+`') FROM generate_series(1, $1))`, n).Scan(&ids); err != nil {
		return nil, fmt.Errorf("allocate %d %s ids: %w", n, typ, err)
	}
	slices.Sort(ids)
	return ids, nil
}

// AddParents records stacking on other changesets of the same author.
func (t *stageTx) AddParents(ctx context.Context, parents []int64) error {
	parents = slices.DeleteFunc(slices.Clone(parents), func(p int64) bool { return p == t.cs.ID })
	if len(parents) == 0 {
		return nil
	}
	slices.Sort(parents)
	parents = slices.Compact(parents)
	var owned int
	err := t.tx.QueryRow(ctx, `WITH owned AS (
			SELECT id FROM changesets WHERE id = ANY($2) AND user_id = $3),
		ins AS (
			INSERT INTO changeset_parents (child, parent) SELECT $1, id FROM owned
			ON CONFLICT DO NOTHING)
		SELECT count(*) FROM owned`, t.cs.ID, parents, t.cs.UID).Scan(&owned)
	if err != nil {
		return fmt.Errorf("add parents of changeset %d: %w", t.cs.ID, err)
	}
	if owned != len(parents) {
		return fmt.Errorf("add parents of changeset %d: %d of the changesets %v are not user %d's", t.cs.ID, len(parents)-owned, parents, t.cs.UID)
	}
	return nil
}

// UpdateChangeset records an upload; a changeset that reaches
// MaxChangesetChanges closes now, as cgimap closes it.
func (t *stageTx) UpdateChangeset(ctx context.Context, numChanges int, box osmdata.Box, hasBox bool) (osmdata.Changeset, error) {
	c, err := scanChangeset(t.tx.QueryRow(ctx, `UPDATE changesets SET
			num_changes = num_changes + $2,
			min_lat = CASE WHEN $3 THEN least(min_lat, $4) ELSE min_lat END,
			min_lon = CASE WHEN $3 THEN least(min_lon, $5) ELSE min_lon END,
			max_lat = CASE WHEN $3 THEN greatest(max_lat, $6) ELSE max_lat END,
			max_lon = CASE WHEN $3 THEN greatest(max_lon, $7) ELSE max_lon END,
			closed_at = CASE WHEN num_changes + $2 >= `+maxChanges+` THEN `+dbNow+` ELSE `+nextClose+` END
		WHERE id = $1 RETURNING `+changesetColumns,
		t.cs.ID, numChanges, hasBox, box.MinLat, box.MinLon, box.MaxLat, box.MaxLon))
	if err != nil {
		return osmdata.Changeset{}, fmt.Errorf("update changeset %d: %w", t.cs.ID, err)
	}
	return c, nil
}

// seqBlockBits is how many rows one WritePending may number from its one
// pending_seq value (see the migration).
const seqBlockBits = 24

// WritePending replaces the changeset's pending rows of the given
// elements in a few bulk statements: one takes the seq block and the
// upload time, says whether the changeset has rows yet and records the
// runs of its visible nodes (pending_node_boxes); only if the changeset
// had rows, one deletes the rows being replaced and keeps their versions
// in pending_versions; then one COPY writes the rows and one the blocks
// of their references (pending_ref_blocks). Deleting then copying stands
// in for INSERT … ON CONFLICT, which COPY does not have.
func (t *stageTx) WritePending(ctx context.Context, changes []storage.PendingChange) error {
	if len(changes) == 0 {
		return nil
	}
	if len(changes) >= 1<<seqBlockBits {
		return fmt.Errorf("write pending changes: %d changes in one call, at most %d", len(changes), 1<<seqBlockBits-1)
	}
	if err := preparePending(changes, t.cs); err != nil {
		return err
	}
	runs := nodeRuns(changes)
	var now time.Time
	var block int64
	var hasRows bool
	if err := t.tx.QueryRow(ctx, `WITH runs AS (
			INSERT INTO pending_node_boxes (changeset_id, min_lat, min_lon, max_lat, max_lon, node_ids)
			SELECT $1, r.min_lat, r.min_lon, r.max_lat, r.max_lon, ($8::bigint[])[r.lo:r.hi]
			FROM unnest($2::int[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[])
				AS r(min_lat, min_lon, max_lat, max_lon, lo, hi))
		SELECT `+dbNow+`, nextval('pending_seq'),
			EXISTS (SELECT 1 FROM pending_changes WHERE changeset_id = $1)`,
		t.cs.ID, runs.minLat, runs.minLon, runs.maxLat, runs.maxLon, runs.lo, runs.hi, runs.ids,
	).Scan(&now, &block, &hasRows); err != nil {
		return fmt.Errorf("write pending changes: sequence: %w", err)
	}
	now = now.UTC()
	last := make(map[osmdata.Key]int, len(changes))
	for i := range changes {
		p := &changes[i]
		p.Seq, p.UploadedAt, p.Element.Timestamp = block<<seqBlockBits+int64(i), now, now
		last[p.Element.Key()] = i
	}
	rows := changes
	var superseded []*storage.PendingChange
	if len(last) < len(changes) {
		rows = make([]storage.PendingChange, 0, len(last))
		for i := range changes {
			p := &changes[i]
			if j := last[p.Element.Key()]; j == i {
				rows = append(rows, *p)
			} else if changes[j].Element.Version != p.Element.Version {
				superseded = append(superseded, p)
			}
		}
	}
	if hasRows {
		types, ids := make([]int16, len(rows)), make([]int64, len(rows))
		for i := range rows {
			types[i], ids[i] = int16(rows[i].Element.Type), rows[i].Element.ID
		}
		if _, err := t.tx.Exec(ctx, `WITH gone AS (
				DELETE FROM pending_changes p USING unnest($2::smallint[], $3::bigint[]) AS k(t, id)
				WHERE p.changeset_id = $1 AND p.elem_type = k.t AND p.elem_id = k.id
				RETURNING p.author_id, p.elem_type, p.elem_id, p.version, p.changeset_id, p.seq)
			INSERT INTO pending_versions (author_id, elem_type, elem_id, version, changeset_id, seq)
			SELECT * FROM gone
			ON CONFLICT (author_id, elem_type, elem_id, version, changeset_id) DO UPDATE SET seq = EXCLUDED.seq`,
			t.cs.ID, types, ids); err != nil {
			return fmt.Errorf("write pending changes: replace: %w", err)
		}
	}
	if err := copyPending(ctx, t.tx, rows, elementOrder(rows)); err != nil {
		return fmt.Errorf("write pending changes: %w", err)
	}
	if err := copyPendingRefs(ctx, t.tx, rows); err != nil {
		return fmt.Errorf("write pending changes: %w", err)
	}
	if len(superseded) > 0 {
		if err := t.keepVersions(ctx, superseded); err != nil {
			return fmt.Errorf("write pending changes: %w", err)
		}
	}
	return nil
}

// A pending_node_boxes row lists at most nodeBoxRun nodes, all in one
// quadtile of zoom 14 (a tile number without its last nodeBoxCellBits
// bits), about 2.4 km wide: a run never spans the jumps of the quadtile
// order, so its box stays about as small as its nodes' extent.
const (
	nodeBoxRun      = 64
	nodeBoxCellBits = 4
)

// nodeBoxRuns are pending_node_boxes rows as parallel arrays: run i lists
// ids[lo[i]-1 : hi[i]] (SQL's 1-based inclusive slice).
type nodeBoxRuns struct {
	minLat, minLon, maxLat, maxLon, lo, hi []int32
	ids                                    []int64
}

// nodeRuns cuts the visible nodes among changes, in quadtile order, into
// runs (see the pending_node_boxes migration).
func nodeRuns(changes []storage.PendingChange) nodeBoxRuns {
	type node struct {
		tile     uint32
		lat, lon int32
		id       int64
	}
	var nodes []node
	for i := range changes {
		e := &changes[i].Element
		if e.Type == osmdata.Node && e.Visible {
			nodes = append(nodes, node{osmdata.QuadTile(e.Lat, e.Lon), e.Lat, e.Lon, e.ID})
		}
	}
	slices.SortFunc(nodes, func(a, b node) int { return cmp.Compare(a.tile, b.tile) })
	r := nodeBoxRuns{ids: make([]int64, len(nodes))}
	for start := 0; start < len(nodes); {
		first := nodes[start]
		box := osmdata.Box{MinLat: first.lat, MinLon: first.lon, MaxLat: first.lat, MaxLon: first.lon}
		end := start
		for ; end < len(nodes) && end-start < nodeBoxRun && nodes[end].tile>>nodeBoxCellBits == first.tile>>nodeBoxCellBits; end++ {
			n := nodes[end]
			r.ids[end] = n.id
			box.MinLat, box.MaxLat = min(box.MinLat, n.lat), max(box.MaxLat, n.lat)
			box.MinLon, box.MaxLon = min(box.MinLon, n.lon), max(box.MaxLon, n.lon)
		}
		r.minLat, r.minLon = append(r.minLat, box.MinLat), append(r.minLon, box.MinLon)
		r.maxLat, r.maxLon = append(r.maxLat, box.MaxLat), append(r.maxLon, box.MaxLon)
		r.lo, r.hi = append(r.lo, int32(start+1)), append(r.hi, int32(end))
		start = end
	}
	return r
}

// keepVersions records the provisional versions of changes that a later
// change of the same element in the same call superseded.
func (t *stageTx) keepVersions(ctx context.Context, changes []*storage.PendingChange) error {
	types, ids := make([]int16, len(changes)), make([]int64, len(changes))
	versions, seqs := make([]int32, len(changes)), make([]int64, len(changes))
	for i, p := range changes {
		types[i], ids[i], versions[i], seqs[i] = int16(p.Element.Type), p.Element.ID, int32(p.Element.Version), p.Seq
	}
	// A version given twice keeps the later seq (DISTINCT ON, since ON
	// CONFLICT cannot update a row the same statement inserted).
	_, err := t.tx.Exec(ctx, `INSERT INTO pending_versions (author_id, elem_type, elem_id, version, changeset_id, seq)
		SELECT DISTINCT ON (t, id, v) $1::bigint, t, id, v, $2::bigint, seq
		FROM unnest($3::smallint[], $4::bigint[], $5::int[], $6::bigint[]) AS u(t, id, v, seq)
		ORDER BY t, id, v, seq DESC
		ON CONFLICT (author_id, elem_type, elem_id, version, changeset_id) DO UPDATE SET seq = EXCLUDED.seq`,
		t.cs.UID, t.cs.ID, types, ids, versions, seqs)
	if err != nil {
		return fmt.Errorf("superseded versions: %w", err)
	}
	return nil
}

// preparePending checks the changes against the locked changeset and
// fills in what the store owns: the changeset, the author and the name
// of each change.
func preparePending(changes []storage.PendingChange, cs osmdata.Changeset) error {
	for i := range changes {
		p := &changes[i]
		e := &p.Element
		if _, ok := tableOf[e.Type]; !ok {
			return fmt.Errorf("write pending changes: element %d has unknown type %d", e.ID, e.Type)
		}
		if p.Action < storage.Create || p.Action > storage.Delete {
			return fmt.Errorf("write pending changes: %s: unknown action %d", e.Key(), p.Action)
		}
		if (p.Changeset != 0 && p.Changeset != cs.ID) || (e.Changeset != 0 && e.Changeset != cs.ID) {
			return fmt.Errorf("write pending changes: %s is for changeset %d, the upload goes to %d", e.Key(), p.Changeset, cs.ID)
		}
		if (p.Author != 0 && p.Author != cs.UID) || (e.UID != 0 && e.UID != cs.UID) {
			return fmt.Errorf("write pending changes: %s is by user %d, changeset %d is user %d's", e.Key(), p.Author, cs.ID, cs.UID)
		}
		p.Changeset, e.Changeset = cs.ID, cs.ID
		p.Author, e.UID = cs.UID, cs.UID
		if e.User == "" {
			e.User = cs.User
		}
	}
	return nil
}

// pendingWriteColumns are the columns encodePending writes, in its order.
var pendingWriteColumns = []string{"changeset_id", "elem_type", "elem_id", "author_id", "user_name", "action",
	"version", "visible", "lat", "lon", "tags", "nodes", "member_types", "member_ids", "member_roles",
	"base_version", "base_changeset_id", "seq", "uploaded_at"}

// encodePending writes p as a binary COPY row of pendingWriteColumns.
// Columns of another element type are NULL; a way without nodes has an
// empty array, as has a relation without members.
func encodePending(c *copyBuffer, p *storage.PendingChange) {
	e := &p.Element
	c.row(len(pendingWriteColumns))
	c.int8(p.Changeset)
	c.int2(int16(e.Type))
	c.int8(e.ID)
	c.int8(p.Author)
	c.text(e.User)
	c.int2(int16(p.Action))
	c.int4(int32(e.Version))
	c.bool(e.Visible)
	if e.Type == osmdata.Node {
		c.int4(e.Lat)
		c.int4(e.Lon)
	} else {
		c.null()
		c.null()
	}
	if len(e.Tags) > 0 {
		size := 0
		for _, t := range e.Tags {
			size += len(t.Key) + len(t.Value)
		}
		c.textArray(2*len(e.Tags), size, func(i int) string {
			if i%2 == 0 {
				return e.Tags[i/2].Key
			}
			return e.Tags[i/2].Value
		})
	} else {
		c.null()
	}
	if e.Type == osmdata.Way {
		c.int8Array(e.Nodes)
	} else {
		c.null()
	}
	if e.Type == osmdata.Relation {
		ms := e.Members
		c.int2Array(len(ms), func(i int) int16 { return int16(ms[i].Type) })
		c.arrayHeader(oidInt8, len(ms), 12*len(ms))
		for _, m := range ms {
			c.int8(m.Ref)
		}
		size := 0
		for _, m := range ms {
			size += len(m.Role)
		}
		c.textArray(len(ms), size, func(i int) string { return ms[i].Role })
	} else {
		c.null()
		c.null()
		c.null()
	}
	c.int4(int32(p.BaseVersion))
	c.int8(p.BaseChangeset)
	c.int8(p.Seq)
	c.timestamptz(p.UploadedAt)
}

// elementOrder returns the indexes of rows in the order of their element
// (type, then id). That is the order of both indexes of pending_changes
// past the changeset and the author: inserting keys in ascending order
// lets PostgreSQL append to the rightmost leaf of a B-tree without
// descending it when the upload's keys are the greatest (its changeset
// the newest, its created elements' ids the highest), and keeps
// consecutive inserts on one leaf otherwise. A document interleaves
// types (nodes, then the way using them, then more nodes); the order of
// the rows is not data, Seq is.
func elementOrder(rows []storage.PendingChange) []int32 {
	order := make([]int32, len(rows))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		ka, kb := rows[a].Element.Key(), rows[b].Element.Key()
		if ka.Type != kb.Type {
			return cmp.Compare(ka.Type, kb.Type)
		}
		return cmp.Compare(ka.ID, kb.ID)
	})
	return order
}

// copyPending copies rows into pending_changes, in the given order of
// their indexes (nil: as they are).
func copyPending(ctx context.Context, tx pgx.Tx, rows []storage.PendingChange, order []int32) error {
	encode := func(i int, c *copyBuffer) { encodePending(c, &rows[i]) }
	if order != nil {
		encode = func(i int, c *copyBuffer) { encodePending(c, &rows[order[i]]) }
	}
	n, err := copyBinary(ctx, tx, "pending_changes", pendingWriteColumns, len(rows), encode)
	if err != nil {
		return fmt.Errorf("copy pending_changes: %w", err)
	}
	if n != int64(len(rows)) {
		return fmt.Errorf("copy pending_changes: %d rows of %d", n, len(rows))
	}
	return nil
}

// copyPendingRefs writes the distinct reference blocks of the visible
// ways and relations among rows to pending_ref_blocks.
func copyPendingRefs(ctx context.Context, tx pgx.Tx, rows []storage.PendingChange) error {
	type ref struct {
		author, elemID, block int64
		elemType, refType     int16
	}
	var refs []ref
	var blocks []osmdata.Key // of one element: Type the referenced type, ID the block
	for i := range rows {
		p := &rows[i]
		e := &p.Element
		if !e.Visible || (len(e.Nodes) == 0 && len(e.Members) == 0) {
			continue
		}
		blocks = blocks[:0]
		if e.Type == osmdata.Way {
			for _, n := range e.Nodes {
				blocks = append(blocks, osmdata.Key{Type: osmdata.Node, ID: n >> refBlockBits})
			}
		}
		if e.Type == osmdata.Relation {
			for _, m := range e.Members {
				blocks = append(blocks, osmdata.Key{Type: m.Type, ID: m.Ref >> refBlockBits})
			}
		}
		slices.SortFunc(blocks, func(a, b osmdata.Key) int {
			if a.Type != b.Type {
				return int(a.Type) - int(b.Type)
			}
			return cmp.Compare(a.ID, b.ID)
		})
		for _, k := range slices.Compact(blocks) {
			refs = append(refs, ref{p.Author, e.ID, k.ID, int16(e.Type), int16(k.Type)})
		}
	}
	if len(refs) == 0 {
		return nil
	}
	_, err := copyBinary(ctx, tx, "pending_ref_blocks", []string{"author_id", "elem_type", "elem_id", "ref_type", "ref_block"}, len(refs),
		func(i int, c *copyBuffer) {
			r := &refs[i]
			c.row(5)
			c.int8(r.author)
			c.int2(r.elemType)
			c.int8(r.elemID)
			c.int2(r.refType)
			c.int8(r.block)
		})
	if err != nil {
		return fmt.Errorf("copy pending_ref_blocks: %w", err)
	}
	return nil
}

// CopyPendingBaseline is the anchor of the staging benchmark: a plain
// binary COPY of the same rows, already complete (Seq, UploadedAt,
// Changeset and Author set), into pending_changes, in a transaction it
// rolls back. It returns the time the COPY took.
func (s *Store) CopyPendingBaseline(ctx context.Context, changes []storage.PendingChange) (time.Duration, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("copy pending baseline: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	start := time.Now()
	if err := copyPending(ctx, tx, changes, nil); err != nil {
		return 0, fmt.Errorf("copy pending baseline: %w", err)
	}
	return time.Since(start), nil
}

var _ storage.Editing = (*Store)(nil)

// stateColumns are what CurrentStates reads of each type, after id,
// version and visible.
var stateColumns = map[osmdata.ElementType]string{
	osmdata.Node: "lat, lon", osmdata.Way: "nodes", osmdata.Relation: "member_types, member_ids, member_roles",
}

// CurrentStates reads the current versions through the current-version
// index (see Stage for the planner's cost of a page).
func (t *stageTx) CurrentStates(ctx context.Context, typ osmdata.ElementType, ids []int64) ([]osmdata.Element, error) {
	return currentStates(ctx, t.tx, typ, `SELECT e.id, e.version, e.visible, `+stateColumns[typ]+`
		FROM `+tableOf[typ]+` AS e WHERE is_current AND id = ANY($1)`, ids)
}

// CurrentStates is the stage's CurrentStates on the early pool
// (storage.EarlyReader). It probes the current-version index once per id
// (the OFFSET keeps the planner from turning the probes into a scan of
// a small table), since it cannot set the cost of a page as Stage does
// without a transaction of its own.
func (s *Store) CurrentStates(ctx context.Context, typ osmdata.ElementType, ids []int64) ([]osmdata.Element, error) {
	return currentStates(ctx, s.early, typ, `SELECT e.id, e.version, e.visible, `+stateColumns[typ]+`
		FROM unnest($1::bigint[]) AS k(id)
		CROSS JOIN LATERAL (SELECT * FROM `+tableOf[typ]+` WHERE id = k.id AND is_current OFFSET 0) AS e`, ids)
}

func currentStates(ctx context.Context, db dbtx, typ osmdata.ElementType, query string, ids []int64) ([]osmdata.Element, error) {
	if err := checkType(typ); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, query, ids)
	if err != nil {
		return nil, fmt.Errorf("current %s states: %w", typ, err)
	}
	defer rows.Close()
	out := make([]osmdata.Element, 0, len(ids))
	var (
		version     int32
		memberTypes []int16
		memberIDs   []int64
		memberRoles []string
	)
	for rows.Next() {
		e := osmdata.Element{Type: typ}
		switch typ {
		case osmdata.Node:
			err = rows.Scan(&e.ID, &version, &e.Visible, &e.Lat, &e.Lon)
		case osmdata.Way:
			err = rows.Scan(&e.ID, &version, &e.Visible, &e.Nodes)
			if len(e.Nodes) == 0 {
				e.Nodes = nil
			}
		case osmdata.Relation:
			memberTypes, memberIDs, memberRoles = nil, nil, nil
			err = rows.Scan(&e.ID, &version, &e.Visible, &memberTypes, &memberIDs, &memberRoles)
			if err == nil && (len(memberTypes) != len(memberIDs) || len(memberRoles) != len(memberIDs)) {
				err = fmt.Errorf("relation %d: member arrays of different lengths", e.ID)
			}
			for i := range memberIDs {
				e.Members = append(e.Members, osmdata.Member{Type: osmdata.ElementType(memberTypes[i]), Ref: memberIDs[i], Role: memberRoles[i]})
			}
		}
		if err != nil {
			return nil, fmt.Errorf("current %s states: %w", typ, err)
		}
		e.Version = int(version)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("current %s states: %w", typ, err)
	}
	return out, nil
}

var (
	_ storage.StateReader = (*stageTx)(nil)
	_ storage.EarlyReader = (*Store)(nil)
)
