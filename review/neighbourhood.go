package review

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review/validate"
	"github.com/geocommuns/geocommuns/storage"
)

// NearDistanceMetres is how far from the touched geometry a way counts as
// near (crossing and almost-junction rules look this far).
const NearDistanceMetres = 20

// maxBoxReads bounds the NodesInBox reads of one changeset: the touched
// geometry is grouped into at most this many boxes, whatever its size.
const maxBoxReads = 64

// metresPerDegreeLat is the length of one degree of latitude, near enough
// for a search margin.
const metresPerDegreeLat = 111_320

// LoadInput reads what validating changeset id needs: its net change per
// element and the neighbourhood of what it touches, without it (Before)
// and with it (After), both on top of the author's stacked parents that
// are not merged yet (nor rejected: their content will never be the
// dataset's). Every step is one bulk read (a few per element type), plus
// at most maxBoxReads NodesInBox reads for the ways near the touched
// geometry, and two reads per level of stacked parents.
//
// Before and After share the elements the changeset leaves as they are:
// rules read them and must not modify them.
func LoadInput(ctx context.Context, store storage.Store, changeset int64) (*validate.Input, error) {
	cs, err := store.Changeset(ctx, changeset)
	if err != nil {
		return nil, fmt.Errorf("changeset %d: %w", changeset, err)
	}
	own, err := store.ChangesetChanges(ctx, changeset)
	if err != nil {
		return nil, fmt.Errorf("changes of changeset %d: %w", changeset, err)
	}
	n := newNeighbourhood(store)
	for _, p := range latestPerElement(own) {
		n.own[p.Element.Key()] = &p.Element
		if p.Action == storage.Create {
			n.created[p.Element.Key()] = true
		}
	}
	parentChanges, err := stackedParentChanges(ctx, store, changeset)
	if err != nil {
		return nil, err
	}
	for _, p := range latestPerElement(parentChanges) {
		n.parents[p.Element.Key()] = &p.Element
	}
	if err := n.load(ctx); err != nil {
		return nil, fmt.Errorf("neighbourhood of changeset %d: %w", changeset, err)
	}
	merged, err := authorMergedChangesets(ctx, store, cs)
	if err != nil {
		return nil, err
	}
	in := &validate.Input{Changeset: cs, AuthorMergedChangesets: merged}
	in.Before, in.After = n.snapshots()
	touched := make([]osmdata.Key, 0, len(n.own))
	for k := range n.own {
		touched = append(touched, k)
	}
	slices.SortFunc(touched, compareKeys)
	in.Changes = make([]validate.Change, len(touched))
	for i, k := range touched {
		in.Changes[i] = validate.Change{Old: n.before(k), New: visible(n.own[k])}
	}
	return in, nil
}

// latestPerElement keeps the highest Seq change of each element: a store
// keeps one row per element and changeset, but across a chain of parents
// the latest upload is what the author sees.
func latestPerElement(changes []storage.PendingChange) []storage.PendingChange {
	latest := make(map[osmdata.Key]int, len(changes))
	for i, p := range changes {
		if j, ok := latest[p.Element.Key()]; !ok || changes[j].Seq < p.Seq {
			latest[p.Element.Key()] = i
		}
	}
	out := make([]storage.PendingChange, 0, len(latest))
	for _, i := range latest {
		out = append(out, changes[i])
	}
	return out
}

// stackedParentChanges returns the pending changes of every changeset
// the changeset builds on, directly or through others, that is neither
// merged (its content is the dataset's already, as is that of its own
// parents, which merged before it) nor rejected.
func stackedParentChanges(ctx context.Context, store storage.Store, changeset int64) ([]storage.PendingChange, error) {
	seen := map[int64]bool{changeset: true}
	var out []storage.PendingChange
	frontier := []int64{changeset}
	for len(frontier) > 0 {
		var next []int64
		for _, id := range frontier {
			parents, err := store.ChangesetParents(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("parents of changeset %d: %w", id, err)
			}
			for _, p := range parents {
				if !seen[p] {
					seen[p] = true
					next = append(next, p)
				}
			}
		}
		if len(next) == 0 {
			break
		}
		states, err := store.Changesets(ctx, storage.ChangesetQuery{IDs: next, Limit: len(next)})
		if err != nil {
			return nil, fmt.Errorf("stacked parents %v: %w", next, err)
		}
		frontier = frontier[:0]
		for _, p := range states {
			if p.ReviewState == osmdata.ReviewMerged || p.ReviewState == osmdata.ReviewRejected {
				continue
			}
			changes, err := store.ChangesetChanges(ctx, p.ID)
			if err != nil {
				return nil, fmt.Errorf("changes of stacked parent %d: %w", p.ID, err)
			}
			out = append(out, changes...)
			frontier = append(frontier, p.ID)
		}
	}
	return out, nil
}

