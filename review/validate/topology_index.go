package validate

import (
	"math"

	"github.com/paulmach/orb"

	"github.com/geocommuns/geocommuns/osmdata"
)

// segmentGrid buckets the segments of chosen ways by a fixed lon/lat grid,
// so that finding what a segment may cross costs the segments near it,
// not every way of the snapshot.
type segmentGrid struct {
	cells map[gridCell][]int32
	segs  []gridSegment
	// seen and stamp deduplicate a query's results without a map: a
	// segment in several cells is returned once.
	seen  []uint32
	stamp uint32
}

type gridCell struct{ x, y int32 }

// gridSegment is the segment from way.Nodes[index] to way.Nodes[index+1].
type gridSegment struct {
	way   *osmdata.Element
	index int
	a, b  orb.Point
}

// gridCellDegrees is about 40 m by 55 m in the Pyrenees: small enough
// that a cell holds few segments of a town, large enough that most
// segments fall in one or two cells.
const gridCellDegrees = 0.0005

// maxCellsPerSegment bounds what one very long segment (a straight
// boundary across a valley) costs; beyond it the segment goes in one
// overflow list checked by every query.
const maxCellsPerSegment = 256

var overflowCell = gridCell{math.MinInt32, math.MinInt32}

func newSegmentGrid(snap *Snapshot, include func(*osmdata.Element) bool) *segmentGrid {
	g := &segmentGrid{cells: map[gridCell][]int32{}}
	for _, w := range snap.Ways {
		if len(w.Nodes) < 2 || !include(w) {
			continue
		}
		pts, ok := wayPoints(snap, w)
		if !ok {
			continue
		}
		for i := 0; i+1 < len(pts); i++ {
			if w.Nodes[i] == w.Nodes[i+1] {
				continue
			}
			idx := int32(len(g.segs))
			g.segs = append(g.segs, gridSegment{way: w, index: i, a: pts[i], b: pts[i+1]})
			g.forCells(pts[i], pts[i+1], func(c gridCell) { g.cells[c] = append(g.cells[c], idx) })
		}
	}
	g.seen = make([]uint32, len(g.segs))
	return g
}

func (g *segmentGrid) forCells(a, b orb.Point, fn func(gridCell)) {
	x0, x1 := cellIndex(min(a[0], b[0])), cellIndex(max(a[0], b[0]))
	y0, y1 := cellIndex(min(a[1], b[1])), cellIndex(max(a[1], b[1]))
	if (int64(x1)-int64(x0)+1)*(int64(y1)-int64(y0)+1) > maxCellsPerSegment {
		fn(overflowCell)
		return
	}
	for x := x0; x <= x1; x++ {
		for y := y0; y <= y1; y++ {
			fn(gridCell{x, y})
		}
	}
}

func cellIndex(deg float64) int32 { return int32(math.Floor(deg / gridCellDegrees)) }

// near calls fn once for every indexed segment whose cells overlap the
// box of a–b.
func (g *segmentGrid) near(a, b orb.Point, fn func(*gridSegment)) {
	g.stamp++
	if g.stamp == 0 {
		clear(g.seen)
		g.stamp = 1
	}
	visit := func(c gridCell) {
		for _, idx := range g.cells[c] {
			if g.seen[idx] == g.stamp {
				continue
			}
			g.seen[idx] = g.stamp
			fn(&g.segs[idx])
		}
	}
	g.forCells(a, b, visit)
	visit(overflowCell)
}
