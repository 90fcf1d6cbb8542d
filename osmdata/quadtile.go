package osmdata

import (
	"math"
	"sort"
)

// Quadtiles as openstreetmap.org computes them: 16-bit x and y tile
// numbers over the whole world, interleaved x first into one 32-bit
// number. Both storage backends index nodes by this value, and both
// compute it (for writes and for queries) with the functions here only.

const tileSteps = 65535

func tileX(lon float64) uint32 { return uint32(math.Round((lon + 180) * tileSteps / 360)) }
func tileY(lat float64) uint32 { return uint32(math.Round((lat + 90) * tileSteps / 180)) }

func interleave(x, y uint32) uint32 {
	var tile uint32
	for i := 15; i >= 0; i-- {
		tile = (tile << 1) | ((x >> i) & 1)
		tile = (tile << 1) | ((y >> i) & 1)
	}
	return tile
}

// QuadTile returns the tile of a position given in 1e-7 degree units.
func QuadTile(lat, lon int32) uint32 {
	return interleave(tileX(FixedToDegrees(lon)), tileY(FixedToDegrees(lat)))
}

// TileRange is an inclusive range of quadtile numbers.
type TileRange struct{ Lo, Hi uint32 }

// maxTileRangeTiles bounds how many tiles TilesForBox enumerates before
// it falls back to one range covering them all: the box itself is always
// filtered on coordinates too, so a coarser cover is correct, only slower.
const maxTileRangeTiles = 1 << 20

// TilesForBox returns sorted, merged ranges of the tiles that cover box.
// Adjacent tile numbers are merged, so SQLite (which has no array
// parameters) gets a short list of BETWEEN clauses and PostgreSQL a short
// array.
func TilesForBox(b Box) []TileRange {
	x0, x1 := tileX(FixedToDegrees(b.MinLon)), tileX(FixedToDegrees(b.MaxLon))
	y0, y1 := tileY(FixedToDegrees(b.MinLat)), tileY(FixedToDegrees(b.MaxLat))
	n := uint64(x1-x0+1) * uint64(y1-y0+1)
	if n > maxTileRangeTiles {
		return []TileRange{{interleave(x0, y0), interleave(x1, y1)}}
	}
	tiles := make([]uint32, 0, n)
	for x := x0; x <= x1; x++ {
		for y := y0; y <= y1; y++ {
			tiles = append(tiles, interleave(x, y))
		}
	}
	sort.Slice(tiles, func(i, j int) bool { return tiles[i] < tiles[j] })
	var out []TileRange
	for _, t := range tiles {
		if len(out) > 0 && out[len(out)-1].Hi+1 == t {
			out[len(out)-1].Hi = t
			continue
		}
		out = append(out, TileRange{t, t})
	}
	return out
}
