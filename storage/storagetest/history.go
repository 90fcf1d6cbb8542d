package storagetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// historyFixture is a node, a way and a relation with two visible versions
// and a deleted third, plus the elements they refer to.
type historyFixture struct {
	node, way, relation [3]osmdata.Element
	others              []osmdata.Element // nodes 2–4, relation 21: never deleted
}

func newHistoryFixture() historyFixture {
	var f historyFixture

	// Tags out of alphabetical order, unicode in keys, values and user
	// names, a position west of Greenwich: each is a way to lose data.
	n1 := newNode(1, 1, deg(51.5007292), deg(-0.1246254),
		"name", "Café ☕ 東京 – Zürich", "amenity", "cafe", "addr:street", "Straße", "note", "")
	n1.UID, n1.User = 42, "Ærøskøbing ユーザー"
	n2 := nextVersion(n1)
	n2.Lat, n2.Lon = deg(-33.4489), deg(-70.6693) // moved to Santiago: both negative
	// Characters that break array literals, JSON and CSV on the way.
	n2.Tags = tags("amenity", "restaurant", "name", "Ñandú", "k,{\"}", "v \"q\" \\ ' ; \n\t NULL {} []", "cuisine", "chilean")
	n2.UID, n2.User = 7, "bob"
	f.node = [3]osmdata.Element{n1, n2, deletion(n2)}

	others := []osmdata.Element{
		newNode(2, 1, deg(-33.4490), deg(-70.6690)),
		newNode(3, 1, deg(-33.4491), deg(-70.6691), "barrier", "gate"),
		newNode(4, 1, deg(-33.4492), deg(-70.6692)),
		newRelation(21, 1, []osmdata.Member{member(osmdata.Node, 4, "")}, "type", "site"),
	}
	f.others = others

	w1 := newWay(10, 1, []int64{2, 3}, "highway", "residential", "name", "Avenida Ñuñoa")
	w1.UID, w1.User = 42, "Ærøskøbing ユーザー"
	w2 := nextVersion(w1)
	w2.Nodes = []int64{3, 4, 2, 3} // closed, node 3 twice, order matters
	w2.Tags = tags("name", "Plaza", "area", "yes", "highway", "pedestrian")
	w2.UID, w2.User = 7, "bob"
	f.way = [3]osmdata.Element{w1, w2, deletion(w2)}

	r1 := newRelation(20, 1, []osmdata.Member{
		member(osmdata.Node, 2, "stop"),
		member(osmdata.Way, 10, ""),
		member(osmdata.Relation, 21, "subarea"),
	}, "type", "route", "route", "bus", "name", "Línea 506 🚌")
	r2 := nextVersion(r1)
	r2.Members = []osmdata.Member{
		member(osmdata.Relation, 21, "subarea"),
		member(osmdata.Way, 10, "forward"),
		member(osmdata.Node, 2, "platform_entry_only ✓"),
		member(osmdata.Node, 2, "stop"), // the same member twice, in a new role
	}
	r2.Tags = tags("type", "route", "route", "bus", "ref", "506")
	r2.UID, r2.User = 7, "bob"
	f.relation = [3]osmdata.Element{r1, r2, deletion(r2)}
	return f
}

