package rebase

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
)

// sameMergedContent is the content comparison the properties use: tags as a
// set, since the merge orders keys it combines by its own rule.
func sameMergedContent(got, want *osmdata.Element) bool {
	g, w := contentOf(got), contentOf(want)
	if !sameTags(g.Tags, w.Tags) {
		return false
	}
	g.Tags, w.Tags = nil, nil
	return reflect.DeepEqual(g, w)
}

type fieldRef struct {
	kind FieldKind
	key  string
}

func conflictFields(cs []Conflict) []fieldRef {
	out := make([]fieldRef, len(cs))
	for i, c := range cs {
		out[i] = fieldRef{c.Kind, c.Key}
	}
	return out
}

func randomBytes(r *rand.Rand) []byte {
	b := make([]byte, 120)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func describeTriple(base, x, y *osmdata.Element) string {
	return fmt.Sprintf("\nbase    %+v\nx       %+v\ny       %+v", contentOf(base), contentOf(x), contentOf(y))
}

func TestElementAlgebra(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 20000 {
		base, x, y := decodeElements(randomBytes(r))
		show := describeTriple(base, x, y)
		for _, c := range []struct {
			name                   string
			base, current, pending *osmdata.Element
		}{
			{"merge(base, x, base)", base, x, base},
			{"merge(base, base, x)", base, base, x},
			{"merge(base, x, x)", base, x, x},
		} {
			got := Element(c.base, c.current, c.pending)
			if len(got.Conflicts) > 0 {
				t.Fatalf("%s conflicts: %+v%s", c.name, got.Conflicts, show)
			}
			if !sameMergedContent(&got.Merged, x) {
				t.Fatalf("%s = %+v, want x%s", c.name, contentOf(&got.Merged), show)
			}
		}
		xy, yx := Element(base, x, y), Element(base, y, x)
		if a, b := conflictFields(xy.Conflicts), conflictFields(yx.Conflicts); !slices.Equal(a, b) {
			t.Fatalf("merge(base, x, y) conflicts on %v, merge(base, y, x) on %v%s", a, b, show)
		}
		if len(xy.Conflicts) == 0 && xy.Merged.Visible && !sameMergedContent(&xy.Merged, &yx.Merged) {
			t.Fatalf("merge(base, x, y) = %+v, merge(base, y, x) = %+v%s", contentOf(&xy.Merged), contentOf(&yx.Merged), show)
		}
	}
}

func TestElementKeepsPendingMetadataOnCurrentVersion(t *testing.T) {
	for _, tt := range []struct {
		name                   string
		base, current, pending osmdata.Element
	}{
		{"modify", node(1, 2, tags("a=1")), node(1, 2, tags("a=1", "b=2")), node(3, 4, tags("a=1"))},
		{"delete", node(1, 2, tags("a=1")), node(1, 2, tags("a=1")), deletedVersion(node(1, 2, nil))},
		{"delete by current", way(ids(1, 2), nil), deletedVersion(way(nil, nil)), way(ids(1, 2), nil)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base, current, pending := stamp(tt.base, baseSide), stamp(tt.current, currentSide), stamp(tt.pending, pendingSide)
			got := Element(base, current, pending)
			if len(got.Conflicts) > 0 {
				t.Fatalf("conflicts: %+v", got.Conflicts)
			}
			m := got.Merged
			if m.Type != pending.Type || m.ID != pending.ID || m.Changeset != pending.Changeset || m.UID != pending.UID ||
				m.User != pending.User || !m.Timestamp.Equal(pending.Timestamp) {
				t.Errorf("merged metadata %+v, want pending's (changeset %d, %s at %s)", m, pending.Changeset, pending.User, pending.Timestamp)
			}
			if m.Version != current.Version {
				t.Errorf("merged version %d, want current's %d", m.Version, current.Version)
			}
		})
	}
}

// TestElementSharesNoSlice: the merge job keeps the three versions for
// the conflict report, so writing to the merged element must not change
// them.
func TestElementSharesNoSlice(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 2000 {
		base, current, pending := decodeElements(randomBytes(r))
		before := [3]content{contentOf(base), contentOf(current), contentOf(pending)}
		before = [3]content{deepCopy(before[0]), deepCopy(before[1]), deepCopy(before[2])}
		got := Element(base, current, pending)
		for i := range got.Merged.Tags {
			got.Merged.Tags[i].Value += "!"
		}
		for i := range got.Merged.Nodes {
			got.Merged.Nodes[i] = -1
		}
		for i := range got.Merged.Members {
			got.Merged.Members[i].Role += "!"
		}
		after := [3]content{contentOf(base), contentOf(current), contentOf(pending)}
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("writing to the merged element changed its inputs:\nbefore %+v\nafter  %+v", before, after)
		}
	}
}

func deepCopy(c content) content {
	c.Tags = slices.Clone(c.Tags)
	c.Nodes = slices.Clone(c.Nodes)
	c.Members = slices.Clone(c.Members)
	return c
}

// keyRule is the merge of one tag key on its own.
func keyRule(base, current, pending osmdata.Tags, key string) (optional[string], bool) {
	return mergeField(tagValue(base, key), tagValue(current, key), tagValue(pending, key))
}

func FuzzElement(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("node: three versions of a bench"))
	f.Add([]byte{1, 1, 1, 0, 1, 1, 1, 2, 0, 0, 5, 1, 2, 3, 4, 5, 1, 1, 1, 0, 1, 1, 1, 3, 0, 0, 6, 1, 2, 3, 4, 5, 6})
	f.Add([]byte{2, 7, 1, 2, 0, 0, 0, 1, 0, 0, 4, 1, 2, 3, 1, 7, 1, 2, 0, 0, 0, 1, 0, 0, 4, 5, 2, 3, 1})
	f.Add([]byte{0, 0, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		base, current, pending := decodeElements(data)
		got := Element(base, current, pending)
		m := got.Merged
		if m.Version != current.Version || m.Changeset != pending.Changeset || m.ID != pending.ID || m.Type != pending.Type {
			t.Fatalf("merged %+v: want current's version %d and pending's identity", m, current.Version)
		}
		if len(got.Conflicts) > 0 || !m.Visible {
			return
		}
		seen := map[string]bool{}
		for _, tag := range m.Tags {
			if seen[tag.Key] {
				t.Fatalf("merged tags %v repeat %q", m.Tags, tag.Key)
			}
			seen[tag.Key] = true
		}
		for _, side := range []osmdata.Tags{base.Tags, current.Tags, pending.Tags} {
			for _, tag := range side {
				want, conflict := keyRule(base.Tags, current.Tags, pending.Tags, tag.Key)
				if conflict {
					t.Fatalf("key %q conflicts by its own rule, yet the merge reports no conflict%s", tag.Key, describeTriple(base, current, pending))
				}
				v, ok := m.Tags.Get(tag.Key)
				if (optional[string]{v, ok}) != want {
					t.Fatalf("merged %q = %q (present %v), want %+v%s", tag.Key, v, ok, want, describeTriple(base, current, pending))
				}
			}
		}
		for _, tag := range m.Tags {
			_, inCurrent := current.Tags.Get(tag.Key)
			_, inPending := pending.Tags.Get(tag.Key)
			if !inCurrent && !inPending {
				t.Fatalf("merged tag %v is on neither side%s", tag, describeTriple(base, current, pending))
			}
		}
	})
}
