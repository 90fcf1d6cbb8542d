package review

import (
	"math"

	"github.com/geocommuns/geocommuns/osmdata"
)

// fineCellLat is the side of the proximity grid's cells in latitude,
// 1e-7 degrees (about 22 m): a node in a marked cell is at most a cell's
// diagonal further than the margin. Halving the cells brought in 5 % fewer
// nodes on the bench's changeset for four times the marking.
const fineCellLat = 2000

// proximity marks the grid cells within the margin of some geometry, so
// that "is this node near?" is a map lookup and the nodes to read are a
// bounded number of boxes around the marked cells.
type proximity struct {
	cellLat, cellLon     int64
	marginLat, marginLon int64
	cells                cellSet
}

type gridCell struct{ x, y int64 }

// cellKey packs a cell's numbers, each well within 32 bits (a cell is
// more than 1e-7 degrees wide).
func cellKey(x, y int64) uint64 { return uint64(uint32(int32(x)))<<32 | uint64(uint32(int32(y))) }

// newProximity sizes the cells and the margin (NearDistanceMetres) for
// the latitude lat, where a degree of longitude is shorter. The marks
// will fall within the margin of area, whose cells a bitmap holds when
// there are few enough of them.
func newProximity(lat int32, area osmdata.Box) *proximity {
	cos := max(math.Cos(osmdata.FixedToDegrees(lat)*math.Pi/180), 0.05)
	marginLat := float64(NearDistanceMetres) / metresPerDegreeLat * osmdata.CoordScale
	p := &proximity{
		cellLat:   fineCellLat,
		cellLon:   int64(math.Ceil(fineCellLat / cos)),
		marginLat: int64(math.Ceil(marginLat)),
		marginLon: int64(math.Ceil(marginLat / cos)),
	}
	lo := p.cellOf(int64(area.MinLat)-p.marginLat, int64(area.MinLon)-p.marginLon)
	hi := p.cellOf(int64(area.MaxLat)+p.marginLat, int64(area.MaxLon)+p.marginLon)
	p.cells = newCellSet(lo, hi)
	return p
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func (p *proximity) cellOf(lat, lon int64) gridCell {
	return gridCell{floorDiv(lon, p.cellLon), floorDiv(lat, p.cellLat)}
}

// markPoint marks the cells within the margin of a position.
func (p *proximity) markPoint(lat, lon int32) {
	lo := p.cellOf(int64(lat)-p.marginLat, int64(lon)-p.marginLon)
	hi := p.cellOf(int64(lat)+p.marginLat, int64(lon)+p.marginLon)
	for x := lo.x; x <= hi.x; x++ {
		for y := lo.y; y <= hi.y; y++ {
			p.cells.mark(x, y)
		}
	}
}

// minBlockShift makes the smallest blocks 16 × 16 cells (about 180 m):
// smaller ones would cost a read each for little area saved.
const minBlockShift = 4

// maxSegmentRows bounds the rows of cells one segment marks; a longer
// segment (over about 100 km of latitude) is marked at its ends only.
const maxSegmentRows = 10000

// markSegment marks the cells within the margin of a segment: row by row
// of cells, the part of the segment within the margin of the row, grown
// by the margin sideways. That is the segment grown by a box rather than
// a disc, a little more than the margin at the corners.
func (p *proximity) markSegment(lat1, lon1, lat2, lon2 int32) {
	aLat, aLon, bLat, bLon := float64(lat1), float64(lon1), float64(lat2), float64(lon2)
	yLo := floorDiv(int64(min(lat1, lat2))-p.marginLat, p.cellLat)
	yHi := floorDiv(int64(max(lat1, lat2))+p.marginLat, p.cellLat)
	if yHi-yLo > maxSegmentRows {
		p.markPoint(lat1, lon1)
		p.markPoint(lat2, lon2)
		return
	}
	for y := yLo; y <= yHi; y++ {
		bandLo := float64(y*p.cellLat - p.marginLat)
		bandHi := float64((y+1)*p.cellLat - 1 + p.marginLat)
		tLo, tHi := 0.0, 1.0
		if aLat == bLat {
			if aLat < bandLo || aLat > bandHi {
				continue
			}
		} else {
			t1, t2 := (bandLo-aLat)/(bLat-aLat), (bandHi-aLat)/(bLat-aLat)
			tLo, tHi = max(tLo, min(t1, t2)), min(tHi, max(t1, t2))
			if tLo > tHi {
				continue
			}
		}
		lonA, lonB := aLon+(bLon-aLon)*tLo, aLon+(bLon-aLon)*tHi
		xLo := floorDiv(int64(math.Floor(min(lonA, lonB)))-p.marginLon, p.cellLon)
		xHi := floorDiv(int64(math.Ceil(max(lonA, lonB)))+p.marginLon, p.cellLon)
		for x := xLo; x <= xHi; x++ {
			p.cells.mark(x, y)
		}
	}
}

// contains says whether a position falls in a marked cell.
func (p *proximity) contains(lat, lon int32) bool {
	c := p.cellOf(int64(lat), int64(lon))
	return p.cells.has(c.x, c.y)
}

// boxes covers the marked cells with at most limit boxes: the cells are
// grouped into blocks of 2^k × 2^k cells, k growing from minBlockShift
// until there are few enough blocks, and each block's box is the bounding
// box of its marked cells. Nodes a box returns outside marked cells are
// for contains to drop.
func (p *proximity) boxes(limit int) []osmdata.Box {
	for shift := uint(minBlockShift); ; shift++ {
		blocks := map[gridCell]*osmdata.Box{}
		p.cells.each(func(c gridCell) {
			// Shifted from non-negative numbers, so that the cells either
			// side of the equator or of Greenwich share blocks too.
			b := gridCell{(c.x + 1<<32) >> shift, (c.y + 1<<32) >> shift}
			minLat, minLon := clampLat(c.y*p.cellLat), clampLon(c.x*p.cellLon)
			maxLat, maxLon := clampLat((c.y+1)*p.cellLat-1), clampLon((c.x+1)*p.cellLon-1)
			box, ok := blocks[b]
			if !ok {
				blocks[b] = &osmdata.Box{MinLat: minLat, MinLon: minLon, MaxLat: maxLat, MaxLon: maxLon}
				return
			}
			box.MinLat, box.MinLon = min(box.MinLat, minLat), min(box.MinLon, minLon)
			box.MaxLat, box.MaxLon = max(box.MaxLat, maxLat), max(box.MaxLon, maxLon)
		})
		if len(blocks) <= limit || shift >= 40 {
			out := make([]osmdata.Box, 0, len(blocks))
			for _, b := range blocks {
				out = append(out, *b)
			}
			return out
		}
	}
}

func clampLat(v int64) int32 {
	return int32(min(max(v, -90*osmdata.CoordScale), 90*osmdata.CoordScale))
}
func clampLon(v int64) int32 {
	return int32(min(max(v, -180*osmdata.CoordScale), 180*osmdata.CoordScale))
}
