package storage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

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
// level). Each step is one bulk read. Steps that do not need each other's
// answers run at the same time, so r must be safe for concurrent use (the
// Stores and the author's overlay over one are; a transaction is not):
// on PostgreSQL each runs on a connection of its own, and through a
// BoxReader the ways and relations of the box's nodes are read alongside
// the nodes rather than after them (bench map: the 50,000-node call's
// steps added up to well over cgimap's database time one after another).
func Map(ctx context.Context, r Reader, box osmdata.Box, maxNodes int) (*MapData, error) {
	nodes, ways, relsOfBoxNodes, err := boxSteps(ctx, r, box, maxNodes)
	if err != nil {
		return nil, err
	}
	missing := missingWayNodes(nodes, ways)
	var wayNodes, relsOfWays, relsOfWayNodes []osmdata.Element
	err = concurrently(
		func() error {
			if len(missing) == 0 {
				return nil
			}
			read, err := r.CurrentElements(ctx, osmdata.Node, missing)
			if err != nil {
				return fmt.Errorf("nodes of ways: %w", err)
			}
			for _, n := range read {
				if n.Visible {
					wayNodes = append(wayNodes, n)
				}
			}
			if relsOfWayNodes, err = r.RelationsWithMembers(ctx, osmdata.Node, elementIDs(wayNodes)); err != nil {
				return fmt.Errorf("relations of nodes: %w", err)
			}
			return nil
		},
		func() (err error) {
			if relsOfWays, err = r.RelationsWithMembers(ctx, osmdata.Way, elementIDs(ways)); err != nil {
				return fmt.Errorf("relations of ways: %w", err)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	if len(wayNodes) > 0 {
		nodes = mergeByID(nodes, wayNodes)
	}
	rels := unionByID(relsOfWays, relsOfBoxNodes, relsOfWayNodes)
	parents, err := r.RelationsWithMembers(ctx, osmdata.Relation, elementIDs(rels))
	if err != nil {
		return nil, fmt.Errorf("parent relations: %w", err)
	}
	rels = unionByID(rels, parents)
	return &MapData{Nodes: nodes, Ways: ways, Relations: rels}, nil
}

// BoxReader is a Reader that also finds the ways and the relations of the
// nodes NodesInBox would return from the box itself, so that the map call
// reads them at the same time as the nodes instead of after them.
type BoxReader interface {
	Reader
	// WaysUsingNodesInBox returns WaysUsingNodes of NodesInBox(box,
	// limit) when the box holds at most limit nodes (any result
	// otherwise: the map call then fails).
	WaysUsingNodesInBox(ctx context.Context, box osmdata.Box, limit int) ([]osmdata.Element, error)
	// RelationsWithNodesInBox returns RelationsWithMembers of the nodes
	// of NodesInBox(box, limit), under the same condition.
	RelationsWithNodesInBox(ctx context.Context, box osmdata.Box, limit int) ([]osmdata.Element, error)
}

// boxSteps reads the nodes in the box, checks them against the limit,
// and reads the ways and relations using them: through a BoxReader all
// three at once, otherwise the nodes first.
func boxSteps(ctx context.Context, r Reader, box osmdata.Box, maxNodes int) (nodes, ways, rels []osmdata.Element, err error) {
	readNodes := func(ctx context.Context) (err error) {
		if nodes, err = r.NodesInBox(ctx, box, maxNodes); err != nil {
			return fmt.Errorf("nodes in box: %w", err)
		}
		if len(nodes) > maxNodes {
			return &TooManyNodesError{Limit: maxNodes}
		}
		return nil
	}
	if br, ok := r.(BoxReader); ok {
		// A box over the limit fails the call: the other reads stop.
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var nodesErr error
		err := concurrently(
			func() error {
				if nodesErr = readNodes(ctx); nodesErr != nil {
					cancel()
				}
				return nil
			},
			func() (err error) {
				if ways, err = br.WaysUsingNodesInBox(ctx, box, maxNodes); err != nil {
					return fmt.Errorf("ways using nodes: %w", err)
				}
				return nil
			},
			func() (err error) {
				if rels, err = br.RelationsWithNodesInBox(ctx, box, maxNodes); err != nil {
					return fmt.Errorf("relations of nodes: %w", err)
				}
				return nil
			})
		if nodesErr != nil {
			return nil, nil, nil, nodesErr
		}
		return nodes, ways, rels, err
	}
	if err := readNodes(ctx); err != nil {
		return nil, nil, nil, err
	}
	boxIDs := elementIDs(nodes)
	err = concurrently(
		func() (err error) {
			if ways, err = r.WaysUsingNodes(ctx, boxIDs); err != nil {
				return fmt.Errorf("ways using nodes: %w", err)
			}
			return nil
		},
		func() (err error) {
			if rels, err = r.RelationsWithMembers(ctx, osmdata.Node, boxIDs); err != nil {
				return fmt.Errorf("relations of nodes: %w", err)
			}
			return nil
		})
	return nodes, ways, rels, err
}

// missingWayNodes lists, once each, the nodes of ways that are not among
// nodes.
func missingWayNodes(nodes, ways []osmdata.Element) []int64 {
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
	return missing
}

// concurrently runs each step in a goroutine of its own and returns the
// first error of the list once all have returned.
func concurrently(steps ...func() error) error {
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, step := range steps {
		wg.Go(func() { errs[i] = step() })
	}
	wg.Wait()
	return errors.Join(errs...)
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
