package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Stage runs fn in one write transaction. BEGIN IMMEDIATE takes SQLite's
// one write lock, which serializes every upload (the author's lock and
// the changeset's, both at once). fn must use only tx: the store's writer
// connection is the transaction's for as long as it runs.
func (s *Store) Stage(ctx context.Context, id, uid int64, fn func(ctx context.Context, tx storage.StageTx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("stage to changeset %d: begin: %w", id, err)
	}
	defer tx.Rollback()
	cs, err := ownChangeset(ctx, tx, id, uid)
	if err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	if err := fn(ctx, &stageTx{queries: queries{tx}, tx: tx, cs: cs}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("stage to changeset %d: commit: %w", id, err)
	}
	return nil
}

// stageTx is an upload's transaction; its Reader methods read on it.
type stageTx struct {
	queries
	tx *sql.Tx
	cs osmdata.Changeset
}

func (t *stageTx) LockedChangeset() osmdata.Changeset { return t.cs }

func (t *stageTx) Pending() storage.PendingReader {
	return pendingReader{db: t.tx, author: t.cs.UID}
}

// Export reads inside the upload's transaction.
func (t *stageTx) Export(ctx context.Context, fn func(*osmdata.Element) error) error {
	for _, typ := range osmdata.ElementTypes {
		if err := exportType(ctx, t.tx, typ, fn); err != nil {
			return fmt.Errorf("export %ss: %w", typ, err)
		}
	}
	return nil
}

// AllocateIDs advances the type's next_ids row by n in one statement.
func (t *stageTx) AllocateIDs(ctx context.Context, typ osmdata.ElementType, n int) ([]int64, error) {
	if _, err := table(typ); err != nil {
		return nil, fmt.Errorf("allocate ids: %w", err)
	}
	if n <= 0 {
		return nil, nil
	}
	first, err := takeIDs(ctx, t.tx, typ.String(), n)
	if err != nil {
		return nil, fmt.Errorf("allocate ids: %w", err)
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = first + int64(i)
	}
	return ids, nil
}

// AddParents records stacking on other changesets of the same author.
func (t *stageTx) AddParents(ctx context.Context, parents []int64) error {
	var others []int64
	for _, p := range parents {
		if p != t.cs.ID {
			others = append(others, p)
		}
	}
	if len(others) == 0 {
		return nil
	}
	var foreign int
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM json_each(?1) AS j
		WHERE NOT EXISTS (SELECT 1 FROM changesets WHERE id = j.value AND user_id = ?2)`,
		idsJSON(others), t.cs.UID).Scan(&foreign); err != nil {
		return fmt.Errorf("add parents of changeset %d: %w", t.cs.ID, err)
	}
	if foreign > 0 {
		return fmt.Errorf("add parents of changeset %d: %d of the changesets %v are not user %d's", t.cs.ID, foreign, others, t.cs.UID)
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT OR IGNORE INTO changeset_parents (child, parent)
		SELECT ?1, value FROM json_each(?2)`, t.cs.ID, idsJSON(others)); err != nil {
		return fmt.Errorf("add parents of changeset %d: %w", t.cs.ID, err)
	}
	return nil
}

// UpdateChangeset records an upload; a changeset that reaches
// MaxChangesetChanges closes now, as cgimap closes it. SQLite's min() of
// a NULL is NULL, hence the coalesce for a changeset without a box yet.
func (t *stageTx) UpdateChangeset(ctx context.Context, numChanges int, box osmdata.Box, hasBox bool) (osmdata.Changeset, error) {
	c, err := scanChangeset(t.tx.QueryRowContext(ctx, `UPDATE changesets SET
			num_changes = num_changes + ?2,
			min_lat = CASE WHEN ?3 THEN min(coalesce(min_lat, ?4), ?4) ELSE min_lat END,
			min_lon = CASE WHEN ?3 THEN min(coalesce(min_lon, ?5), ?5) ELSE min_lon END,
			max_lat = CASE WHEN ?3 THEN max(coalesce(max_lat, ?6), ?6) ELSE max_lat END,
			max_lon = CASE WHEN ?3 THEN max(coalesce(max_lon, ?7), ?7) ELSE max_lon END,
			closed_at = CASE WHEN num_changes + ?2 >= `+maxChanges+` THEN unixepoch() ELSE `+nextClose+` END
		WHERE id = ?1 RETURNING `+changesetColumns,
		t.cs.ID, numChanges, hasBox, box.MinLat, box.MinLon, box.MaxLat, box.MaxLon))
	if err != nil {
		return osmdata.Changeset{}, fmt.Errorf("update changeset %d: %w", t.cs.ID, err)
	}
	return c, nil
}