func authorMergedChangesets(ctx context.Context, store storage.Store, cs osmdata.Changeset) (int, error) {
	stats, ok := store.(storage.AuthorStats)
	if !ok {
		return 0, fmt.Errorf("the store (%T) cannot count an author's merged changesets (storage.AuthorStats)", store)
	}
	n, err := stats.MergedChangesetCount(ctx, cs.UID)
	if err != nil {
		return 0, fmt.Errorf("author of changeset %d: %w", cs.ID, err)
	}
	if cs.ReviewState == osmdata.ReviewMerged {
		n-- // validated again after its merge: count those before it only
	}
	return n, nil
}

// neighbourhood gathers the keys of the elements around a changeset and
// their content in three layers: the dataset's current versions, the
// stacked parents' pending content over them, and the changeset's over
// both.
type neighbourhood struct {
	reader  storage.Reader
	current map[osmdata.Key]*osmdata.Element
	parents map[osmdata.Key]*osmdata.Element
	own     map[osmdata.Key]*osmdata.Element
	created map[osmdata.Key]bool
	// keys is the neighbourhood; fetched the keys whose current version
	// was asked for (the dataset may have none).
	keys    map[osmdata.Key]bool
	fetched map[osmdata.Key]bool
}

func newNeighbourhood(r storage.Reader) *neighbourhood {
	return &neighbourhood{
		reader:  r,
		current: map[osmdata.Key]*osmdata.Element{},
		parents: map[osmdata.Key]*osmdata.Element{},
		own:     map[osmdata.Key]*osmdata.Element{},
		created: map[osmdata.Key]bool{},
		keys:    map[osmdata.Key]bool{},
		fetched: map[osmdata.Key]bool{},
	}
}

func visible(e *osmdata.Element) *osmdata.Element {
	if e == nil || !e.Visible {
		return nil
	}
	return e
}

// before is an element as the dataset with the stacked parents has it,
// nil when absent or deleted.
func (n *neighbourhood) before(k osmdata.Key) *osmdata.Element {
	if p, ok := n.parents[k]; ok {
		return visible(p)
	}
	return visible(n.current[k])
}

// after is an element with the changeset applied too.
func (n *neighbourhood) after(k osmdata.Key) *osmdata.Element {
	if o, ok := n.own[k]; ok {
		return visible(o)
	}
	return n.before(k)
}

// versions calls fn with the before and the after content of k, each
// once when they are the same and not at all when absent.
func (n *neighbourhood) versions(k osmdata.Key, fn func(*osmdata.Element)) {
	b, a := n.before(k), n.after(k)
	if b != nil {
		fn(b)
	}
	if a != nil && a != b {
		fn(a)
	}
}

// pendingLayers are the layers of pending content, for the steps that
// search them as the store's reads search the dataset.
func (n *neighbourhood) pendingLayers() []map[osmdata.Key]*osmdata.Element {
	return []map[osmdata.Key]*osmdata.Element{n.parents, n.own}
}

// add puts keys into the neighbourhood and reads, in one statement per
// type, the current versions of those that need one: not created by the
// changeset, not pending in a parent (which hides the current version on
// both sides), not read before.
func (n *neighbourhood) add(ctx context.Context, keys []osmdata.Key) error {
	var want [4][]int64
	for _, k := range keys {
		n.keys[k] = true
		if n.fetched[k] || n.created[k] || n.parents[k] != nil {
			continue
		}
		n.fetched[k] = true
		if n.current[k] == nil {
			want[k.Type] = append(want[k.Type], k.ID)
		}
	}
	for _, t := range osmdata.ElementTypes {
		if len(want[t]) == 0 {
			continue
		}
		slices.Sort(want[t])
		els, err := n.reader.CurrentElements(ctx, t, want[t])
		if err != nil {
			return fmt.Errorf("current %ss: %w", t, err)
		}
		n.remember(els)
	}
	return nil
}

