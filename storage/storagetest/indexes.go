package storagetest

import (
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
)

// testIndexes checks that Apply keeps the reverse lookups (ways of a node,
// relations of a member) on the current visible versions: the API's
// /node/ID/ways and /relations calls and the map call rely on them.
func testIndexes(t *testing.T, open Opener) {
	ctx := t.Context()
	s := open(t)
	var nodes []osmdata.Element
	for i := int64(1); i <= 6; i++ {
		nodes = append(nodes, newNode(i, 1, deg(52)+int32(i), deg(13)))
	}
	w1 := newWay(10, 1, []int64{1, 2, 3, 1}) // closed: node 1 twice
	w2 := newWay(11, 1, []int64{3, 4})
	r1 := newRelation(20, 1, []osmdata.Member{
		member(osmdata.Node, 5, "stop"), member(osmdata.Way, 10, ""), member(osmdata.Way, 10, "again"),
	})
	r2 := newRelation(21, 1, []osmdata.Member{member(osmdata.Relation, 20, ""), member(osmdata.Node, 6, "")})
	// Same ids as members of other types: a lookup must match the type.
	r3 := newRelation(22, 1, []osmdata.Member{member(osmdata.Way, 5, ""), member(osmdata.Relation, 10, ""), member(osmdata.Node, 20, "")})
	mustApply(t, s, append(nodes, w1, w2, r1, r2, r3)...)

	ways := func(ids ...int64) []osmdata.Element {
		t.Helper()
		got, err := s.WaysUsingNodes(ctx, ids)
		if err != nil {
			t.Fatalf("WaysUsingNodes(%v): %v", ids, err)
		}
		return got
	}
	rels := func(typ osmdata.ElementType, ids ...int64) []osmdata.Element {
		t.Helper()
		got, err := s.RelationsWithMembers(ctx, typ, ids)
		if err != nil {
			t.Fatalf("RelationsWithMembers(%s %v): %v", typ, ids, err)
		}
		return got
	}

	t.Run("Initial", func(t *testing.T) {
		checkElements(t, "WaysUsingNodes(1): a node twice in a way, the way once", ways(1), []osmdata.Element{w1})
		checkElements(t, "WaysUsingNodes(3, 1), sorted by way id", ways(3, 1), []osmdata.Element{w1, w2})
		checkIDs(t, "WaysUsingNodes(5)", ways(5))
		checkIDs(t, "WaysUsingNodes()", ways())
		checkElements(t, "RelationsWithMembers(way 10): a member twice, the relation once", rels(osmdata.Way, 10), []osmdata.Element{r1})
		checkElements(t, "RelationsWithMembers(node 5, 6)", rels(osmdata.Node, 5, 6), []osmdata.Element{r1, r2})
		checkIDs(t, "RelationsWithMembers(relation 20)", rels(osmdata.Relation, 20), 21)
		checkIDs(t, "RelationsWithMembers(way 5): node 5 is not way 5", rels(osmdata.Way, 5), 22)
		checkIDs(t, "RelationsWithMembers(node 10, 20)", rels(osmdata.Node, 10, 20), 22)
		checkIDs(t, "RelationsWithMembers(relation 10)", rels(osmdata.Relation, 10), 22)
	})

	t.Run("WayDropsNode", func(t *testing.T) {
		w1b := nextVersion(w1)
		w1b.Nodes = []int64{2, 3, 6} // drops node 1, adds node 6
		mustApply(t, s, w1b)
		checkIDs(t, "WaysUsingNodes(1) after way 10 dropped node 1", ways(1))
		checkElements(t, "WaysUsingNodes(6) after way 10 added node 6", ways(6), []osmdata.Element{w1b})
		checkElements(t, "WaysUsingNodes(2) returns the current version", ways(2), []osmdata.Element{w1b})
	})

	t.Run("RelationDropsMember", func(t *testing.T) {
		r1b := nextVersion(r1)
		r1b.Members = []osmdata.Member{member(osmdata.Way, 11, "")} // drops node 5 and way 10
		mustApply(t, s, r1b)
		checkIDs(t, "RelationsWithMembers(node 5) after relation 20 dropped it", rels(osmdata.Node, 5))
		checkIDs(t, "RelationsWithMembers(way 10) after relation 20 dropped it", rels(osmdata.Way, 10))
		checkElements(t, "RelationsWithMembers(way 11) after relation 20 added it", rels(osmdata.Way, 11), []osmdata.Element{r1b})
	})

	t.Run("DeletedWayAndRelation", func(t *testing.T) {
		w2del := deletion(w2)
		r2del := deletion(r2)
		mustApply(t, s, w2del, r2del)
		checkIDs(t, "WaysUsingNodes(4) after way 11 was deleted", ways(4))
		checkIDs(t, "WaysUsingNodes(3): way 10 only", ways(3), 10)
		checkIDs(t, "RelationsWithMembers(relation 20) after relation 21 was deleted", rels(osmdata.Relation, 20))
		checkIDs(t, "RelationsWithMembers(node 6) after relation 21 was deleted", rels(osmdata.Node, 6))
	})

	t.Run("Undeleted", func(t *testing.T) {
		// A deleted element can come back in a later version (OSM's
		// redactions and reverts do it); the lookups follow.
		w2back := nextVersion(deletion(w2))
		w2back.Visible = true
		w2back.Nodes = []int64{4, 5}
		mustApply(t, s, w2back)
		checkElements(t, "WaysUsingNodes(5) after way 11 came back", ways(5), []osmdata.Element{w2back})
		checkIDs(t, "WaysUsingNodes(3) after way 11 came back without it", ways(3), 10)
	})
}
