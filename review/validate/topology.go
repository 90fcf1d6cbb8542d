package validate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"

	"github.com/geocommuns/geocommuns/osmdata"
)

// routableHighways are the highway values iD treats as part of the road
// and path network (osmRoutableHighwayTagValues).
var routableHighways = map[string]bool{
	"motorway": true, "trunk": true, "primary": true, "secondary": true, "tertiary": true,
	"residential": true, "motorway_link": true, "trunk_link": true, "primary_link": true,
	"secondary_link": true, "tertiary_link": true, "unclassified": true, "road": true,
	"service": true, "track": true, "living_street": true, "bus_guideway": true, "busway": true,
	"path": true, "footway": true, "cycleway": true, "bridleway": true, "pedestrian": true,
	"corridor": true, "steps": true, "ladder": true,
}

// railwayTracks are the railway values that are tracks (iD's
// osmRailwayTrackTagValues); platforms and stations may cross anything.
var railwayTracks = map[string]bool{
	"rail": true, "light_rail": true, "tram": true, "subway": true, "monorail": true,
	"funicular": true, "miniature": true, "narrow_gauge": true, "disused": true, "preserved": true,
}

// flowingWaterways are the waterway values that carry water along a line
// (iD's osmFlowingWaterwayTagValues); dams and weirs are meant to cross.
var flowingWaterways = map[string]bool{
	"canal": true, "ditch": true, "drain": true, "fish_pass": true, "river": true,
	"stream": true, "tidal_channel": true,
}

// demolishedBuildings are building values of structures no longer
// standing, which may overlap anything.
var demolishedBuildings = map[string]bool{"demolished": true, "dismantled": true, "proposed": true, "razed": true}

func isRoutableHighway(w *osmdata.Element) bool {
	v, _ := w.Tags.Get("highway")
	return routableHighways[v]
}

// crossingFeature is what a way is for the crossing rule, with the tag
// that made it so (shown in messages).
type crossingFeature struct {
	kind string // "highway", "railway", "waterway", "building" or "" (ignored)
	tag  osmdata.Tag
	// tags are those the structure tests read: the way's own, or those of
	// the building multipolygon it outlines.
	tags osmdata.Tags
}

func crossingFeatureOf(tags osmdata.Tags) crossingFeature {
	if v, ok := tags.Get("building"); ok && v != "no" && !demolishedBuildings[v] {
		return crossingFeature{"building", osmdata.Tag{Key: "building", Value: v}, tags}
	}
	// Other areas (area=yes squares, parkings) are walked across.
	if tagIsSet(tags, "area") {
		return crossingFeature{}
	}
	if v, ok := tags.Get("highway"); ok && routableHighways[v] {
		return crossingFeature{"highway", osmdata.Tag{Key: "highway", Value: v}, tags}
	}
	if v, ok := tags.Get("railway"); ok && railwayTracks[v] {
		return crossingFeature{"railway", osmdata.Tag{Key: "railway", Value: v}, tags}
	}
	if v, ok := tags.Get("waterway"); ok && flowingWaterways[v] {
		return crossingFeature{"waterway", osmdata.Tag{Key: "waterway", Value: v}, tags}
	}
	return crossingFeature{}
}

func (f crossingFeature) allowsStructures() bool {
	return f.kind == "highway" || f.kind == "railway" || f.kind == "waterway"
}

func tagOr(tags osmdata.Tags, key, fallback string) string {
	if v, ok := tags.Get(key); ok {
		return v
	}
	return fallback
}

func indoorTagged(tags osmdata.Tags) bool {
	v, _ := tags.Get("highway")
	return tagIsSet(tags, "indoor") || tagIsSet(tags, "level") || v == "corridor"
}