// remember keeps current versions read by any step.
func (n *neighbourhood) remember(els []osmdata.Element) {
	for i := range els {
		k := els[i].Key()
		if n.current[k] == nil {
			n.current[k] = &els[i]
		}
		n.fetched[k] = true
	}
}

// nodesOf lists the nodes of the ways among keys, in both versions.
func (n *neighbourhood) nodesOf(keys map[osmdata.Key]bool) []osmdata.Key {
	var out []osmdata.Key
	seen := map[int64]bool{}
	for k := range keys {
		if k.Type != osmdata.Way {
			continue
		}
		n.versions(k, func(w *osmdata.Element) {
			for _, id := range w.Nodes {
				if !seen[id] {
					seen[id] = true
					out = append(out, osmdata.Key{Type: osmdata.Node, ID: id})
				}
			}
		})
	}
	return out
}

func (n *neighbourhood) load(ctx context.Context) error {
	touched := make(map[osmdata.Key]bool, len(n.own))
	var touchedKeys []osmdata.Key
	for k := range n.own {
		touched[k] = true
		touchedKeys = append(touchedKeys, k)
	}
	if err := n.add(ctx, touchedKeys); err != nil {
		return err
	}
	// The nodes of touched ways, old and new lists.
	if err := n.add(ctx, n.nodesOf(touched)); err != nil {
		return err
	}

	// Nodes near the touched geometry: the nodes touched, and those of
	// touched ways (whose segments count, not only their vertices).
	near := newProximity(n.meanLatitude())
	for k := range touched {
		n.versions(k, func(e *osmdata.Element) {
			switch e.Type {
			case osmdata.Node:
				near.markPoint(e.Lat, e.Lon)
			case osmdata.Way:
				var prev *osmdata.Element
				for _, id := range e.Nodes {
					// A way's node as the same side of the change has it
					// would be more exact; either side's position keeps
					// the neighbourhood a superset.
					nd := n.after(osmdata.Key{Type: osmdata.Node, ID: id})
					if nd == nil {
						nd = n.before(osmdata.Key{Type: osmdata.Node, ID: id})
					}
					if nd == nil {
						continue
					}
					if prev != nil {
						near.markSegment(prev.Lat, prev.Lon, nd.Lat, nd.Lon)
					} else {
						near.markPoint(nd.Lat, nd.Lon)
					}
					prev = nd
				}
			}
		})
	}
	nodeIDs := map[int64]bool{}
	for k := range touched {
		if k.Type == osmdata.Node {
			nodeIDs[k.ID] = true
		}
	}
	for _, box := range near.boxes(maxBoxReads) {
		found, err := n.reader.NodesInBox(ctx, box, math.MaxInt32-1)
		if err != nil {
			return fmt.Errorf("nodes near the changeset: %w", err)
		}
		found = slices.DeleteFunc(found, func(e osmdata.Element) bool { return !near.contains(e.Lat, e.Lon) })
		n.remember(found)
		for _, e := range found {
			nodeIDs[e.ID] = true
			n.keys[e.Key()] = true
		}
	}
	for _, layer := range n.pendingLayers() {
		for k, e := range layer {
			if k.Type == osmdata.Node && e.Visible && near.contains(e.Lat, e.Lon) {
				nodeIDs[k.ID] = true
				n.keys[k] = true
			}
		}
	}

	// Ways using touched or near nodes (which includes the ways joined to
	// touched ones), then every node of every way so far.
	ids := sortedIDs(nodeIDs)
	ways, err := n.reader.WaysUsingNodes(ctx, ids)
	if err != nil {
		return fmt.Errorf("ways near the changeset: %w", err)
	}
	n.remember(ways)
	for _, w := range ways {
		n.keys[w.Key()] = true
	}
	for _, k := range n.pendingReferencing(osmdata.Way, osmdata.Node, nodeIDs) {
		n.keys[k] = true
	}
	if err := n.add(ctx, n.nodesOf(n.keys)); err != nil {
		return err
	}

	// Relations with a touched member, and the rings of multipolygons.
	var relations []osmdata.Key
	for _, t := range osmdata.ElementTypes {
		members := map[int64]bool{}
		for k := range touched {
			if k.Type == t {
				members[k.ID] = true
			}
		}
		if len(members) == 0 {
			continue
		}
		rels, err := n.reader.RelationsWithMembers(ctx, t, sortedIDs(members))
		if err != nil {
			return fmt.Errorf("relations of touched %ss: %w", t, err)
		}
		n.remember(rels)
		for _, r := range rels {
			relations = append(relations, r.Key())
		}
		relations = append(relations, n.pendingReferencing(osmdata.Relation, t, members)...)
	}
	for k := range touched {
		if k.Type == osmdata.Relation {
			relations = append(relations, k)
		}
	}
	if err := n.add(ctx, relations); err != nil {
		return err
	}
	rings := map[osmdata.Key]bool{}
	for _, k := range relations {
		n.versions(k, func(r *osmdata.Element) {
			if v, _ := r.Tags.Get("type"); v != "multipolygon" {
				return
			}
			for _, m := range r.Members {
				if m.Type == osmdata.Way {
					rings[osmdata.Key{Type: osmdata.Way, ID: m.Ref}] = true
				}
			}
		})
	}
	if len(rings) > 0 {
		if err := n.add(ctx, slices.Collect(maps.Keys(rings))); err != nil {
			return err
		}
		if err := n.add(ctx, n.nodesOf(rings)); err != nil {
			return err
		}
	}
	return nil
}

