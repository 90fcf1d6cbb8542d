package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// dbtx is what reads and writes run on: the pool, or a transaction (an
// upload's, whose reads must see its own writes and locks).
type dbtx interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// queries are the Reader's statements, run on the pool for the Store and
// on the transaction for a StageTx.
type queries struct{ db dbtx }

func checkType(t osmdata.ElementType) error {
	if _, ok := tableOf[t]; !ok {
		return fmt.Errorf("unknown element type %d", t)
	}
	return nil
}

// CurrentElements returns the current version of each known id, by id.
func (q queries) CurrentElements(ctx context.Context, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error) {
	if err := checkType(t); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := q.db.Query(ctx, `SELECT `+readColumns(t, "")+` FROM `+tableOf[t]+`
		WHERE is_current AND id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return nil, fmt.Errorf("current %ss: %w", t, err)
	}
	els, err := collectElements(rows, t)
	if err != nil {
		return nil, fmt.Errorf("current %ss: %w", t, err)
	}
	return els, nil
}

// ElementVersion returns one version, storage.ErrNotFound, or
// storage.ErrRedacted.
func (q queries) ElementVersion(ctx context.Context, t osmdata.ElementType, id int64, version int) (osmdata.Element, error) {
	if err := checkType(t); err != nil {
		return osmdata.Element{}, err
	}
	rows, err := q.db.Query(ctx, `SELECT `+readColumns(t, "")+`, `+redactedColumn(t, tableOf[t])+` FROM `+tableOf[t]+`
		WHERE id = $1 AND version = $2`, id, version)
	if err != nil {
		return osmdata.Element{}, fmt.Errorf("%s %d v%d: %w", t, id, version, err)
	}
	els, redacted, err := collectRedactable(rows, t)
	if err != nil {
		return osmdata.Element{}, fmt.Errorf("%s %d v%d: %w", t, id, version, err)
	}
	if len(els) == 0 {
		return osmdata.Element{}, fmt.Errorf("%s %d v%d: %w", t, id, version, storage.ErrNotFound)
	}
	if redacted[0] {
		return osmdata.Element{}, fmt.Errorf("%s %d v%d: %w", t, id, version, storage.ErrRedacted)
	}
	return els[0], nil
}

// The Store and an upload's transaction read named versions in bulk
// (the Store's ElementVersions is storage.ChangeFeed's, another read).
var _ storage.VersionsReader = (*Store)(nil)

// NamedVersions returns the named versions that exist and are not
// redacted, by id and version, in one statement
// (storage.VersionsReader).
func (q queries) NamedVersions(ctx context.Context, t osmdata.ElementType, versions []storage.IDVersion) ([]osmdata.Element, error) {
	if err := checkType(t); err != nil {
		return nil, err
	}
	if len(versions) == 0 {
		return nil, nil
	}
	ids, vs := make([]int64, len(versions)), make([]int32, len(versions))
	for i, v := range versions {
		if v.Version < 0 || v.Version > math.MaxInt32 {
			continue // no such version: id 0 matches nothing either
		}
		ids[i], vs[i] = v.ID, int32(v.Version)
	}
	rows, err := q.db.Query(ctx, `SELECT `+readColumns(t, "")+` FROM `+tableOf[t]+`
		WHERE (id, version) IN (SELECT * FROM unnest($1::bigint[], $2::integer[]))
			AND NOT `+redactedColumn(t, tableOf[t])+` ORDER BY id, version`, ids, vs)
	if err != nil {
		return nil, fmt.Errorf("%d versions of %ss: %w", len(versions), t, err)
	}
	els, err := collectElements(rows, t)
	if err != nil {
		return nil, fmt.Errorf("%d versions of %ss: %w", len(versions), t, err)
	}
	return els, nil
}

// History returns every version of an element but the redacted ones,
// oldest first.
func (q queries) History(ctx context.Context, t osmdata.ElementType, id int64) ([]osmdata.Element, error) {
	return q.history(ctx, t, id, false)
}

// history reads an element's versions, oldest first; the redacted ones
// only for an administrator's read (HistoryWithRedacted).
func (q queries) history(ctx context.Context, t osmdata.ElementType, id int64, withRedacted bool) ([]osmdata.Element, error) {
	if err := checkType(t); err != nil {
		return nil, err
	}
	what, visible := fmt.Sprintf("history of %s %d", t, id), ` AND NOT `+redactedColumn(t, tableOf[t])
	if withRedacted {
		what, visible = what+" with redactions", ""
	}
	rows, err := q.db.Query(ctx, `SELECT `+readColumns(t, "")+` FROM `+tableOf[t]+`
		WHERE id = $1`+visible+` ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	els, err := collectElements(rows, t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(els) == 0 {
		return nil, fmt.Errorf("%s: %w", what, storage.ErrNotFound)
	}
	return els, nil
}

// NodesInBox selects by the quadtile ranges covering box (the index), then
// by the exact coordinates, edges included. The LATERAL subquery, kept
// apart by OFFSET 0, makes one index scan per range: as a plain join the
// planner cannot estimate a range given as a parameter, and prefers
// scanning every node.
func (q queries) NodesInBox(ctx context.Context, box osmdata.Box, limit int) ([]osmdata.Element, error) {
	ranges := osmdata.TilesForBox(box)
	lo, hi := make([]int64, len(ranges)), make([]int64, len(ranges))
	for i, r := range ranges {
		lo[i], hi[i] = int64(r.Lo), int64(r.Hi)
	}
	rows, err := q.db.Query(ctx, `SELECT `+readColumns(osmdata.Node, "n.")+`
		FROM unnest($1::bigint[], $2::bigint[]) AS r(lo, hi)
		CROSS JOIN LATERAL (
			SELECT * FROM nodes
			WHERE tile BETWEEN r.lo AND r.hi AND is_current AND visible
				AND lat BETWEEN $3 AND $4 AND lon BETWEEN $5 AND $6
			OFFSET 0) AS n
		ORDER BY n.id LIMIT $7`,
		lo, hi, box.MinLat, box.MaxLat, box.MinLon, box.MaxLon, max(limit, 0)+1)
	if err != nil {
		return nil, fmt.Errorf("nodes in box: %w", err)
	}
	els, err := collectElements(rows, osmdata.Node)
	if err != nil {
		return nil, fmt.Errorf("nodes in box: %w", err)
	}
	return els, nil
}

// WaysUsingNodes reads current_way_nodes, which holds current visible
// ways only.
func (q queries) WaysUsingNodes(ctx context.Context, nodeIDs []int64) ([]osmdata.Element, error) {
	if len(nodeIDs) == 0 {
		return nil, nil
	}
	rows, err := q.db.Query(ctx, `SELECT `+readColumns(osmdata.Way, "")+` FROM ways
		WHERE is_current AND visible
			AND id IN (SELECT way_id FROM current_way_nodes WHERE node_id = ANY($1))
		ORDER BY id`, nodeIDs)
	if err != nil {
		return nil, fmt.Errorf("ways using nodes: %w", err)
	}
	els, err := collectElements(rows, osmdata.Way)
	if err != nil {
		return nil, fmt.Errorf("ways using nodes: %w", err)
	}
	return els, nil
}

// RelationsWithMembers reads current_relation_members, which holds
// current visible relations only. The ids come in through unnest rather
// than "= ANY($2)": the planner estimates = ANY element by element, which
// for the tens of thousands of nodes of a large map call took ten times
// longer than running the query (bench map: ~180 ms against ~10 ms for
// 49,000 ids); unnest it estimates without reading the values.
func (q queries) RelationsWithMembers(ctx context.Context, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error) {
	if err := checkType(t); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := q.db.Query(ctx, `SELECT `+readColumns(osmdata.Relation, "")+` FROM relations
		WHERE is_current AND visible
			AND id IN (SELECT relation_id FROM current_relation_members
				WHERE member_type = $1 AND member_id IN (SELECT unnest($2::bigint[])))
		ORDER BY id`, int16(t), ids)
	if err != nil {
		return nil, fmt.Errorf("relations with %s members: %w", t, err)
	}
	els, err := collectElements(rows, osmdata.Relation)
	if err != nil {
		return nil, fmt.Errorf("relations with %s members: %w", t, err)
	}
	return els, nil
}

// Changeset returns one changeset, or storage.ErrNotFound.
func (q queries) Changeset(ctx context.Context, id int64) (osmdata.Changeset, error) {
	c, err := scanChangeset(q.db.QueryRow(ctx, `SELECT `+changesetColumns+` FROM changesets WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return osmdata.Changeset{}, fmt.Errorf("changeset %d: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return osmdata.Changeset{}, fmt.Errorf("changeset %d: %w", id, err)
	}
	return c, nil
}

// Counts counts current visible elements, all versions, changesets and
// users in one statement.
func (q queries) Counts(ctx context.Context) (storage.Counts, error) {
	var c storage.Counts
	err := q.db.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM nodes WHERE is_current AND visible),
		(SELECT count(*) FROM ways WHERE is_current AND visible),
		(SELECT count(*) FROM relations WHERE is_current AND visible),
		(SELECT count(*) FROM nodes) + (SELECT count(*) FROM ways) + (SELECT count(*) FROM relations),
		(SELECT count(*) FROM changesets),
		(SELECT count(*) FROM users)`).Scan(
		&c.Nodes, &c.Ways, &c.Relations, &c.Versions, &c.Changesets, &c.Users)
	if err != nil {
		return storage.Counts{}, fmt.Errorf("counts: %w", err)
	}
	return c, nil
}

// NextIDs reads the sequences without advancing them.
func (s *Store) NextIDs(ctx context.Context) (storage.IDs, error) {
	const next = `(SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %s)`
	var ids storage.IDs
	err := s.pool.QueryRow(ctx, `SELECT `+
		fmt.Sprintf(next, "node_id_seq")+`, `+
		fmt.Sprintf(next, "way_id_seq")+`, `+
		fmt.Sprintf(next, "relation_id_seq")+`, `+
		fmt.Sprintf(next, "changeset_id_seq")+`, `+
		fmt.Sprintf(next, "user_id_seq")).Scan(&ids.Node, &ids.Way, &ids.Relation, &ids.Changeset, &ids.User)
	if err != nil {
		return storage.IDs{}, fmt.Errorf("next ids: %w", err)
	}
	return ids, nil
}
