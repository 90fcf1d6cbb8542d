package rebase

import "slices"

// The sequence diff is written here rather than taken from a library: the
// diff modules the Go proxy serves here (sergi/go-diff, pmezard/go-difflib)
// compare text or lines of strings, and a way's node ids or a relation's
// members would have to be encoded as text for them and decoded back, for
// the sake of some 80 lines of Myers' algorithm.

// hunk is one edit of a base sequence: base[start:end] replaced by with.
// start == end is an insertion before base[start]; an empty with is a
// removal.
type hunk[T comparable] struct {
	start, end int
	with       []T
}

// edits returns the hunks that turn base into changed, in base order,
// from a shortest edit script (Myers). Consecutive changes are one hunk,
// so two hunks of one side always have at least one kept base item
// between them.
func edits[T comparable](base, changed []T) []hunk[T] {
	var matches []match
	d := differ[T]{a: base, b: changed, matches: &matches}
	d.compare(0, len(base), 0, len(changed))
	var hunks []hunk[T]
	i, j := 0, 0
	for _, m := range append(matches, match{len(base), len(changed)}) {
		if m.a > i || m.b > j {
			hunks = append(hunks, hunk[T]{start: i, end: m.a, with: changed[j:m.b]})
		}
		i, j = m.a+1, m.b+1
	}
	return hunks
}

// match pairs base[a] with changed[b], kept by the edit.
type match struct{ a, b int }

type differ[T comparable] struct {
	a, b    []T
	matches *[]match
}

// compare appends, in order, the matches of a shortest edit script from
// a[aLo:aHi] to b[bLo:bHi]. It uses the linear-space variant (find the
// middle of an optimal path, recurse on both halves) so that a relation
// with tens of thousands of members costs memory in proportion to its
// length, not to the product of both lengths.
func (d differ[T]) compare(aLo, aHi, bLo, bHi int) {
	for aLo < aHi && bLo < bHi && d.a[aLo] == d.b[bLo] {
		*d.matches = append(*d.matches, match{aLo, bLo})
		aLo++
		bLo++
	}
	suffix := 0
	for aLo < aHi-suffix && bLo < bHi-suffix && d.a[aHi-1-suffix] == d.b[bHi-1-suffix] {
		suffix++
	}
	aHi -= suffix
	bHi -= suffix
	if aLo < aHi && bLo < bHi {
		if x, y, ok := d.middle(aLo, aHi, bLo, bHi); ok {
			d.compare(aLo, x, bLo, y)
			d.compare(x, aHi, y, bHi)
		}
	}
	for k := range suffix {
		*d.matches = append(*d.matches, match{aHi + k, bHi + k})
	}
}

// maxSearchSteps bounds the search of middle, whose time grows with the
// square of the edits it looks through. Two node lists of a way (2,000
// nodes at most) always fit, so they diff exactly; two member lists of a
// large relation that differ in more than some 4,000 places (reordered,
// rewritten) would take seconds, so past the bound their differing
// stretch is taken as one replacement: a valid edit, only coarser, which
// can make edits elsewhere in that stretch conflict but never merges them
// wrongly.
const maxSearchSteps = 2048

