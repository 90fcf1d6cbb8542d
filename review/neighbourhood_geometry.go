package review

import (
	"math"

	"github.com/geocommuns/geocommuns/osmdata"
)

// fineCellLat is the side of the proximity grid's cells in latitude,
// 1e-7 degrees (about 22 m): close to the margin, so that a node in a
// marked cell is at most a cell's diagonal further than the margin.
const fineCellLat = 2000

// proximity marks the grid cells within the margin of some geometry, so
// that "is this node near?" is a map lookup and the nodes to read are a
// bounded number of boxes around the marked cells.
type proximity struct {
	cellLat, cellLon     int64
	marginLat, marginLon int64
	cells                map[gridCell]struct{}
}

type gridCell struct{ x, y int64 }

// newProximity sizes the cells and the margin (NearDistanceMetres) for
// the latitude lat, where a degree of longitude is shorter.
func newProximity(lat int32) *proximity {
	cos := max(math.Cos(osmdata.FixedToDegrees(lat)*math.Pi/180), 0.05)
	marginLat := float64(NearDistanceMetres) / metresPerDegreeLat * osmdata.CoordScale
	return &proximity{
		cellLat:   fineCellLat,
		cellLon:   int64(math.Ceil(fineCellLat / cos)),
		marginLat: int64(math.Ceil(marginLat)),
		marginLon: int64(math.Ceil(marginLat / cos)),
		cells:     map[gridCell]struct{}{},
	}
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
			p.cells[gridCell{x, y}] = struct{}{}
		}
	}
}

// maxSegmentSteps bounds the points marked along one segment; a segment
// longer than that many half cells (about 110 km) is marked with gaps.
const maxSegmentSteps = 10000

// markSegment marks the cells within the margin of a segment, sampled
// every half cell: with a margin close to a cell, the marked cells of
// consecutive samples overlap, so none along the segment is skipped.
func (p *proximity) markSegment(lat1, lon1, lat2, lon2 int32) {
	dLat, dLon := float64(lat2)-float64(lat1), float64(lon2)-float64(lon1)
	steps := int(math.Ceil(max(math.Abs(dLat)/float64(p.cellLat/2), math.Abs(dLon)/float64(p.cellLon/2))))
	steps = min(max(steps, 1), maxSegmentSteps)
	for i := 0; i <= steps; i++ {
		f := float64(i) / float64(steps)
		p.markPoint(int32(float64(lat1)+dLat*f), int32(float64(lon1)+dLon*f))
	}
}

// contains says whether a position falls in a marked cell.
func (p *proximity) contains(lat, lon int32) bool {
	_, ok := p.cells[p.cellOf(int64(lat), int64(lon))]
	return ok
}

// boxes covers the marked cells with at most limit boxes: the cells are
// grouped into blocks of 2^k × 2^k cells, k growing until there are few
// enough blocks, and each block's box is the bounding box of its marked
// cells. Nodes a box returns outside marked cells are for contains to
// drop.
func (p *proximity) boxes(limit int) []osmdata.Box {
	for shift := uint(3); ; shift++ {
		blocks := map[gridCell]*osmdata.Box{}
		for c := range p.cells {
			b := gridCell{c.x >> shift, c.y >> shift}
			minLat, minLon := clampLat(c.y*p.cellLat), clampLon(c.x*p.cellLon)
			maxLat, maxLon := clampLat((c.y+1)*p.cellLat-1), clampLon((c.x+1)*p.cellLon-1)
			box, ok := blocks[b]
			if !ok {
				blocks[b] = &osmdata.Box{MinLat: minLat, MinLon: minLon, MaxLat: maxLat, MaxLon: maxLon}
				continue
			}
			box.MinLat, box.MinLon = min(box.MinLat, minLat), min(box.MinLon, minLon)
			box.MaxLat, box.MaxLon = max(box.MaxLat, maxLat), max(box.MaxLon, maxLon)
		}
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
