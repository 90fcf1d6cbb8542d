package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// dbtx is what statements run on: the read pool for the Store, the
// writer's transaction for an upload (whose reads must see its writes).
type dbtx interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// queries are the Reader's statements.
type queries struct{ db dbtx }

// tileRangesJSON is the quadtile ranges covering box as one JSON array of
// [lo, hi] pairs.
func tileRangesJSON(box osmdata.Box) string {
	ranges := osmdata.TilesForBox(box)
	b := make([]byte, 0, 24*len(ranges))
	b = append(b, '[')
	for i, r := range ranges {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendUint(b, uint64(r.Lo), 10)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(r.Hi), 10)
		b = append(b, ']')
	}
	return string(append(b, ']'))
}

// Each read is one statement on the read pool. Lists of ids travel as one
// JSON array parameter expanded by json_each, SQLite's stand-in for the
// array parameters PostgreSQL takes. "is_current" is spelled exactly as in
// the partial indexes' WHERE clauses so that the planner uses them.

// CurrentElements returns the current version of each known id, by id.
func (qs queries) CurrentElements(ctx context.Context, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error) {
	tbl, err := table(t)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	q := "SELECT " + columns(t, "") + " FROM " + tbl +
		" WHERE is_current AND id IN (SELECT value FROM json_each(?)) ORDER BY id"
	rows, err := qs.db.QueryContext(ctx, q, idsJSON(ids))
	if err != nil {
		return nil, fmt.Errorf("current %ss: %w", t, err)
	}
	els, err := scanElements(rows, t)
	if err != nil {
		return nil, fmt.Errorf("current %ss: %w", t, err)
	}
	return els, nil
}

// ElementVersion returns one version of an element, ErrNotFound or
// ErrRedacted.
func (qs queries) ElementVersion(ctx context.Context, t osmdata.ElementType, id int64, version int) (osmdata.Element, error) {
	tbl, err := table(t)
	if err != nil {
		return osmdata.Element{}, err
	}
	rows, err := qs.db.QueryContext(ctx,
		"SELECT "+columns(t, "")+", "+redactedColumn(t, tbl)+" FROM "+tbl+" WHERE id = ? AND version = ?", id, version)
	if err != nil {
		return osmdata.Element{}, fmt.Errorf("%s %d version %d: %w", t, id, version, err)
	}
	els, redacted, err := scanRedactable(rows, t)
	if err != nil {
		return osmdata.Element{}, fmt.Errorf("%s %d version %d: %w", t, id, version, err)
	}
	if len(els) == 0 {
		return osmdata.Element{}, fmt.Errorf("%s %d version %d: %w", t, id, version, storage.ErrNotFound)
	}
	if redacted[0] {
		return osmdata.Element{}, fmt.Errorf("%s %d version %d: %w", t, id, version, storage.ErrRedacted)
	}
	return els[0], nil
}

// The Store and an upload's transaction read named versions in bulk
// (the Store's ElementVersions is storage.ChangeFeed's, another read).
var _ storage.VersionsReader = (*Store)(nil)

// NamedVersions returns the named versions that exist and are not
// redacted, by id and version, in one statement
// (storage.VersionsReader); the list travels as one JSON array of
// [id, version] pairs.
func (qs queries) NamedVersions(ctx context.Context, t osmdata.ElementType, versions []storage.IDVersion) ([]osmdata.Element, error) {
	tbl, err := table(t)
	if err != nil || len(versions) == 0 {
		return nil, err
	}
	b := make([]byte, 0, 24*len(versions))
	b = append(b, '[')
	for i, v := range versions {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "[%d,%d]", v.ID, v.Version)
	}
	b = append(b, ']')
	rows, err := qs.db.QueryContext(ctx, "SELECT "+columns(t, "")+" FROM "+tbl+
		" WHERE (id, version) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))"+
		" AND NOT "+redactedColumn(t, tbl)+" ORDER BY id, version", string(b))
	if err != nil {
		return nil, fmt.Errorf("%d versions of %ss: %w", len(versions), t, err)
	}
	els, err := scanElements(rows, t)
	if err != nil {
		return nil, fmt.Errorf("%d versions of %ss: %w", len(versions), t, err)
	}
	return els, nil
}

