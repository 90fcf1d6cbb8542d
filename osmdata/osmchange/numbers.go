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
