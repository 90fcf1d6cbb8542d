package validate

import (
	"math"

	"github.com/paulmach/orb"

	"github.com/geocommuns/geocommuns/osmdata"
)

// segmentGrid buckets the segments of chosen ways by a lon/lat grid over
// the snapshot, so that finding what a segment may cross costs the
// segments near it, not every way of the snapshot. The buckets are one
// flat array filled by counting sort: building it allocates three slices
// however many segments there are.
type segmentGrid struct {
	segs []gridSegment
	// wayRange holds where each indexed way's segments are in segs.
	wayRange map[int64][2]int32
	// Cell (x, y) holds entries[start[y*nx+x]:start[y*nx+x+1]].
	minLon, minLat float64
	cell           float64
	nx, ny         int
	start          []int32
	entries        []int32
	// overflow holds segments too long to bucket; every query sees them.
	overflow []int32
	// seen and stamp deduplicate a query's results without a map: a
	// segment in several cells is returned once.
	seen  []uint32
	stamp uint32
}

// gridSegment is the segment from way.Nodes[index] to way.Nodes[index+1].
type gridSegment struct {
	way   *osmdata.Element
	index int
	a, b  orb.Point
}

// gridCellDegrees is about 20 m by 28 m in the Pyrenees: small enough
// that a cell holds few segments of a town, large enough that most
// segments fall in one or two cells.
const gridCellDegrees = 0.00025

// maxGridCells bounds the grid of a changeset spread over a country: its
// cells grow instead.
const maxGridCells = 1 << 18

// maxCellsPerSegment bounds what one very long segment (a straight
// boundary across a valley) costs; beyond it the segment goes in the
// overflow list.
const maxCellsPerSegment = 64

// newSegmentGrid indexes the segments of the ways include accepts that
// reach into area, the box the queries will ask about: a neighbourhood
// holds whole ways, and a national road through it would otherwise
// stretch the grid over the country.
func newSegmentGrid(snap *Snapshot, include func(*osmdata.Element) bool, area orb.Bound) *segmentGrid {
	g := &segmentGrid{cell: gridCellDegrees, wayRange: map[int64][2]int32{}}
	bound := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	var ways []*osmdata.Element
	size := 0
	for _, w := range snap.Ways {
		if len(w.Nodes) >= 2 && include(w) {
			ways = append(ways, w)
			size += len(w.Nodes) - 1
		}
	}
	g.segs = make([]gridSegment, 0, size)
ways:
	for _, w := range ways {
		first := int32(len(g.segs))
		prev := snap.Nodes[w.Nodes[0]]
		if prev == nil {
			continue
		}
		a := nodePoint(prev)
		for i := 1; i < len(w.Nodes); i++ {
			n := snap.Nodes[w.Nodes[i]]
			if n == nil {
				// A way with a node the snapshot lacks is left out
				// whole: half a way would cross things it does not.
				g.segs = g.segs[:first]
				continue ways
			}
			b := nodePoint(n)
			if w.Nodes[i] != w.Nodes[i-1] && area.Intersects(orb.Bound{Min: orb.Point{min(a[0], b[0]), min(a[1], b[1])}, Max: orb.Point{max(a[0], b[0]), max(a[1], b[1])}}) {
				g.segs = append(g.segs, gridSegment{way: w, index: i - 1, a: a, b: b})
				bound = bound.Extend(a).Extend(b)
			}
			a = b
		}
		g.wayRange[w.ID] = [2]int32{first, int32(len(g.segs))}
	}
	g.seen = make([]uint32, len(g.segs))
	if len(g.segs) == 0 {
		return g
	}
	g.minLon, g.minLat = bound.Min[0], bound.Min[1]
	w, h := bound.Max[0]-bound.Min[0], bound.Max[1]-bound.Min[1]
	for (w/g.cell+1)*(h/g.cell+1) > maxGridCells {
		g.cell *= 2
	}
	g.nx, g.ny = int(w/g.cell)+1, int(h/g.cell)+1
	counts := make([]int32, g.nx*g.ny+1)
	g.eachSegmentCell(func(_ int32, c int) { counts[c+1]++ })
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1]
	}
	g.start = counts
	g.entries = make([]int32, counts[len(counts)-1])
	fill := make([]int32, g.nx*g.ny)
	copy(fill, counts[:len(fill)])
	g.eachSegmentCell(func(seg int32, c int) {
		g.entries[fill[c]] = seg
		fill[c]++
	})
	return g
}

// eachSegmentCell calls fn with every segment and each cell it is
// bucketed in, and rebuilds overflow with the segments too long to bucket.
func (g *segmentGrid) eachSegmentCell(fn func(seg int32, cell int)) {
	g.overflow = g.overflow[:0]
	for i := range g.segs {
		s := &g.segs[i]
		x0, y0, x1, y1, ok := g.cellRange(s.a, s.b)
		if !ok || (x1-x0+1)*(y1-y0+1) > maxCellsPerSegment {
			g.overflow = append(g.overflow, int32(i))
			continue
		}
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				fn(int32(i), y*g.nx+x)
			}
		}
	}
}

// cellRange returns the cells the box of a–b covers, clipped to the grid;
// false when the box misses the grid entirely.
func (g *segmentGrid) cellRange(a, b orb.Point) (x0, y0, x1, y1 int, ok bool) {
	x0 = int(math.Floor((min(a[0], b[0]) - g.minLon) / g.cell))
	x1 = int(math.Floor((max(a[0], b[0]) - g.minLon) / g.cell))
	y0 = int(math.Floor((min(a[1], b[1]) - g.minLat) / g.cell))
	y1 = int(math.Floor((max(a[1], b[1]) - g.minLat) / g.cell))
	if x1 < 0 || y1 < 0 || x0 >= g.nx || y0 >= g.ny {
		return 0, 0, 0, 0, false
	}
	return max(x0, 0), max(y0, 0), min(x1, g.nx-1), min(y1, g.ny-1), true
}

// segmentsOf returns the indexed segments of a way (none if it is not
// indexed). The slice is the grid's: read it, do not keep it.
func (g *segmentGrid) segmentsOf(w *osmdata.Element) []gridSegment {
	r, ok := g.wayRange[w.ID]
	if !ok {
		return nil
	}
	return g.segs[r[0]:r[1]]
}

// near appends to buf, once each, the indexed segments whose cells
// overlap the box of a–b, and returns it. Callers reuse buf between
// queries, so that a query allocates nothing.
func (g *segmentGrid) near(a, b orb.Point, buf []*gridSegment) []*gridSegment {
	buf = buf[:0]
	if len(g.segs) == 0 {
		return buf
	}
	g.stamp++
	if g.stamp == 0 {
		clear(g.seen)
		g.stamp = 1
	}
	if x0, y0, x1, y1, ok := g.cellRange(a, b); ok {
		for y := y0; y <= y1; y++ {
			row := y * g.nx
			for _, idx := range g.entries[g.start[row+x0]:g.start[row+x1+1]] {
				if g.seen[idx] != g.stamp {
					g.seen[idx] = g.stamp
					buf = append(buf, &g.segs[idx])
				}
			}
		}
	}
	for _, idx := range g.overflow {
		if g.seen[idx] != g.stamp {
			g.seen[idx] = g.stamp
			buf = append(buf, &g.segs[idx])
		}
	}
	return buf
}
