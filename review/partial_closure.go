package review

import (
	"context"
	"fmt"
	"slices"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// dependency is one element of a changeset that another of its elements
// cannot be merged without.
type dependency struct {
	on     osmdata.Key
	reason string
}

// changesetDependencies maps each element of a changeset's net changes to
// the elements of the same changeset it needs merged with it: the
// elements a visible way or relation uses that the changeset creates
// (merged alone, the way would use something that does not exist), and,
// for a deleted element, the changeset's edits of the ways and relations
// that use it in current data and no longer do (merged alone, the
// deletion would leave them using it). users holds, for each element the
// changeset deletes, the visible ways and relations using it now.
func changesetDependencies(changes map[osmdata.Key]*storage.PendingChange, users map[osmdata.Key][]*osmdata.Element) map[osmdata.Key][]dependency {
	needs := map[osmdata.Key][]dependency{}
	created := func(k osmdata.Key) bool {
		c, ok := changes[k]
		return ok && c.Action == storage.Create
	}
	for k, c := range changes {
		e := &c.Element
		if e.Visible {
			seen := map[osmdata.Key]bool{}
			for _, ref := range references(e) {
				if seen[ref] || !created(ref) {
					continue
				}
				seen[ref] = true
				needs[k] = append(needs[k], dependency{on: ref,
					reason: fmt.Sprintf("%s uses %s, created in this changeset", k, ref)})
			}
			continue
		}
		if c.Action != storage.Delete || c.BaseVersion == 0 && c.BaseChangeset == 0 {
			// Created and deleted here: nothing outside uses it.
			continue
		}
		for _, user := range users[k] {
			u := user.Key()
			edit, ok := changes[u]
			if !ok || (edit.Element.Visible && slices.Contains(references(&edit.Element), k)) {
				continue
			}
			how := "edit"
			if !edit.Element.Visible {
				how = "deletion"
			}
			needs[k] = append(needs[k], dependency{on: u,
				reason: fmt.Sprintf("deleting %s needs the %s of %s, which releases it", k, how, u)})
		}
	}
	for k := range needs {
		slices.SortFunc(needs[k], func(a, b dependency) int { return compareKeys(a.on, b.on) })
	}
	return needs
}

// closeUnder returns chosen with every element they need, transitively,
// and how each added one came in (by the first element, in element
// order, found to need it).
func closeUnder(chosen []osmdata.Key, needs map[osmdata.Key][]dependency) (accepted []osmdata.Key, added []AddedElement) {
	in := map[osmdata.Key]bool{}
	queue := slices.Clone(chosen)
	slices.SortFunc(queue, compareKeys)
	queue = slices.Compact(queue)
	for _, k := range queue {
		in[k] = true
	}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		for _, d := range needs[k] {
			if in[d.on] {
				continue
			}
			in[d.on] = true
			queue = append(queue, d.on)
			added = append(added, AddedElement{Element: d.on, Because: k, Reason: d.reason})
		}
	}
	for k := range in {
		accepted = append(accepted, k)
	}
	slices.SortFunc(accepted, compareKeys)
	slices.SortFunc(added, func(a, b AddedElement) int { return compareKeys(a.Element, b.Element) })
	return accepted, added
}

// currentUsers returns, for each of the deleted elements, the visible
// ways and relations that use it in current data.
func currentUsers(ctx context.Context, r storage.Reader, deleted []osmdata.Key) (map[osmdata.Key][]*osmdata.Element, error) {
	users := map[osmdata.Key][]*osmdata.Element{}
	byType := map[osmdata.ElementType][]int64{}
	for _, k := range deleted {
		byType[k.Type] = append(byType[k.Type], k.ID)
	}
	note := func(parent *osmdata.Element, gone map[osmdata.Key]bool) {
		for _, ref := range references(parent) {
			if gone[ref] && !slices.Contains(users[ref], parent) {
				users[ref] = append(users[ref], parent)
			}
		}
	}
	for _, t := range osmdata.ElementTypes {
		ids := byType[t]
		if len(ids) == 0 {
			continue
		}
		slices.Sort(ids)
		gone := map[osmdata.Key]bool{}
		for _, id := range ids {
			gone[osmdata.Key{Type: t, ID: id}] = true
		}
		if t == osmdata.Node {
			ways, err := r.WaysUsingNodes(ctx, ids)
			if err != nil {
				return nil, fmt.Errorf("ways using %d deleted nodes: %w", len(ids), err)
			}
			for i := range ways {
				note(&ways[i], gone)
			}
		}
		rels, err := r.RelationsWithMembers(ctx, t, ids)
		if err != nil {
			return nil, fmt.Errorf("relations using %d deleted %ss: %w", len(ids), t, err)
		}
		for i := range rels {
			note(&rels[i], gone)
		}
	}
	return users, nil
}

// references lists what a way or relation refers to: its nodes, its
// members (repeats included).
func references(e *osmdata.Element) []osmdata.Key {
	refs := make([]osmdata.Key, 0, len(e.Nodes)+len(e.Members))
	for _, n := range e.Nodes {
		refs = append(refs, osmdata.Key{Type: osmdata.Node, ID: n})
	}
	for _, m := range e.Members {
		refs = append(refs, osmdata.Key{Type: m.Type, ID: m.Ref})
	}
	return refs
}
