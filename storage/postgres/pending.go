package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// pendingColumns is what pendingScanner reads, each prefixed with p.
const pendingColumns = `p.changeset_id, p.elem_type, p.elem_id, p.author_id, p.user_name, p.action,
	p.version, p.visible, p.lat, p.lon, p.tags, p.nodes, p.member_types, p.member_ids, p.member_roles,
	p.base_version, p.base_changeset_id, p.seq, p.uploaded_at`

// activeChangeset is true of a changeset c whose pending rows the author's
// overlay shows: neither rejected nor merged.
const activeChangeset = `c.review_state NOT IN ('rejected', 'merged')`

type pendingScanner struct {
	p                    storage.PendingChange
	elemType, action     int16
	version, baseVersion int32
	lat, lon             *int32
	tags                 []string
	nodes                []int64
	memberTypes          []int16
	memberIDs            []int64
	memberRoles          []string
	uploadedAt           time.Time
	dest                 []any
}

func newPendingScanner() *pendingScanner {
	s := &pendingScanner{}
	s.dest = []any{&s.p.Changeset, &s.elemType, &s.p.Element.ID, &s.p.Author, &s.p.Element.User, &s.action,
		&s.version, &s.p.Element.Visible, &s.lat, &s.lon, &s.tags, &s.nodes, &s.memberTypes, &s.memberIDs, &s.memberRoles,
		&s.baseVersion, &s.p.BaseChangeset, &s.p.Seq, &s.uploadedAt}
	return s
}

func (s *pendingScanner) scan(rows pgx.Rows) (storage.PendingChange, error) {
	s.p = storage.PendingChange{}
	s.lat, s.lon, s.tags, s.nodes, s.memberTypes, s.memberIDs, s.memberRoles = nil, nil, nil, nil, nil, nil, nil
	if err := rows.Scan(s.dest...); err != nil {
		return storage.PendingChange{}, fmt.Errorf("scan pending change: %w", err)
	}
	p := s.p
	e := &p.Element
	e.Type = osmdata.ElementType(s.elemType)
	e.Version = int(s.version)
	e.Changeset = p.Changeset
	e.UID = p.Author
	p.UploadedAt = s.uploadedAt.UTC()
	e.Timestamp = p.UploadedAt
	p.Action = storage.Action(s.action)
	p.BaseVersion = int(s.baseVersion)
	if s.lat != nil && s.lon != nil {
		e.Lat, e.Lon = *s.lat, *s.lon
	}
	tags, err := unflattenTags(s.tags)
	if err != nil {
		return storage.PendingChange{}, fmt.Errorf("pending %s in changeset %d: %w", e.Key(), p.Changeset, err)
	}
	e.Tags = tags
	if len(s.nodes) > 0 {
		e.Nodes = s.nodes
	}
	if len(s.memberIDs) > 0 {
		if len(s.memberTypes) != len(s.memberIDs) || len(s.memberRoles) != len(s.memberIDs) {
			return storage.PendingChange{}, fmt.Errorf("pending %s in changeset %d: member arrays of different lengths", e.Key(), p.Changeset)
		}
		e.Members = make([]osmdata.Member, len(s.memberIDs))
		for i := range e.Members {
			e.Members[i] = osmdata.Member{Type: osmdata.ElementType(s.memberTypes[i]), Ref: s.memberIDs[i], Role: s.memberRoles[i]}
		}
	}
	return p, nil
}

