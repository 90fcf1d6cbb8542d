package rebase

import (
	"slices"
	"strings"

	"github.com/geocommuns/geocommuns/osmdata"
)

// optional is a field's value on one side, or its absence.
type optional[T comparable] struct {
	value   T
	present bool
}

// mergeField is the three-way rule for one field: a side that left it as
// base had it takes the other side's value; equal changes are one change;
// different changes conflict (and keep current's value).
func mergeField[T comparable](base, current, pending T) (merged T, conflict bool) {
	switch {
	case pending == base, pending == current:
		return current, false
	case current == base:
		return pending, false
	}
	return current, true
}

func tagValue(tags osmdata.Tags, key string) optional[string] {
	v, ok := tags.Get(key)
	return optional[string]{v, ok}
}

// mergeTags merges tags key by key. The result keeps current's order, then
// the keys pending added in pending's order, so that an editor showing the
// merged version lists tags as the dataset did. Conflicting keys keep
// current's value and are returned sorted.
func mergeTags(base, current, pending osmdata.Tags) (osmdata.Tags, []Conflict) {
	// When one side left the tags alone, the other side's list is the
	// result as it stands, in its own order.
	switch {
	case sameTags(pending, base):
		return slices.Clone(current), nil
	case sameTags(current, base):
		return slices.Clone(pending), nil
	}
	merged := make(osmdata.Tags, 0, max(len(current), len(pending)))
	var conflicts []Conflict
	take := func(key string) {
		b, c, p := tagValue(base, key), tagValue(current, key), tagValue(pending, key)
		v, conflict := mergeField(b, c, p)
		if conflict {
			conflicts = append(conflicts, Conflict{
				Kind: FieldTag, Key: key,
				Base: b.value, Current: c.value, Pending: p.value,
				AbsentInBase: !b.present, AbsentInCurrent: !c.present, AbsentInPending: !p.present,
			})
		}
		if v.present {
			merged = append(merged, osmdata.Tag{Key: key, Value: v.value})
		}
	}
	for _, t := range current {
		take(t.Key)
	}
	for _, t := range pending {
		if _, inCurrent := current.Get(t.Key); !inCurrent {
			take(t.Key)
		}
	}
	// A key current removed and pending left as it was is in neither
	// loop's result, which is the merge: removed.
	slices.SortFunc(conflicts, func(x, y Conflict) int { return strings.Compare(x.Key, y.Key) })
	return merged, conflicts
}

// sameTags tells whether two tag lists hold the same pairs; their order is
// no edit.
func sameTags(a, b osmdata.Tags) bool {
	if len(a) != len(b) {
		return false
	}
	for _, t := range a {
		if v, ok := b.Get(t.Key); !ok || v != t.Value {
			return false
		}
	}
	return true
}
