package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// maxParams stays under SQLite's SQLITE_MAX_VARIABLE_NUMBER (32766 since
// 3.32) with room to spare.
const maxParams = 8000

// batchInserter writes rows with multi-row INSERTs: one prepared statement
// of a full batch, executed again for each batch, and one statement for
// the rest at the end. Per-row Exec calls cost a database/sql round trip
// each; a batch amortizes it over hundreds of rows.
type batchInserter struct {
	tx      *sql.Tx
	prefix  string // INSERT INTO t (cols) VALUES
	ncols   int
	perStmt int
	full    *sql.Stmt
	args    []any
	rows    int64 // rows written or buffered
}

func newBatchInserter(tx *sql.Tx, table string, cols []string) *batchInserter {
	return &batchInserter{
		tx:      tx,
		prefix:  "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ",
		ncols:   len(cols),
		perStmt: maxParams / len(cols),
	}
}

func (b *batchInserter) query(rows int) string {
	row := "(?" + strings.Repeat(", ?", b.ncols-1) + ")"
	var q strings.Builder
	q.Grow(len(b.prefix) + rows*(len(row)+2))
	q.WriteString(b.prefix)
	for i := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
	}
	return q.String()
}

// add buffers one row (exactly ncols values) and writes a full batch.
func (b *batchInserter) add(ctx context.Context, values ...any) error {
	b.args = append(b.args, values...)
	b.rows++
	if len(b.args) < b.perStmt*b.ncols {
		return nil
	}
	if b.full == nil {
		stmt, err := b.tx.PrepareContext(ctx, b.query(b.perStmt))
		if err != nil {
			return err
		}
		b.full = stmt
	}
	_, err := b.full.ExecContext(ctx, b.args...)
	clear(b.args)
	b.args = b.args[:0]
	return err
}

// flush writes the rows still buffered and releases the statement.
func (b *batchInserter) flush(ctx context.Context) error {
	if b.full != nil {
		defer b.full.Close()
		b.full = nil
	}
	if len(b.args) == 0 {
		return nil
	}
	_, err := b.tx.ExecContext(ctx, b.query(len(b.args)/b.ncols), b.args...)
	clear(b.args)
	b.args = b.args[:0]
	return err
}

var elementColumns = map[osmdata.ElementType][]string{
	osmdata.Node: {"id", "version", "changeset_id", "visible", "ts", "user_id", "user_name", "tags",
		"is_current", "lat", "lon", "tile"},
	osmdata.Way: {"id", "version", "changeset_id", "visible", "ts", "user_id", "user_name", "tags",
		"is_current", "nodes"},
	osmdata.Relation: {"id", "version", "changeset_id", "visible", "ts", "user_id", "user_name", "tags",
		"is_current", "members"},
}

// rowEncoder turns elements into row values, reusing one buffer for the
// JSON columns.
type rowEncoder struct {
	buf    []byte
	values []any
}

// row returns e's column values in elementColumns order; they are valid
// until the next call.
func (r *rowEncoder) row(e *osmdata.Element, current bool) ([]any, error) {
	var tags any // NULL for no tags
	if len(e.Tags) > 0 {
		r.buf = appendTags(r.buf[:0], e.Tags)
		tags = string(r.buf)
	}
	r.values = append(r.values[:0], e.ID, int64(e.Version), e.Changeset, e.Visible,
		e.Timestamp.Unix(), e.UID, e.User, tags, current)
	switch e.Type {
	case osmdata.Node:
		r.values = append(r.values, int64(e.Lat), int64(e.Lon), int64(osmdata.QuadTile(e.Lat, e.Lon)))
	case osmdata.Way:
		r.buf = appendIDs(r.buf[:0], e.Nodes)
		r.values = append(r.values, string(r.buf))
	case osmdata.Relation:
		r.buf = appendMembers(r.buf[:0], e.Members)
		r.values = append(r.values, string(r.buf))
	default:
		return nil, fmt.Errorf("%s: unknown element type", e.Key())
	}
	return r.values, nil
}

