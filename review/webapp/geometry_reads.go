package webapp

import (
	"context"
	"fmt"
	"slices"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
)

// layer is one side's elements over another's: the changeset's pending
// content over the dataset's current versions for the new side, the
// versions the change was based on over them for the old side.
type layer struct {
	nodes, ways map[int64]*osmdata.Element
	under       *layer
}

func newLayer(under *layer) *layer {
	return &layer{nodes: map[int64]*osmdata.Element{}, ways: map[int64]*osmdata.Element{}, under: under}
}

func (l *layer) add(e *osmdata.Element) {
	switch e.Type {
	case osmdata.Node:
		l.nodes[e.ID] = e
	case osmdata.Way:
		l.ways[e.ID] = e
	}
}

func (l *layer) lookup(m map[int64]*osmdata.Element, id int64, below func(*layer) (*osmdata.Element, bool)) (*osmdata.Element, bool) {
	if e, ok := m[id]; ok {
		// A delete on this side hides what lies under it.
		return e, e.Visible
	}
	if l.under == nil {
		return nil, false
	}
	return below(l.under)
}

func (l *layer) node(id int64) (*osmdata.Element, bool) {
	return l.lookup(l.nodes, id, func(u *layer) (*osmdata.Element, bool) { return u.node(id) })
}

func (l *layer) way(id int64) (*osmdata.Element, bool) {
	return l.lookup(l.ways, id, func(u *layer) (*osmdata.Element, bool) { return u.way(id) })
}

// sides are the three layers an element's features are drawn from.
type sides struct {
	old, new, current *layer
}

// readSides reads, in one bulk read per element type, the current
// versions of every node and way the changeset's elements use on any
// side (way nodes, relation members and the nodes of member ways), and
// lays the base and pending versions the detail already holds over
// them.
func readSides(ctx context.Context, store storage.Reader, elements []review.ElementDetail) (sides, error) {
	current := newLayer(nil)
	s := sides{old: newLayer(current), new: newLayer(current), current: current}
	for _, d := range elements {
		if d.Old != nil {
			s.old.add(d.Old)
		}
		switch {
		case d.New != nil:
			s.new.add(d.New)
		case d.Action == storage.Delete && d.Old != nil:
			// The new side has the element deleted.
			gone := *d.Old
			gone.Visible = false
			s.new.add(&gone)
		}
	}
	versions := func(d review.ElementDetail) []*osmdata.Element { return []*osmdata.Element{d.Old, d.New, d.Current} }

	var wayIDs []int64
	for _, d := range elements {
		for _, e := range versions(d) {
			if e == nil || e.Type != osmdata.Relation {
				continue
			}
			for _, m := range e.Members {
				if m.Type == osmdata.Way {
					wayIDs = append(wayIDs, m.Ref)
				}
			}
		}
	}
	memberWays, err := readCurrent(ctx, store, osmdata.Way, wayIDs)
	if err != nil {
		return s, err
	}
	for i := range memberWays {
		current.add(&memberWays[i])
	}

	var nodeIDs []int64
	addWayNodes := func(w *osmdata.Element) {
		if w != nil && w.Type == osmdata.Way {
			nodeIDs = append(nodeIDs, w.Nodes...)
		}
	}
	for _, d := range elements {
		for _, e := range versions(d) {
			addWayNodes(e)
			if e != nil && e.Type == osmdata.Relation {
				for _, m := range e.Members {
					if m.Type == osmdata.Node {
						nodeIDs = append(nodeIDs, m.Ref)
					}
				}
			}
		}
	}
	for _, l := range []*layer{s.old, s.new, current} {
		for _, w := range l.ways {
			addWayNodes(w)
		}
	}
	nodes, err := readCurrent(ctx, store, osmdata.Node, nodeIDs)
	if err != nil {
		return s, err
	}
	for i := range nodes {
		current.add(&nodes[i])
	}
	// The current layer holds only what the dataset has: an element the
	// changeset creates is not in it, so the current side does not draw
	// it.
	for _, d := range elements {
		if d.Current != nil {
			current.add(d.Current)
		}
	}
	return s, nil
}

func readCurrent(ctx context.Context, store storage.Reader, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	found, err := store.CurrentElements(ctx, t, ids)
	if err != nil {
		return nil, fmt.Errorf("current %ss for the map: %w", t, err)
	}
	return found, nil
}
