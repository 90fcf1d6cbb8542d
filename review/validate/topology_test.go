package validate

import (
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"

	"github.com/geocommuns/geocommuns/osmdata"
)

// The Valira d'Orient (river 6242747) runs 24 m from the second node of
// residentialRoad, across the segment between these two nodes.
const (
	valira                     = 6242747
	valiraSegmentA, valiraSegB = 52168824, 52168828
	roadNodeNearValira         = 262466981
)

// acrossRiver is where roadNodeNearValira lands when dragged 5 m past
// the middle of the Valira's segment, on the far side from where it is.
func acrossRiver(t *testing.T, d *dataset) orb.Point {
	a, b := d.point(t, valiraSegmentA), d.point(t, valiraSegB)
	mid := orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}
	p := d.point(t, roadNodeNearValira)
	// The river's normal, in metres east and north, pointing away from
	// the node's side.
	east := (b[0] - a[0]) * 111_320 * math.Cos(mid[1]*math.Pi/180)
	north := (b[1] - a[1]) * 111_320
	nx, ny := -north, east
	pe := (p[0] - mid[0]) * 111_320 * math.Cos(mid[1]*math.Pi/180)
	pn := (p[1] - mid[1]) * 111_320
	if nx*pe+ny*pn > 0 {
		nx, ny = -nx, -ny
	}
	l := math.Hypot(nx, ny)
	return offset(mid, 5*nx/l, 5*ny/l)
}

func TestCrossingWaysRoadDraggedOverRiver(t *testing.T) {
	d := loadAndorra(t)
	if v, _ := d.Ways[valira].Tags.Get("waterway"); v != "river" {
		t.Fatalf("way %d is not the river the test expects: %v", valira, d.Ways[valira].Tags)
	}
	to := acrossRiver(t, d)
	e := newEdit(d)
	e.moveNode(t, roadNodeNearValira, to)
	got, _ := introduced(t, &CrossingWays{}, e)
	// The dragged road also runs through a building now; only the river
	// matters here.
	f := requireOne(t, about(got, wayKey(valira)), []osmdata.Key{wayKey(valira), wayKey(residentialRoad)}, to, 10)
	if !strings.Contains(f.Message, "waterway=river × highway=residential") {
		t.Errorf("message %q does not name what crosses", f.Message)
	}
	if f.Severity != Warning {
		t.Errorf("severity %s, want warning", f.Severity)
	}

	// The same drag on a road tagged as a bridge is legitimate.
	bridge := newEdit(d)
	bridge.moveNode(t, roadNodeNearValira, to)
	bridge.addTag(t, wayKey(residentialRoad), "bridge", "yes")
	if got, _ := introduced(t, &CrossingWays{}, bridge); len(about(got, wayKey(valira))) != 0 {
		t.Errorf("a bridge over the river reported: %s", describeFindings(got))
	}
}

func TestCrossingWaysNewBuildingOverRoad(t *testing.T) {
	d := loadAndorra(t)
	e, building, centre := buildingOverRoad(t, d)
	got, _ := introduced(t, &CrossingWays{}, e)
	var onRoad []Finding
	for _, f := range got {
		if f.Elements[0] == wayKey(residentialRoad) {
			onRoad = append(onRoad, f)
		}
	}
	f := requireOne(t, onRoad, []osmdata.Key{wayKey(residentialRoad), wayKey(building)}, centre, 10)
	if !strings.Contains(f.Message, "highway=residential × building=yes") {
		t.Errorf("message %q does not name what crosses", f.Message)
	}
}

// buildingOverRoad creates a 12 m square building centred on the middle
// of residentialRoad's first segment, which it crosses.
func buildingOverRoad(t *testing.T, d *dataset) (e *edit, building int64, centre orb.Point) {
	road := d.Ways[residentialRoad]
	a, b := d.point(t, road.Nodes[0]), d.point(t, road.Nodes[1])
	centre = orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}
	e = newEdit(d)
	var corners []int64
	for _, c := range [][2]float64{{-6, -6}, {6, -6}, {6, 6}, {-6, 6}} {
		corners = append(corners, e.createNode(offset(centre, c[0], c[1])))
	}
	return e, e.createWay(append(corners, corners[0]), tag("building=yes")), centre
}

