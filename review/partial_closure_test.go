package review

import (
	"slices"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// The closure follows dependencies through relations and chains: a
// chosen relation brings the way it creates as a member, which brings
// its new node; a way deletion brings the relation edit that drops it,
// and a node deletion the deletion of the way that used it, and so on.
func TestCloseUnderFollowsChains(t *testing.T) {
	node := func(id int64) osmdata.Key { return osmdata.Key{Type: osmdata.Node, ID: id} }
	way := func(id int64) osmdata.Key { return osmdata.Key{Type: osmdata.Way, ID: id} }
	rel := func(id int64) osmdata.Key { return osmdata.Key{Type: osmdata.Relation, ID: id} }
	changes := map[osmdata.Key]*storage.PendingChange{}
	put := func(action storage.Action, e osmdata.Element) {
		c := &storage.PendingChange{Action: action, Element: e}
		if action != storage.Create {
			c.BaseVersion = 1
		}
		changes[e.Key()] = c
	}
	// A new route relation 1 on new way 10 (new node 100, old node 5).
	put(storage.Create, osmdata.Element{Type: osmdata.Node, ID: 100, Visible: true})
	put(storage.Create, osmdata.Element{Type: osmdata.Way, ID: 10, Visible: true, Nodes: []int64{5, 100}})
	put(storage.Create, osmdata.Element{Type: osmdata.Relation, ID: 1, Visible: true,
		Members: []osmdata.Member{{Type: osmdata.Way, Ref: 10}, {Type: osmdata.Node, Ref: 5}}})
	// Node 7 deleted with way 20 that used it, which relation 2 drops.
	put(storage.Delete, osmdata.Element{Type: osmdata.Node, ID: 7})
	put(storage.Delete, osmdata.Element{Type: osmdata.Way, ID: 20})
	put(storage.Modify, osmdata.Element{Type: osmdata.Relation, ID: 2, Visible: true,
		Members: []osmdata.Member{{Type: osmdata.Way, Ref: 21}}})
	// Relation 3 still uses way 20 after its edit: not a release.
	put(storage.Modify, osmdata.Element{Type: osmdata.Relation, ID: 3, Visible: true,
		Members: []osmdata.Member{{Type: osmdata.Way, Ref: 20}}})
	users := map[osmdata.Key][]*osmdata.Element{
		node(7): {{Type: osmdata.Way, ID: 20, Visible: true, Nodes: []int64{6, 7}}},
		way(20): {
			{Type: osmdata.Relation, ID: 2, Visible: true, Members: []osmdata.Member{{Type: osmdata.Way, Ref: 20}, {Type: osmdata.Way, Ref: 21}}},
			{Type: osmdata.Relation, ID: 3, Visible: true, Members: []osmdata.Member{{Type: osmdata.Way, Ref: 20}}},
		},
	}
	needs := changesetDependencies(changes, users)

	accepted, added := closeUnder([]osmdata.Key{rel(1)}, needs)
	if want := []osmdata.Key{node(100), way(10), rel(1)}; !slices.Equal(accepted, want) {
		t.Errorf("closure of relation 1: %v, want %v", accepted, want)
	}
	if len(added) != 2 || added[0].Because != way(10) || added[1].Because != rel(1) {
		t.Errorf("added %+v, want node 100 because of way 10, way 10 because of relation 1", added)
	}

	accepted, added = closeUnder([]osmdata.Key{node(7)}, needs)
	if want := []osmdata.Key{node(7), way(20), rel(2)}; !slices.Equal(accepted, want) {
		t.Errorf("closure of node 7's deletion: %v, want %v", accepted, want)
	}
	for _, a := range added {
		if !strings.Contains(a.Reason, "releases") || !strings.HasPrefix(a.Reason, "deleting "+a.Because.String()) {
			t.Errorf("added %+v: the reason should say that deleting %s needs its release", a, a.Because)
		}
	}
}
