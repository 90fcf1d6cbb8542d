package review

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review/rebase"
	"github.com/geocommuns/geocommuns/storage"
)

// revertItem is one element of a revert: what the reverted changeset made
// of it, what it was before, what it is now, and what the revert makes of
// it.
type revertItem struct {
	final   osmdata.Element
	before  *osmdata.Element // nil for an element the changeset created
	current osmdata.Element
	// later are the versions after final, oldest first (current last);
	// none when final is still current.
	later []osmdata.Element
	// result is the content the revert stages, resting on current.
	result osmdata.Element
	// skip, when set, says why the revert leaves the element as it is.
	skip *RevertSkip
}

// revertPlan is the inverse of one merged changeset against current data.
type revertPlan struct {
	reverted osmdata.Changeset
	items    map[osmdata.Key]*revertItem
	// nearby are the current versions of elements outside the revert that
	// its ways and relations refer to (or referred to) and that use what
	// it deletes.
	nearby map[osmdata.Key]osmdata.Element
	// users are, for each element the revert deletes, the ways and
	// relations using it now.
	users map[osmdata.Key][]osmdata.Key
}

// planRevert computes the revert of merged changeset cs: each element's
// inverse, rebased over later edits, then what the hard constraints keep
// (a deletion something still uses, a reference to something deleted).
func planRevert(ctx context.Context, store Store, cs osmdata.Changeset) (*revertPlan, error) {
	p := &revertPlan{reverted: cs, items: map[osmdata.Key]*revertItem{},
		nearby: map[osmdata.Key]osmdata.Element{}, users: map[osmdata.Key][]osmdata.Key{}}
	if err := p.readVersions(ctx, store); err != nil {
		return nil, err
	}
	for _, it := range p.items {
		p.invert(it)
	}
	if err := p.readNearby(ctx, store); err != nil {
		return nil, err
	}
	p.keepHardConstraints()
	return p, nil
}

// readVersions finds, for each element of the changeset, its final
// version, the version before and the current one: one read of the
// current versions per type finds the elements nobody changed since, whose
// versions before come in one bulk read; only those changed again need
// their history.
func (p *revertPlan) readVersions(ctx context.Context, store Store) error {
	id := p.reverted.ID
	rows, err := store.ChangesetChanges(ctx, id)
	if err != nil {
		return fmt.Errorf("changes of changeset %d: %w", id, err)
	}
	ids := map[osmdata.ElementType][]int64{}
	seen := map[osmdata.Key]bool{}
	for i := range rows {
		if k := rows[i].Element.Key(); !seen[k] {
			seen[k] = true
			ids[k.Type] = append(ids[k.Type], k.ID)
		}
	}
	var befores []storage.VersionKey
	for _, t := range osmdata.ElementTypes {
		if len(ids[t]) == 0 {
			continue
		}
		slices.Sort(ids[t])
		current, err := store.CurrentElements(ctx, t, ids[t])
		if err != nil {
			return fmt.Errorf("current versions of changeset %d's %ss: %w", id, t, err)
		}
		for _, cur := range current {
			k := cur.Key()
			if cur.Changeset == id {
				p.items[k] = &revertItem{final: cur, current: cur}
				if cur.Version > 1 {
					befores = append(befores, storage.VersionKey{Element: k, Version: cur.Version - 1})
				}
				continue
			}
			history, err := store.History(ctx, k.Type, k.ID)
			if err != nil {
				return fmt.Errorf("history of %s: %w", k, err)
			}
			at := slices.IndexFunc(history, func(v osmdata.Element) bool { return v.Changeset == id })
			if at < 0 {
				// Left out of a partial accept: the changeset did not
				// change it.
				continue
			}
			it := &revertItem{final: history[at], current: cur, later: history[at+1:]}
			if at > 0 {
				it.before = &history[at-1]
			}
			p.items[k] = it
		}
	}
	if len(befores) > 0 {
		found, err := store.ElementVersions(ctx, befores)
		if err != nil {
			return fmt.Errorf("versions before changeset %d: %w", id, err)
		}
		for i := range found {
			p.items[found[i].Key()].before = &found[i]
		}
	}
	return nil
}

