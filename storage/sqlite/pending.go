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

// pendingColumns is what pendingScanner reads, each prefixed with p.
const pendingColumns = `p.changeset_id, p.elem_type, p.elem_id, p.author_id, p.user_name, p.action,
	p.version, p.visible, p.lat, p.lon, p.tags, p.nodes, p.members,
	p.base_version, p.base_changeset_id, p.seq, p.uploaded_at`

// activeChangeset is true of a changeset c whose pending rows the author's
// overlay shows: neither rejected nor merged.
const activeChangeset = `c.review_state NOT IN ('rejected', 'merged')`

// notSuperseded is true of a pending row p that is the latest active one
// of its element.
const notSuperseded = `NOT EXISTS (SELECT 1 FROM pending_changes p2 JOIN changesets c ON c.id = p2.changeset_id
	WHERE p2.author_id = p.author_id AND p2.elem_type = p.elem_type AND p2.elem_id = p.elem_id
		AND p2.seq > p.seq AND ` + activeChangeset + `)`

type pendingScanner struct {
	p                         storage.PendingChange
	elemType, action, version int64
	baseVersion, uploadedAt   int64
	lat, lon                  sql.NullInt64
	tags, nodes, members      sql.RawBytes
	dest                      []any
}

func newPendingScanner() *pendingScanner {
	s := &pendingScanner{}
	s.dest = []any{&s.p.Changeset, &s.elemType, &s.p.Element.ID, &s.p.Author, &s.p.Element.User, &s.action,
		&s.version, &s.p.Element.Visible, &s.lat, &s.lon, &s.tags, &s.nodes, &s.members,
		&s.baseVersion, &s.p.BaseChangeset, &s.p.Seq, &s.uploadedAt}
	return s
}

func (s *pendingScanner) scan(rows *sql.Rows) (storage.PendingChange, error) {
	s.p = storage.PendingChange{}
	if err := rows.Scan(s.dest...); err != nil {
		return storage.PendingChange{}, fmt.Errorf("scan pending change: %w", err)
	}
	p := s.p
	e := &p.Element
	e.Type = osmdata.ElementType(s.elemType)
	e.Version = int(s.version)
	e.Changeset = p.Changeset
	e.UID = p.Author
	p.UploadedAt = time.Unix(s.uploadedAt, 0).UTC()
	e.Timestamp = p.UploadedAt
	p.Action = storage.Action(s.action)
	p.BaseVersion = int(s.baseVersion)
	e.Lat, e.Lon = int32(s.lat.Int64), int32(s.lon.Int64)
	var err error
	if e.Tags, err = decodeTags(s.tags); err != nil {
		return p, fmt.Errorf("tags of pending %s in changeset %d: %w", e.Key(), p.Changeset, err)
	}
	if len(s.nodes) > 0 {
		if e.Nodes, err = decodeIDs(s.nodes); err != nil {
			return p, fmt.Errorf("nodes of pending %s in changeset %d: %w", e.Key(), p.Changeset, err)
		}
	}
	if len(s.members) > 0 {
		if e.Members, err = decodeMembers(s.members); err != nil {
			return p, fmt.Errorf("members of pending %s in changeset %d: %w", e.Key(), p.Changeset, err)
		}
	}
	return p, nil
}