// legitimateCrossing says whether two features may cross without a shared
// node: iD's crossing_ways rules (different indoor levels, one of them on
// a bridge or in a tunnel, both bridges or both tunnels on different
// layers, a pier over water, a building on another layer).
func legitimateCrossing(f1, f2 crossingFeature) bool {
	t1, t2 := f1.tags, f2.tags
	if indoorTagged(t1) && indoorTagged(t2) && tagOr(t1, "level", "0") != tagOr(t2, "level", "0") {
		return true
	}
	layer1, layer2 := tagOr(t1, "layer", "0"), tagOr(t2, "layer", "0")
	for _, structure := range []string{"bridge", "tunnel"} {
		s1 := f1.allowsStructures() && tagIsSet(t1, structure)
		s2 := f2.allowsStructures() && tagIsSet(t2, structure)
		if s1 != s2 {
			return true
		}
		if s1 && s2 && layer1 != layer2 {
			return true
		}
	}
	pier := func(f crossingFeature) bool {
		v, _ := f.tags.Get("man_made")
		return f.kind == "highway" && v == "pier"
	}
	if (f1.kind == "waterway" && pier(f2)) || (f2.kind == "waterway" && pier(f1)) {
		return true
	}
	if (f1.kind == "building" || f2.kind == "building") && layer1 != layer2 {
		return true
	}
	return false
}

// CrossingWays reports a touched highway, railway, waterway or building
// (or one whose node was moved) crossing another such way without a shared
// node where bridge, tunnel, layer or indoor level tags do not explain it.
// One finding per pair of ways, located at the first crossing found.
type CrossingWays struct{}

func (*CrossingWays) Name() string              { return "crossing_ways" }
func (*CrossingWays) DefaultSeverity() Severity { return Warning }
func (*CrossingWays) DefaultWeight() int        { return 2 }

func (r *CrossingWays) Check(snap *Snapshot, touched []osmdata.Key) []Finding {
	features := crossingFeatures(snap)
	affected := waysAffectedBy(snap, touched, func(w *osmdata.Element) bool { return features[w.ID].kind != "" })
	if len(affected) == 0 {
		return nil
	}
	area := emptyBound()
	for _, w := range affected {
		for _, id := range w.Nodes {
			if n := snap.Nodes[id]; n != nil {
				area = area.Extend(nodePoint(n))
			}
		}
	}
	grid := newSegmentGrid(snap, func(w *osmdata.Element) bool { return features[w.ID].kind != "" }, area)
	reported := map[[2]int64]bool{}
	var out []Finding
	var candidates []*gridSegment
	for _, w := range affected {
		f1 := features[w.ID]
		if f1.kind == "" {
			continue
		}
		for _, seg := range grid.segmentsOf(w) {
			n1, n2 := w.Nodes[seg.index], w.Nodes[seg.index+1]
			candidates = grid.near(seg.a, seg.b, candidates)
			for _, s := range candidates {
				w2 := s.way
				if w2 == w {
					continue
				}
				nA, nB := w2.Nodes[s.index], w2.Nodes[s.index+1]
				if nA == n1 || nA == n2 || nB == n1 || nB == n2 {
					continue
				}
				// Geometry first: it rejects most candidates for less
				// than the map and tag lookups after it.
				at, ok := segmentIntersection(seg.a, seg.b, s.a, s.b)
				if !ok {
					continue
				}
				pair := [2]int64{min(w.ID, w2.ID), max(w.ID, w2.ID)}
				if reported[pair] {
					continue
				}
				f2 := features[w2.ID]
				if legitimateCrossing(f1, f2) {
					continue
				}
				reported[pair] = true
				out = append(out, crossingFinding(r.Name(), w, f1, w2, f2, at))
			}
		}
	}
	return out
}

func crossingFinding(rule string, w1 *osmdata.Element, f1 crossingFeature, w2 *osmdata.Element, f2 crossingFeature, at orb.Point) Finding {
	if w2.ID < w1.ID {
		w1, f1, w2, f2 = w2, f2, w1, f1
	}
	return Finding{
		Rule:     rule,
		Severity: Warning,
		Elements: []osmdata.Key{w1.Key(), w2.Key()},
		Message: fmt.Sprintf("way %d crosses way %d (%s=%s × %s=%s) without a shared node, bridge, tunnel or layer",
			w1.ID, w2.ID, f1.tag.Key, f1.tag.Value, f2.tag.Key, f2.tag.Value),
		Lon: at[0], Lat: at[1], HasLocation: true,
	}
}

// crossingFeatures classifies every way of the snapshot; an outer way
// without tags of its own takes those of its building multipolygon, as iD
// does.
func crossingFeatures(snap *Snapshot) map[int64]crossingFeature {
	buildingOf := map[int64]*osmdata.Element{}
	for _, rel := range snap.Relations {
		if v, _ := rel.Tags.Get("type"); v != "multipolygon" || !tagIsSet(rel.Tags, "building") {
			continue
		}
		for _, m := range rel.Members {
			if m.Type == osmdata.Way {
				buildingOf[m.Ref] = rel
			}
		}
	}
	out := make(map[int64]crossingFeature, len(snap.Ways))
	for id, w := range snap.Ways {
		f := crossingFeatureOf(w.Tags)
		if f.kind == "" {
			if rel := buildingOf[id]; rel != nil {
				f = crossingFeatureOf(rel.Tags)
			}
		}
		if f.kind != "" {
			out[id] = f
		}
	}
	return out
}