// WritePending replaces the changeset's pending rows of the given
// elements: one statement takes the sequence numbers and the upload time,
// and only if the changeset has rows of these elements already, two move
// their versions to pending_versions and delete them; multi-row INSERTs
// write the rows and their references.
func (t *stageTx) WritePending(ctx context.Context, changes []storage.PendingChange) error {
	if len(changes) == 0 {
		return nil
	}
	if err := preparePending(changes, t.cs); err != nil {
		return err
	}
	var first, now int64
	var hasRows bool
	if err := t.tx.QueryRowContext(ctx, `UPDATE next_ids SET next_id = next_id + ?1 WHERE name = 'pending'
		RETURNING next_id - ?1, unixepoch(), EXISTS (SELECT 1 FROM pending_changes WHERE changeset_id = ?2)`,
		len(changes), t.cs.ID).Scan(&first, &now, &hasRows); err != nil {
		return fmt.Errorf("write pending changes: sequence: %w", err)
	}
	uploaded := time.Unix(now, 0).UTC()
	last := make(map[osmdata.Key]int, len(changes))
	for i := range changes {
		p := &changes[i]
		p.Seq, p.UploadedAt, p.Element.Timestamp = first+int64(i), uploaded, uploaded
		last[p.Element.Key()] = i
	}
	if hasRows {
		keys := make([]byte, 0, 16*len(last))
		keys = append(keys, '[')
		for i := range changes {
			if last[changes[i].Element.Key()] != i {
				continue
			}
			if len(keys) > 1 {
				keys = append(keys, ',')
			}
			keys = append(keys, '[')
			keys = strconv.AppendInt(keys, int64(changes[i].Element.Type), 10)
			keys = append(keys, ',')
			keys = strconv.AppendInt(keys, changes[i].Element.ID, 10)
			keys = append(keys, ']')
		}
		keys = append(keys, ']')
		const replaced = ` FROM pending_changes WHERE changeset_id = ?1
			AND (elem_type, elem_id) IN (SELECT value->>0, value->>1 FROM json_each(?2))`
		if _, err := t.tx.ExecContext(ctx, `INSERT OR REPLACE INTO pending_versions
			(author_id, elem_type, elem_id, version, changeset_id, seq)
			SELECT author_id, elem_type, elem_id, version, changeset_id, seq`+replaced, t.cs.ID, string(keys)); err != nil {
			return fmt.Errorf("write pending changes: keep replaced versions: %w", err)
		}
		if _, err := t.tx.ExecContext(ctx, `DELETE`+replaced, t.cs.ID, string(keys)); err != nil {
			return fmt.Errorf("write pending changes: replace: %w", err)
		}
	}

	rows := newBatchInserter(t.tx, "pending_changes", pendingWriteColumns)
	refs := newBatchInserter(t.tx, "pending_refs", []string{"author_id", "elem_type", "elem_id", "ref_type", "ref_id"})
	// Versions that a later change of the same element in this call
	// superseded; a version given twice keeps the later seq (OR REPLACE,
	// also within one statement).
	versions := newBatchInserter(t.tx, "pending_versions",
		[]string{"author_id", "elem_type", "elem_id", "version", "changeset_id", "seq"})
	versions.prefix = "INSERT OR REPLACE" + versions.prefix[len("INSERT"):]
	var enc pendingEncoder
	seen := map[osmdata.Key]bool{}
	for i := range changes {
		p := &changes[i]
		if j := last[p.Element.Key()]; j != i {
			if changes[j].Element.Version != p.Element.Version {
				if err := versions.add(ctx, p.Author, int64(p.Element.Type), p.Element.ID, int64(p.Element.Version), p.Changeset, p.Seq); err != nil {
					return fmt.Errorf("write pending changes: versions: %w", err)
				}
			}
			continue
		}
		if err := rows.add(ctx, enc.row(p)...); err != nil {
			return fmt.Errorf("write pending changes: %w", err)
		}
		if err := addRefs(ctx, refs, p, seen); err != nil {
			return fmt.Errorf("write pending changes: references: %w", err)
		}
	}
	for _, b := range []*batchInserter{rows, refs, versions} {
		if err := b.flush(ctx); err != nil {
			return fmt.Errorf("write pending changes: %w", err)
		}
	}
	return nil
}

