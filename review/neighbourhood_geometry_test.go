package review

import (
	"math"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
)

// offset moves a position by metres north and east, on a local flat map.
func offset(lat, lon int32, north, east float64) (int32, int32) {
	cos := math.Cos(osmdata.FixedToDegrees(lat) * math.Pi / 180)
	return lat + int32(north/metresPerDegreeLat*osmdata.CoordScale),
		lon + int32(east/(metresPerDegreeLat*cos)*osmdata.CoordScale)
}

// TestProximityAlongSegments marks a long diagonal segment west of
// Greenwich and south of the equator (negative coordinates round the
// other way) and a point, then checks what counts as near: everything
// within the margin, nothing 100 m away, and every marked cell inside one
// of the bounded boxes. It does so with the marks inside the area given
// to newProximity (a bitmap), partly outside it (bitmap and map) and far
// from it (map only).
func TestProximityAlongSegments(t *testing.T) {
	for _, origin := range [][2]float64{{42.5, 1.52}, {-33.9, -70.6}, {0.00001, -0.00001}} {
		lat0, lon0 := osmdata.RoundCoordToFixed(origin[0]), osmdata.RoundCoordToFixed(origin[1])
		lat1, lon1 := offset(lat0, lon0, 3000, 4000) // 5 km north-east
		pLat, pLon := offset(lat0, lon0, -2000, 0)
		for _, area := range []osmdata.Box{
			{MinLat: min(pLat, lat0), MinLon: lon0, MaxLat: lat1, MaxLon: lon1},
			{MinLat: lat0, MinLon: lon0, MaxLat: lat0 + 10000, MaxLon: lon0 + 10000},
			{MinLat: 800_000_000, MinLon: 1_700_000_000, MaxLat: 800_000_000, MaxLon: 1_700_000_000},
		} {
			checkProximity(t, origin, area, lat0, lon0, lat1, lon1, pLat, pLon)
		}
	}
}

func checkProximity(t *testing.T, origin [2]float64, area osmdata.Box, lat0, lon0, lat1, lon1, pLat, pLon int32) {
	t.Helper()
	{
		p := newProximity(lat0, area)
		p.markSegment(lat0, lon0, lat1, lon1)
		p.markPoint(pLat, pLon)

		for f := 0.0; f <= 1; f += 0.01 {
			lat := lat0 + int32(f*float64(lat1-lat0))
			lon := lon0 + int32(f*float64(lon1-lon0))
			// Perpendicular to the segment: (-0.8, 0.6) of (north, east).
			for _, d := range []float64{-NearDistanceMetres, 0, NearDistanceMetres} {
				nLat, nLon := offset(lat, lon, d*0.6, -d*0.8)
				if !p.contains(nLat, nLon) {
					t.Errorf("origin %v, area %+v: %.0f m off the segment at %.2f is not near", origin, area, d, f)
				}
			}
			for _, d := range []float64{-100, 100} {
				nLat, nLon := offset(lat, lon, d*0.6, -d*0.8)
				if p.contains(nLat, nLon) {
					t.Errorf("origin %v, area %+v: %.0f m off the segment at %.2f is near", origin, area, d, f)
				}
			}
		}
		for _, d := range [][2]float64{{NearDistanceMetres, 0}, {0, -NearDistanceMetres}, {-14, 14}} {
			if nLat, nLon := offset(pLat, pLon, d[0], d[1]); !p.contains(nLat, nLon) {
				t.Errorf("origin %v, area %+v: %v m from the point is not near", origin, area, d)
			}
		}
		if nLat, nLon := offset(pLat, pLon, 0, 100); p.contains(nLat, nLon) {
			t.Errorf("origin %v, area %+v: 100 m east of the point is near", origin, area)
		}

		for _, limit := range []int{1, 4, 256} {
			boxes := p.boxes(limit)
			if len(boxes) == 0 || len(boxes) > limit {
				t.Errorf("origin %v, area %+v: %d boxes for a limit of %d", origin, area, len(boxes), limit)
			}
			reported := false
			p.cells.each(func(c gridCell) {
				lat, lon := int32(c.y*p.cellLat), int32(c.x*p.cellLon)
				inside := false
				for _, b := range boxes {
					inside = inside || b.Contains(lat, lon)
				}
				if !inside && !reported {
					t.Errorf("origin %v, area %+v, limit %d: marked cell %+v is in no box", origin, area, limit, c)
					reported = true
				}
			})
		}
	}
}