// DisconnectedHighway reports a touched highway, or a connected group of
// touched highways, that joins no other highway: no one can drive or walk
// onto it (iD's disconnected_way). Entrances and parking entrances count
// as connections, and so does a node the snapshot lacks, since the rule
// cannot see past it.
type DisconnectedHighway struct{}

func (*DisconnectedHighway) Name() string              { return "disconnected_highway" }
func (*DisconnectedHighway) DefaultSeverity() Severity { return Warning }
func (*DisconnectedHighway) DefaultWeight() int        { return 1 }

func (r *DisconnectedHighway) Check(snap *Snapshot, touched []osmdata.Key) []Finding {
	group := map[int64]bool{} // touched routable ways, true once visited
	var starts []int64
	for _, w := range touchedWays(snap, touched) {
		if routesTraffic(w) {
			if _, dup := group[w.ID]; !dup {
				starts = append(starts, w.ID)
			}
			group[w.ID] = false
		}
	}
	if len(starts) == 0 {
		return nil
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	vertices := map[int64]bool{}
	for id := range group {
		for _, n := range snap.Ways[id].Nodes {
			vertices[n] = true
		}
	}
	parents := parentWaysOf(snap, vertices, routesTraffic)
	var out []Finding
	for _, start := range starts {
		if group[start] {
			continue
		}
		group[start] = true
		island := []int64{start}
		connected := false
		for q := 0; q < len(island); q++ {
			w := snap.Ways[island[q]]
			for _, id := range w.Nodes {
				n := snap.Nodes[id]
				if n == nil || leadsIndoors(n) {
					connected = true
					continue
				}
				for _, p := range parents[id] {
					if p == w || !routesTraffic(p) {
						continue
					}
					visited, inGroup := group[p.ID]
					switch {
					case !inGroup:
						connected = true
					case !visited:
						group[p.ID] = true
						island = append(island, p.ID)
					}
				}
			}
		}
		if connected {
			continue
		}
		sort.Slice(island, func(i, j int) bool { return island[i] < island[j] })
		keys := make([]osmdata.Key, len(island))
		for i, id := range island {
			keys[i] = osmdata.Key{Type: osmdata.Way, ID: id}
		}
		first := snap.Ways[island[0]]
		msg := fmt.Sprintf("way %d%s is connected to no other highway", first.ID, describeFeature(first.Tags))
		if len(island) > 1 {
			msg = fmt.Sprintf("%d highways (%s) are connected to no other highway", len(island), joinKeys(keys))
		}
		f := Finding{Rule: r.Name(), Severity: Warning, Elements: keys, Message: msg}
		if len(first.Nodes) > 0 {
			locateAtNode(&f, snap, first.Nodes[0])
		}
		out = append(out, f)
	}
	return out
}

func routesTraffic(w *osmdata.Element) bool {
	if isRoutableHighway(w) {
		return true
	}
	v, _ := w.Tags.Get("route")
	return v == "ferry"
}

// leadsIndoors says whether a node connects a way to a network the
// snapshot does not map as highways (a building entrance, a car park).
func leadsIndoors(n *osmdata.Element) bool {
	if v, _ := n.Tags.Get("amenity"); v == "parking_entrance" {
		return true
	}
	return tagIsSet(n.Tags, "entrance")
}

// AlmostJunction reports a touched highway (or one whose node was moved)
// ending within ExtendMetres of another highway it does not join: carrying
// its last segment on by that much would cross it (iD's almost_junction,
// whose threshold is 5 m).
type AlmostJunction struct {
	ExtendMetres float64 `yaml:"extend_metres"`
}

// NewAlmostJunction returns the rule with iD's threshold.
func NewAlmostJunction() *AlmostJunction { return &AlmostJunction{ExtendMetres: 5} }

func (*AlmostJunction) Name() string              { return "almost_junction" }
func (*AlmostJunction) DefaultSeverity() Severity { return Warning }
func (*AlmostJunction) DefaultWeight() int        { return 1 }

// maxExtendMetres is how far the neighbourhood the engine is given
// reaches around touched geometry (review.NearDistanceMetres): a longer
// extension would look for ways the snapshot does not hold.
const maxExtendMetres = 20

func (r *AlmostJunction) CheckSettings() error {
	if r.ExtendMetres <= 0 || r.ExtendMetres > maxExtendMetres {
		return &SettingError{Key: "extend_metres", Err: fmt.Errorf("%g is not within (0, %d] metres", r.ExtendMetres, maxExtendMetres)}
	}
	return nil
}

func (r *AlmostJunction) Check(snap *Snapshot, touched []osmdata.Key) []Finding {
	highways := waysAffectedBy(snap, touched, func(w *osmdata.Element) bool {
		return len(w.Nodes) >= 2 && w.Nodes[0] != w.Nodes[len(w.Nodes)-1] && isRoutableHighway(w)
	})
	if len(highways) == 0 || r.ExtendMetres <= 0 {
		return nil
	}
	ends := map[int64]bool{}
	for _, w := range highways {
		ends[w.Nodes[0]] = true
		ends[w.Nodes[len(w.Nodes)-1]] = true
	}
	// iD counts every way through the end (a footway ending on a
	// building outline is joined to something).
	parents := parentWaysOf(snap, ends, anyWay)
	type extension struct {
		way      *osmdata.Element
		tip      *osmdata.Element
		from, to orb.Point
	}
	var extensions []extension
	area := emptyBound()
	for _, w := range highways {
		for _, end := range [2]int{0, len(w.Nodes) - 1} {
			prev := 1
			if end > 0 {
				prev = end - 1
			}
			if tip, from, to, ok := r.extend(snap, parents, w, w.Nodes[end], w.Nodes[prev]); ok {
				extensions = append(extensions, extension{w, tip, from, to})
				area = area.Extend(from).Extend(to)
			}
		}
	}
	if len(extensions) == 0 {
		return nil
	}
	grid := newSegmentGrid(snap, isRoutableHighway, area)
	var out []Finding
	for _, x := range extensions {
		if f, ok := r.endFinding(snap, grid, x.way, x.tip, x.from, x.to); ok {
			out = append(out, f)
		}
	}
	return out
}

// extend returns the end node of a highway that may be meant to join
// something, and its last segment carried on by ExtendMetres past it.
func (r *AlmostJunction) extend(snap *Snapshot, parents map[int64][]*osmdata.Element, w *osmdata.Element, tipID, midID int64) (*osmdata.Element, orb.Point, orb.Point, bool) {
	tip, mid := snap.Nodes[tipID], snap.Nodes[midID]
	if tip == nil || mid == nil || len(parents[tipID]) != 1 || endsOnPurpose(tip) {
		return nil, orb.Point{}, orb.Point{}, false
	}
	uses := 0
	for _, id := range w.Nodes {
		if id == tipID {
			uses++
		}
	}
	if uses > 1 {
		return nil, orb.Point{}, orb.Point{}, false
	}
	tp, mp := nodePoint(tip), nodePoint(mid)
	length := geo.Distance(mp, tp)
	if length == 0 {
		return nil, orb.Point{}, orb.Point{}, false
	}
	k := r.ExtendMetres / length
	return tip, tp, orb.Point{tp[0] + (tp[0]-mp[0])*k, tp[1] + (tp[1]-mp[1])*k}, true
}

func (r *AlmostJunction) endFinding(snap *Snapshot, grid *segmentGrid, w, tip *osmdata.Element, tp, ext orb.Point) (Finding, bool) {
	tipID := tip.ID
	var best struct {
		way  *osmdata.Element
		at   orb.Point
		dist float64
	}
	best.dist = math.Inf(1)
	for _, s := range grid.near(tp, ext, nil) {
		if s.way.Nodes[s.index] == tipID || s.way.Nodes[s.index+1] == tipID || !mayJoin(w, s.way) {
			continue
		}
		at, ok := segmentIntersection(tp, ext, s.a, s.b)
		if !ok {
			continue
		}
		if d := geo.Distance(tp, at); d < best.dist || (d == best.dist && s.way.ID < best.way.ID) {
			best.way, best.at, best.dist = s.way, at, d
		}
	}
	if best.way == nil {
		return Finding{}, false
	}
	f := Finding{
		Rule:     r.Name(),
		Severity: Warning,
		Elements: []osmdata.Key{w.Key(), tip.Key(), best.way.Key()},
		Message: fmt.Sprintf("way %d%s ends at node %d, %.1f m from way %d%s, which it does not join",
			w.ID, describeFeature(w.Tags), tipID, best.dist, best.way.ID, describeFeature(best.way.Tags)),
	}
	locateAtNode(&f, snap, tipID)
	return f, true
}

// endsOnPurpose says whether a way's end node is tagged as a dead end or
// as leading somewhere the highway network does not go.
func endsOnPurpose(n *osmdata.Element) bool {
	v, _ := n.Tags.Get("noexit")
	return v == "yes" || leadsIndoors(n)
}

// mayJoin says whether two highways could share a node: not a bridge and
// a road beneath it, not different layers or levels.
func mayJoin(a, b *osmdata.Element) bool {
	if a == b {
		return true
	}
	for _, structure := range []string{"bridge", "tunnel"} {
		if tagIsSet(a.Tags, structure) != tagIsSet(b.Tags, structure) {
			return false
		}
	}
	return tagOr(a.Tags, "layer", "0") == tagOr(b.Tags, "layer", "0") &&
		tagOr(a.Tags, "level", "0") == tagOr(b.Tags, "level", "0")
}

// CloseNodes reports two nodes at exactly one position, where one is
// touched (or on a touched way) and both are on ways of one layer (a
// junction drawn twice, routing broken) or both tagged alike in height
// (a point mapped twice).
type CloseNodes struct{}

func (*CloseNodes) Name() string              { return "close_nodes" }
func (*CloseNodes) DefaultSeverity() Severity { return Warning }
func (*CloseNodes) DefaultWeight() int        { return 1 }

func (r *CloseNodes) Check(snap *Snapshot, touched []osmdata.Key) []Finding {
	if len(touched) == 0 {
		return nil
	}
	// Sorting every node by its exact position (fixed-point pair in one
	// word) brings the nodes sharing one together, without a map of the
	// whole neighbourhood.
	type placed struct {
		pos  uint64
		node *osmdata.Element
	}
	all := make([]placed, 0, len(snap.Nodes))
	for _, n := range snap.Nodes {
		all = append(all, placed{uint64(uint32(n.Lon))<<32 | uint64(uint32(n.Lat)), n})
	}
	slices.SortFunc(all, func(a, b placed) int {
		if c := cmp.Compare(a.pos, b.pos); c != 0 {
			return c
		}
		return cmp.Compare(a.node.ID, b.node.ID)
	})
	var groups [][]*osmdata.Element
	inGroup := map[int64]bool{}
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].pos == all[i].pos {
			j++
		}
		if j-i > 1 {
			g := make([]*osmdata.Element, 0, j-i)
			for _, p := range all[i:j] {
				g = append(g, p.node)
				inGroup[p.node.ID] = true
			}
			groups = append(groups, g)
		}
		i = j
	}
	if len(groups) == 0 {
		return nil
	}
	// A node counts when touched or on a touched way.
	candidate := map[int64]bool{}
	for _, k := range touched {
		switch k.Type {
		case osmdata.Node:
			if inGroup[k.ID] {
				candidate[k.ID] = true
			}
		case osmdata.Way:
			if w := snap.Ways[k.ID]; w != nil {
				for _, id := range w.Nodes {
					if inGroup[id] {
						candidate[id] = true
					}
				}
			}
		}
	}
	parents := parentWaysOf(snap, candidateGroups(groups, candidate), anyWay)
	var out []Finding
	for _, g := range groups {
		for i, a := range g {
			for _, b := range g[i+1:] {
				if !candidate[a.ID] && !candidate[b.ID] {
					continue
				}
				why := ""
				if w1, w2, ok := waysOnOneLayer(parents[a.ID], parents[b.ID]); ok {
					why = fmt.Sprintf("both on ways: way %d, way %d", w1.ID, w2.ID)
				} else if len(a.Tags) > 0 && len(b.Tags) > 0 && sameHeight(a.Tags, b.Tags) {
					why = "both tagged"
				} else {
					continue
				}
				f := Finding{
					Rule:     r.Name(),
					Severity: Warning,
					Elements: []osmdata.Key{a.Key(), b.Key()},
					Message:  fmt.Sprintf("node %d and node %d are at the same position (%s)", a.ID, b.ID, why),
				}
				locateAtNode(&f, snap, a.ID)
				out = append(out, f)
			}
		}
	}
	return out
}