// Andorra's residential way 6183573 crosses the stream 392404414 with
// neither a shared node nor a culvert tunnel.
func TestCrossingWaysPresentBeforeIsNotIntroduced(t *testing.T) {
	d := loadAndorra(t)
	const road, stream = 6183573, 392404414
	pair := []osmdata.Key{wayKey(road), wayKey(stream)}

	e := newEdit(d)
	e.addTag(t, wayKey(road), "surface", "asphalt")
	got, after := introduced(t, &CrossingWays{}, e)
	if len(got) != 0 {
		t.Errorf("a crossing present before reported as introduced: %s", describeFindings(got))
	}
	if !hasFindingAbout(after, pair) {
		t.Errorf("the rule does not see the crossing of way %d and way %d at all: %s", road, stream, describeFindings(after))
	}

	// A new footpath beside them, crossing neither, is not blamed for it.
	p := d.point(t, d.Ways[road].Nodes[0])
	near := newEdit(d)
	n1, n2 := near.createNode(offset(p, 30, 30)), near.createNode(offset(p, 40, 40))
	near.createWay([]int64{n1, n2}, tag("highway=footway"))
	if got, after := introduced(t, &CrossingWays{}, near); len(got) != 0 || hasFindingAbout(after, pair) {
		t.Errorf("a footway beside the crossing reported: %s", describeFindings(after))
	}
}

