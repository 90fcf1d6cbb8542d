package validate

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/paulmach/orb"

	"github.com/geocommuns/geocommuns/osmdata"
)

// GeometryRules returns the geometry and topology rules (issue 6) with
// their default thresholds, for the engine to register.
func GeometryRules() []ElementRule {
	return []ElementRule{
		&TooFewNodes{},
		&RepeatedNodes{},
		&SelfIntersectingArea{},
		NewAreaTagsOnUnclosedWay(),
		&CrossingWays{},
		&DisconnectedHighway{},
		NewAlmostJunction(),
		&CloseNodes{},
		&UntaggedUnused{},
		&BrokenMultipolygon{},
	}
}

// TooFewNodes reports a touched way with fewer than two distinct nodes:
// it has no length, and renderers and routers drop or choke on it.
type TooFewNodes struct{}

func (*TooFewNodes) Name() string              { return "way_too_few_nodes" }
func (*TooFewNodes) DefaultSeverity() Severity { return Error }
func (*TooFewNodes) DefaultWeight() int        { return 3 }

func (r *TooFewNodes) Check(snap *Snapshot, touched []osmdata.Key) []Finding {
	var out []Finding
	for _, w := range touchedWays(snap, touched) {
		distinct := make(map[int64]struct{}, 2)
		for _, id := range w.Nodes {
			distinct[id] = struct{}{}
			if len(distinct) >= 2 {
				break
			}
		}
		if len(distinct) >= 2 {
			continue
		}
		f := Finding{
			Rule:     r.Name(),
			Severity: Error,
			Elements: []osmdata.Key{w.Key()},
			Message:  fmt.Sprintf("way %d has %d distinct node(s); a way needs at least 2", w.ID, len(distinct)),
		}
		if len(w.Nodes) > 0 {
			locateAtNode(&f, snap, w.Nodes[0])
		}
		out = append(out, f)
	}
	return out
}

// RepeatedNodes reports a touched way that lists the same node twice in a
// row: a zero-length segment that editors do not show and tools reject.
type RepeatedNodes struct{}

func (*RepeatedNodes) Name() string              { return "repeated_consecutive_nodes" }
func (*RepeatedNodes) DefaultSeverity() Severity { return Warning }
func (*RepeatedNodes) DefaultWeight() int        { return 1 }

func (r *RepeatedNodes) Check(snap *Snapshot, touched []osmdata.Key) []Finding {
	var out []Finding
	for _, w := range touchedWays(snap, touched) {
		reported := map[int64]bool{}
		for i := 1; i < len(w.Nodes); i++ {
			id := w.Nodes[i]
			if id != w.Nodes[i-1] || reported[id] {
				continue
			}
			reported[id] = true
			f := Finding{
				Rule:     r.Name(),
				Severity: Warning,
				Elements: []osmdata.Key{w.Key(), {Type: osmdata.Node, ID: id}},
				Message:  fmt.Sprintf("way %d lists node %d twice in a row (positions %d and %d)", w.ID, id, i, i+1),
			}
			locateAtNode(&f, snap, id)
			out = append(out, f)
		}
	}
	return out
}

// SelfIntersectingArea reports a closed way whose outline crosses itself.
// iD has no validation for this: it refuses to finish drawing any area
// that would cross itself, buildings or not. We follow it in not singling
// out buildings, and report a warning (reviewers can raise the rule's
// severity in the configuration), since real data has such areas that
// renderers still draw.
type SelfIntersectingArea struct{}

func (*SelfIntersectingArea) Name() string              { return "self_intersecting_area" }
func (*SelfIntersectingArea) DefaultSeverity() Severity { return Warning }
func (*SelfIntersectingArea) DefaultWeight() int        { return 1 }