// candidateGroups lists the nodes of the groups holding a candidate.
func candidateGroups(groups [][]*osmdata.Element, candidate map[int64]bool) map[int64]bool {
	ids := map[int64]bool{}
	for _, g := range groups {
		for _, n := range g {
			if candidate[n.ID] {
				for _, m := range g {
					ids[m.ID] = true
				}
				break
			}
		}
	}
	return ids
}

// waysOnOneLayer finds a way through each node on the same layer: nodes
// of a bridge and of the road under it may share a position, but two
// ways on one layer meeting there should share the node.
func waysOnOneLayer(as, bs []*osmdata.Element) (*osmdata.Element, *osmdata.Element, bool) {
	for _, a := range as {
		for _, b := range bs {
			if tagOr(a.Tags, "layer", "0") == tagOr(b.Tags, "layer", "0") {
				return a, b, true
			}
		}
	}
	return nil, nil, false
}

// sameHeight says whether two tagged points could be one feature: iD
// lets points share a place when layer, level or address unit tell them
// apart.
func sameHeight(a, b osmdata.Tags) bool {
	for _, k := range []string{"layer", "level", "addr:housenumber", "addr:unit"} {
		if tagOr(a, k, "0") != tagOr(b, k, "0") {
			return false
		}
	}
	return true
}

