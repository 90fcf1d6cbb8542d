package subscribe

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/sync/changes"
)

// boxFilter tells which merges touch a box. A node touches it by its old
// or new position. A way or relation has no position of its own; for
// now it touches the box by the positions of its nodes (a relation: of
// its member nodes and of its member ways' nodes, not of member
// relations), in either its old or its new version. Those nodes'
// positions are the ones the merge itself wrote (old and new) for nodes
// it changed, and otherwise their current positions: one bulk read per
// batch, where the positions at merge time would take a history lookup
// per node. A way whose untouched nodes have moved since is judged where
// they are now.
//
// A redacted version comes withheld (osmdata.Element.Redacted): no
// position, nodes or members, its coordinates reading 0,0. It places
// nothing anywhere, so an element is judged by its other version in the
// merge; an element whose versions in the merge are all withheld cannot
// be placed, and its merge is sent to every box, as the change it is
// (its content withheld), rather than lost to a subscriber whose box it
// may be in.
type boxFilter struct {
	box    osmdata.Box
	source Source
}

// match says for each merge whether it touches the box.
func (f *boxFilter) match(ctx context.Context, merges []changes.Merge) ([]bool, error) {
	out := make([]bool, len(merges))
	var undecided []int
	for i := range merges {
		if f.nodesTouch(&merges[i]) || slices.ContainsFunc(merges[i].Elements, withheldEntirely) {
			out[i] = true
		} else if hasWaysOrRelations(&merges[i]) {
			undecided = append(undecided, i)
		}
	}
	if len(undecided) == 0 {
		return out, nil
	}

	// Which ways and nodes outside each merge its ways and relations use.
	needWays := map[int64]struct{}{}
	needNodes := map[int64]struct{}{}
	for _, i := range undecided {
		m := &merges[i]
		local := mergedIDs(m)
		for _, e := range versionsOf(m) {
			switch e.Type {
			case osmdata.Way:
				addMissing(needNodes, local[osmdata.Node], e.Nodes)
			case osmdata.Relation:
				for _, mem := range e.Members {
					switch {
					case mem.Type == osmdata.Node && !has(local[osmdata.Node], mem.Ref):
						needNodes[mem.Ref] = struct{}{}
					case mem.Type == osmdata.Way && !has(local[osmdata.Way], mem.Ref):
						needWays[mem.Ref] = struct{}{}
					}
				}
			}
		}
	}
	currentWays, err := f.current(ctx, osmdata.Way, needWays)
	if err != nil {
		return nil, err
	}
	for _, w := range currentWays {
		for _, n := range w.Nodes {
			needNodes[n] = struct{}{}
		}
	}
	currentNodes, err := f.current(ctx, osmdata.Node, needNodes)
	if err != nil {
		return nil, err
	}
	for _, i := range undecided {
		out[i] = f.geometryTouches(&merges[i], currentWays, currentNodes)
	}
	return out, nil
}

func (f *boxFilter) current(ctx context.Context, t osmdata.ElementType, ids map[int64]struct{}) (map[int64]osmdata.Element, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	els, err := f.source.CurrentElements(ctx, t, slices.Sorted(maps.Keys(ids)))
	if err != nil {
		return nil, fmt.Errorf("read %d current %ss for the bbox filter: %w", len(ids), t, err)
	}
	out := make(map[int64]osmdata.Element, len(els))
	for _, e := range els {
		out[e.ID] = e
	}
	return out, nil
}

// nodesTouch: a node the merge changed lies in the box before or after.
func (f *boxFilter) nodesTouch(m *changes.Merge) bool {
	for _, c := range m.Elements {
		if c.New.Type != osmdata.Node {
			continue
		}
		if c.Old != nil && placed(c.Old) && f.box.Contains(c.Old.Lat, c.Old.Lon) {
			return true
		}
		if placed(&c.New) && f.box.Contains(c.New.Lat, c.New.Lon) {
			return true
		}
	}
	return false
}

func (f *boxFilter) geometryTouches(m *changes.Merge, currentWays, currentNodes map[int64]osmdata.Element) bool {
	local := mergedVersions(m)
	nodeIn := func(id int64) bool {
		for _, e := range local[osmdata.Key{Type: osmdata.Node, ID: id}] {
			if placed(e) && f.box.Contains(e.Lat, e.Lon) {
				return true
			}
		}
		if n, ok := currentNodes[id]; ok && f.box.Contains(n.Lat, n.Lon) {
			return true
		}
		return false
	}
	wayIn := func(nodes []int64) bool {
		return slices.ContainsFunc(nodes, nodeIn)
	}
	for _, e := range versionsOf(m) {
		switch e.Type {
		case osmdata.Way:
			if wayIn(e.Nodes) {
				return true
			}
		case osmdata.Relation:
			for _, mem := range e.Members {
				switch mem.Type {
				case osmdata.Node:
					if nodeIn(mem.Ref) {
						return true
					}
				case osmdata.Way:
					for _, w := range local[osmdata.Key{Type: osmdata.Way, ID: mem.Ref}] {
						if wayIn(w.Nodes) {
							return true
						}
					}
					if w, ok := currentWays[mem.Ref]; ok && wayIn(w.Nodes) {
						return true
					}
				}
			}
		}
	}
	return false
}

// placed says whether a node version has a position: visible, and not
// withheld.
func placed(e *osmdata.Element) bool { return e.Visible && !e.Redacted }

// withheldEntirely says whether every version of the change is withheld.
func withheldEntirely(c changes.ElementChange) bool {
	return c.New.Redacted && (c.Old == nil || c.Old.Redacted)
}

func hasWaysOrRelations(m *changes.Merge) bool {
	return slices.ContainsFunc(m.Elements, func(c changes.ElementChange) bool { return c.New.Type != osmdata.Node })
}

// versionsOf lists the old and new version of each element of m.
func versionsOf(m *changes.Merge) []*osmdata.Element {
	out := make([]*osmdata.Element, 0, 2*len(m.Elements))
	for i := range m.Elements {
		if m.Elements[i].Old != nil {
			out = append(out, m.Elements[i].Old)
		}
		out = append(out, &m.Elements[i].New)
	}
	return out
}

// mergedVersions maps each element of m to its old and new version.
func mergedVersions(m *changes.Merge) map[osmdata.Key][]*osmdata.Element {
	out := make(map[osmdata.Key][]*osmdata.Element, len(m.Elements))
	for _, e := range versionsOf(m) {
		out[e.Key()] = append(out[e.Key()], e)
	}
	return out
}

// mergedIDs lists the ids m changed, by type.
func mergedIDs(m *changes.Merge) map[osmdata.ElementType]map[int64]struct{} {
	out := map[osmdata.ElementType]map[int64]struct{}{}
	for _, c := range m.Elements {
		if out[c.New.Type] == nil {
			out[c.New.Type] = map[int64]struct{}{}
		}
		out[c.New.Type][c.New.ID] = struct{}{}
	}
	return out
}

func has(set map[int64]struct{}, id int64) bool {
	_, ok := set[id]
	return ok
}

func addMissing(need, local map[int64]struct{}, ids []int64) {
	for _, id := range ids {
		if !has(local, id) {
			need[id] = struct{}{}
		}
	}
}
