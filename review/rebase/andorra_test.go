package rebase

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
)

// longestAndorraWayAndRelation reads paulmach/osm's Andorra extract and
// returns its way with the most nodes and its relation with the most
// members: real lists, with the repeated nodes of closed ways.
func longestAndorraWayAndRelation(t *testing.T) (way, relation *osmdata.Element) {
	t.Helper()
	dir, err := osmfile.ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	r, err := osmfile.Open(filepath.Join(dir, "testdata", "andorra-latest.osm.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case e.Type == osmdata.Way && (way == nil || len(e.Nodes) > len(way.Nodes)):
			way = e
		case e.Type == osmdata.Relation && (relation == nil || len(e.Members) > len(relation.Members)):
			relation = e
		}
	}
	if way == nil || len(way.Nodes) < 100 || relation == nil || len(relation.Members) < 20 {
		t.Fatalf("the Andorra extract should hold a way of 100 nodes and a relation of 20 members or more; read %v and %v", way, relation)
	}
	return way, relation
}

// edited returns a copy of e as another contributor's version of it.
func edited(e *osmdata.Element, version int, changeset int64) *osmdata.Element {
	c := *e
	c.Version, c.Changeset = version, changeset
	c.Tags = slices.Clone(e.Tags)
	c.Nodes = slices.Clone(e.Nodes)
	c.Members = slices.Clone(e.Members)
	return &c
}

func TestElementOnAndorra(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the 3 MB Andorra extract")
	}
	base, relation := longestAndorraWayAndRelation(t)
	n := len(base.Nodes)
	const newNode, otherNewNode = 1 << 40, 1<<40 + 1

	t.Run("edits at the two ends of a long way merge", func(t *testing.T) {
		// One contributor adds a vertex after the second node and retags
		// the way; the other removes the second-to-last vertex.
		current := edited(base, base.Version+1, 1)
		current.Nodes = slices.Insert(current.Nodes, 2, newNode)
		current.Tags = append(current.Tags, osmdata.Tag{Key: "check_date", Value: "2024-05-01"})
		pending := edited(base, base.Version+1, 2)
		pending.Nodes = slices.Delete(pending.Nodes, n-2, n-1)

		got := Element(base, current, pending)
		if len(got.Conflicts) > 0 {
			t.Fatalf("way %d: conflicts %+v", base.ID, got.Conflicts)
		}
		want := slices.Concat(base.Nodes[:2], []int64{newNode}, base.Nodes[2:n-2], base.Nodes[n-1:])
		if !slices.Equal(got.Merged.Nodes, want) {
			t.Errorf("way %d: merged nodes\n%v\nwant\n%v", base.ID, got.Merged.Nodes, want)
		}
		if v, _ := got.Merged.Tags.Get("check_date"); v != "2024-05-01" || len(got.Merged.Tags) != len(base.Tags)+1 {
			t.Errorf("way %d: merged tags %v, want the base's and check_date", base.ID, got.Merged.Tags)
		}
		if closed(base.Nodes) != closed(got.Merged.Nodes) {
			t.Errorf("way %d: closed %v in base, %v merged", base.ID, closed(base.Nodes), closed(got.Merged.Nodes))
		}
	})

	t.Run("two edits of the same vertex conflict", func(t *testing.T) {
		// Both replace the middle vertex, each with a node of its own.
		current := edited(base, base.Version+1, 1)
		current.Nodes[n/2] = newNode
		pending := edited(base, base.Version+1, 2)
		pending.Nodes[n/2] = otherNewNode

		got := Element(base, current, pending)
		if len(got.Conflicts) != 1 || got.Conflicts[0].Kind != FieldNodes {
			t.Fatalf("way %d: conflicts %+v, want one on its nodes", base.ID, got.Conflicts)
		}
		if c := got.Conflicts[0]; c.Base != describeNodes(base.Nodes) || c.Pending != describeNodes(pending.Nodes) {
			t.Errorf("way %d: the conflict does not show base's and pending's node lists: %+v", base.ID, c)
		}
	})

	t.Run("member edits far apart in a large relation merge", func(t *testing.T) {
		m := len(relation.Members)
		current := edited(relation, relation.Version+1, 1)
		current.Members = current.Members[1:]
		pending := edited(relation, relation.Version+1, 2)
		pending.Members[m-1].Role = "geocommuns-test-role"

		got := Element(relation, current, pending)
		if len(got.Conflicts) > 0 {
			t.Fatalf("relation %d: conflicts %+v", relation.ID, got.Conflicts)
		}
		want := slices.Clone(relation.Members[1:])
		want[len(want)-1].Role = "geocommuns-test-role"
		if !slices.Equal(got.Merged.Members, want) {
			t.Errorf("relation %d: merged members\n%v\nwant\n%v", relation.ID, got.Merged.Members, want)
		}
	})
}