// UntaggedUnused reports a touched node with no tags used by no way and
// no relation, and a touched way with no tags in no relation: data that
// means nothing, usually left over from an edit.
type UntaggedUnused struct{}

func (*UntaggedUnused) Name() string              { return "untagged_unused" }
func (*UntaggedUnused) DefaultSeverity() Severity { return Warning }
func (*UntaggedUnused) DefaultWeight() int        { return 1 }

func (r *UntaggedUnused) Check(snap *Snapshot, touched []osmdata.Key) []Finding {
	// Untagged touched elements start as suspects; a way or relation
	// using one clears it.
	nodes := map[int64]bool{}
	ways := map[int64]bool{}
	var order []osmdata.Key
	for _, k := range touched {
		switch k.Type {
		case osmdata.Node:
			if n := snap.Nodes[k.ID]; n != nil && len(n.Tags) == 0 && !nodes[k.ID] {
				nodes[k.ID] = true
				order = append(order, k)
			}
		case osmdata.Way:
			if w := snap.Ways[k.ID]; w != nil && len(w.Tags) == 0 && !ways[k.ID] {
				ways[k.ID] = true
				order = append(order, k)
			}
		}
	}
	if len(order) == 0 {
		return nil
	}
	// Touched ways usually hold the touched nodes: look there first, and
	// through the whole neighbourhood only for what remains.
	for _, k := range touched {
		if k.Type != osmdata.Way || len(nodes) == 0 {
			continue
		}
		if w := snap.Ways[k.ID]; w != nil {
			for _, id := range w.Nodes {
				delete(nodes, id)
			}
		}
	}
	if len(nodes) > 0 {
		for _, w := range snap.Ways {
			for _, id := range w.Nodes {
				delete(nodes, id)
			}
			if len(nodes) == 0 {
				break
			}
		}
	}
	for _, rel := range snap.Relations {
		for _, m := range rel.Members {
			switch m.Type {
			case osmdata.Node:
				delete(nodes, m.Ref)
			case osmdata.Way:
				delete(ways, m.Ref)
			}
		}
	}
	var out []Finding
	for _, k := range order {
		f := Finding{Rule: r.Name(), Severity: Warning, Elements: []osmdata.Key{k}}
		switch {
		case k.Type == osmdata.Node && nodes[k.ID]:
			f.Message = fmt.Sprintf("node %d has no tags and is used by no way or relation", k.ID)
			locateAtNode(&f, snap, k.ID)
		case k.Type == osmdata.Way && ways[k.ID]:
			w := snap.Ways[k.ID]
			f.Message = fmt.Sprintf("way %d has no tags and is a member of no relation", k.ID)
			if len(w.Nodes) > 0 {
				locateAtNode(&f, snap, w.Nodes[0])
			}
		default:
			continue
		}
		out = append(out, f)
	}
	return out
}