func collectPending(rows pgx.Rows, err error) ([]storage.PendingChange, error) {
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
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// pendingReader reads one author's active pending changes on the pool or
// inside an upload's transaction.
type pendingReader struct {
	db     dbtx
	author int64
}

// Pending reads the author's active pending changes.
func (s *Store) Pending(author int64) storage.PendingReader {
	return pendingReader{db: s.pool, author: author}
}

// PendingElements returns the latest active pending change of each given
// element that has one, by id. It probes the author index once per
// distinct id within the range of ids the author has pending rows of
// (elements created in an upload have ids above every id that existed
// before, so an upload that edits existing elements usually probes none
// of them for its author's earlier creations), and reads the author's
// active changesets once rather than once per row. With elem_id =
// ANY($3) instead, PostgreSQL may scan all the author's pending rows of
// the type, and a generic plan (which it takes after a few executions on
// one connection) then tests each row against the array element by
// element: over a second for an upload of ten thousand elements.
func (r pendingReader) PendingElements(ctx context.Context, t osmdata.ElementType, ids []int64) ([]storage.PendingChange, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out, err := collectPending(r.db.Query(ctx, `SELECT `+pendingColumns+`
		FROM (SELECT DISTINCT id FROM unnest($3::bigint[]) AS u(id)
			WHERE id BETWEEN (SELECT elem_id FROM pending_changes WHERE author_id = $1 AND elem_type = $2 ORDER BY elem_id LIMIT 1)
				AND (SELECT elem_id FROM pending_changes WHERE author_id = $1 AND elem_type = $2 ORDER BY elem_id DESC LIMIT 1)) AS k
		CROSS JOIN LATERAL (
			SELECT p.* FROM pending_changes p
			WHERE p.author_id = $1 AND p.elem_type = $2 AND p.elem_id = k.id
				AND p.changeset_id = ANY (ARRAY(SELECT c.id FROM changesets c WHERE c.user_id = $1 AND `+activeChangeset+`))
			ORDER BY p.seq DESC LIMIT 1) AS p
		ORDER BY p.elem_id`, r.author, int16(t), ids))
	if err != nil {
		return nil, fmt.Errorf("pending %ss of user %d: %w", t, r.author, err)
	}
	return out, nil
}

// notSuperseded is true of a pending row p that is the latest active one
// of its element.
const notSuperseded = `NOT EXISTS (SELECT 1 FROM pending_changes p2 JOIN changesets c ON c.id = p2.changeset_id
	WHERE p2.author_id = p.author_id AND p2.elem_type = p.elem_type AND p2.elem_id = p.elem_id
		AND p2.seq > p.seq AND ` + activeChangeset + `)`

// PendingNodesInBox reads the runs of nodes (pending_node_boxes) of the
// author's active changesets whose box meets box, probes the pending rows
// of their ids, and keeps the visible ones inside box that are their
// node's latest. Runs are found from the author's changesets, so the
// runs of merged and rejected ones cost nothing.
func (r pendingReader) PendingNodesInBox(ctx context.Context, box osmdata.Box) ([]storage.PendingChange, error) {
	out, err := collectPending(r.db.Query(ctx, `SELECT `+pendingColumns+`
		FROM (SELECT DISTINCT b.changeset_id, u.id
			FROM changesets c
			JOIN pending_node_boxes b ON b.changeset_id = c.id
			CROSS JOIN unnest(b.node_ids) AS u(id)
			WHERE c.user_id = $1 AND `+activeChangeset+`
				AND b.min_lat <= $3 AND b.max_lat >= $2 AND b.min_lon <= $5 AND b.max_lon >= $4) AS k
		JOIN pending_changes p ON p.changeset_id = k.changeset_id AND p.elem_type = 1 AND p.elem_id = k.id
		WHERE p.visible AND p.lat BETWEEN $2 AND $3 AND p.lon BETWEEN $4 AND $5
			AND `+notSuperseded+`
		ORDER BY p.elem_id`,
		r.author, box.MinLat, box.MaxLat, box.MinLon, box.MaxLon))
	if err != nil {
		return nil, fmt.Errorf("pending nodes in box of user %d: %w", r.author, err)
	}
	return out, nil
}

// refersTo is true of a pending row p whose content refers to an
// element of type $2 with an id in $3.
const refersTo = `((p.elem_type = 2 AND $2 = 1 AND p.nodes && $3)
	OR (p.elem_type = 3 AND EXISTS (SELECT 1 FROM unnest(p.member_types, p.member_ids) AS m(t, id)
		WHERE m.t = $2 AND m.id = ANY($3))))`

// refBlockBits: pending_ref_blocks indexes a reference to id by
// id >> refBlockBits (see its migration).
const refBlockBits = 6

// refBlocks returns the distinct blocks of ids.
func refBlocks(ids []int64) []int64 {
	blocks := make([]int64, len(ids))
	for i, id := range ids {
		blocks[i] = id >> refBlockBits
	}
	slices.Sort(blocks)
	return slices.Compact(blocks)
}

// PendingReferencing takes candidates from pending_ref_blocks (which may
// hold references a re-upload dropped, and other ids of the same
// blocks), the latest active row of each, and keeps the rows whose
// content refers to one of the ids.
func (r pendingReader) PendingReferencing(ctx context.Context, t osmdata.ElementType, ids []int64) ([]storage.PendingChange, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out, err := collectPending(r.db.Query(ctx, `WITH candidates AS (
			SELECT DISTINCT elem_type, elem_id FROM pending_ref_blocks
			WHERE ref_type = $2 AND ref_block = ANY($4) AND author_id = $1),
		latest AS (
			SELECT DISTINCT ON (p.elem_type, p.elem_id) p.*
			FROM candidates k
			JOIN pending_changes p ON p.author_id = $1 AND p.elem_type = k.elem_type AND p.elem_id = k.elem_id
			JOIN changesets c ON c.id = p.changeset_id
			WHERE `+activeChangeset+`
			ORDER BY p.elem_type, p.elem_id, p.seq DESC)
		SELECT `+pendingColumns+` FROM latest p
		WHERE p.visible AND `+refersTo+`
		ORDER BY p.elem_type, p.elem_id`, r.author, int16(t), ids, refBlocks(ids)))
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
	out, err := collectPending(r.db.Query(ctx, `WITH given AS (
			SELECT changeset_id, seq FROM pending_changes
			WHERE author_id = $1 AND elem_type = $2 AND elem_id = $3 AND version = $4
			UNION ALL
			SELECT changeset_id, seq FROM pending_versions
			WHERE author_id = $1 AND elem_type = $2 AND elem_id = $3 AND version = $4)
		SELECT `+pendingColumns+`
		FROM given g
		JOIN changesets c ON c.id = g.changeset_id
		JOIN pending_changes p ON p.changeset_id = g.changeset_id AND p.elem_type = $2 AND p.elem_id = $3
		WHERE c.review_state <> 'rejected'
		ORDER BY g.seq DESC LIMIT 1`, r.author, int16(key.Type), key.ID, int32(version)))
	if err != nil {
		return storage.PendingChange{}, fmt.Errorf("pending %s v%d of user %d: %w", key, version, r.author, err)
	}
	if len(out) == 0 {
		return storage.PendingChange{}, fmt.Errorf("pending %s v%d of user %d: %w", key, version, r.author, storage.ErrNotFound)
	}
	return out[0], nil
}

// hasMerged reports whether the author has a merged changeset.
func (r pendingReader) hasMerged(ctx context.Context) (bool, error) {
	var merged bool
	err := r.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM changesets WHERE user_id = $1 AND review_state = 'merged')`,
		r.author).Scan(&merged)
	if err != nil {
		return false, fmt.Errorf("merged changesets of user %d: %w", r.author, err)
	}
	return merged, nil
}

// MergedVersions first asks whether the author has a merged changeset at
// all, so that a new contributor's upload sends nothing more. Then, in
// one statement, it keeps the cited versions that may resolve to a merged
// change: those not current, and the current ones that a merged change
// gave with another final version (pending_changes_moved, of merged rows
// whose provisional version is not their final one, usually few) or that
// a re-upload superseded (pending_versions), each a probe that usually
// finds nothing. For each kept one it takes the latest merged row (set
// final_version: only the merge sets it) that gave the version, as its
// own (pending_changes_author) or as a superseded one.
func (r pendingReader) MergedVersions(ctx context.Context, cited []storage.CitedVersion) ([]storage.MergedProvisional, error) {
	if len(cited) == 0 {
		return nil, nil
	}
	if merged, err := r.hasMerged(ctx); err != nil || !merged {
		return nil, err
	}
	types := make([]int16, len(cited))
	ids := make([]int64, len(cited))
	versions := make([]int32, len(cited))
	current := make([]bool, len(cited))
	for i, c := range cited {
		types[i], ids[i], versions[i], current[i] = int16(c.Element.Type), c.Element.ID, int32(c.Version), c.Current
	}
	rows, err := r.db.Query(ctx, `SELECT k.elem_type, k.elem_id, k.version, k.current, g.changeset_id, g.version, g.final_version
		FROM unnest($2::smallint[], $3::bigint[], $4::integer[], $5::boolean[]) AS k(elem_type, elem_id, version, current)
		CROSS JOIN LATERAL (
			SELECT p.changeset_id, p.version, p.final_version, p.seq AS given_seq
			FROM pending_changes p
			WHERE p.author_id = $1 AND p.elem_type = k.elem_type AND p.elem_id = k.elem_id AND p.version = k.version
				AND p.final_version IS NOT NULL
			UNION ALL
			SELECT p.changeset_id, p.version, p.final_version, v.seq
			FROM pending_versions v
			JOIN pending_changes p ON p.changeset_id = v.changeset_id AND p.elem_type = v.elem_type AND p.elem_id = v.elem_id
			WHERE v.author_id = $1 AND v.elem_type = k.elem_type AND v.elem_id = k.elem_id AND v.version = k.version
				AND p.final_version IS NOT NULL
			ORDER BY given_seq DESC LIMIT 1) AS g
		WHERE NOT k.current
			OR EXISTS (SELECT 1 FROM pending_changes m WHERE m.author_id = $1 AND m.elem_type = k.elem_type
				AND m.elem_id = k.elem_id AND m.version = k.version AND m.final_version <> m.version)
			OR EXISTS (SELECT 1 FROM pending_versions v WHERE v.author_id = $1 AND v.elem_type = k.elem_type
				AND v.elem_id = k.elem_id AND v.version = k.version)
		ORDER BY k.elem_type, k.elem_id, k.version`, r.author, types, ids, versions, current)
	if err != nil {
		return nil, fmt.Errorf("merged versions of %d elements of user %d: %w", len(cited), r.author, err)
	}
	var out []storage.MergedProvisional
	var m storage.MergedProvisional
	var typ int16
	var version, provisional, final int32
	_, err = pgx.ForEachRow(rows, []any{&typ, &m.Cited.Element.ID, &version, &m.Cited.Current, &m.Changeset, &provisional, &final}, func() error {
		m.Cited.Element.Type, m.Cited.Version = osmdata.ElementType(typ), int(version)
		m.Version, m.FinalVersion = int(provisional), int(final)
		if n := len(out); n == 0 || out[n-1].Cited != m.Cited { // not cited twice
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("merged versions of %d elements of user %d: %w", len(cited), r.author, err)
	}
	return out, nil
}

// ChangesetChanges returns a changeset's pending changes in staging order.
func (s *Store) ChangesetChanges(ctx context.Context, id int64) ([]storage.PendingChange, error) {
	out, err := collectPending(s.pool.Query(ctx, `SELECT `+pendingColumns+`
		FROM pending_changes p WHERE p.changeset_id = $1 ORDER BY p.seq`, id))
	if err != nil {
		return nil, fmt.Errorf("changes of changeset %d: %w", id, err)
	}
	return out, nil
}
