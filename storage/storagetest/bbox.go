package storagetest

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

const (
	maxLat = 90 * osmdata.CoordScale
	maxLon = 180 * osmdata.CoordScale
)

// namedBox is a box the suite queries and fills with nodes on and around
// its edges.
type namedBox struct {
	name string
	box  osmdata.Box
}

// edgeBoxes are the boxes where fixed-point and quadtile arithmetic goes
// wrong: signs, the prime meridian and equator, the world's edges, boxes
// of one point, and an edge on a quadtile boundary.
func edgeBoxes() []namedBox {
	tb := tileBoundaryLon(deg(47.5), deg(8.5))
	return []namedBox{
		{"PrimeMeridianEquator", osmdata.Box{MinLat: deg(-0.5), MinLon: deg(-0.5), MaxLat: deg(0.5), MaxLon: deg(0.5)}},
		{"NegativeLongitudes", osmdata.Box{MinLat: deg(37.8228020), MinLon: deg(-122.2558590), MaxLat: deg(37.8271410), MaxLon: deg(-122.2503660)}},
		{"SouthWest", osmdata.Box{MinLat: deg(-34.6158), MinLon: deg(-58.4333), MaxLat: deg(-34.5987), MaxLon: deg(-58.3816)}},
		{"EastOfAntimeridian", osmdata.Box{MinLat: deg(-17.8), MinLon: deg(179.9), MaxLat: deg(-17.7), MaxLon: maxLon}},
		{"WestOfAntimeridian", osmdata.Box{MinLat: deg(-17.8), MinLon: -maxLon, MaxLat: deg(-17.7), MaxLon: deg(-179.9)}},
		{"NorthPole", osmdata.Box{MinLat: deg(89.9), MinLon: deg(-0.0001), MaxLat: maxLat, MaxLon: deg(0.0001)}},
		{"SouthPoleCorner", osmdata.Box{MinLat: -maxLat, MinLon: deg(179.9999), MaxLat: deg(-89.9999), MaxLon: maxLon}},
		{"Point", osmdata.Box{MinLat: 123456789, MinLon: -98765432, MaxLat: 123456789, MaxLon: -98765432}},
		{"OneUnitWide", osmdata.Box{MinLat: deg(46.2044), MinLon: deg(6.1432), MaxLat: deg(46.2144), MaxLon: deg(6.1432) + 1}},
		{"QuadtileBoundary", osmdata.Box{MinLat: deg(47.49), MinLon: tb, MaxLat: deg(47.51), MaxLon: tb + deg(0.01)}},
		{"World", osmdata.Box{MinLat: -maxLat, MinLon: -maxLon, MaxLat: maxLat, MaxLon: maxLon}},
	}
}

