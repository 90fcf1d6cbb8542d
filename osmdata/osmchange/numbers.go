package osmchange

import (
	"math"
	"strconv"
)

// numResult is std::from_chars's outcome, which decides cgimap's texts.
type numResult uint8

const (
	numOK      numResult = iota
	numInvalid           // errc::invalid_argument: no number at the start
	numRange             // errc::result_out_of_range
)

// parseInt reads a signed decimal integer as cgimap does with
// std::from_chars: an optional '-' (no '+', no spaces), at least one
// digit, and whatever follows the digits is ignored ("12abc" is 12).
func parseInt(b []byte) (int64, numResult) {
	i := 0
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	start := i
	var v uint64
	overflow := false
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		d := uint64(b[i] - '0')
		if v > (limit-d)/10 {
			overflow = true
		} else {
			v = v*10 + d
		}
	}
	if i == start {
		return 0, numInvalid
	}
	if overflow {
		return 0, numRange
	}
	if neg {
		return int64(-v), numOK
	}
	return int64(v), numOK
}

// parseFloat reads a decimal as std::from_chars(double) does for cgimap:
// an optional '-', then "inf", "infinity" or "nan" in any case, or
// digits with an optional fraction and exponent; whatever follows the
// longest such prefix is ignored. Results beyond float64, in either
// direction, are numRange, as libstdc++ reports them.
func parseFloat(b []byte) (float64, numResult) {
	i := 0
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	rest := b[i:]
	if hasPrefixFold(rest, "inf") {
		if neg {
			return math.Inf(-1), numOK
		}
		return math.Inf(1), numOK
	}
	if hasPrefixFold(rest, "nan") {
		return math.NaN(), numOK
	}
	j := i
	nonZero := false
	digits := 0
	for ; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
		digits++
		nonZero = nonZero || b[j] != '0'
	}
	if j < len(b) && b[j] == '.' {
		j++
		for ; j < len(b) && b[j] >= '0' && b[j] <= '9'; j++ {
			digits++
			nonZero = nonZero || b[j] != '0'
		}
	}
	if digits == 0 {
		return 0, numInvalid
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		k := j + 1
		if k < len(b) && (b[k] == '+' || b[k] == '-') {
			k++
		}
		if k < len(b) && b[k] >= '0' && b[k] <= '9' {
			for k < len(b) && b[k] >= '0' && b[k] <= '9' {
				k++
			}
			j = k
		}
	}
	f, err := strconv.ParseFloat(string(b[:j]), 64)
	if err != nil || (f == 0 && nonZero) {
		return 0, numRange
	}
	return f, numOK
}

func hasPrefixFold(b []byte, prefix string) bool {
	if len(b) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if b[i]|0x20 != prefix[i] {
			return false
		}
	}
	return true
}

// plainCoordinate reads the coordinates editors write, an optional '-',
// digits and at most seven decimals, straight into 1e-7 degree units:
// exactly the value parseFloat and rounding give, without the float.
// Anything else (exponents, more decimals, trailing text, out of range)
// is left to the general path and its texts.
func plainCoordinate(b []byte, limit int64) (int32, bool) {
	i := 0
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		i++
	}
	var whole int64
	digits := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if digits++; digits > 3 {
			return 0, false
		}
		whole = whole*10 + int64(b[i]-'0')
	}
	var frac int64
	decimals := 0
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if decimals++; decimals > 7 {
				return 0, false
			}
			frac = frac*10 + int64(b[i]-'0')
		}
	}
	if i != len(b) || digits+decimals == 0 {
		return 0, false
	}
	for ; decimals < 7; decimals++ {
		frac *= 10
	}
	v := whole*1e7 + frac
	if v > limit {
		return 0, false
	}
	if neg {
		v = -v
	}
	return int32(v), true
}
