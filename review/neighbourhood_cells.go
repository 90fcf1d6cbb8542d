package review

import "math/bits"

// maxBitmapCells bounds the bitmap of a cellSet (8 MB); a changeset
// spread wider is marked in a map instead.
const maxBitmapCells = 1 << 26

// cellSet is the set of marked grid cells. Over the area of a changeset
// of one town or region it is a bitmap: marking tens of thousands of
// segments sets hundreds of thousands of cells, and a bit costs a
// fraction of a map insert. A changeset spread over a continent falls
// back to a map of the marked cells only.
type cellSet struct {
	lo     gridCell // the bitmap's first cell
	nx, ny int64
	bits   []uint64
	// outside holds the cells beyond the bitmap (all of them without one),
	// packed (cellKey).
	outside map[uint64]struct{}
}

func newCellSet(lo, hi gridCell) cellSet {
	s := cellSet{lo: lo, outside: map[uint64]struct{}{}}
	nx, ny := hi.x-lo.x+1, hi.y-lo.y+1
	if nx > 0 && ny > 0 && nx <= maxBitmapCells/ny {
		s.nx, s.ny = nx, ny
		s.bits = make([]uint64, (nx*ny+63)/64)
	}
	return s
}

// index is the bit of cell (x, y), false when the bitmap does not cover
// it.
func (s *cellSet) index(x, y int64) (int64, bool) {
	x, y = x-s.lo.x, y-s.lo.y
	if x < 0 || y < 0 || x >= s.nx || y >= s.ny {
		return 0, false
	}
	return y*s.nx + x, true
}

func (s *cellSet) mark(x, y int64) {
	if i, ok := s.index(x, y); ok {
		s.bits[i>>6] |= 1 << (i & 63)
		return
	}
	s.outside[cellKey(x, y)] = struct{}{}
}

func (s *cellSet) has(x, y int64) bool {
	if i, ok := s.index(x, y); ok {
		return s.bits[i>>6]&(1<<(i&63)) != 0
	}
	_, ok := s.outside[cellKey(x, y)]
	return ok
}

// each calls fn with every marked cell, in no particular order.
func (s *cellSet) each(fn func(gridCell)) {
	for w, word := range s.bits {
		for word != 0 {
			i := int64(w)*64 + int64(bits.TrailingZeros64(word))
			word &= word - 1
			fn(gridCell{s.lo.x + i%s.nx, s.lo.y + i/s.nx})
		}
	}
	for key := range s.outside {
		fn(gridCell{int64(int32(key >> 32)), int64(int32(key))})
	}
}

// len is the number of marked cells.
func (s *cellSet) len() int {
	n := len(s.outside)
	for _, word := range s.bits {
		n += bits.OnesCount64(word)
	}
	return n
}