func testHistory(t *testing.T, open Opener) {
	f := newHistoryFixture()
	ctx := t.Context()
	s := open(t)

	mustApply(t, s, f.others...)
	mustApply(t, s, f.node[0], f.way[0], f.relation[0])
	mustApply(t, s, f.node[1], f.way[1], f.relation[1])

	// While version 2 is current, the reverse lookups and the box find it:
	// otherwise a store that finds nothing would pass the checks below.
	nodeBox := osmdata.Box{MinLat: f.node[1].Lat, MinLon: f.node[1].Lon, MaxLat: f.node[1].Lat, MaxLon: f.node[1].Lon}
	oldBox := osmdata.Box{MinLat: f.node[0].Lat, MinLon: f.node[0].Lon, MaxLat: f.node[0].Lat, MaxLon: f.node[0].Lon}
	{
		got, err := s.NodesInBox(ctx, nodeBox, 100)
		if err != nil {
			t.Fatalf("NodesInBox: %v", err)
		}
		checkElements(t, "NodesInBox at version 2's position", got, []osmdata.Element{f.node[1]})
		got, err = s.NodesInBox(ctx, oldBox, 100)
		if err != nil {
			t.Fatalf("NodesInBox: %v", err)
		}
		checkIDs(t, "NodesInBox at version 1's position after the node moved", got)
		ways, err := s.WaysUsingNodes(ctx, []int64{4})
		if err != nil {
			t.Fatalf("WaysUsingNodes: %v", err)
		}
		checkElements(t, "WaysUsingNodes(4) at version 2", ways, []osmdata.Element{f.way[1]})
		rels, err := s.RelationsWithMembers(ctx, osmdata.Relation, []int64{21})
		if err != nil {
			t.Fatalf("RelationsWithMembers: %v", err)
		}
		checkElements(t, "RelationsWithMembers(relation 21) at version 2", rels, []osmdata.Element{f.relation[1]})
	}

	mustApply(t, s, f.node[2], f.way[2], f.relation[2])

	for _, c := range []struct {
		name     string
		versions [3]osmdata.Element
	}{
		{"Node", f.node},
		{"Way", f.way},
		{"Relation", f.relation},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			e := c.versions[0]
			hist, err := s.History(ctx, e.Type, e.ID)
			if err != nil {
				t.Fatalf("History(%s): %v", e.Key(), err)
			}
			checkElements(t, "History, oldest first", hist, c.versions[:])
			for _, want := range c.versions {
				got, err := s.ElementVersion(ctx, e.Type, e.ID, want.Version)
				if err != nil {
					t.Errorf("ElementVersion(%s v%d): %v", e.Key(), want.Version, err)
					continue
				}
				checkElements(t, "ElementVersion", []osmdata.Element{got}, []osmdata.Element{want})
			}
			// The API answers 410 Gone for a deleted element, so the
			// current version must still be found.
			cur, err := s.CurrentElements(ctx, e.Type, []int64{e.ID})
			if err != nil {
				t.Fatalf("CurrentElements: %v", err)
			}
			checkElements(t, "CurrentElements of a deleted element", cur, c.versions[2:])
		})
	}

	t.Run("DeletedHiddenFromReads", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		got, err := s.NodesInBox(ctx, nodeBox, 100)
		if err != nil {
			t.Fatalf("NodesInBox: %v", err)
		}
		checkIDs(t, "NodesInBox at a deleted node's position", got)
		ways, err := s.WaysUsingNodes(ctx, []int64{2, 3, 4})
		if err != nil {
			t.Fatalf("WaysUsingNodes: %v", err)
		}
		checkIDs(t, "WaysUsingNodes of a deleted way's nodes", ways)
		for _, q := range []struct {
			t  osmdata.ElementType
			id int64
		}{{osmdata.Node, 2}, {osmdata.Way, 10}, {osmdata.Relation, 21}} {
			rels, err := s.RelationsWithMembers(ctx, q.t, []int64{q.id})
			if err != nil {
				t.Fatalf("RelationsWithMembers: %v", err)
			}
			checkIDs(t, "RelationsWithMembers of a deleted relation's member "+q.t.String(), rels)
		}
		// Relation 21 still uses node 4, which the deleted way used too.
		rels, err := s.RelationsWithMembers(ctx, osmdata.Node, []int64{4})
		if err != nil {
			t.Fatalf("RelationsWithMembers: %v", err)
		}
		checkIDs(t, "RelationsWithMembers(node 4)", rels, 21)

		checkElements(t, "Export after the deletes", mustExport(t, s), f.others)

		c := mustCounts(t, s)
		if c.Nodes != 3 || c.Ways != 0 || c.Relations != 1 || c.Versions != 13 {
			t.Errorf("Counts = %+v, want 3 nodes, 0 ways, 1 relation (visible current) and 13 versions", c)
		}
	})

	t.Run("UnknownIDs", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		// The API answers 404 for each of these.
		for _, q := range []struct {
			t  osmdata.ElementType
			id int64
		}{
			{osmdata.Node, 999},
			{osmdata.Way, 1}, // node 1 exists, way 1 does not
			{osmdata.Relation, 10},
			{osmdata.Node, -1},
		} {
			if h, err := s.History(ctx, q.t, q.id); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("History(%s %d) = %d versions, %v; want ErrNotFound", q.t, q.id, len(h), err)
			}
			if _, err := s.ElementVersion(ctx, q.t, q.id, 1); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("ElementVersion(%s %d v1) = %v, want ErrNotFound", q.t, q.id, err)
			}
		}
		for _, v := range []int{0, 4, -1} {
			if _, err := s.ElementVersion(ctx, osmdata.Node, 1, v); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("ElementVersion(node 1 v%d) = %v, want ErrNotFound", v, err)
			}
		}
		cur, err := s.CurrentElements(ctx, osmdata.Node, []int64{999, 3, 1, 5, 2})
		if err != nil {
			t.Fatalf("CurrentElements: %v", err)
		}
		want := []osmdata.Element{f.node[2], f.others[0], f.others[1]}
		checkElements(t, "CurrentElements(999, 3, 1, 5, 2) leaves out unknown ids, sorted by id", cur, want)
		cur, err = s.CurrentElements(ctx, osmdata.Way, []int64{1, 2, 3})
		if err != nil {
			t.Fatalf("CurrentElements: %v", err)
		}
		checkIDs(t, "CurrentElements(way 1, 2, 3): node ids are not way ids", cur)
		cur, err = s.CurrentElements(ctx, osmdata.Node, nil)
		if err != nil {
			t.Fatalf("CurrentElements(no ids): %v", err)
		}
		checkIDs(t, "CurrentElements(no ids)", cur)
	})

	t.Run("HistoryIsACopy", func(t *testing.T) {
		t.Parallel()
		// Changing what History returned must not change the store (the
		// in-process caches a backend may keep).
		h, err := s.History(t.Context(), osmdata.Way, 10)
		if err != nil || len(h) == 0 {
			t.Fatalf("History(way 10) = %v, %v", h, err)
		}
		h[0].Nodes = slices.Clone(h[0].Nodes)
		h[0].Tags = nil
		again, err := s.History(t.Context(), osmdata.Way, 10)
		if err != nil {
			t.Fatalf("History(way 10): %v", err)
		}
		checkElements(t, "History after changing a returned copy", again, f.way[:])
	})
}