// tileBoundaryLon finds the first longitude east of lon (at lat) whose
// quadtile differs from lon's, so a box edge can sit exactly on it.
func tileBoundaryLon(lat, lon int32) int32 {
	t0 := osmdata.QuadTile(lat, lon)
	lo, hi := lon, lon+deg(0.01)
	for lo+1 < hi {
		mid := lo + (hi-lo)/2
		if osmdata.QuadTile(lat, mid) == t0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

type position struct{ lat, lon int32 }

func (p position) valid() bool {
	return p.lat >= -maxLat && p.lat <= maxLat && p.lon >= -maxLon && p.lon <= maxLon
}

// edgePositions are the corners, the middle of each edge and the centre
// of b, each also one unit outside every edge it is on.
func edgePositions(b osmdata.Box) []position {
	midLat := b.MinLat + (b.MaxLat-b.MinLat)/2
	midLon := b.MinLon + (b.MaxLon-b.MinLon)/2
	var out []position
	for _, lat := range []int32{b.MinLat, midLat, b.MaxLat} {
		for _, lon := range []int32{b.MinLon, midLon, b.MaxLon} {
			out = append(out, position{lat, lon})
			dLat, dLon := int32(0), int32(0)
			if lat == b.MinLat {
				dLat = -1
			} else if lat == b.MaxLat {
				dLat = 1
			}
			if lon == b.MinLon {
				dLon = -1
			} else if lon == b.MaxLon {
				dLon = 1
			}
			if dLat != 0 {
				out = append(out, position{lat + dLat, lon})
			}
			if dLon != 0 {
				out = append(out, position{lat, lon + dLon})
			}
			if dLat != 0 && dLon != 0 {
				out = append(out, position{lat + dLat, lon + dLon})
			}
		}
	}
	valid := out[:0]
	for _, p := range out {
		if p.valid() {
			valid = append(valid, p)
		}
	}
	return valid
}

// bboxDataset places nodes on and around every edge box, then moves some
// and deletes others so the query must use current, visible positions.
// It returns the versions to apply, in order, and the current visible
// nodes they leave.
func bboxDataset() (batches [][]osmdata.Element, current map[int64]osmdata.Element) {
	current = map[int64]osmdata.Element{}
	seen := map[position]bool{}
	var first []osmdata.Element
	id := int64(1)
	for _, nb := range edgeBoxes() {
		if nb.name == "World" {
			continue // its edges are the other boxes' extremes
		}
		for _, p := range edgePositions(nb.box) {
			if seen[p] {
				continue
			}
			seen[p] = true
			n := newNode(id, 1, p.lat, p.lon, "box", nb.name)
			first = append(first, n)
			current[id] = n
			id++
		}
	}
	// Ten nodes in the middle of the prime meridian box: four are deleted,
	// three move out of it, and three nodes from elsewhere move in.
	centre := position{deg(0.1), deg(-0.1)}
	movers := make([]osmdata.Element, 10)
	for i := range movers {
		n := newNode(id, 1, centre.lat+int32(i), centre.lon-int32(i), "mover", fmt.Sprint(i))
		movers[i] = n
		first = append(first, n)
		current[id] = n
		id++
	}
	var second []osmdata.Element
	for i, n := range movers {
		switch {
		case i < 4:
			d := deletion(n)
			second = append(second, d)
			delete(current, n.ID)
		case i < 7:
			m := nextVersion(n)
			m.Lat, m.Lon = deg(10)+int32(i), deg(-10)-int32(i)
			second = append(second, m)
			current[m.ID] = m
		}
	}
	var arrivals []osmdata.Element
	for _, n := range first {
		if v, _ := n.Tags.Get("box"); v == "SouthWest" && len(arrivals) < 3 {
			arrivals = append(arrivals, n)
		}
	}
	for i, src := range arrivals {
		m := nextVersion(src)
		m.Lat, m.Lon = deg(0.2)+int32(i), deg(0.2)-int32(i)
		second = append(second, m)
		current[m.ID] = m
	}
	return [][]osmdata.Element{first, second}, current
}

// bruteForce is what NodesInBox must return: every current visible node
// the box contains, by id.
func bruteForce(current map[int64]osmdata.Element, b osmdata.Box) []osmdata.Element {
	var out []osmdata.Element
	for _, n := range current {
		if b.Contains(n.Lat, n.Lon) {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func testNodesInBox(t *testing.T, open Opener) {
	t.Run("Boxes", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		batches, current := bboxDataset()
		for _, b := range batches {
			mustApply(t, s, b...)
		}
		for _, nb := range edgeBoxes() {
			t.Run(nb.name, func(t *testing.T) {
				t.Parallel()
				want := bruteForce(current, nb.box)
				// A box's own corners, edge middles and centre are inside:
				// nine nodes, fewer where two of them coincide.
				if nb.name != "World" && nb.name != "Point" && len(want) < 6 {
					t.Fatalf("fixture: only %d nodes inside %+v", len(want), nb.box)
				}
				got, err := s.NodesInBox(t.Context(), nb.box, 100000)
				if err != nil {
					t.Fatalf("NodesInBox(%+v): %v", nb.box, err)
				}
				checkElements(t, fmt.Sprintf("NodesInBox(%+v), edges inclusive", nb.box), got, want)
			})
		}
		t.Run("RandomBoxes", func(t *testing.T) {
			t.Parallel()
			// Boxes whose edges sit on, or one unit beside, the nodes'
			// own coordinates, between random pairs of nodes.
			const seed = 20240521
			rng := rand.New(rand.NewPCG(seed, seed))
			var ps []position
			for _, n := range current {
				ps = append(ps, position{n.Lat, n.Lon})
			}
			sort.Slice(ps, func(i, j int) bool {
				if ps[i].lat != ps[j].lat {
					return ps[i].lat < ps[j].lat
				}
				return ps[i].lon < ps[j].lon
			})
			failures := 0
			for i := 0; i < 300 && failures < 5; i++ {
				a, b := ps[rng.IntN(len(ps))], ps[rng.IntN(len(ps))]
				if rng.IntN(2) == 0 {
					// Mostly nearby pairs: far pairs span most of the world.
					j := rng.IntN(len(ps))
					a, b = ps[j], ps[min(len(ps)-1, j+rng.IntN(8))]
				}
				box := osmdata.Box{
					MinLat: min(a.lat, b.lat) + int32(rng.IntN(3)-1), MaxLat: max(a.lat, b.lat) + int32(rng.IntN(3)-1),
					MinLon: min(a.lon, b.lon) + int32(rng.IntN(3)-1), MaxLon: max(a.lon, b.lon) + int32(rng.IntN(3)-1),
				}
				box.MinLat, box.MaxLat = max(box.MinLat, -maxLat), min(box.MaxLat, maxLat)
				box.MinLon, box.MaxLon = max(box.MinLon, -maxLon), min(box.MaxLon, maxLon)
				if box.MinLat > box.MaxLat || box.MinLon > box.MaxLon {
					continue
				}
				got, err := s.NodesInBox(t.Context(), box, 100000)
				if err != nil {
					t.Fatalf("NodesInBox(%+v): %v", box, err)
				}
				want := bruteForce(current, box)
				if fmt.Sprint(idsOf(got)) != fmt.Sprint(idsOf(want)) {
					failures++
					t.Errorf("seed %d box %d: NodesInBox(%+v) = %v, want %v", seed, i, box, idsOf(got), idsOf(want))
				}
			}
		})
	})

	t.Run("Limit", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		box := osmdata.Box{MinLat: deg(48.85), MinLon: deg(2.29), MaxLat: deg(48.86), MaxLon: deg(2.30)}
		var els []osmdata.Element
		const inside = 30
		// Ids interleave inside and outside nodes, and are applied in
		// descending order, so neither order of insertion nor of ids
		// lines up with the box.
		for i := 2 * inside; i >= 1; i-- {
			lat := box.MinLat + int32(i)*1000
			if i%2 == 0 {
				lat = box.MaxLat + int32(i)
			}
			els = append(els, newNode(int64(i), 1, lat, box.MinLon+int32(i)))
		}
		mustApply(t, s, els...)
		all, err := s.NodesInBox(t.Context(), box, 1000)
		if err != nil {
			t.Fatalf("NodesInBox: %v", err)
		}
		if len(all) != inside {
			t.Fatalf("NodesInBox(limit 1000) = %d nodes, want %d", len(all), inside)
		}
		for _, limit := range []int{1, 2, inside - 1, inside, inside + 1, 50000} {
			got, err := s.NodesInBox(t.Context(), box, limit)
			if err != nil {
				t.Fatalf("NodesInBox(limit %d): %v", limit, err)
			}
			// limit+1 rows tell the map call "more than limit" without
			// reading every node.
			want := min(inside, limit+1)
			if len(got) != want {
				t.Errorf("NodesInBox(limit %d) = %d nodes, want %d", limit, len(got), want)
			}
			seen := map[int64]bool{}
			for i, n := range got {
				if !box.Contains(n.Lat, n.Lon) || seen[n.ID] {
					t.Errorf("NodesInBox(limit %d): node %d outside the box or twice", limit, n.ID)
				}
				seen[n.ID] = true
				if i > 0 && got[i-1].ID >= n.ID {
					t.Errorf("NodesInBox(limit %d): not sorted by id: %v", limit, idsOf(got))
					break
				}
			}
		}
		// The map call's own contract: over the limit is an error.
		if _, err := storage.Map(t.Context(), s, box, inside-1); !isTooManyNodes(err, inside-1) {
			t.Errorf("Map(limit %d) with %d nodes = %v, want TooManyNodesError", inside-1, inside, err)
		}
		if _, err := storage.Map(t.Context(), s, box, inside); err != nil {
			t.Errorf("Map(limit %d) with %d nodes = %v, want success", inside, inside, err)
		}
	})
}
