package storage

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/geocommuns/geocommuns/osmdata"
)

// MaxMapNodes and MaxMapArea are openstreetmap.org's limits on the map call.
const (
	MaxMapNodes = 50000
	MaxMapArea  = 0.25
)

// TooManyNodesError is cgimap's refusal of a map call over the node limit.
type TooManyNodesError struct{ Limit int }

func (e *TooManyNodesError) Error() string {
	return fmt.Sprintf("You requested too many nodes (limit is %d). Either request a smaller area, or use planet.osm", e.Limit)
}

// MapData is the answer of a map call, each type sorted by id.
type MapData struct {
	Nodes, Ways, Relations []osmdata.Element
}

// Map runs cgimap's steps for /api/0.6/map: the visible nodes in the box,
// the visible ways using them, every node of those ways, the relations
// using any selected node or way, then the parents of those relations (one
// level). Each step is one bulk read.
func Map(ctx context.Context, r Reader, box osmdata.Box, maxNodes int) (*MapData, error) {
	nodes, err := r.NodesInBox(ctx, box, maxNodes)
	if err != nil {
		return nil, fmt.Errorf("nodes in box: %w", err)
	}
	if len(nodes) > maxNodes {
		return nil, &TooManyNodesError{Limit: maxNodes}
	}
	ways, err := r.WaysUsingNodes(ctx, elementIDs(nodes))
	if err != nil {
		return nil, fmt.Errorf("ways using nodes: %w", err)
	}
	have := make(map[int64]bool, len(nodes))
	for _, n := range nodes {
		have[n.ID] = true
	}
	var missing []int64
	for _, w := range ways {
		for _, id := range w.Nodes {
			if !have[id] {
				have[id] = true
				missing = append(missing, id)
			}
		}
	}
	if len(missing) > 0 {
		wayNodes, err := r.CurrentElements(ctx, osmdata.Node, missing)
		if err != nil {
			return nil, fmt.Errorf("nodes of ways: %w", err)
		}
		visible := wayNodes[:0]
		for _, n := range wayNodes {
			if n.Visible {
				visible = append(visible, n)
			}
		}
		nodes = mergeByID(nodes, visible)
	}
	relsOfWays, err := r.RelationsWithMembers(ctx, osmdata.Way, elementIDs(ways))
	if err != nil {
		return nil, fmt.Errorf("relations of ways: %w", err)
	}
	relsOfNodes, err := r.RelationsWithMembers(ctx, osmdata.Node, elementIDs(nodes))
	if err != nil {
		return nil, fmt.Errorf("relations of nodes: %w", err)
	}
	rels := unionByID(relsOfWays, relsOfNodes)
	parents, err := r.RelationsWithMembers(ctx, osmdata.Relation, elementIDs(rels))
	if err != nil {
		return nil, fmt.Errorf("parent relations: %w", err)
	}
	rels = unionByID(rels, parents)
	return &MapData{Nodes: nodes, Ways: ways, Relations: rels}, nil
}

func elementIDs(els []osmdata.Element) []int64 {
	ids := make([]int64, len(els))
	for i := range els {
		ids[i] = els[i].ID
	}
	return ids
}

// sortByID sorts without sort.Slice's reflection, which made sorting the
// nodes of a 50,000-node map call a fifth of its Go time (bench map).
func sortByID(els []osmdata.Element) {
	slices.SortFunc(els, byID)
}

func byID(a, b osmdata.Element) int { return cmp.Compare(a.ID, b.ID) }

// mergeByID merges two lists of distinct elements into one sorted by id.
// Both come from reads in id order (either is sorted first if not), and
// merging them copies each element once, where sorting their
// concatenation moved them about many times: a quarter of the Go time of
// a 50,000-node map call (bench map).
func mergeByID(a, b []osmdata.Element) []osmdata.Element {
	for _, l := range [][]osmdata.Element{a, b} {
		if !slices.IsSortedFunc(l, byID) {
			sortByID(l)
		}
	}
	out := make([]osmdata.Element, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].ID <= b[0].ID {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// unionByID merges element lists of one type, keeping one of each id.
func unionByID(lists ...[]osmdata.Element) []osmdata.Element {
	seen := map[int64]bool{}
	var out []osmdata.Element
	for _, l := range lists {
		for _, e := range l {
			if !seen[e.ID] {
				seen[e.ID] = true
				out = append(out, e)
			}
		}
	}
	sortByID(out)
	return out
}
