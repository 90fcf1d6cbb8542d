package bench

import (
	"fmt"
	"slices"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// mapBox is one box of the map scenario: where it is, and what the map
// call must answer for it, worked out from the file's elements without
// the store or the API (expectMap).
type mapBox struct {
	// target is the number of nodes in the box the search aimed at.
	target int
	// bbox is the request's parameter, and box what it means once parsed
	// as the API parses it.
	bbox string
	box  osmdata.Box
	want mapExpectation
}

// mapExpectation is what a correct map call returns for a box.
type mapExpectation struct {
	inBox               int // nodes inside the box
	nodes, ways, rels   int // elements of each type in the reply
	sample              osmdata.Element
	sampleOutsideTheBox bool
}

// denseCellDegrees is the grid the search for the densest point counts
// nodes in: a hundredth of a degree, about a kilometre.
const denseCellDegrees = 0.01

// findMapBoxes grows a square box around the densest point of nodes until
// it holds about each target number of nodes, never more than the map
// call's limit, and works out the expected reply for each.
func findMapBoxes(elements []osmdata.Element, targets []int) ([]mapBox, error) {
	var lats, lons []int32
	for i := range elements {
		if e := &elements[i]; e.Type == osmdata.Node && e.Visible {
			lats, lons = append(lats, e.Lat), append(lons, e.Lon)
		}
	}
	if len(lats) == 0 {
		return nil, fmt.Errorf("no nodes to find boxes in")
	}
	cLat, cLon := densestCell(lats, lons)
	idx := newMapIndex(elements)
	var out []mapBox
	for _, target := range targets {
		if target > storage.MaxMapNodes {
			return nil, fmt.Errorf("a box of %d nodes is over the map call's limit of %d", target, storage.MaxMapNodes)
		}
		// The number of nodes grows with the half-size; find the largest
		// half-size whose box holds at most target nodes.
		lo, hi := int32(0), int32(50_000_000) // 0 to 5 degrees
		for lo < hi {
			mid := lo + (hi-lo+1)/2
			if countInBox(lats, lons, squareBox(cLat, cLon, mid)) <= target {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		bbox := bboxParam(squareBox(cLat, cLon, lo))
		deg, err := osmdata.ParseBBox(bbox)
		if err != nil {
			return nil, fmt.Errorf("box %s: %w", bbox, err)
		}
		box := deg.Fixed()
		if box.AreaDegrees() > storage.MaxMapArea {
			return nil, fmt.Errorf("the box of %d nodes, %s, is %.3f square degrees, over the map call's %.2f",
				target, bbox, box.AreaDegrees(), storage.MaxMapArea)
		}
		want := idx.expect(box)
		if want.inBox < target*9/10 || want.inBox > storage.MaxMapNodes {
			return nil, fmt.Errorf("the box %s holds %d nodes, want about %d", bbox, want.inBox, target)
		}
		out = append(out, mapBox{target: target, bbox: bbox, box: box, want: want})
	}
	return out, nil
}

// densestCell is the centre of the grid cell holding the most nodes.
func densestCell(lats, lons []int32) (lat, lon int32) {
	const cell = int32(denseCellDegrees * osmdata.CoordScale)
	type key struct{ lat, lon int32 }
	counts := map[key]int{}
	best, bestN := key{}, -1
	for i := range lats {
		k := key{floorDiv(lats[i], cell), floorDiv(lons[i], cell)}
		counts[k]++
		if n := counts[k]; n > bestN || n == bestN && (k.lat < best.lat || k.lat == best.lat && k.lon < best.lon) {
			best, bestN = k, n
		}
	}
	return best.lat*cell + cell/2, best.lon*cell + cell/2
}

func floorDiv(a, b int32) int32 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func squareBox(lat, lon, half int32) osmdata.Box {
	return osmdata.Box{MinLat: lat - half, MaxLat: lat + half, MinLon: lon - half, MaxLon: lon + half}
}

func countInBox(lats, lons []int32, b osmdata.Box) int {
	n := 0
	for i := range lats {
		if b.Contains(lats[i], lons[i]) {
			n++
		}
	}
	return n
}

// bboxParam writes the box as the bbox parameter, in exact decimals.
func bboxParam(b osmdata.Box) string {
	return fixedDecimal(b.MinLon) + "," + fixedDecimal(b.MinLat) + "," + fixedDecimal(b.MaxLon) + "," + fixedDecimal(b.MaxLat)
}

func fixedDecimal(v int32) string {
	sign := ""
	a := int64(v)
	if a < 0 {
		sign, a = "-", -a
	}
	return fmt.Sprintf("%s%d.%07d", sign, a/osmdata.CoordScale, a%osmdata.CoordScale)
}

// mapIndex is the file's elements arranged for working out map replies in
// memory: cgimap's steps over plain maps and slices, sharing no code with
// the store's queries.
type mapIndex struct {
	nodes     map[int64]*osmdata.Element
	ways      []*osmdata.Element
	relations []*osmdata.Element
}

func newMapIndex(elements []osmdata.Element) *mapIndex {
	idx := &mapIndex{nodes: map[int64]*osmdata.Element{}}
	for i := range elements {
		e := &elements[i]
		if !e.Visible {
			continue
		}
		switch e.Type {
		case osmdata.Node:
			idx.nodes[e.ID] = e
		case osmdata.Way:
			idx.ways = append(idx.ways, e)
		case osmdata.Relation:
			idx.relations = append(idx.relations, e)
		}
	}
	return idx
}

// expect works out the map call's reply for box: the nodes in it, the
// ways using them, the other nodes of those ways, the relations with any
// of those nodes or ways as member, and the relations having one of those
// relations as member.
func (idx *mapIndex) expect(box osmdata.Box) mapExpectation {
	inBox := map[int64]bool{}
	for id, n := range idx.nodes {
		if box.Contains(n.Lat, n.Lon) {
			inBox[id] = true
		}
	}
	nodes := make(map[int64]bool, len(inBox))
	for id := range inBox {
		nodes[id] = true
	}
	ways := map[int64]bool{}
	for _, w := range idx.ways {
		if slices.ContainsFunc(w.Nodes, func(id int64) bool { return inBox[id] }) {
			ways[w.ID] = true
			for _, id := range w.Nodes {
				if idx.nodes[id] != nil {
					nodes[id] = true
				}
			}
		}
	}
	rels := map[int64]bool{}
	for _, r := range idx.relations {
		if slices.ContainsFunc(r.Members, func(m osmdata.Member) bool {
			return m.Type == osmdata.Node && nodes[m.Ref] || m.Type == osmdata.Way && ways[m.Ref]
		}) {
			rels[r.ID] = true
		}
	}
	parents := map[int64]bool{}
	for _, r := range idx.relations {
		if slices.ContainsFunc(r.Members, func(m osmdata.Member) bool { return m.Type == osmdata.Relation && rels[m.Ref] }) {
			parents[r.ID] = true
		}
	}
	for id := range parents {
		rels[id] = true
	}
	// The sample is the node of the reply with the most tags (the lowest
	// id among equals), preferring one outside the box, which only the
	// ways' step brings in.
	var sample *osmdata.Element
	outside := false
	for id := range nodes {
		n := idx.nodes[id]
		o := !inBox[id]
		if sample == nil || o && !outside || o == outside && (len(n.Tags) > len(sample.Tags) || len(n.Tags) == len(sample.Tags) && n.ID < sample.ID) {
			sample, outside = n, o
		}
	}
	want := mapExpectation{inBox: len(inBox), nodes: len(nodes), ways: len(ways), rels: len(rels), sampleOutsideTheBox: outside}
	if sample != nil {
		want.sample = *sample
	}
	return want
}
