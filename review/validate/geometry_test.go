package validate

import (
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/geocommuns/geocommuns/osmdata"
)

// The rules are tested on the real Andorra extract: each with an edit
// that introduces the problem, and with the problem already there and a
// touched element beside it, which must not be reported as introduced.

// residentialRoad is a residential street in Andorra la Vella (no bridge,
// tunnel or layer) whose second node only it uses.
const residentialRoad = 24241274

func TestGeometryRulesAreComplete(t *testing.T) {
	names := map[string]bool{}
	for _, r := range GeometryRules() {
		if names[r.Name()] {
			t.Errorf("two rules named %q", r.Name())
		}
		names[r.Name()] = true
	}
	for _, want := range []string{"way_too_few_nodes", "repeated_consecutive_nodes", "self_intersecting_area",
		"area_tags_on_unclosed_way", "crossing_ways", "disconnected_highway", "almost_junction", "close_nodes",
		"untagged_unused", "broken_multipolygon"} {
		if !names[want] {
			t.Errorf("GeometryRules lacks %q", want)
		}
	}
}

func TestGeometryTooFewNodes(t *testing.T) {
	d := loadAndorra(t)
	road := d.Ways[residentialRoad]
	first := road.Nodes[0]

	e := newEdit(d)
	e.modify(t, wayKey(residentialRoad), false, func(w *osmdata.Element) { w.Nodes = []int64{first, first} })
	got, _ := introduced(t, &TooFewNodes{}, e)
	f := requireOne(t, got, []osmdata.Key{wayKey(residentialRoad)}, d.point(t, first), 0.1)
	if f.Severity != Error {
		t.Errorf("severity %s, want error", f.Severity)
	}

	pre := newEdit(d)
	pre.modify(t, wayKey(residentialRoad), true, func(w *osmdata.Element) { w.Nodes = []int64{first} })
	pre.addTag(t, wayKey(residentialRoad), "surface", "asphalt")
	got, after := introduced(t, &TooFewNodes{}, pre)
	if len(got) != 0 {
		t.Errorf("a way with one node before the edit reported as introduced: %s", describeFindings(got))
	}
	requireOne(t, after, []osmdata.Key{wayKey(residentialRoad)}, d.point(t, first), 0.1)
}

func TestGeometryRepeatedNodes(t *testing.T) {
	d := loadAndorra(t)
	second := d.Ways[residentialRoad].Nodes[1]
	repeat := repeatSecondNode

	e := newEdit(d)
	e.modify(t, wayKey(residentialRoad), false, repeat)
	got, _ := introduced(t, &RepeatedNodes{}, e)
	f := requireOne(t, got, []osmdata.Key{wayKey(residentialRoad), nodeKey(second)}, d.point(t, second), 0.1)
	if f.Severity != Warning {
		t.Errorf("severity %s, want warning", f.Severity)
	}

	pre := newEdit(d)
	pre.modify(t, wayKey(residentialRoad), true, repeat)
	pre.addTag(t, wayKey(residentialRoad), "surface", "asphalt")
	got, after := introduced(t, &RepeatedNodes{}, pre)
	if len(got) != 0 {
		t.Errorf("a repetition present before reported as introduced: %s", describeFindings(got))
	}
	requireOne(t, after, []osmdata.Key{wayKey(residentialRoad), nodeKey(second)}, d.point(t, second), 0.1)
}

// fourCornerBuilding returns the first building drawn with four corners
// whose second and third corners (untagged) no other way uses, so moving
// them changes only it.
func fourCornerBuilding(t *testing.T, d *dataset) *osmdata.Element {
	t.Helper()
	for _, id := range sortedIDs(d.Ways) {
		w := d.Ways[id]
		if !tagIsSet(w.Tags, "building") || len(w.Nodes) != 5 || w.Nodes[0] != w.Nodes[4] || len(d.memberOf[w.Key()]) > 0 {
			continue
		}
		alone := true
		for _, n := range w.Nodes[1:3] {
			alone = alone && len(d.parentWays[n]) == 1 && len(d.Nodes[n].Tags) == 0
		}
		if alone {
			return w
		}
	}
	t.Fatal("Andorra has no four-cornered building")
	return nil
}