// invert sets the item's result: the version before the changeset, as a
// change of the current version, merged with what later changesets did.
func (p *revertPlan) invert(it *revertItem) {
	id := p.reverted.ID
	k := it.final.Key()
	if it.final.Version > 1 && (it.before == nil || it.before.Redacted || it.before.Version != it.final.Version-1) {
		// History leaves a redacted version out and ElementVersions
		// withholds its content: reverting to it would restore what
		// the redaction hides, or an older or empty version instead.
		it.skip = &RevertSkip{Element: k, Reason: fmt.Sprintf("the version before changeset %d (v%d) is redacted", id, it.final.Version-1)}
		return
	}
	inverse := osmdata.Element{Type: k.Type, ID: k.ID, Lat: it.final.Lat, Lon: it.final.Lon}
	if it.before != nil && it.before.Visible {
		b := it.before
		inverse.Visible, inverse.Lat, inverse.Lon = true, b.Lat, b.Lon
		inverse.Tags, inverse.Nodes, inverse.Members = slices.Clone(b.Tags), slices.Clone(b.Nodes), slices.Clone(b.Members)
	}
	if rebase.SameContent(&inverse, &it.final) {
		it.skip = &RevertSkip{Element: k, Reason: fmt.Sprintf("changeset %d left it as it was", id)}
		return
	}
	if len(it.later) == 0 {
		it.result = inverse
		return
	}
	merged := rebase.Element(&it.final, &it.current, &inverse)
	if len(merged.Conflicts) > 0 {
		// The first later version that conflicts by itself is the edit
		// the revert would overwrite.
		by, fields := it.current.Changeset, merged.Conflicts
		for i := range it.later {
			if c := rebase.Element(&it.final, &it.later[i], &inverse).Conflicts; len(c) > 0 {
				by, fields = it.later[i].Changeset, c
				break
			}
		}
		it.skip = &RevertSkip{Element: k, By: by, Reason: fmt.Sprintf("changeset %d changed %s since changeset %d; undoing it would overwrite that",
			by, describeConflicts(fields), id)}
		return
	}
	if rebase.SameContent(&merged.Merged, &it.current) {
		it.skip = &RevertSkip{Element: k, By: it.current.Changeset,
			Reason: fmt.Sprintf("changeset %d already undid what changeset %d changed", it.current.Changeset, id)}
		return
	}
	it.result = merged.Merged
}

// readNearby reads the current versions of the elements outside the
// revert that its checks look at: references of its ways and relations,
// and the ways and relations that use what it deletes.
func (p *revertPlan) readNearby(ctx context.Context, store Store) error {
	want := map[osmdata.ElementType][]int64{}
	var deleted []osmdata.Key
	for k, it := range p.items {
		if it.skip != nil {
			continue
		}
		for _, e := range []*osmdata.Element{&it.result, &it.current} {
			if !e.Visible {
				continue
			}
			for _, ref := range references(e) {
				if _, in := p.items[ref]; !in {
					want[ref.Type] = append(want[ref.Type], ref.ID)
				}
			}
		}
		if !it.result.Visible && it.current.Visible {
			deleted = append(deleted, k)
		}
	}
	for _, t := range osmdata.ElementTypes {
		if len(want[t]) == 0 {
			continue
		}
		ids := slices.Compact(slices.Sorted(slices.Values(want[t])))
		found, err := store.CurrentElements(ctx, t, ids)
		if err != nil {
			return fmt.Errorf("current %ss near changeset %d: %w", t, p.reverted.ID, err)
		}
		for _, e := range found {
			p.nearby[e.Key()] = e
		}
	}
	users, err := currentUsers(ctx, store, deleted)
	if err != nil {
		return fmt.Errorf("users of what the revert of changeset %d deletes: %w", p.reverted.ID, err)
	}
	for k, list := range users {
		for _, u := range list {
			if _, in := p.items[u.Key()]; !in {
				p.nearby[u.Key()] = *u
			}
			p.users[k] = append(p.users[k], u.Key())
		}
	}
	return nil
}

