package validate

import (
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
)

// farmland is a multipolygon of Andorra whose one outer ring is drawn
// as two unclosed ways.
const farmland = 3657696

func farmlandOuterWays(t *testing.T, d *dataset) []int64 {
	t.Helper()
	rel := d.Relations[farmland]
	if rel == nil {
		t.Fatalf("relation %d is not in Andorra", farmland)
	}
	var ways []int64
	for _, m := range rel.Members {
		w := d.Ways[m.Ref]
		if m.Type != osmdata.Way || m.Role != "outer" || w == nil || w.Nodes[0] == w.Nodes[len(w.Nodes)-1] {
			t.Fatalf("relation %d is not the two-way ring the test expects: %+v", farmland, rel.Members)
		}
		ways = append(ways, m.Ref)
	}
	if len(ways) != 2 {
		t.Fatalf("relation %d has %d outer ways, want 2", farmland, len(ways))
	}
	return ways
}

func TestTopologyMultipolygonBrokenRings(t *testing.T) {
	d := loadAndorra(t)
	ways := farmlandOuterWays(t, d)
	if _, after := introduced(t, &BrokenMultipolygon{}, newEditTagging(t, d, relKey(farmland))); len(after) != 0 {
		t.Fatalf("relation %d reported as mapped: %s", farmland, describeFindings(after))
	}

	// Dropping one outer way from the relation leaves the other's ends
	// open.
	dropped := newEdit(d)
	dropped.modify(t, relKey(farmland), false, func(r *osmdata.Element) { r.Members = r.Members[:1] })
	kept := d.Ways[ways[0]]
	got, _ := introduced(t, &BrokenMultipolygon{}, dropped)
	f := requireOne(t, got, []osmdata.Key{relKey(farmland)}, d.point(t, min(kept.Nodes[0], kept.Nodes[len(kept.Nodes)-1])), 0.1)
	if f.Severity != Error {
		t.Errorf("severity %s, want error", f.Severity)
	}
	if !strings.Contains(f.Message, wayKey(ways[0]).String()) {
		t.Errorf("message %q does not name the way left open", f.Message)
	}

	// Shortening a member way (the relation untouched) opens the ring too.
	shortened := newEdit(d)
	second := d.Ways[ways[1]]
	shortened.modify(t, wayKey(ways[1]), false, func(w *osmdata.Element) { w.Nodes = w.Nodes[:len(w.Nodes)-1] })
	got, _ = introduced(t, &BrokenMultipolygon{}, shortened)
	// The way is also an inner of the residential multipolygon 2813720,
	// which breaks as well.
	if len(got) != 2 || !hasFindingAbout(got, []osmdata.Key{relKey(farmland)}) || !hasFindingAbout(got, []osmdata.Key{relKey(2813720)}) {
		t.Fatalf("shortening way %d: want findings about relations %d and 2813720, got %s", second.ID, farmland, describeFindings(got))
	}

	// Broken before, a member retagged: not introduced.
	pre := newEdit(d)
	pre.modify(t, relKey(farmland), true, func(r *osmdata.Element) { r.Members = r.Members[:1] })
	pre.addTag(t, wayKey(ways[0]), "note", "fence")
	got, after := introduced(t, &BrokenMultipolygon{}, pre)
	if len(got) != 0 {
		t.Errorf("a multipolygon broken before reported as introduced: %s", describeFindings(got))
	}
	if !hasFindingAbout(after, []osmdata.Key{relKey(farmland)}) {
		t.Errorf("the rule does not see relation %d as broken: %s", farmland, describeFindings(after))
	}
}

func newEditTagging(t *testing.T, d *dataset, k osmdata.Key) *edit {
	e := newEdit(d)
	e.addTag(t, k, "note", "checked")
	return e
}
