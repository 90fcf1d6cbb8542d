package rebase

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// lcsLength is the textbook dynamic programme, slow and obviously right,
// to hold the Myers diff to a shortest edit script.
func lcsLength(a, b []int64) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			if a[i] == b[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(cur[j], prev[j+1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func randomSequence(r *rand.Rand, n, alphabet int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = int64(1 + r.IntN(alphabet))
	}
	return s
}

// mutate makes a few random insertions, removals and replacements.
func mutate(r *rand.Rand, s []int64, changes, alphabet int) []int64 {
	s = slices.Clone(s)
	for range changes {
		at := r.IntN(len(s) + 1)
		switch r.IntN(3) {
		case 0:
			s = slices.Insert(s, at, int64(1+r.IntN(alphabet)))
		case 1:
			if at < len(s) {
				s = slices.Delete(s, at, at+1)
			}
		case 2:
			if at < len(s) {
				s[at] = int64(1 + r.IntN(alphabet))
			}
		}
	}
	return s
}

func TestEditsAreAShortestScript(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	check := func(base, changed []int64) {
		t.Helper()
		hunks := edits(base, changed)
		if got := applyHunks(base, 0, len(base), hunks); !slices.Equal(got, changed) {
			t.Fatalf("edits(%v, %v) = %v rebuild %v", base, changed, hunks, got)
		}
		removed := 0
		for i, h := range hunks {
			removed += h.end - h.start
			if h.start == h.end && len(h.with) == 0 {
				t.Fatalf("edits(%v, %v): empty hunk %v", base, changed, h)
			}
			if i > 0 && hunks[i-1].end >= h.start {
				t.Fatalf("edits(%v, %v): hunks %v and %v touch; they should be one", base, changed, hunks[i-1], h)
			}
		}
		if kept, lcs := len(base)-removed, lcsLength(base, changed); kept != lcs {
			t.Fatalf("edits(%v, %v) keeps %d items, the longest common subsequence has %d", base, changed, kept, lcs)
		}
	}
	for range 3000 {
		alphabet := 1 + r.IntN(6)
		base := randomSequence(r, r.IntN(14), alphabet)
		check(base, randomSequence(r, r.IntN(14), alphabet))
		check(base, mutate(r, base, 1+r.IntN(4), alphabet))
	}
	// Long lists (a way near the 2,000-node limit, a large relation) with
	// edits spread along them.
	for range 20 {
		base := randomSequence(r, 500+r.IntN(2500), 1_000_000)
		check(base, mutate(r, base, 1+r.IntN(40), 1_000_000))
		check(base, mutate(r, base, 1+r.IntN(40), 3))
	}
	check(nil, nil)
	check(nil, []int64{1})
	check([]int64{1}, nil)
}

// TestEditsPastTheSearchBound: lists differing in more places than the
// search looks through still get a valid script, coarser in the middle
// but keeping what they share at both ends.
func TestEditsPastTheSearchBound(t *testing.T) {
	n := 4 * maxSearchSteps
	base := make([]int64, n)
	reordered := make([]int64, n)
	for i := range base {
		base[i] = int64(i)
		reordered[i] = int64(n - 1 - i)
	}
	changed := slices.Concat(base[:10], reordered, base[n-10:])
	hunks := edits(base, changed)
	if got := applyHunks(base, 0, len(base), hunks); !slices.Equal(got, changed) {
		t.Fatalf("edits past the search bound do not rebuild the changed list")
	}
	if first, last := hunks[0], hunks[len(hunks)-1]; first.start < 10 || last.end > n-10 {
		t.Errorf("hunks span base[%d:%d], want the 10 items at each end kept", first.start, last.end)
	}
}

// edit replaces base[start:end] with fresh items.
type edit struct {
	start, end int
	with       []int64
}

func (e edit) apply(base []int64) []int64 {
	return slices.Concat(base[:e.start], e.with, base[e.end:])
}

// randomDisjointEdits picks two edits whose base ranges neither overlap
// nor touch (at least one kept item between), the first before the
// second, inserting ids that base does not use.
func randomDisjointEdits(r *rand.Rand, n int, fresh *int64) (first, second edit) {
	pick := func(lo, hi int) edit {
		start := lo + r.IntN(hi-lo+1)
		end := start + r.IntN(min(3, hi-start)+1)
		var with []int64
		for range r.IntN(3) {
			*fresh++
			with = append(with, *fresh)
		}
		if start == end && len(with) == 0 {
			*fresh++
			with = []int64{*fresh}
		}
		return edit{start, end, with}
	}
	// Leave room for one kept item between the two.
	split := 1 + r.IntN(n-1)
	first = pick(0, split-1)
	second = pick(first.end+1, n)
	return first, second
}

func TestMergeSequencesCombinesDisjointEdits(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		n := 2 + r.IntN(30)
		base := make([]int64, n)
		for j := range base {
			base[j] = int64(j + 1)
		}
		fresh := int64(1000)
		first, second := randomDisjointEdits(r, n, &fresh)
		want := first.apply(second.apply(base))
		a, b := first.apply(base), second.apply(base)
		if i%2 == 1 {
			a, b = b, a
		}
		got, conflict := mergeSequences(base, a, b)
		if conflict || !slices.Equal(got, want) {
			t.Fatalf("merge(%v, %v, %v) = %v conflict %v, want %v", base, a, b, got, conflict, want)
		}
	}
}

func TestMergeSequencesKeepsClosedWaysClosed(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 3000 {
		n := 4 + r.IntN(30)
		base := make([]int64, n)
		for j := range base[:n-1] {
			base[j] = int64(j + 1)
		}
		base[n-1] = base[0]
		fresh := int64(1000)
		// Edits inside the ring, off the closing node at both ends.
		first, second := randomDisjointEdits(r, n-2, &fresh)
		for _, e := range []*edit{&first, &second} {
			e.start++
			e.end++
		}
		got, conflict := mergeSequences(base, first.apply(base), second.apply(base))
		if conflict {
			t.Fatalf("merge of %v with %v and %v conflicts", base, first, second)
		}
		if !closed(got) || len(got) < 2 {
			t.Fatalf("merge of %v with %v and %v is open: %v", base, first, second, got)
		}
		if want := first.apply(second.apply(base)); !slices.Equal(got, want) {
			t.Fatalf("merge of %v with %v and %v = %v, want %v", base, first, second, got, want)
		}
	}
}

func TestMergeSequencesAlgebra(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 5000 {
		// A small alphabet repeats ids, as closed and figure-eight ways do,
		// so that the diffs have more than one shortest script.
		alphabet := 1 + r.IntN(5)
		base := randomSequence(r, r.IntN(10), alphabet)
		x := mutate(r, base, 1+r.IntN(3), alphabet)
		y := mutate(r, base, 1+r.IntN(3), alphabet)
		show := fmt.Sprintf("base %v x %v y %v", base, x, y)
		if got, conflict := mergeSequences(base, x, base); conflict || !slices.Equal(got, x) {
			t.Fatalf("%s: merge(base, x, base) = %v conflict %v", show, got, conflict)
		}
		if got, conflict := mergeSequences(base, base, x); conflict || !slices.Equal(got, x) {
			t.Fatalf("%s: merge(base, base, x) = %v conflict %v", show, got, conflict)
		}
		if got, conflict := mergeSequences(base, x, x); conflict || !slices.Equal(got, x) {
			t.Fatalf("%s: merge(base, x, x) = %v conflict %v", show, got, conflict)
		}
		xy, conflictXY := mergeSequences(base, x, y)
		yx, conflictYX := mergeSequences(base, y, x)
		if conflictXY != conflictYX {
			t.Fatalf("%s: merge(base, x, y) conflicts %v, merge(base, y, x) %v", show, conflictXY, conflictYX)
		}
		if !conflictXY && !slices.Equal(xy, yx) {
			t.Fatalf("%s: merge(base, x, y) = %v, merge(base, y, x) = %v", show, xy, yx)
		}
	}
}
