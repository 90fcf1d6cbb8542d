package postgres

import (
	"context"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// The merge rewrites current_way_nodes and current_relation_members only
// for the ways and relations whose nodes, members or visibility it
// changes. After each kind of change, the two tables must still be
// exactly what the current rows derive.
func TestMergeKeepsDerivedRowsExact(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	importSample(t, s)
	checkDerivedRows(t, s, "after the import")

	way := func(id int64, base int, nodes ...int64) storage.PendingChange {
		return storage.PendingChange{Action: storage.Modify, BaseVersion: base, Element: osmdata.Element{
			Type: osmdata.Way, ID: id, Version: base + 1, Visible: true, Nodes: nodes, Tags: osmdata.Tags{{Key: "highway", Value: "path"}}}}
	}
	relation := func(id int64, base int, members ...osmdata.Member) storage.PendingChange {
		return storage.PendingChange{Action: storage.Modify, BaseVersion: base, Element: osmdata.Element{
			Type: osmdata.Relation, ID: id, Version: base + 1, Visible: true, Members: members, Tags: osmdata.Tags{{Key: "type", Value: "route"}}}}
	}
	created := func(p storage.PendingChange) storage.PendingChange {
		p.Action, p.BaseVersion, p.Element.Version = storage.Create, 0, 1
		return p
	}
	deleted := func(typ osmdata.ElementType, id int64, base int) storage.PendingChange {
		return storage.PendingChange{Action: storage.Delete, BaseVersion: base, Element: osmdata.Element{Type: typ, ID: id, Version: base + 1}}
	}
	stop := osmdata.Member{Type: osmdata.Node, Ref: 1, Role: "stop"}
	way10 := osmdata.Member{Type: osmdata.Way, Ref: 10}
	for _, step := range []struct {
		name    string
		changes []storage.PendingChange
	}{
		{"retags keep nodes and members", []storage.PendingChange{
			way(10, 1, 1, 2, 3),
			relation(20, 1, stop, way10, osmdata.Member{Type: osmdata.Relation, Ref: 21, Role: "sub"})}},
		{"nodes and members change", []storage.PendingChange{
			way(10, 2, 1, 3, 5, 1),
			relation(20, 2, stop, way10)}},
		{"creates", []storage.PendingChange{
			created(way(30, 0, 5, 3)),
			created(relation(31, 0, osmdata.Member{Type: osmdata.Way, Ref: 30, Role: "x"}, stop))}},
		{"a relation and the way only it used are deleted", []storage.PendingChange{
			deleted(osmdata.Relation, 31, 1),
			deleted(osmdata.Way, 30, 1)}},
		{"a relation is deleted", []storage.PendingChange{
			deleted(osmdata.Relation, 20, 3)}},
		{"then the way it used", []storage.PendingChange{
			deleted(osmdata.Way, 10, 3)}},
	} {
		c, err := s.CreateChangeset(ctx, storage.NewChangeset{UID: 77, User: "deriver"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Stage(ctx, c.ID, 77, func(ctx context.Context, tx storage.StageTx) error {
			return tx.WritePending(ctx, step.changes)
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CloseChangeset(ctx, c.ID, 77); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Merge(ctx, c.ID); err != nil {
			t.Fatalf("%s: merge: %v", step.name, err)
		}
		checkDerivedRows(t, s, step.name)
	}
}

// checkDerivedRows compares the derived tables with a derivation of the
// current rows from scratch, both ways, duplicates counted.
func checkDerivedRows(t *testing.T, s *Store, when string) {
	t.Helper()
	for _, c := range []struct{ table, stored, derived string }{
		{"current_way_nodes", `SELECT way_id, seq, node_id FROM current_way_nodes`,
			`SELECT w.id, n.seq, n.node_id FROM ways w CROSS JOIN LATERAL unnest(w.nodes) WITH ORDINALITY AS n(node_id, seq)
			WHERE w.is_current AND w.visible`},
		{"current_relation_members", `SELECT relation_id, seq, member_type, member_id, role FROM current_relation_members`,
			`SELECT r.id, m.seq, m.member_type, m.member_id, m.role
			FROM relations r CROSS JOIN LATERAL unnest(r.member_types, r.member_ids, r.member_roles) WITH ORDINALITY AS m(member_type, member_id, role, seq)
			WHERE r.is_current AND r.visible`},
	} {
		var extra, missing int
		if err := s.pool.QueryRow(context.Background(), `SELECT
				(SELECT count(*) FROM (`+c.stored+` EXCEPT ALL `+c.derived+`) AS e),
				(SELECT count(*) FROM (`+c.derived+` EXCEPT ALL `+c.stored+`) AS m)`).Scan(&extra, &missing); err != nil {
			t.Fatal(err)
		}
		if extra != 0 || missing != 0 {
			t.Errorf("%s: %s has %d rows the current rows do not derive and lacks %d they do", when, c.table, extra, missing)
		}
	}
}