func (r *SelfIntersectingArea) Check(snap *Snapshot, touched []osmdata.Key) []Finding {
	var out []Finding
	for _, w := range waysAffectedBy(snap, touched, isClosedRing) {
		pts, ok := wayPoints(snap, w)
		if !ok {
			continue
		}
		at, ok := firstSelfCrossing(w.Nodes, pts)
		if !ok {
			continue
		}
		out = append(out, Finding{
			Rule:     r.Name(),
			Severity: Warning,
			Elements: []osmdata.Key{w.Key()},
			Message:  fmt.Sprintf("closed way %d%s crosses itself", w.ID, describeFeature(w.Tags)),
			Lon:      at[0], Lat: at[1], HasLocation: true,
		})
	}
	return out
}

// firstSelfCrossing finds two segments of one ring that cross without a
// shared node, sweeping segments ordered by west edge so that a 2,000-node
// ring costs far less than comparing every pair.
func firstSelfCrossing(ids []int64, pts []orb.Point) (orb.Point, bool) {
	n := len(pts) - 1
	crossing := func(i, j int) (orb.Point, bool) {
		if ids[i] == ids[j] || ids[i] == ids[j+1] || ids[i+1] == ids[j] || ids[i+1] == ids[j+1] {
			return orb.Point{}, false
		}
		return segmentIntersection(pts[i], pts[i+1], pts[j], pts[j+1])
	}
	// Most outlines (buildings) have a handful of corners, for which
	// comparing every pair is cheaper than sorting.
	if n <= 16 {
		for i := 0; i < n; i++ {
			for j := i + 2; j < n; j++ {
				if p, ok := crossing(i, j); ok {
					return p, true
				}
			}
		}
		return orb.Point{}, false
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	west := func(i int) float64 { return min(pts[i][0], pts[i+1][0]) }
	sort.Slice(order, func(a, b int) bool { return west(order[a]) < west(order[b]) })
	for a, i := range order {
		east := max(pts[i][0], pts[i+1][0])
		for _, j := range order[a+1:] {
			if west(j) > east {
				break
			}
			if p, ok := crossing(i, j); ok {
				return p, true
			}
		}
	}
	return orb.Point{}, false
}

// AreaTagsOnUnclosedWay reports a touched unclosed way carrying tags that
// only make sense on an area: no renderer or data consumer can fill it.
type AreaTagsOnUnclosedWay struct {
	// AreaTags maps a key to the values that make a way an area; an empty
	// list means any value other than "no".
	AreaTags map[string][]string `yaml:"area_tags"`
}

// NewAreaTagsOnUnclosedWay returns the rule with the default table.
func NewAreaTagsOnUnclosedWay() *AreaTagsOnUnclosedWay {
	return &AreaTagsOnUnclosedWay{AreaTags: map[string][]string{
		"building":      nil,
		"building:part": nil,
		"landuse":       nil,
		"area":          {"yes"},
		"natural": {"water", "wood", "scrub", "heath", "grassland", "wetland",
			"bare_rock", "scree", "shingle", "glacier", "sand", "beach", "fell"},
		"amenity": {"parking", "school", "hospital", "university", "college",
			"kindergarten", "grave_yard", "marketplace"},
		"leisure": {"park", "pitch", "playground", "garden", "swimming_pool",
			"golf_course", "stadium", "sports_centre"},
		"aeroway": {"aerodrome", "apron"},
	}}
}

func (*AreaTagsOnUnclosedWay) Name() string              { return "area_tags_on_unclosed_way" }
func (*AreaTagsOnUnclosedWay) DefaultSeverity() Severity { return Warning }
func (*AreaTagsOnUnclosedWay) DefaultWeight() int        { return 1 }

func (r *AreaTagsOnUnclosedWay) CheckSettings() error {
	for key, values := range r.AreaTags {
		if strings.TrimSpace(key) == "" {
			return &SettingError{Key: "area_tags", Err: fmt.Errorf("an empty key")}
		}
		for _, v := range values {
			if strings.TrimSpace(v) == "" {
				return &SettingError{Key: "area_tags", Err: fmt.Errorf("an empty value for %q (leave the list empty for any value)", key)}
			}
		}
	}
	return nil
}

func (r *AreaTagsOnUnclosedWay) Check(snap *Snapshot, touched []osmdata.Key) []Finding {
	var out []Finding
	for _, w := range touchedWays(snap, touched) {
		if len(w.Nodes) < 2 || w.Nodes[0] == w.Nodes[len(w.Nodes)-1] {
			continue
		}
		if v, _ := w.Tags.Get("area"); v == "no" {
			continue
		}
		tag, ok := r.areaTag(w.Tags)
		if !ok {
			continue
		}
		f := Finding{
			Rule:     r.Name(),
			Severity: Warning,
			Elements: []osmdata.Key{w.Key()},
			Message:  fmt.Sprintf("way %d is tagged %s=%s, an area, but is not closed", w.ID, tag.Key, tag.Value),
		}
		locateAtNode(&f, snap, w.Nodes[len(w.Nodes)-1])
		out = append(out, f)
	}
	return out
}

func (r *AreaTagsOnUnclosedWay) areaTag(tags osmdata.Tags) (osmdata.Tag, bool) {
	for _, t := range tags {
		values, ok := r.AreaTags[t.Key]
		if !ok || t.Value == "no" {
			continue
		}
		if len(values) == 0 {
			return t, true
		}
		for _, v := range values {
			if v == t.Value {
				return t, true
			}
		}
	}
	return osmdata.Tag{}, false
}

// touchedWays returns the touched ways present in the snapshot, in the
// order given.
func touchedWays(snap *Snapshot, touched []osmdata.Key) []*osmdata.Element {
	var out []*osmdata.Element
	for _, k := range touched {
		if k.Type != osmdata.Way {
			continue
		}
		if w := snap.Ways[k.ID]; w != nil {
			out = append(out, w)
		}
	}
	return out
}

// waysAffectedBy returns the ways a rule looks at (keep) that are touched
// or whose shape a touched node changes (a moved node moves every way
// through it), by id. keep is asked first, so the rule's cheap tag or
// shape test spares reading the nodes of the ways it ignores.
func waysAffectedBy(snap *Snapshot, touched []osmdata.Key, keep func(*osmdata.Element) bool) []*osmdata.Element {
	ids := map[int64]struct{}{}
	nodes := map[int64]struct{}{}
	for _, k := range touched {
		switch k.Type {
		case osmdata.Way:
			if w := snap.Ways[k.ID]; w != nil && keep(w) {
				ids[k.ID] = struct{}{}
			}
		case osmdata.Node:
			nodes[k.ID] = struct{}{}
		}
	}
	if len(nodes) > 0 {
		for id, w := range snap.Ways {
			if _, done := ids[id]; done || !keep(w) {
				continue
			}
			for _, n := range w.Nodes {
				if _, ok := nodes[n]; ok {
					ids[id] = struct{}{}
					break
				}
			}
		}
	}
	out := make([]*osmdata.Element, 0, len(ids))
	for id := range ids {
		out = append(out, snap.Ways[id])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// parentWaysOf indexes, for each node in ids, the ways of the snapshot
// using it (each once) that keep accepts. Rules ask only about the nodes
// and the kind of ways they look at: a full index of a 10,000-element
// neighbourhood costs more than the rules.
func parentWaysOf(snap *Snapshot, ids map[int64]bool, keep func(*osmdata.Element) bool) map[int64][]*osmdata.Element {
	parents := make(map[int64][]*osmdata.Element, len(ids))
	if len(ids) == 0 {
		return parents
	}
	for _, w := range snap.Ways {
		if !keep(w) {
			continue
		}
		for _, n := range w.Nodes {
			if !ids[n] {
				continue
			}
			ps := parents[n]
			if len(ps) > 0 && ps[len(ps)-1] == w {
				continue
			}
			parents[n] = append(ps, w)
		}
	}
	return parents
}

// anyWay keeps every way.
func anyWay(*osmdata.Element) bool { return true }

// wayPoints returns the positions of a way's nodes, or false when one of
// them is not loaded (the rule then cannot judge the way).
func wayPoints(snap *Snapshot, w *osmdata.Element) ([]orb.Point, bool) {
	pts := make([]orb.Point, len(w.Nodes))
	for i, id := range w.Nodes {
		n := snap.Nodes[id]
		if n == nil {
			return nil, false
		}
		pts[i] = nodePoint(n)
	}
	return pts, true
}

func nodePoint(n *osmdata.Element) orb.Point {
	return orb.Point{osmdata.FixedToDegrees(n.Lon), osmdata.FixedToDegrees(n.Lat)}
}

func locateAtNode(f *Finding, snap *Snapshot, id int64) {
	if n := snap.Nodes[id]; n != nil {
		p := nodePoint(n)
		f.Lon, f.Lat, f.HasLocation = p[0], p[1], true
	}
}

// emptyBound is a box that any point extends to itself.
func emptyBound() orb.Bound {
	return orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
}

// isClosedRing says whether a way is closed and can enclose an area.
func isClosedRing(w *osmdata.Element) bool {
	return len(w.Nodes) >= 4 && w.Nodes[0] == w.Nodes[len(w.Nodes)-1]
}

// tagIsSet says whether key is present with a value other than "no", the
// way iD reads structure tags (bridge, tunnel, building, …).
func tagIsSet(tags osmdata.Tags, key string) bool {
	v, ok := tags.Get(key)
	return ok && v != "no"
}

// describeFeature names a way's main feature tag for messages, as
// " (highway=primary)", or "" when it has none of the keys reviewers
// recognise a feature by.
func describeFeature(tags osmdata.Tags) string {
	if t, ok := featureTag(tags); ok {
		return " (" + t.Key + "=" + t.Value + ")"
	}
	return ""
}

var featureKeys = []string{"highway", "railway", "waterway", "building", "landuse", "natural",
	"amenity", "leisure", "man_made", "barrier", "boundary", "power", "area", "building:part"}

func featureTag(tags osmdata.Tags) (osmdata.Tag, bool) {
	for _, k := range featureKeys {
		if v, ok := tags.Get(k); ok {
			return osmdata.Tag{Key: k, Value: v}, true
		}
	}
	return osmdata.Tag{}, false
}

// segmentIntersection returns where segments a1–a2 and b1–b2 meet,
// endpoints included, treating lon/lat as planar (exact enough over the
// few hundred metres a segment spans). Collinear overlaps are not
// reported: they are duplicated ways, not crossings.
func segmentIntersection(a1, a2, b1, b2 orb.Point) (orb.Point, bool) {
	rx, ry := a2[0]-a1[0], a2[1]-a1[1]
	sx, sy := b2[0]-b1[0], b2[1]-b1[1]
	den := rx*sy - ry*sx
	if den == 0 {
		return orb.Point{}, false
	}
	qx, qy := b1[0]-a1[0], b1[1]-a1[1]
	t := (qx*sy - qy*sx) / den
	u := (qx*ry - qy*rx) / den
	if t < 0 || t > 1 || u < 0 || u > 1 {
		return orb.Point{}, false
	}
	return orb.Point{a1[0] + t*rx, a1[1] + t*ry}, true
}

// sortKeys orders the elements of a finding about several equal partners
// (two crossing ways, two nodes at one place) by type and id, so the
// finding has the same identity whichever of them the changeset touched.
func sortKeys(keys []osmdata.Key) []osmdata.Key {
	sort.Slice(keys, func(i, j int) bool { return keys[i].Less(keys[j]) })
	return keys
}

func joinKeys(keys []osmdata.Key) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.String()
	}
	return strings.Join(parts, ", ")
}