// History returns every version of an element but the redacted ones,
// oldest first.
func (qs queries) History(ctx context.Context, t osmdata.ElementType, id int64) ([]osmdata.Element, error) {
	return qs.history(ctx, t, id, false)
}

// history reads an element's versions, oldest first; the redacted ones
// only for an administrator's read (HistoryWithRedacted).
func (qs queries) history(ctx context.Context, t osmdata.ElementType, id int64, withRedacted bool) ([]osmdata.Element, error) {
	tbl, err := table(t)
	if err != nil {
		return nil, err
	}
	what, visible := fmt.Sprintf("history of %s %d", t, id), " AND NOT "+redactedColumn(t, tbl)
	if withRedacted {
		what, visible = what+" with redactions", ""
	}
	rows, err := qs.db.QueryContext(ctx, "SELECT "+columns(t, "")+" FROM "+tbl+" WHERE id = ?"+visible+" ORDER BY version", id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	els, err := scanElements(rows, t)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(els) == 0 {
		return nil, fmt.Errorf("%s: %w", what, storage.ErrNotFound)
	}
	return els, nil
}

// nodesInBoxQuery walks the tile index once per tile range (the ranges
// come as one JSON array of [lo, hi] pairs; CROSS JOIN keeps them the
// outer loop), tests the exact box on the index's lat and lon, and reads
// only the rows that pass.
const nodesInBoxQuery = "SELECT " + "n.id, n.version, n.changeset_id, n.visible, n.ts, n.user_id, n.user_name, n.tags, n.lat, n.lon" + `
FROM json_each(?1) AS r CROSS JOIN nodes AS n
WHERE n.tile BETWEEN r.value->>0 AND r.value->>1
  AND n.is_current AND n.visible
  AND n.lat BETWEEN ?2 AND ?3 AND n.lon BETWEEN ?4 AND ?5
ORDER BY n.id LIMIT ?6`

// NodesInBox returns the visible current nodes in box, at most limit+1.
func (qs queries) NodesInBox(ctx context.Context, box osmdata.Box, limit int) ([]osmdata.Element, error) {
	max := int64(-1) // SQLite's "no limit"
	if limit >= 0 {
		max = int64(limit) + 1
	}
	rows, err := qs.db.QueryContext(ctx, nodesInBoxQuery, tileRangesJSON(box),
		box.MinLat, box.MaxLat, box.MinLon, box.MaxLon, max)
	if err != nil {
		return nil, fmt.Errorf("nodes in box: %w", err)
	}
	els, err := scanElements(rows, osmdata.Node)
	if err != nil {
		return nil, fmt.Errorf("nodes in box: %w", err)
	}
	return els, nil
}

// WaysUsingNodes returns the visible current ways using any of the nodes.
func (qs queries) WaysUsingNodes(ctx context.Context, nodeIDs []int64) ([]osmdata.Element, error) {
	if len(nodeIDs) == 0 {
		return nil, nil
	}
	q := "SELECT " + columns(osmdata.Way, "") + ` FROM ways
WHERE is_current AND visible AND id IN (
  SELECT way_id FROM current_way_nodes WHERE node_id IN (SELECT value FROM json_each(?)))
ORDER BY id`
	rows, err := qs.db.QueryContext(ctx, q, idsJSON(nodeIDs))
	if err != nil {
		return nil, fmt.Errorf("ways using nodes: %w", err)
	}
	els, err := scanElements(rows, osmdata.Way)
	if err != nil {
		return nil, fmt.Errorf("ways using nodes: %w", err)
	}
	return els, nil
}

// RelationsWithMembers returns the visible current relations having a
// member of type t with any of the ids.
func (qs queries) RelationsWithMembers(ctx context.Context, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error) {
	if _, err := table(t); err != nil || len(ids) == 0 {
		return nil, err
	}
	q := "SELECT " + columns(osmdata.Relation, "") + ` FROM relations
WHERE is_current AND visible AND id IN (
  SELECT relation_id FROM current_relation_members
  WHERE member_type = ? AND member_id IN (SELECT value FROM json_each(?)))
ORDER BY id`
	rows, err := qs.db.QueryContext(ctx, q, int64(t), idsJSON(ids))
	if err != nil {
		return nil, fmt.Errorf("relations with %s members: %w", t, err)
	}
	els, err := scanElements(rows, osmdata.Relation)
	if err != nil {
		return nil, fmt.Errorf("relations with %s members: %w", t, err)
	}
	return els, nil
}

// Changeset returns one changeset, or ErrNotFound.
func (qs queries) Changeset(ctx context.Context, id int64) (osmdata.Changeset, error) {
	cs, err := scanChangeset(qs.db.QueryRowContext(ctx, "SELECT "+changesetColumns+" FROM changesets WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return cs, fmt.Errorf("changeset %d: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return cs, fmt.Errorf("changeset %d: %w", id, err)
	}
	return cs, nil
}

// Counts counts current visible elements, versions, changesets and users
// in one statement, hence from one snapshot.
func (qs queries) Counts(ctx context.Context) (storage.Counts, error) {
	var c storage.Counts
	err := qs.db.QueryRowContext(ctx, `
SELECT (SELECT count(*) FROM nodes WHERE is_current AND visible),
       (SELECT count(*) FROM ways WHERE is_current AND visible),
       (SELECT count(*) FROM relations WHERE is_current AND visible),
       (SELECT count(*) FROM nodes) + (SELECT count(*) FROM ways) + (SELECT count(*) FROM relations),
       (SELECT count(*) FROM changesets),
       (SELECT count(*) FROM users)`).Scan(&c.Nodes, &c.Ways, &c.Relations, &c.Versions, &c.Changesets, &c.Users)
	if err != nil {
		return c, fmt.Errorf("count the dataset: %w", err)
	}
	return c, nil
}

// NextIDs reports the next id of each sequence without taking it.
func (s *Store) NextIDs(ctx context.Context) (storage.IDs, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT name, next_id FROM next_ids")
	if err != nil {
		return storage.IDs{}, fmt.Errorf("next ids: %w", err)
	}
	defer rows.Close()
	var ids storage.IDs
	for rows.Next() {
		var name string
		var next int64
		if err := rows.Scan(&name, &next); err != nil {
			return ids, fmt.Errorf("next ids: %w", err)
		}
		if p := sequenceField(&ids, name); p != nil {
			*p = next
		}
	}
	if err := rows.Err(); err != nil {
		return ids, fmt.Errorf("next ids: %w", err)
	}
	return ids, nil
}

// Export calls fn for every visible current element, nodes, ways, then
// relations, each by id, inside one read transaction: in WAL mode that is
// one snapshot, whatever commits meanwhile.
func (s *Store) Export(ctx context.Context, fn func(*osmdata.Element) error) error {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer tx.Rollback()
	for _, t := range osmdata.ElementTypes {
		if err := exportType(ctx, tx, t, fn); err != nil {
			return fmt.Errorf("export %ss: %w", t, err)
		}
	}
	return tx.Commit()
}

func exportType(ctx context.Context, tx *sql.Tx, t osmdata.ElementType, fn func(*osmdata.Element) error) error {
	tbl, err := table(t)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx,
		"SELECT "+columns(t, "")+" FROM "+tbl+" WHERE is_current AND visible ORDER BY id")
	if err != nil {
		return err
	}
	defer rows.Close()
	s := newElementScanner(t)
	for rows.Next() {
		e, err := s.scan(rows)
		if err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}