func collectPending(rows *sql.Rows, err error) ([]storage.PendingChange, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	s := newPendingScanner()
	var out []storage.PendingChange
	for rows.Next() {
		p, err := s.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// pendingReader reads one author's active pending changes on the read
// pool or inside an upload's transaction.
type pendingReader struct {
	db     dbtx
	author int64
}

// Pending reads the author's active pending changes.
func (s *Store) Pending(author int64) storage.PendingReader {
	return pendingReader{db: s.reader, author: author}
}

// PendingElements returns the latest active pending change of each given
// element that has one, by id.
func (r pendingReader) PendingElements(ctx context.Context, t osmdata.ElementType, ids []int64) ([]storage.PendingChange, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out, err := collectPending(r.db.QueryContext(ctx, `SELECT `+pendingColumns+`
		FROM pending_changes p JOIN changesets c ON c.id = p.changeset_id
		WHERE p.author_id = ?1 AND p.elem_type = ?2 AND p.elem_id IN (SELECT value FROM json_each(?3))
			AND `+activeChangeset+` AND `+notSuperseded+`
		ORDER BY p.elem_id`, r.author, int64(t), idsJSON(ids)))
	if err != nil {
		return nil, fmt.Errorf("pending %ss of user %d: %w", t, r.author, err)
	}
	return out, nil
}

// PendingNodesInBox walks the pending tile index once per tile range, as
// NodesInBox does, then keeps the rows that are their node's latest.
func (r pendingReader) PendingNodesInBox(ctx context.Context, box osmdata.Box) ([]storage.PendingChange, error) {
	out, err := collectPending(r.db.QueryContext(ctx, `SELECT `+pendingColumns+`
		FROM json_each(?2) AS r CROSS JOIN pending_changes AS p
		JOIN changesets c ON c.id = p.changeset_id
		WHERE p.author_id = ?1 AND p.elem_type = 1 AND p.visible
			AND p.tile BETWEEN r.value->>0 AND r.value->>1
			AND p.lat BETWEEN ?3 AND ?4 AND p.lon BETWEEN ?5 AND ?6
			AND `+activeChangeset+` AND `+notSuperseded+`
		ORDER BY p.elem_id`,
		r.author, tileRangesJSON(box), box.MinLat, box.MaxLat, box.MinLon, box.MaxLon))
	if err != nil {
		return nil, fmt.Errorf("pending nodes in box of user %d: %w", r.author, err)
	}
	return out, nil
}

// refersTo is true of a pending row p whose content refers to an
// element of type ?2 with an id in the JSON array ?3.
const refersTo = `((p.elem_type = 2 AND ?2 = 1
		AND EXISTS (SELECT 1 FROM json_each(p.nodes) AS n WHERE n.value IN (SELECT value FROM json_each(?3))))
	OR (p.elem_type = 3
		AND EXISTS (SELECT 1 FROM json_each(p.members) AS m
			WHERE m.value->>0 = ?2 AND m.value->>1 IN (SELECT value FROM json_each(?3)))))`

// PendingReferencing takes candidates from pending_refs (which may hold
// references a re-upload dropped), the latest active row of each, and
// keeps the rows whose content refers to one of the ids.
func (r pendingReader) PendingReferencing(ctx context.Context, t osmdata.ElementType, ids []int64) ([]storage.PendingChange, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out, err := collectPending(r.db.QueryContext(ctx, `WITH candidates AS (
			SELECT DISTINCT elem_type, elem_id FROM pending_refs
			WHERE ref_type = ?2 AND ref_id IN (SELECT value FROM json_each(?3)) AND author_id = ?1)
		SELECT `+pendingColumns+`
		FROM candidates k
		JOIN pending_changes p ON p.author_id = ?1 AND p.elem_type = k.elem_type AND p.elem_id = k.elem_id
		JOIN changesets c ON c.id = p.changeset_id
		WHERE `+activeChangeset+` AND `+notSuperseded+` AND p.visible AND `+refersTo+`
		ORDER BY p.elem_type, p.elem_id`, r.author, int64(t), idsJSON(ids)))
	if err != nil {
		return nil, fmt.Errorf("pending changes of user %d referring to %ss: %w", r.author, t, err)
	}
	return out, nil
}

// PendingVersion finds the changesets that gave the version, as their
// current row's version or as one a re-upload superseded
// (pending_versions), and returns the latest such changeset's row: a
// merged changeset's provisional version can be given again later.
func (r pendingReader) PendingVersion(ctx context.Context, key osmdata.Key, version int) (storage.PendingChange, error) {
	out, err := collectPending(r.db.QueryContext(ctx, `WITH given AS (
			SELECT changeset_id, seq FROM pending_changes
			WHERE author_id = ?1 AND elem_type = ?2 AND elem_id = ?3 AND version = ?4
			UNION ALL
			SELECT changeset_id, seq FROM pending_versions
			WHERE author_id = ?1 AND elem_type = ?2 AND elem_id = ?3 AND version = ?4)
		SELECT `+pendingColumns+`
		FROM given g
		JOIN changesets c ON c.id = g.changeset_id
		JOIN pending_changes p ON p.changeset_id = g.changeset_id AND p.elem_type = ?2 AND p.elem_id = ?3
		WHERE c.review_state <> 'rejected'
		ORDER BY g.seq DESC LIMIT 1`, r.author, int64(key.Type), key.ID, version))
	if err != nil {
		return storage.PendingChange{}, fmt.Errorf("pending %s v%d of user %d: %w", key, version, r.author, err)
	}
	if len(out) == 0 {
		return storage.PendingChange{}, fmt.Errorf("pending %s v%d of user %d: %w", key, version, r.author, storage.ErrNotFound)
	}
	return out[0], nil
}

// MergedVersions first asks whether the author has a merged changeset at
// all, so that a new contributor's upload costs nothing more. Then, in
// one statement, it keeps the cited versions that may resolve to a merged
// change: those not current, and the current ones that a merged change
// gave with another final version (pending_changes_moved, of merged rows
// whose provisional version is not their final one, usually few) or that
// a re-upload superseded (pending_versions), each a probe that usually
// finds nothing. For each kept one it reads the merged rows (set
// final_version: only the merge sets it) that gave the version, as their
// own (pending_changes_author) or as a superseded one, latest first, and
// keeps the first. The cited versions are decoded once into tables that
// drive the loop (CROSS JOIN keeps them outside): left to itself, SQLite
// may scan the author's rows and decode the whole JSON array for each,
// quadratic in the upload.
func (r pendingReader) MergedVersions(ctx context.Context, cited []storage.CitedVersion) ([]storage.MergedProvisional, error) {
	if len(cited) == 0 {
		return nil, nil
	}
	var merged bool
	err := r.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM changesets WHERE user_id = ? AND review_state = 'merged')`,
		r.author).Scan(&merged)
	if err != nil {
		return nil, fmt.Errorf("merged changesets of user %d: %w", r.author, err)
	}
	if !merged {
		return nil, nil
	}
	b := make([]byte, 0, 28*len(cited))
	b = append(b, '[')
	for i, c := range cited {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(c.Element.Type), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, c.Element.ID, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(c.Version), 10)
		if c.Current {
			b = append(b, ",1]"...)
		} else {
			b = append(b, ",0]"...)
		}
	}
	b = append(b, ']')
	rows, err := r.db.QueryContext(ctx, `WITH k (elem_type, elem_id, version, current) AS MATERIALIZED (
			SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?2)),
		kept AS MATERIALIZED (
			SELECT * FROM k
			WHERE NOT k.current
				OR EXISTS (SELECT 1 FROM pending_changes m WHERE m.author_id = ?1 AND m.elem_type = k.elem_type
					AND m.elem_id = k.elem_id AND m.version = k.version AND m.final_version <> m.version)
				OR EXISTS (SELECT 1 FROM pending_versions v WHERE v.author_id = ?1 AND v.elem_type = k.elem_type
					AND v.elem_id = k.elem_id AND v.version = k.version))
		SELECT k.elem_type, k.elem_id, k.version, k.current, p.changeset_id, p.version, p.final_version
		FROM kept k CROSS JOIN pending_changes p ON p.author_id = ?1 AND p.elem_type = k.elem_type AND p.elem_id = k.elem_id
		LEFT JOIN pending_versions v ON v.author_id = ?1 AND v.elem_type = k.elem_type AND v.elem_id = k.elem_id
			AND v.version = k.version AND v.changeset_id = p.changeset_id
		WHERE p.final_version IS NOT NULL AND (p.version = k.version OR v.seq IS NOT NULL)
		ORDER BY k.elem_type, k.elem_id, k.version, CASE WHEN p.version = k.version THEN p.seq ELSE v.seq END DESC`,
		r.author, string(b))
	if err != nil {
		return nil, fmt.Errorf("merged versions of %d elements of user %d: %w", len(cited), r.author, err)
	}
	defer rows.Close()
	var out []storage.MergedProvisional
	for rows.Next() {
		var typ, version, provisional, final int64
		var m storage.MergedProvisional
		if err := rows.Scan(&typ, &m.Cited.Element.ID, &version, &m.Cited.Current, &m.Changeset, &provisional, &final); err != nil {
			return nil, fmt.Errorf("merged versions of user %d: %w", r.author, err)
		}
		m.Cited.Element.Type, m.Cited.Version = osmdata.ElementType(typ), int(version)
		m.Version, m.FinalVersion = int(provisional), int(final)
		if n := len(out); n > 0 && out[n-1].Cited == m.Cited {
			continue // an earlier changeset that gave the same version, or cited twice
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("merged versions of %d elements of user %d: %w", len(cited), r.author, err)
	}
	return out, nil
}

// ChangesetChanges returns a changeset's pending changes in staging order.
func (s *Store) ChangesetChanges(ctx context.Context, id int64) ([]storage.PendingChange, error) {
	out, err := collectPending(s.reader.QueryContext(ctx, `SELECT `+pendingColumns+`
		FROM pending_changes p WHERE p.changeset_id = ? ORDER BY p.seq`, id))
	if err != nil {
		return nil, fmt.Errorf("changes of changeset %d: %w", id, err)
	}
	return out, nil
}
