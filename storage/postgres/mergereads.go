package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// ReadForMerge answers PlanMerge's reads in one pipeline: a bulk
// statement each, sent together, so a merge waits for the server once
// instead of once per read. The references and the users of deleted
// elements are read with only the columns PlanMerge looks at: a
// changeset that retags a thousand ways refers to tens of thousands of
// nodes, of which it needs the visibility and position alone. None asks
// for an order: the results go into maps. The writes the merge queued
// ahead (t.ahead) end the pipeline, or, when the merge has a reader
// connection, go alone on the transaction's while the reads run on the
// reader: either way ReadForMerge returns once the reads are in, leaving
// the writes to run while PlanMerge plans.
func (t *mergeTx) ReadForMerge(ctx context.Context, reads storage.MergeReads) (storage.MergeReadResults, error) {
	count := func(ids map[osmdata.ElementType][]int64) int {
		n := 0
		for _, l := range ids {
			n += len(l)
		}
		return n
	}
	out := storage.MergeReadResults{
		Changed:               make(map[osmdata.Key]osmdata.Element, count(reads.Changed)),
		Referenced:            make(map[osmdata.Key]storage.ReferencedElement, count(reads.Referenced)),
		RelationsUsingDeleted: map[osmdata.ElementType][]osmdata.Element{},
	}
	if err := t.settle(); err != nil {
		return storage.MergeReadResults{}, err
	}
	b := &pgx.Batch{}
	var handlers []func(pgx.Rows) error
	read := func(handle func(pgx.Rows) error, sql string, args ...any) {
		b.Queue(sql, args...)
		handlers = append(handlers, handle)
	}
	read(func(rows pgx.Rows) error {
		var err error
		if out.Parents, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return fmt.Errorf("parents of changeset %d: %w", reads.Changeset, err)
		}
		return nil
	}, `SELECT parent FROM changeset_parents WHERE child = $1 ORDER BY parent`, reads.Changeset)
	for _, typ := range osmdata.ElementTypes {
		if ids := reads.Changed[typ]; len(ids) > 0 {
			read(func(rows pgx.Rows) error {
				els, err := collectElements(rows, typ)
				if err != nil {
					return fmt.Errorf("current %ss: %w", typ, err)
				}
				for _, e := range els {
					out.Changed[e.Key()] = e
				}
				return nil
			}, `SELECT `+readColumns(typ, "")+` FROM `+tableOf[typ]+` WHERE is_current AND id = ANY($1)`, ids)
		}
		if ids := reads.Referenced[typ]; len(ids) > 0 {
			position := "0, 0"
			if typ == osmdata.Node {
				position = "lat, lon"
			}
			read(func(rows pgx.Rows) error {
				var id int64
				var e storage.ReferencedElement
				_, err := pgx.ForEachRow(rows, []any{&id, &e.Visible, &e.Lat, &e.Lon}, func() error {
					out.Referenced[osmdata.Key{Type: typ, ID: id}] = e
					return nil
				})
				if err != nil {
					return fmt.Errorf("referenced %ss: %w", typ, err)
				}
				return nil
			}, `SELECT id, visible, `+position+` FROM `+tableOf[typ]+` WHERE is_current AND id = ANY($1)`, ids)
		}
	}
	if ids := reads.Deleted[osmdata.Node]; len(ids) > 0 {
		read(func(rows pgx.Rows) error {
			var id int64
			var nodes []int64
			_, err := pgx.ForEachRow(rows, []any{&id, &nodes}, func() error {
				out.WaysUsingDeletedNodes = append(out.WaysUsingDeletedNodes, osmdata.Element{Type: osmdata.Way, ID: id, Nodes: nodes})
				nodes = nil // scanned into afresh, not over the element's
				return nil
			})
			if err != nil {
				return fmt.Errorf("ways using deleted nodes: %w", err)
			}
			return nil
		}, `SELECT id, nodes FROM ways
			WHERE is_current AND visible AND id IN (SELECT way_id FROM current_way_nodes WHERE node_id = ANY($1))`, ids)
	}
	for _, typ := range osmdata.ElementTypes {
		ids := reads.Deleted[typ]
		if len(ids) == 0 {
			continue
		}
		read(func(rows pgx.Rows) error {
			var id int64
			var types []int16
			var refs []int64
			_, err := pgx.ForEachRow(rows, []any{&id, &types, &refs}, func() error {
				if len(types) != len(refs) {
					return fmt.Errorf("relation %d: member arrays of different lengths", id)
				}
				r := osmdata.Element{Type: osmdata.Relation, ID: id, Members: make([]osmdata.Member, len(refs))}
				for i := range refs {
					r.Members[i] = osmdata.Member{Type: osmdata.ElementType(types[i]), Ref: refs[i]}
				}
				out.RelationsUsingDeleted[typ] = append(out.RelationsUsingDeleted[typ], r)
				return nil
			})
			if err != nil {
				return fmt.Errorf("relations using deleted %ss: %w", typ, err)
			}
			return nil
		}, `SELECT id, member_types, member_ids FROM relations
			WHERE is_current AND visible AND id IN (SELECT relation_id FROM current_relation_members
				WHERE member_type = $1 AND member_id = ANY($2))`, int16(typ), ids)
	}
	var br pgx.BatchResults
	if t.reader != nil && len(t.ahead) > 0 {
		ahead := &pgx.Batch{}
		for _, w := range t.ahead {
			ahead.Queue(w.sql, w.args...)
		}
		t.ahead = nil
		t.open = t.tx.SendBatch(ctx, ahead)
		br = t.reader.SendBatch(ctx, b)
	} else {
		for _, w := range t.ahead {
			b.Queue(w.sql, w.args...)
		}
		t.ahead = nil
		br = t.tx.SendBatch(ctx, b)
	}
	for _, handle := range handlers {
		rows, err := br.Query()
		if err == nil {
			err = handle(rows)
			rows.Close()
		}
		if err == nil {
			err = rows.Err()
		}
		if err != nil {
			br.Close()
			return storage.MergeReadResults{}, err
		}
	}
	if t.open != nil {
		// The reads ran on the reader; the writes ahead, on tx, may still
		// be running: the caller settles.
		if err := br.Close(); err != nil {
			return storage.MergeReadResults{}, err
		}
		return out, nil
	}
	// The writes queued ahead may still be running: the caller settles.
	t.open = br
	return out, nil
}

var _ storage.MergeBatchReader = (*mergeTx)(nil)
