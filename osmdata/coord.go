package osmdata

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// CoordScale converts degrees to the fixed-point integers OSM stores.
const CoordScale = 1e7

// CoordToFixed converts degrees to 1e-7 degree units, truncating toward
// zero as cgimap does for bounding boxes.
func CoordToFixed(deg float64) int32 {
	return int32(math.Trunc(deg * CoordScale))
}

// RoundCoordToFixed converts degrees to 1e-7 degree units, rounding to
// the nearest unit. Use it for element coordinates read from text, where
// 0.1234567 must not become 1234566 through binary floating point.
func RoundCoordToFixed(deg float64) int32 {
	return int32(math.Round(deg * CoordScale))
}

// ParseFixedCoord reads a decimal coordinate exactly into 1e-7 degree
// units, without a detour through float64 where the text allows.
func ParseFixedCoord(s string) (int32, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("invalid coordinate %q", s)
	}
	return RoundCoordToFixed(f), nil
}

// FormatFixedCoord writes a fixed-point coordinate as decimal degrees with
// up to seven decimals and no trailing zeros, as osmium writes them.
func FormatFixedCoord(v int32) string {
	neg := v < 0
	u := int64(v)
	if neg {
		u = -u
	}
	whole := u / CoordScale
	frac := u % CoordScale
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(strconv.FormatInt(whole, 10))
	if frac != 0 {
		s := fmt.Sprintf("%07d", frac)
		b.WriteByte('.')
		b.WriteString(strings.TrimRight(s, "0"))
	}
	return b.String()
}

// FixedToDegrees converts 1e-7 degree units to degrees.
func FixedToDegrees(v int32) float64 { return float64(v) / CoordScale }
