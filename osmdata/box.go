package osmdata

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Box is a bounding box in 1e-7 degree units; all four edges are
// inclusive.
type Box struct {
	MinLat, MinLon, MaxLat, MaxLon int32
}

// Contains reports whether a position lies in the box, edges included.
func (b Box) Contains(lat, lon int32) bool {
	return lat >= b.MinLat && lat <= b.MaxLat && lon >= b.MinLon && lon <= b.MaxLon
}

// AreaDegrees is the box's area in square degrees, as the map call limits it.
func (b Box) AreaDegrees() float64 {
	return FixedToDegrees(b.MaxLat-b.MinLat) * FixedToDegrees(b.MaxLon-b.MinLon)
}

// ErrBoxFormat and ErrBoxRange carry cgimap's texts for a bad bbox
// parameter; the HTTP layer answers them with 400.
var (
	ErrBoxFormat = errors.New("The parameter bbox is required, and must be of the form min_lon,min_lat,max_lon,max_lat.")
	ErrBoxRange  = errors.New("The latitudes must be between -90 and 90, longitudes between -180 and 180 and the minima must be less than the maxima.")
)

// BoxDegrees is a box as given in a request, in degrees.
type BoxDegrees struct {
	MinLon, MinLat, MaxLon, MaxLat float64
}

// ParseBBox reads "min_lon,min_lat,max_lon,max_lat" as the OSM API takes it.
func ParseBBox(s string) (BoxDegrees, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return BoxDegrees{}, ErrBoxFormat
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		// "NaN" parses, and passes every comparison of the range check
		// below: it is no coordinate.
		if err != nil || math.IsNaN(f) {
			return BoxDegrees{}, ErrBoxFormat
		}
		v[i] = f
	}
	d := BoxDegrees{MinLon: v[0], MinLat: v[1], MaxLon: v[2], MaxLat: v[3]}
	if d.MinLon < -180 || d.MaxLon > 180 || d.MinLat < -90 || d.MaxLat > 90 ||
		d.MinLon > d.MaxLon || d.MinLat > d.MaxLat {
		return BoxDegrees{}, ErrBoxRange
	}
	return d, nil
}

// Area is the box's area in square degrees.
func (d BoxDegrees) Area() float64 { return (d.MaxLon - d.MinLon) * (d.MaxLat - d.MinLat) }

// Fixed converts the box to 1e-7 degree units truncating toward zero, as
// cgimap does, so a node exactly on an edge is inside.
func (d BoxDegrees) Fixed() Box {
	return Box{
		MinLat: CoordToFixed(d.MinLat), MinLon: CoordToFixed(d.MinLon),
		MaxLat: CoordToFixed(d.MaxLat), MaxLon: CoordToFixed(d.MaxLon),
	}
}

func (d BoxDegrees) String() string {
	return fmt.Sprintf("%g,%g,%g,%g", d.MinLon, d.MinLat, d.MaxLon, d.MaxLat)
}
