package osmdata_test

import (
	"errors"
	"math"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
)

// FuzzParseBBox checks the bbox parameter's parser on any text: no
// panic; a refusal is ErrBoxFormat or ErrBoxRange; a box accepted is a
// box of the world (finite, within ±180/±90, min <= max), its area is
// neither negative nor NaN, and in fixed point it stays ordered and
// within ±180/±90, so that a store never sees a box the check refused.
func FuzzParseBBox(f *testing.F) {
	for _, s := range []string{
		"-0.1,51.5,0,51.6", "-180,-90,180,90", "1,1,1,1", " 1.5e0 ,-2,+1.6,-1.9", "1,2,3", "1,2,3,4,5",
		"0x1p-2,0,1,1", "Inf,0,1,1", "-1e400,0,1,1", "179.99999999,89.99999999,180,90",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := osmdata.ParseBBox(s)
		if err != nil {
			if !errors.Is(err, osmdata.ErrBoxFormat) && !errors.Is(err, osmdata.ErrBoxRange) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		for _, v := range []float64{b.MinLon, b.MinLat, b.MaxLon, b.MaxLat} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%q accepted as %v", s, b)
			}
		}
		if b.MinLon < -180 || b.MaxLon > 180 || b.MinLat < -90 || b.MaxLat > 90 || b.MinLon > b.MaxLon || b.MinLat > b.MaxLat {
			t.Fatalf("%q accepted as %v", s, b)
		}
		if a := b.Area(); !(a >= 0) {
			t.Fatalf("%q: area %g", s, a)
		}
		x := b.Fixed()
		const lat, lon = 90 * osmdata.CoordScale, 180 * osmdata.CoordScale
		if x.MinLat > x.MaxLat || x.MinLon > x.MaxLon || x.MinLat < -lat || x.MaxLat > lat || x.MinLon < -lon || x.MaxLon > lon {
			t.Fatalf("%q accepted as %v, in fixed point %+v", s, b, x)
		}
	})
}