// state is an element as the dataset would have it after the revert: its
// result, or its current version when the revert leaves it; ok is false
// for an element the dataset does not have.
func (p *revertPlan) state(k osmdata.Key) (e *osmdata.Element, ok bool) {
	if it, in := p.items[k]; in {
		if it.skip != nil {
			return &it.current, true
		}
		return &it.result, true
	}
	if e, found := p.nearby[k]; found {
		return &e, true
	}
	return nil, false
}

// keepHardConstraints skips, until nothing changes, every element whose
// revert would break a hard constraint: a way or relation using an
// element that is not visible after the revert, or a deletion of an
// element something still uses after it. Skipping one may break
// another (a way kept needs its nodes), hence the repetition.
func (p *revertPlan) keepHardConstraints() {
	id := p.reverted.ID
	for changed := true; changed; {
		changed = false
		for _, k := range p.active() {
			it := p.items[k]
			if it.result.Visible {
				for _, ref := range references(&it.result) {
					if e, ok := p.state(ref); ok && e.Visible {
						continue
					}
					it.skip = p.missingReference(k, ref)
					changed = true
					break
				}
				continue
			}
			if !it.current.Visible {
				continue
			}
			for _, u := range p.users[k] {
				e, _ := p.state(u)
				if e == nil || !e.Visible || !slices.Contains(references(e), k) {
					continue
				}
				by := e.Changeset
				if by == id {
					by = 0
				}
				it.skip = &RevertSkip{Element: k, By: by,
					Reason: fmt.Sprintf("%s (changeset %d) uses it; deleting it would break %s", u, e.Changeset, u)}
				changed = true
				break
			}
		}
	}
}

// missingReference is the skip of user, whose reverted content refers to
// ref, which would not be visible.
func (p *revertPlan) missingReference(user, ref osmdata.Key) *RevertSkip {
	if it, in := p.items[ref]; in && it.skip != nil {
		return &RevertSkip{Element: user, By: it.skip.By,
			Reason: fmt.Sprintf("uses %s, which the revert leaves as it is (%s)", ref, it.skip.Reason)}
	}
	if e, ok := p.nearby[ref]; ok {
		return &RevertSkip{Element: user, By: e.Changeset,
			Reason: fmt.Sprintf("uses %s, which changeset %d deleted since", ref, e.Changeset)}
	}
	return &RevertSkip{Element: user, Reason: fmt.Sprintf("uses %s, which the dataset does not have", ref)}
}

// active lists the elements the revert changes, in element order.
func (p *revertPlan) active() []osmdata.Key {
	var out []osmdata.Key
	for k, it := range p.items {
		if it.skip == nil {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, compareKeys)
	return out
}

// skipped lists the elements the revert leaves, in element order.
func (p *revertPlan) skipped() []RevertSkip {
	var out []RevertSkip
	for _, it := range p.items {
		if it.skip != nil {
			out = append(out, *it.skip)
		}
	}
	slices.SortFunc(out, func(a, b RevertSkip) int { return compareKeys(a.Element, b.Element) })
	return out
}

// describeConflicts names the fields of conflicts as a reviewer reads
// them: "tag name, position".
func describeConflicts(conflicts []rebase.Conflict) string {
	names := make([]string, 0, len(conflicts))
	for _, c := range conflicts {
		switch c.Kind {
		case rebase.FieldTag:
			names = append(names, "tag "+c.Key)
		case rebase.FieldDeleted:
			names = append(names, "whether it exists")
		default:
			names = append(names, "its "+string(c.Kind))
		}
	}
	return strings.Join(names, ", ")
}