// addRefs writes the distinct references of a visible pending way or
// relation.
func addRefs(ctx context.Context, refs *batchInserter, p *storage.PendingChange, seen map[osmdata.Key]bool) error {
	e := &p.Element
	if !e.Visible {
		return nil
	}
	clear(seen)
	add := func(k osmdata.Key) error {
		if seen[k] {
			return nil
		}
		seen[k] = true
		return refs.add(ctx, p.Author, int64(e.Type), e.ID, int64(k.Type), k.ID)
	}
	if e.Type == osmdata.Way {
		for _, n := range e.Nodes {
			if err := add(osmdata.Key{Type: osmdata.Node, ID: n}); err != nil {
				return err
			}
		}
	}
	if e.Type == osmdata.Relation {
		for _, m := range e.Members {
			if err := add(osmdata.Key{Type: m.Type, ID: m.Ref}); err != nil {
				return err
			}
		}
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
		if _, err := table(e.Type); err != nil {
			return fmt.Errorf("write pending changes: element %d: %w", e.ID, err)
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

// pendingWriteColumns are the columns pendingEncoder fills, in its order.
var pendingWriteColumns = []string{"changeset_id", "elem_type", "elem_id", "author_id", "user_name", "action",
	"version", "visible", "lat", "lon", "tile", "tags", "nodes", "members",
	"base_version", "base_changeset_id", "seq", "uploaded_at"}

// pendingEncoder turns pending changes into row values; the values are
// fresh for each row, since a batchInserter keeps them until it flushes.
type pendingEncoder struct{ buf []byte }

func (r *pendingEncoder) row(p *storage.PendingChange) []any {
	e := &p.Element
	var lat, lon, tile, nodes, members any
	switch e.Type {
	case osmdata.Node:
		lat, lon, tile = int64(e.Lat), int64(e.Lon), int64(osmdata.QuadTile(e.Lat, e.Lon))
	case osmdata.Way:
		r.buf = appendIDs(r.buf[:0], e.Nodes)
		nodes = string(r.buf)
	case osmdata.Relation:
		r.buf = appendMembers(r.buf[:0], e.Members)
		members = string(r.buf)
	}
	return []any{p.Changeset, int64(e.Type), e.ID, p.Author, e.User, int64(p.Action),
		int64(e.Version), e.Visible, lat, lon, tile, tagsColumn(e.Tags), nodes, members,
		int64(p.BaseVersion), p.BaseChangeset, p.Seq, p.UploadedAt.Unix()}
}

// CopyPendingBaseline is the anchor of the staging benchmark: the same
// rows, already complete (Seq, UploadedAt, Changeset and Author set),
// inserted into pending_changes the plainest fast way SQLite has (one
// prepared single-row INSERT per row, in one transaction), rolled back.
// It returns the time the inserts took.
func (s *Store) CopyPendingBaseline(ctx context.Context, changes []storage.PendingChange) (time.Duration, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("copy pending baseline: %w", err)
	}
	defer tx.Rollback()
	start := time.Now()
	stmt, err := tx.PrepareContext(ctx, newBatchInserter(tx, "pending_changes", pendingWriteColumns).query(1))
	if err != nil {
		return 0, fmt.Errorf("copy pending baseline: %w", err)
	}
	defer stmt.Close()
	var enc pendingEncoder
	for i := range changes {
		if _, err := stmt.ExecContext(ctx, enc.row(&changes[i])...); err != nil {
			return 0, fmt.Errorf("copy pending baseline: %s: %w", changes[i].Element.Key(), err)
		}
	}
	return time.Since(start), nil
}

var _ storage.Editing = (*Store)(nil)
