package storagetest

import (
	"errors"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// mapBox is the box of the map-call fixture: west of Greenwich so that
// signs matter.
var mapBox = osmdata.Box{MinLat: deg(10), MinLon: deg(-5), MaxLat: deg(11), MaxLon: deg(-4)}

// mapFixture is a small world around mapBox with one element for each
// case of cgimap's steps; want is the map call's answer.
type mapFixture struct {
	batches                         [][]osmdata.Element
	wantNodes, wantWays, wantRels   []osmdata.Element
	inBox, wayNodes                 []int64 // node ids by the step that selects them
	relsOfNodes, relsOfWays, parent []int64 // relation ids by the step that selects them
	deleted                         []osmdata.Key
}

func newMapFixture() mapFixture {
	var f mapFixture
	in := func(dLat, dLon float64) (int32, int32) { return deg(10.5 + dLat), deg(-4.5 + dLon) }
	out := func(dLat, dLon float64) (int32, int32) { return deg(12 + dLat), deg(-6 + dLon) }
	node := func(id int64, at func(float64, float64) (int32, int32), dLat, dLon float64) osmdata.Element {
		lat, lon := at(dLat, dLon)
		return newNode(id, 1, lat, lon)
	}
	n1 := node(1, in, 0, 0)
	n2 := node(2, in, 0.1, 0.1)
	n3 := node(3, out, 0, 0) // outside, a node of way 1
	n4 := node(4, out, 0.1, 0)
	n5 := node(5, out, 0.2, 0)
	n6 := node(6, in, 0.2, 0.2)                       // inside, deleted
	n7 := newNode(7, 1, mapBox.MinLat, deg(-4.3))     // on the south edge
	n8 := newNode(8, 1, mapBox.MaxLat, mapBox.MaxLon) // on the north-east corner
	n9 := node(9, out, 0.3, 0)                        // outside, a node of way 1
	n10 := node(10, out, 0.4, 0)
	n11 := node(11, in, -0.1, -0.1) // inside, used only by a deleted way
	n12 := node(12, out, 0.5, 0)    // outside, used only by a deleted way
	n13 := node(13, in, 0.3, -0.3)  // moved out of the box by its version 2
	n14 := node(14, out, 0.6, 0)    // moved into the box by its version 2

	w1 := newWay(101, 1, []int64{1, 3})
	w2 := newWay(102, 1, []int64{4, 5})       // outside
	w3 := newWay(103, 1, []int64{11, 12})     // deleted below
	w4 := newWay(104, 1, []int64{2, 9999999}) // a dangling node, as extracts have
	w6 := newWay(106, 1, []int64{3, 4})       // uses a way node, not a node in the box

	rel := func(id int64, ms ...osmdata.Member) osmdata.Element { return newRelation(id, 1, ms) }
	r1 := rel(201, member(osmdata.Node, 2, ""), member(osmdata.Relation, 210, "child"))
	r2 := rel(202, member(osmdata.Way, 101, "outer"))
	r3 := rel(203, member(osmdata.Node, 3, "via"))
	r4 := rel(204, member(osmdata.Relation, 201, ""))
	r5 := rel(205, member(osmdata.Relation, 204, "")) // grandparent: one level only
	r6 := rel(206, member(osmdata.Node, 10, ""))
	r7 := rel(207, member(osmdata.Node, 1, "")) // deleted below
	r8 := rel(208, member(osmdata.Relation, 206, ""))
	r9 := rel(209, member(osmdata.Way, 102, ""))
	r10 := rel(210, member(osmdata.Node, 4, "")) // a child of r1: children are not selected
	r11 := rel(211, member(osmdata.Way, 106, ""))
	r12 := rel(212, member(osmdata.Relation, 202, ""))
	r13 := rel(213, member(osmdata.Relation, 203, ""))
	r14 := rel(214, member(osmdata.Way, 103, ""))
	r15 := rel(215, member(osmdata.Relation, 207, ""))
	r16 := rel(216, member(osmdata.Relation, 201, "")) // a parent, deleted below
	r17 := rel(217, member(osmdata.Node, 6, ""))
	r18 := rel(218, member(osmdata.Node, 7, ""), member(osmdata.Node, 13, ""))
	r19 := rel(219, member(osmdata.Way, 9999998, ""), member(osmdata.Node, 8, "")) // dangling member

	f.batches = append(f.batches, []osmdata.Element{
		n1, n2, n3, n4, n5, n6, n7, n8, n9, n10, n11, n12, n13, n14,
		w1, w2, w3, w4, w6,
		r10, r1, r2, r3, r4, r5, r6, r7, r8, r9, r11, r12, r13, r14, r15, r16, r17, r18, r19,
	})

	// Second versions: the current one is what the map shows.
	w1b := nextVersion(w1)
	w1b.Nodes = []int64{1, 3, 9, 1}
	w1b.Tags = tags("highway", "service")
	r1b := nextVersion(r1)
	r1b.Tags = tags("type", "multipolygon")
	n13b := nextVersion(n13)
	n13b.Lat, n13b.Lon = out(0.7, 0)
	n14b := nextVersion(n14)
	n14b.Lat, n14b.Lon = in(-0.3, 0.3)
	f.batches = append(f.batches, []osmdata.Element{
		w1b, r1b, n13b, n14b,
		deletion(n6), deletion(w3), deletion(r7), deletion(r16),
	})
	f.deleted = []osmdata.Key{n6.Key(), w3.Key(), r7.Key(), r16.Key()}

	f.inBox = []int64{1, 2, 7, 8, 11, 14}
	f.wayNodes = []int64{3, 9}
	f.wantNodes = []osmdata.Element{n1, n2, n3, n7, n8, n9, n11, n14b}
	f.wantWays = []osmdata.Element{w1b, w4}
	f.relsOfNodes = []int64{201, 203, 218, 219}
	f.relsOfWays = []int64{202}
	f.parent = []int64{204, 212, 213}
	f.wantRels = []osmdata.Element{r1b, r2, r3, r4, r12, r13, r18, r19}
	return f
}

func testMap(t *testing.T, open Opener) {
	t.Run("Steps", func(t *testing.T) {
		t.Parallel()
		f := newMapFixture()
		s := open(t)
		for _, b := range f.batches {
			mustApply(t, s, b...)
		}
		got, err := storage.Map(t.Context(), s, mapBox, 100)
		if err != nil {
			t.Fatalf("Map: %v", err)
		}
		has := func(els []osmdata.Element, id int64) bool {
			for _, e := range els {
				if e.ID == id {
					return true
				}
			}
			return false
		}
		must := func(t *testing.T, what string, els []osmdata.Element, ids []int64) {
			t.Helper()
			for _, id := range ids {
				if !has(els, id) {
					t.Errorf("%s: %d missing from the map call (got %v)", what, id, idsOf(els))
				}
			}
		}
		t.Run("NodesInBox", func(t *testing.T) {
			must(t, "visible nodes in the box, edges included", got.Nodes, f.inBox)
			if has(got.Nodes, 13) {
				t.Errorf("node 13 moved out of the box and is used by nothing, yet the map call has it")
			}
		})
		t.Run("WayNodesOutsideBox", func(t *testing.T) {
			must(t, "ways through a node in the box", got.Ways, []int64{101, 104})
			must(t, "every node of those ways", got.Nodes, f.wayNodes)
			for _, id := range []int64{4, 5, 12} {
				if has(got.Nodes, id) {
					t.Errorf("node %d is outside the box and on no selected way, yet the map call has it", id)
				}
			}
			if has(got.Ways, 106) || has(got.Ways, 102) {
				t.Errorf("ways 102/106 use no node inside the box (106 only a way node of another way), yet the map call has them: %v", idsOf(got.Ways))
			}
		})
		t.Run("RelationsOfNodesAndWays", func(t *testing.T) {
			must(t, "relations of the selected nodes, way nodes included", got.Relations, f.relsOfNodes)
			must(t, "relations of the selected ways", got.Relations, f.relsOfWays)
			for _, id := range []int64{206, 209, 211} {
				if has(got.Relations, id) {
					t.Errorf("relation %d has no selected member, yet the map call has it", id)
				}
			}
		})
		t.Run("ParentRelationsOneLevel", func(t *testing.T) {
			must(t, "parents of the selected relations", got.Relations, f.parent)
			if has(got.Relations, 205) {
				t.Errorf("relation 205 is a grandparent: cgimap goes one level up only")
			}
			if has(got.Relations, 208) {
				t.Errorf("relation 208 is the parent of an unselected relation")
			}
			if has(got.Relations, 210) {
				t.Errorf("relation 210 is a child of a selected relation: cgimap does not select children")
			}
		})
		t.Run("DeletedAbsent", func(t *testing.T) {
			for _, k := range f.deleted {
				var els []osmdata.Element
				switch k.Type {
				case osmdata.Node:
					els = got.Nodes
				case osmdata.Way:
					els = got.Ways
				case osmdata.Relation:
					els = got.Relations
				}
				if has(els, k.ID) {
					t.Errorf("deleted %s is in the map call", k)
				}
			}
			for _, id := range []int64{214, 215, 217} {
				if has(got.Relations, id) {
					t.Errorf("relation %d's only member is deleted, yet the map call has it", id)
				}
			}
		})
		t.Run("Content", func(t *testing.T) {
			checkElements(t, "map call nodes", got.Nodes, f.wantNodes)
			checkElements(t, "map call ways", got.Ways, f.wantWays)
			checkElements(t, "map call relations", got.Relations, f.wantRels)
		})
	})

	t.Run("TooManyNodes", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		var els []osmdata.Element
		// Exactly limit visible nodes inside; deleted ones inside and
		// visible ones just outside do not count.
		const limit = 100
		for i := int64(1); i <= limit; i++ {
			els = append(els, newNode(i, 1, mapBox.MinLat+int32(i)*1000, mapBox.MinLon+int32(i)*1000))
		}
		var deleted []osmdata.Element
		for i := int64(limit + 1); i <= limit+5; i++ {
			n := newNode(i, 1, mapBox.MaxLat-int32(i), mapBox.MaxLon-int32(i))
			els = append(els, n)
			deleted = append(deleted, deletion(n))
		}
		for i := int64(limit + 6); i <= limit+10; i++ {
			els = append(els, newNode(i, 1, mapBox.MaxLat+1, mapBox.MaxLon-int32(i)))
		}
		mustApply(t, s, els...)
		mustApply(t, s, deleted...)
		got, err := storage.Map(t.Context(), s, mapBox, limit)
		if err != nil {
			t.Fatalf("Map with exactly %d visible nodes in the box, limit %d: %v", limit, limit, err)
		}
		if len(got.Nodes) != limit {
			t.Errorf("Map = %d nodes, want %d", len(got.Nodes), limit)
		}
		mustApply(t, s, newNode(limit+11, 1, mapBox.MinLat, mapBox.MinLon))
		_, err = storage.Map(t.Context(), s, mapBox, limit)
		if !isTooManyNodes(err, limit) {
			t.Errorf("Map with %d nodes in the box, limit %d = %v, want *storage.TooManyNodesError{Limit: %d}", limit+1, limit, err, limit)
		}
	})
}

func isTooManyNodes(err error, limit int) bool {
	var tm *storage.TooManyNodesError
	return errors.As(err, &tm) && tm.Limit == limit
}