// middle finds a point (x, y) on a shortest edit path from a[aLo:aHi] to
// b[bLo:bHi], both non-empty and differing at both ends, by running the
// search forward from the start and backward from the end until they
// meet (Myers 1986, section 4b; the loop follows diff-match-patch's
// bisect). Both halves cost strictly less than the whole, so the
// recursion ends. ok is false when the two share nothing, or when the
// search passed maxSearchSteps.
func (d differ[T]) middle(aLo, aHi, bLo, bHi int) (x, y int, ok bool) {
	a, b := d.a[aLo:aHi], d.b[bLo:bHi]
	n, m := len(a), len(b)
	maxD := min((n+m+1)/2, maxSearchSteps)
	offset := maxD
	forward := make([]int, 2*maxD+2)
	backward := make([]int, 2*maxD+2)
	for i := range forward {
		forward[i] = -1
		backward[i] = -1
	}
	forward[offset+1] = 0
	backward[offset+1] = 0
	delta := n - m
	// With an odd delta the forward search is the one to meet the
	// backward one; with an even delta, the reverse.
	frontMeets := delta%2 != 0
	kfStart, kfEnd, kbStart, kbEnd := 0, 0, 0, 0
	for step := 0; step < maxD; step++ {
		for k := -step + kfStart; k <= step-kfEnd; k += 2 {
			i := offset + k
			var fx int
			if k == -step || (k != step && forward[i-1] < forward[i+1]) {
				fx = forward[i+1]
			} else {
				fx = forward[i-1] + 1
			}
			fy := fx - k
			for fx < n && fy < m && a[fx] == b[fy] {
				fx++
				fy++
			}
			forward[i] = fx
			switch {
			case fx > n:
				kfEnd += 2 // ran off the right of the grid
			case fy > m:
				kfStart += 2 // ran off the bottom of the grid
			case frontMeets:
				j := offset + delta - k
				if j >= 0 && j < len(backward) && backward[j] != -1 && fx >= n-backward[j] {
					return aLo + fx, bLo + fy, true
				}
			}
		}
		for k := -step + kbStart; k <= step-kbEnd; k += 2 {
			i := offset + k
			var bx int
			if k == -step || (k != step && backward[i-1] < backward[i+1]) {
				bx = backward[i+1]
			} else {
				bx = backward[i-1] + 1
			}
			by := bx - k
			for bx < n && by < m && a[n-bx-1] == b[m-by-1] {
				bx++
				by++
			}
			backward[i] = bx
			switch {
			case bx > n:
				kbEnd += 2
			case by > m:
				kbStart += 2
			case !frontMeets:
				j := offset + delta - k
				if j >= 0 && j < len(forward) && forward[j] != -1 {
					fx := forward[j]
					fy := offset + fx - j
					if fx >= n-bx {
						return aLo + fx, bLo + fy, true
					}
				}
			}
		}
	}
	return 0, 0, false
}

// mergeSequences merges two edited copies of base as diff3 merges lines:
// the hunks of both sides are grouped where their base ranges overlap or
// touch (an insertion touches the items on both sides of its point); a
// group holding one side's hunks only takes them, a group whose two sides
// turn its base range into the same items takes those, any other group is
// a conflict. Touching edits conflict, as in diff3, because an insertion
// next to something the other side removed or replaced may depend on it
// (a node added beside the one the other side moved off the road).
func mergeSequences[T comparable](base, current, pending []T) (merged []T, conflict bool) {
	switch {
	case slices.Equal(pending, base), slices.Equal(pending, current):
		return slices.Clone(current), false
	case slices.Equal(current, base):
		return slices.Clone(pending), false
	}
	type sided struct {
		hunk[T]
		pending bool
	}
	var all []sided
	for _, h := range edits(base, current) {
		all = append(all, sided{h, false})
	}
	for _, h := range edits(base, pending) {
		all = append(all, sided{h, true})
	}
	// Stable keeps each side's hunks in base order; the grouping below
	// only needs the starts sorted.
	slices.SortStableFunc(all, func(x, y sided) int { return x.start - y.start })

	merged = make([]T, 0, max(len(current), len(pending)))
	kept := 0 // base items before kept are already in merged
	for g := 0; g < len(all); {
		start, end := all[g].start, all[g].end
		next := g + 1
		for next < len(all) && all[next].start <= end {
			end = max(end, all[next].end)
			next++
		}
		group := all[g:next]
		merged = append(merged, base[kept:start]...)
		var currentHunks, pendingHunks []hunk[T]
		for _, s := range group {
			if s.pending {
				pendingHunks = append(pendingHunks, s.hunk)
			} else {
				currentHunks = append(currentHunks, s.hunk)
			}
		}
		fromCurrent := applyHunks(base, start, end, currentHunks)
		fromPending := applyHunks(base, start, end, pendingHunks)
		switch {
		case len(pendingHunks) == 0:
			merged = append(merged, fromCurrent...)
		case len(currentHunks) == 0, slices.Equal(fromCurrent, fromPending):
			merged = append(merged, fromPending...)
		default:
			return slices.Clone(current), true
		}
		kept = end
		g = next
	}
	merged = append(merged, base[kept:]...)
	return merged, false
}

// applyHunks returns base[start:end] with hunks, which lie inside that
// range in base order, applied.
func applyHunks[T comparable](base []T, start, end int, hunks []hunk[T]) []T {
	var out []T
	at := start
	for _, h := range hunks {
		out = append(out, base[at:h.start]...)
		out = append(out, h.with...)
		at = h.end
	}
	return append(out, base[at:end]...)
}