// about keeps the findings naming k.
func about(fs []Finding, k osmdata.Key) []Finding {
	var out []Finding
	for _, f := range fs {
		for _, e := range f.Elements {
			if e == k {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

func hasFindingAbout(fs []Finding, keys []osmdata.Key) bool {
	for _, f := range fs {
		if joinKeys(f.Elements) == joinKeys(keys) {
			return true
		}
	}
	return false
}

// farFromEverything is the first spot (scanning Andorra west to east,
// south to north) with no node within 150 m: bare mountainside.
func farFromEverything(t *testing.T, d *dataset) orb.Point {
	for lon := 1.45; lon < 1.75; lon += 0.005 {
		for lat := 42.45; lat < 42.64; lat += 0.005 {
			p := orb.Point{lon, lat}
			if !nodeWithin(t, d, p, 150) {
				return p
			}
		}
	}
	t.Fatal("no spot in Andorra is 150 m from every node")
	return orb.Point{}
}

func nodeWithin(t *testing.T, d *dataset, p orb.Point, metres float64) bool {
	reach := int32(math.Ceil(metres/(111_320*gridCellDegrees*math.Cos(p[1]*math.Pi/180)))) + 1
	c := pointCell(p)
	for x := c.x - reach; x <= c.x+reach; x++ {
		for y := c.y - reach; y <= c.y+reach; y++ {
			for _, id := range d.nodeCells[gridCell{x, y}] {
				if geo.Distance(p, d.point(t, id)) < metres {
					return true
				}
			}
		}
	}
	return false
}

// openStreetSegment returns the first segment of at least 40 m of a
// residential street (no bridge, tunnel or layer) whose middle has no
// node within 45 m: room to draw beside it.
func openStreetSegment(t *testing.T, d *dataset) (street *osmdata.Element, a, b orb.Point) {
	for _, id := range sortedIDs(d.Ways) {
		w := d.Ways[id]
		if v, _ := w.Tags.Get("highway"); v != "residential" || tagIsSet(w.Tags, "bridge") || tagIsSet(w.Tags, "tunnel") || tagIsSet(w.Tags, "layer") {
			continue
		}
		for i := 0; i+1 < len(w.Nodes); i++ {
			a, b := d.point(t, w.Nodes[i]), d.point(t, w.Nodes[i+1])
			if geo.Distance(a, b) >= 40 && !nodeWithin(t, d, orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}, 18) {
				return w, a, b
			}
		}
	}
	t.Fatal("Andorra has no long open street segment")
	return nil, orb.Point{}, orb.Point{}
}

func TestTopologyDisconnectedHighway(t *testing.T) {
	d := loadAndorra(t)
	p := farFromEverything(t, d)

	e := newEdit(d)
	a, b := e.createNode(p), e.createNode(offset(p, 40, 0))
	path := e.createWay([]int64{a, b}, tag("highway=footway"))
	got, _ := introduced(t, &DisconnectedHighway{}, e)
	requireOne(t, got, []osmdata.Key{wayKey(path)}, p, 0.1)

	// Two new paths joined to each other only are one island.
	c := e.createNode(offset(p, 40, 40))
	second := e.createWay([]int64{b, c}, tag("highway=path"))
	got, _ = introduced(t, &DisconnectedHighway{}, e)
	requireOne(t, got, []osmdata.Key{wayKey(path), wayKey(second)}, p, 0.1)

	// A path starting on an existing road is connected.
	joined := newEdit(d)
	start := d.Ways[residentialRoad].Nodes[1]
	end := joined.createNode(offset(d.point(t, start), 0, 30))
	joined.createWay([]int64{start, end}, tag("highway=footway"))
	if got, _ := introduced(t, &DisconnectedHighway{}, joined); len(got) != 0 {
		t.Errorf("a footway from a road reported disconnected: %s", describeFindings(got))
	}

	// Andorra's footway 29376448 joins no highway; retagging it is not
	// disconnecting it.
	const island = 29376448
	pre := newEdit(d)
	pre.addTag(t, wayKey(island), "surface", "gravel")
	got, after := introduced(t, &DisconnectedHighway{}, pre)
	if len(got) != 0 {
		t.Errorf("a footway disconnected before reported as introduced: %s", describeFindings(got))
	}
	if !hasFindingAbout(after, []osmdata.Key{wayKey(island)}) {
		t.Errorf("the rule does not see way %d as disconnected: %s", island, describeFindings(after))
	}
}

// shortServiceRoad is a new service road drawn up to a street and
// stopping short of it.
type shortServiceRoad struct {
	edit         *edit
	service, tip int64
	street       *osmdata.Element
	tipAt        orb.Point
}

// serviceRoadShortOfStreet draws a 40 m service road at right angles
// towards the middle of openStreetSegment, its end metres short of it.
func serviceRoadShortOfStreet(t *testing.T, d *dataset, metres float64) shortServiceRoad {
	street, a, b := openStreetSegment(t, d)
	mid := orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}
	east := (b[0] - a[0]) * 111_320 * math.Cos(mid[1]*math.Pi/180)
	north := (b[1] - a[1]) * 111_320
	l := math.Hypot(east, north)
	nx, ny := -north/l, east/l
	r := shortServiceRoad{edit: newEdit(d), street: street, tipAt: offset(mid, metres*nx, metres*ny)}
	far := r.edit.createNode(offset(mid, 40*nx, 40*ny))
	r.tip = r.edit.createNode(r.tipAt)
	r.service = r.edit.createWay([]int64{far, r.tip}, tag("highway=service"))
	return r
}

func TestTopologyAlmostJunction(t *testing.T) {
	d := loadAndorra(t)
	short := serviceRoadShortOfStreet(t, d, 3)
	got, _ := introduced(t, NewAlmostJunction(), short.edit)
	f := requireOne(t, got, []osmdata.Key{wayKey(short.service), nodeKey(short.tip), short.street.Key()}, short.tipAt, 0.1)
	if !strings.Contains(f.Message, "3.0 m") {
		t.Errorf("message %q does not say how far the end is", f.Message)
	}

	// 8 m short is beyond iD's 5 m, but within a threshold of 10.
	short8 := serviceRoadShortOfStreet(t, d, 8)
	e8, service8 := short8.edit, short8.service
	if got, _ := introduced(t, NewAlmostJunction(), e8); len(got) != 0 {
		t.Errorf("an end 8 m away reported with the 5 m default: %s", describeFindings(got))
	}
	if got, _ := introduced(t, &AlmostJunction{ExtendMetres: 10}, e8); len(got) != 1 || got[0].Elements[0] != wayKey(service8) {
		t.Errorf("an end 8 m away not reported with a 10 m threshold: %s", describeFindings(got))
	}
	if err := (&AlmostJunction{ExtendMetres: 0}).CheckSettings(); err == nil {
		t.Error("a threshold of 0 m accepted")
	}

	// Andorra's path 423849557 ends 1.6 m from track 309170958;
	// retagging the path is not what brought it there.
	const path, track, end = 423849557, 309170958, 4233722684
	pre := newEdit(d)
	pre.addTag(t, wayKey(path), "surface", "dirt")
	got, after := introduced(t, NewAlmostJunction(), pre)
	if len(got) != 0 {
		t.Errorf("an almost-junction present before reported as introduced: %s", describeFindings(got))
	}
	if !hasFindingAbout(after, []osmdata.Key{wayKey(path), nodeKey(end), wayKey(track)}) {
		t.Errorf("the rule does not see way %d ending near way %d: %s", path, track, describeFindings(after))
	}
}

// amenityMappedTwice creates a copy of Andorra's first amenity point
// (on no way, in no relation) at its very position.
func amenityMappedTwice(t *testing.T, d *dataset) (e *edit, poi *osmdata.Element, dup int64) {
	for _, id := range sortedIDs(d.Nodes) {
		n := d.Nodes[id]
		if _, ok := n.Tags.Get("amenity"); ok && len(d.parentWays[id]) == 0 && len(d.memberOf[n.Key()]) == 0 {
			poi = n
			break
		}
	}
	if poi == nil {
		t.Fatal("Andorra has no amenity point")
	}
	e = newEdit(d)
	return e, poi, e.createNode(nodePoint(poi), poi.Tags...)
}

func TestTopologyCloseNodes(t *testing.T) {
	d := loadAndorra(t)
	// A point of interest mapped again at the very same place.
	e, poi, dup := amenityMappedTwice(t, d)
	got, _ := introduced(t, &CloseNodes{}, e)
	requireOne(t, got, []osmdata.Key{poi.Key(), nodeKey(dup)}, nodePoint(poi), 0.1)

	// A new road drawn through the position of a street's node without
	// joining it.
	joint := d.Ways[residentialRoad].Nodes[1]
	p := d.point(t, joint)
	road := newEdit(d)
	over := road.createNode(p)
	road.createWay([]int64{road.createNode(offset(p, -30, 5)), over, road.createNode(offset(p, 30, -5))}, tag("highway=service"))
	got, _ = introduced(t, &CloseNodes{}, road)
	f := requireOne(t, got, []osmdata.Key{nodeKey(joint), nodeKey(over)}, p, 0.1)
	if !strings.Contains(f.Message, "both on ways") {
		t.Errorf("message %q does not say why", f.Message)
	}

	// Andorra's nodes 4178821213 and 4178821214 share a position with
	// like tags; retagging one keeps a problem it did not make.
	const first, second = 4178821213, 4178821214
	pre := newEdit(d)
	pre.addTag(t, nodeKey(first), "check_date", "2026-11-29")
	got, after := introduced(t, &CloseNodes{}, pre)
	if len(got) != 0 {
		t.Errorf("nodes at one place before reported as introduced: %s", describeFindings(got))
	}
	if !hasFindingAbout(after, []osmdata.Key{nodeKey(first), nodeKey(second)}) {
		t.Errorf("the rule does not see nodes %d and %d: %s", first, second, describeFindings(after))
	}
}

func TestTopologyUntaggedUnused(t *testing.T) {
	d := loadAndorra(t)
	p := farFromEverything(t, d)
	e := newEdit(d)
	lone := e.createNode(p)
	got, _ := introduced(t, &UntaggedUnused{}, e)
	requireOne(t, got, []osmdata.Key{nodeKey(lone)}, p, 0.1)

	b := fourCornerBuilding(t, d)
	stripped := newEdit(d)
	stripped.modify(t, b.Key(), false, func(w *osmdata.Element) { w.Tags = nil })
	got, _ = introduced(t, &UntaggedUnused{}, stripped)
	requireOne(t, got, []osmdata.Key{b.Key()}, d.point(t, b.Nodes[0]), 0.1)

	// A new untagged node on a way is a vertex, not litter.
	vertex := newEdit(d)
	mid := vertex.createNode(offset(d.point(t, d.Ways[residentialRoad].Nodes[0]), 1, 1))
	vertex.modify(t, wayKey(residentialRoad), false, func(w *osmdata.Element) {
		w.Nodes = append([]int64{w.Nodes[0], mid}, w.Nodes[1:]...)
	})
	if got, _ := introduced(t, &UntaggedUnused{}, vertex); len(got) != 0 {
		t.Errorf("a vertex of a road reported: %s", describeFindings(got))
	}

	// Andorra's way 370840540 has no tags and no relation; moving one of
	// its nodes does not make it so.
	const bare = 370840540
	pre := newEdit(d)
	pre.modify(t, wayKey(bare), false, func(w *osmdata.Element) {
		for i, j := 0, len(w.Nodes)-1; i < j; i, j = i+1, j-1 {
			w.Nodes[i], w.Nodes[j] = w.Nodes[j], w.Nodes[i]
		}
	})
	got, after := introduced(t, &UntaggedUnused{}, pre)
	if len(got) != 0 {
		t.Errorf("an untagged way present before reported as introduced: %s", describeFindings(got))
	}
	if !hasFindingAbout(after, []osmdata.Key{wayKey(bare)}) {
		t.Errorf("the rule does not see way %d: %s", bare, describeFindings(after))
	}
}

// The segment grid must not lose a crossing: on a town's neighbourhood,
// the rule finds exactly the pairs that comparing every segment of every
// pair of ways finds.
func TestCrossingWaysGridMatchesEveryPair(t *testing.T) {
	d := loadAndorra(t)
	e, _ := townEdit(t, d, 3000)
	_, after := e.snapshots()
	touched := e.touched()

	got := map[string]bool{}
	for _, f := range (&CrossingWays{}).Check(after, touched) {
		got[joinKeys(f.Elements)] = true
	}

	features := crossingFeatures(after)
	affected := waysAffectedBy(after, touched, func(w *osmdata.Element) bool { return features[w.ID].kind != "" })
	want := map[string]bool{}
	for _, w1 := range affected {
		p1, ok := wayPoints(after, w1)
		if !ok {
			continue
		}
		for _, w2 := range after.Ways {
			f2 := features[w2.ID]
			if w2 == w1 || f2.kind == "" || legitimateCrossing(features[w1.ID], f2) {
				continue
			}
			p2, ok := wayPoints(after, w2)
			if !ok {
				continue
			}
			if crossesAnywhere(w1.Nodes, p1, w2.Nodes, p2) {
				want[joinKeys(sortKeys([]osmdata.Key{w1.Key(), w2.Key()}))] = true
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("the town has no crossing to compare")
	}
	for k := range want {
		if !got[k] {
			t.Errorf("the rule misses the crossing of %s", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("the rule reports %s, which no pair of segments shows", k)
		}
	}
	t.Logf("%d touched elements, %d crossing pairs", len(touched), len(want))
}

func crossesAnywhere(ids1 []int64, p1 []orb.Point, ids2 []int64, p2 []orb.Point) bool {
	for i := 0; i+1 < len(p1); i++ {
		for j := 0; j+1 < len(p2); j++ {
			if ids1[i] == ids1[i+1] || ids2[j] == ids2[j+1] {
				continue
			}
			if ids1[i] == ids2[j] || ids1[i] == ids2[j+1] || ids1[i+1] == ids2[j] || ids1[i+1] == ids2[j+1] {
				continue
			}
			if _, ok := segmentIntersection(p1[i], p1[i+1], p2[j], p2[j+1]); ok {
				return true
			}
		}
	}
	return false
}