// pendingReferencing finds, in the pending layers, the elements of type
// of (ways or relations) whose content refers to an element of type t
// with one of ids, as WaysUsingNodes and RelationsWithMembers do in the
// dataset.
func (n *neighbourhood) pendingReferencing(of, t osmdata.ElementType, ids map[int64]bool) []osmdata.Key {
	var out []osmdata.Key
	for _, layer := range n.pendingLayers() {
		for k, e := range layer {
			if k.Type != of || !e.Visible {
				continue
			}
			refers := false
			for _, id := range e.Nodes {
				refers = refers || (t == osmdata.Node && ids[id])
			}
			for _, m := range e.Members {
				refers = refers || (m.Type == t && ids[m.Ref])
			}
			if refers {
				out = append(out, k)
			}
		}
	}
	return out
}

// meanLatitude is the mean latitude of the nodes gathered so far (the
// touched ones and those of touched ways), which sets how many degrees of
// longitude the margin is.
func (n *neighbourhood) meanLatitude() int32 {
	var sum, count int64
	for k := range n.keys {
		if k.Type != osmdata.Node {
			continue
		}
		n.versions(k, func(e *osmdata.Element) {
			sum += int64(e.Lat)
			count++
		})
	}
	if count == 0 {
		return 0
	}
	return int32(sum / count)
}

// snapshots builds Before and After over the neighbourhood's keys.
func (n *neighbourhood) snapshots() (before, after *validate.Snapshot) {
	before, after = newSnapshot(), newSnapshot()
	for k := range n.keys {
		if e := n.before(k); e != nil {
			snapshotMap(before, k.Type)[k.ID] = e
		}
		if e := n.after(k); e != nil {
			snapshotMap(after, k.Type)[k.ID] = e
		}
	}
	return before, after
}

func newSnapshot() *validate.Snapshot {
	return &validate.Snapshot{
		Nodes:     map[int64]*osmdata.Element{},
		Ways:      map[int64]*osmdata.Element{},
		Relations: map[int64]*osmdata.Element{},
	}
}

func snapshotMap(s *validate.Snapshot, t osmdata.ElementType) map[int64]*osmdata.Element {
	switch t {
	case osmdata.Node:
		return s.Nodes
	case osmdata.Way:
		return s.Ways
	default:
		return s.Relations
	}
}

func compareKeys(a, b osmdata.Key) int {
	switch {
	case a == b:
		return 0
	case a.Less(b):
		return -1
	default:
		return 1
	}
}

func sortedIDs(set map[int64]bool) []int64 {
	out := make([]int64, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