func TestGeometrySelfIntersectingArea(t *testing.T) {
	d := loadAndorra(t)
	b := fourCornerBuilding(t, d)
	p1, p2 := d.point(t, b.Nodes[1]), d.point(t, b.Nodes[2])
	centre := orb.Point{}
	for _, n := range b.Nodes[:4] {
		p := d.point(t, n)
		centre[0] += p[0] / 4
		centre[1] += p[1] / 4
	}

	// Swapping two neighbouring corners turns the outline into a bow tie
	// crossing itself inside the building; only the nodes are touched.
	e := newEdit(d)
	e.moveNode(t, b.Nodes[1], p2)
	e.moveNode(t, b.Nodes[2], p1)
	got, _ := introduced(t, &SelfIntersectingArea{}, e)
	f := requireOne(t, got, []osmdata.Key{b.Key()}, centre, 30)
	if f.Severity != Warning {
		t.Errorf("severity %s, want warning", f.Severity)
	}

	pre := newEdit(d)
	for n, p := range map[int64]orb.Point{b.Nodes[1]: p2, b.Nodes[2]: p1} {
		pre.modify(t, nodeKey(n), true, func(el *osmdata.Element) {
			el.Lon, el.Lat = osmdata.RoundCoordToFixed(p[0]), osmdata.RoundCoordToFixed(p[1])
		})
	}
	pre.addTag(t, b.Key(), "roof:shape", "flat")
	got, after := introduced(t, &SelfIntersectingArea{}, pre)
	if len(got) != 0 {
		t.Errorf("a bow tie present before reported as introduced: %s", describeFindings(got))
	}
	requireOne(t, after, []osmdata.Key{b.Key()}, centre, 30)

	// The building as mapped does not cross itself.
	untouched := newEdit(d)
	untouched.addTag(t, b.Key(), "roof:shape", "flat")
	if _, after := introduced(t, &SelfIntersectingArea{}, untouched); len(after) != 0 {
		t.Errorf("a sound building reported: %s", describeFindings(after))
	}
}

func TestGeometryAreaTagsOnUnclosedWay(t *testing.T) {
	d := loadAndorra(t)
	b := fourCornerBuilding(t, d)
	open := dropClosingNode

	e := newEdit(d)
	e.modify(t, b.Key(), false, open)
	got, _ := introduced(t, NewAreaTagsOnUnclosedWay(), e)
	f := requireOne(t, got, []osmdata.Key{b.Key()}, d.point(t, b.Nodes[3]), 0.1)
	if !strings.Contains(f.Message, "building=") {
		t.Errorf("message %q does not name the area tag", f.Message)
	}

	// The table is the rule's to tune: without building it says nothing.
	tuned := NewAreaTagsOnUnclosedWay()
	delete(tuned.AreaTags, "building")
	if got, _ := introduced(t, tuned, e); len(got) != 0 {
		t.Errorf("building removed from the table, still reported: %s", describeFindings(got))
	}

	pre := newEdit(d)
	pre.modify(t, b.Key(), true, open)
	pre.addTag(t, b.Key(), "roof:shape", "flat")
	got, after := introduced(t, NewAreaTagsOnUnclosedWay(), pre)
	if len(got) != 0 {
		t.Errorf("an unclosed building present before reported as introduced: %s", describeFindings(got))
	}
	requireOne(t, after, []osmdata.Key{b.Key()}, d.point(t, b.Nodes[3]), 0.1)
}

func sortedIDs(m map[int64]*osmdata.Element) []int64 {
	ids := make([]int64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

func TestGeometryRulesTunedFromConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
rules:
  almost_junction:
    extend_metres: 8
  area_tags_on_unclosed_way:
    area_tags:
      building: []
      leisure: [pitch]
  broken_multipolygon:
    severity: warning
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Rule("almost_junction").Element.(*AlmostJunction).ExtendMetres; got != 8 {
		t.Errorf("extend_metres decoded as %g, want 8", got)
	}
	tags := cfg.Rule("area_tags_on_unclosed_way").Element.(*AreaTagsOnUnclosedWay).AreaTags
	if len(tags) != 2 || len(tags["leisure"]) != 1 || tags["leisure"][0] != "pitch" {
		t.Errorf("area_tags decoded as %v, want only building and leisure=pitch", tags)
	}
	if s := cfg.Rule("broken_multipolygon").Severity; s != Warning {
		t.Errorf("broken_multipolygon severity %q, want warning", s)
	}
	if def := Default().Rule("broken_multipolygon"); def == nil || def.Severity != Error {
		t.Errorf("broken_multipolygon's default is not an error: %+v", def)
	}

	_, err = ParseConfig([]byte("rules:\n  almost_junction:\n    extend_metres: 30\n"))
	if err == nil || !strings.Contains(err.Error(), "extend_metres") || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("an extension beyond the neighbourhood's reach: got %v, want an error naming extend_metres on line 3", err)
	}
}