// elementInserters writes element rows of all three types.
type elementInserters struct {
	enc rowEncoder
	by  map[osmdata.ElementType]*batchInserter
}

func newElementInserters(tx *sql.Tx) *elementInserters {
	ins := &elementInserters{by: map[osmdata.ElementType]*batchInserter{}}
	for _, t := range osmdata.ElementTypes {
		tbl, _ := table(t)
		ins.by[t] = newBatchInserter(tx, tbl, elementColumns[t])
	}
	return ins
}

func (ins *elementInserters) add(ctx context.Context, e *osmdata.Element, current bool) error {
	values, err := ins.enc.row(e, current)
	if err != nil {
		return err
	}
	if err := ins.by[e.Type].add(ctx, values...); err != nil {
		return fmt.Errorf("insert %ss: %w", e.Type, err)
	}
	return nil
}

func (ins *elementInserters) flush(ctx context.Context) error {
	for _, t := range osmdata.ElementTypes {
		if err := ins.by[t].flush(ctx); err != nil {
			return fmt.Errorf("insert %ss: %w", t, err)
		}
	}
	return nil
}

// rebuildCurrentLists replaces the current_way_nodes and
// current_relation_members rows of the given ways and relations (all of
// them when the lists are nil) from their current visible versions.
func rebuildCurrentLists(ctx context.Context, tx *sql.Tx, wayIDs, relationIDs []int64) error {
	all := wayIDs == nil && relationIDs == nil
	var wayFilter, relFilter string
	var wayArgs, relArgs []any
	if !all {
		if len(wayIDs) > 0 {
			wayArgs = []any{idsJSON(wayIDs)}
			if _, err := tx.ExecContext(ctx,
				"DELETE FROM current_way_nodes WHERE way_id IN (SELECT value FROM json_each(?))", wayArgs...); err != nil {
				return fmt.Errorf("current way nodes: %w", err)
			}
			wayFilter = " AND w.id IN (SELECT value FROM json_each(?))"
		}
		if len(relationIDs) > 0 {
			relArgs = []any{idsJSON(relationIDs)}
			if _, err := tx.ExecContext(ctx,
				"DELETE FROM current_relation_members WHERE relation_id IN (SELECT value FROM json_each(?))", relArgs...); err != nil {
				return fmt.Errorf("current relation members: %w", err)
			}
			relFilter = " AND r.id IN (SELECT value FROM json_each(?))"
		}
	}
	if all || len(wayIDs) > 0 {
		if _, err := tx.ExecContext(ctx, `
INSERT INTO current_way_nodes (way_id, seq, node_id)
SELECT w.id, j.key + 1, j.value FROM ways AS w, json_each(w.nodes) AS j
WHERE w.is_current AND w.visible`+wayFilter, wayArgs...); err != nil {
			return fmt.Errorf("current way nodes: %w", err)
		}
	}
	if all || len(relationIDs) > 0 {
		if _, err := tx.ExecContext(ctx, `
INSERT INTO current_relation_members (relation_id, seq, member_type, member_id, role)
SELECT r.id, j.key + 1, j.value->>0, j.value->>1, j.value->>2
FROM relations AS r, json_each(r.members) AS j
WHERE r.is_current AND r.visible`+relFilter, relArgs...); err != nil {
			return fmt.Errorf("current relation members: %w", err)
		}
	}
	return nil
}

// raiseNextIDs moves sequences up so that each hands out ids above max.
func raiseNextIDs(ctx context.Context, tx *sql.Tx, max storage.IDs) error {
	for _, seq := range sequenceValues(max) {
		if seq.value <= 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx,
			"UPDATE next_ids SET next_id = max(next_id, ?) WHERE name = ?", seq.value+1, seq.name); err != nil {
			return fmt.Errorf("raise the %s sequence: %w", seq.name, err)
		}
	}
	return nil
}
