package review

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review/validate"
	"github.com/geocommuns/geocommuns/storage"
)

// NearDistanceMetres is how far from the touched geometry a way counts as
// near (crossing and almost-junction rules look this far).
const NearDistanceMetres = 20

// maxBoxReads bounds the NodesInBox reads of one changeset: the touched
// geometry is grouped into at most this many boxes, whatever its size.
// More, smaller boxes read fewer nodes that are not near after all.
const maxBoxReads = 256

// boxReaders is how many NodesInBox reads run at once: each is one
// statement, and the store's pools serve several.
const boxReaders = 4

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
		n.setOwn(p)
	}
	parentChanges, err := stackedParentChanges(ctx, store, changeset)
	if err != nil {
		return nil, err
	}
	for _, p := range latestPerElement(parentChanges) {
		n.setParent(p)
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
	slices.SortFunc(n.ownChanges, func(a, b *osmdata.Element) int { return compareKeys(a.Key(), b.Key()) })
	in.Changes = make([]validate.Change, len(n.ownChanges))
	for i, e := range n.ownChanges {
		in.Changes[i] = validate.Change{Old: n.entries[e.Key()].before(), New: visible(e)}
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

// neighbourhood gathers the elements around a changeset, each with its
// content in three layers: the dataset's current version, the stacked
// parents' pending content over it, and the changeset's over both.
type neighbourhood struct {
	reader  storage.Reader
	entries map[osmdata.Key]*entry
	// parentChanges and ownChanges are the pending layers as lists, for
	// the steps that search them as the store's reads search the dataset.
	parentChanges, ownChanges []*osmdata.Element
}

// entry is one element the neighbourhood has come across. One map of
// entries rather than a map per layer: a step looks an element up once.
type entry struct {
	current, parent, own *osmdata.Element
	// created: the changeset creates it, so the dataset has no version.
	// fetched: its current version was read (the dataset may have none).
	// member: it is part of the neighbourhood, not only known.
	created, fetched, member bool
}

func newNeighbourhood(r storage.Reader) *neighbourhood {
	return &neighbourhood{reader: r, entries: make(map[osmdata.Key]*entry, 1<<16)}
}

func (n *neighbourhood) entry(k osmdata.Key) *entry {
	e := n.entries[k]
	if e == nil {
		e = &entry{}
		n.entries[k] = e
	}
	return e
}

func (n *neighbourhood) setOwn(p storage.PendingChange) {
	e := n.entry(p.Element.Key())
	e.own, e.created = &p.Element, p.Action == storage.Create
	n.ownChanges = append(n.ownChanges, e.own)
}

func (n *neighbourhood) setParent(p storage.PendingChange) {
	e := n.entry(p.Element.Key())
	e.parent = &p.Element
	n.parentChanges = append(n.parentChanges, e.parent)
}

func visible(e *osmdata.Element) *osmdata.Element {
	if e == nil || !e.Visible {
		return nil
	}
	return e
}

// before is an element as the dataset with the stacked parents has it,
// nil when absent or deleted.
func (e *entry) before() *osmdata.Element {
	if e.parent != nil {
		return visible(e.parent)
	}
	return visible(e.current)
}

// after is an element with the changeset applied too.
func (e *entry) after() *osmdata.Element {
	if e.own != nil {
		return visible(e.own)
	}
	return e.before()
}

// versions calls fn with the before and the after content, each once
// when they are the same and not at all when absent.
func (e *entry) versions(fn func(*osmdata.Element)) {
	b, a := e.before(), e.after()
	if b != nil {
		fn(b)
	}
	if a != nil && a != b {
		fn(a)
	}
}

// add puts keys into the neighbourhood and reads, in one statement per
// type, the current versions of those that need one: not created by the
// changeset, not pending in a parent (which hides the current version on
// both sides), not read before.
func (n *neighbourhood) add(ctx context.Context, keys []osmdata.Key) error {
	var want [4][]int64
	for _, k := range keys {
		e := n.entry(k)
		e.member = true
		if e.fetched || e.created || e.parent != nil || e.current != nil {
			continue
		}
		e.fetched = true
		want[k.Type] = append(want[k.Type], k.ID)
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
		n.remember(els, false)
	}
	return nil
}

// remember keeps current versions read by any step, as members of the
// neighbourhood when member.
func (n *neighbourhood) remember(els []osmdata.Element, member bool) {
	for i := range els {
		e := n.entry(els[i].Key())
		if e.current == nil {
			e.current = &els[i]
		}
		e.fetched = true
		e.member = e.member || member
	}
}

// nodesOf lists the nodes of the ways among keys, in both versions.
func (n *neighbourhood) nodesOf(keys []osmdata.Key) []osmdata.Key {
	var out []osmdata.Key
	seen := map[int64]bool{}
	for _, k := range keys {
		if k.Type != osmdata.Way {
			continue
		}
		n.entry(k).versions(func(w *osmdata.Element) {
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

// memberKeys lists the neighbourhood so far.
func (n *neighbourhood) memberKeys() []osmdata.Key {
	var out []osmdata.Key
	for k, e := range n.entries {
		if e.member {
			out = append(out, k)
		}
	}
	return out
}

// node is a node's after version, or its before one when the changeset
// deletes it: either position keeps the neighbourhood a superset.
func (n *neighbourhood) node(id int64) *osmdata.Element {
	e := n.entries[osmdata.Key{Type: osmdata.Node, ID: id}]
	if e == nil {
		return nil
	}
	if a := e.after(); a != nil {
		return a
	}
	return e.before()
}

func (n *neighbourhood) load(ctx context.Context) error {
	touched := make([]osmdata.Key, 0, len(n.ownChanges))
	for _, e := range n.ownChanges {
		touched = append(touched, e.Key())
	}
	// The relations of touched elements need nothing else: they are read
	// while the rest is.
	relations := make(chan relationsRead, 1)
	go func() {
		rels, err := relationsWithMembers(ctx, n.reader, touched)
		relations <- relationsRead{rels, err}
	}()
	err := n.loadWays(ctx, touched)
	rr := <-relations
	if err != nil {
		return err
	}
	if rr.err != nil {
		return rr.err
	}
	return n.loadRelations(ctx, touched, rr.rels)
}

type relationsRead struct {
	rels []osmdata.Element
	err  error
}

// loadWays gathers the touched elements, the nodes of touched ways, the
// nodes near all that, the ways using any of those nodes and the nodes of
// every such way.
func (n *neighbourhood) loadWays(ctx context.Context, touched []osmdata.Key) error {
	if err := n.add(ctx, touched); err != nil {
		return err
	}
	if err := n.add(ctx, n.nodesOf(touched)); err != nil {
		return err
	}

	// Nodes near the touched geometry: the nodes touched, and those of
	// touched ways (whose segments count, not only their vertices).
	near := newProximity(n.meanLatitude())
	for _, k := range touched {
		n.entry(k).versions(func(e *osmdata.Element) {
			switch e.Type {
			case osmdata.Node:
				near.markPoint(e.Lat, e.Lon)
			case osmdata.Way:
				var prev *osmdata.Element
				for _, id := range e.Nodes {
					nd := n.node(id)
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
	for _, k := range touched {
		if k.Type == osmdata.Node {
			nodeIDs[k.ID] = true
		}
	}
	found, err := nodesNear(ctx, n.reader, near)
	if err != nil {
		return err
	}
	n.remember(found, true)
	for _, e := range found {
		nodeIDs[e.ID] = true
	}
	for _, layer := range [][]*osmdata.Element{n.parentChanges, n.ownChanges} {
		for _, e := range layer {
			if e.Type == osmdata.Node && e.Visible && near.contains(e.Lat, e.Lon) {
				nodeIDs[e.ID] = true
				n.entry(e.Key()).member = true
			}
		}
	}

	// Ways using touched or near nodes (which includes the ways joined to
	// touched ones), then every node of every way so far.
	ways, err := n.reader.WaysUsingNodes(ctx, sortedIDs(nodeIDs))
	if err != nil {
		return fmt.Errorf("ways near the changeset: %w", err)
	}
	n.remember(ways, true)
	for _, k := range n.pendingReferencing(osmdata.Way, osmdata.Node, nodeIDs) {
		n.entry(k).member = true
	}
	return n.add(ctx, n.nodesOf(n.memberKeys()))
}

// relationsWithMembers reads the relations having any of the elements
// as members, one read per element type.
func relationsWithMembers(ctx context.Context, r storage.Reader, keys []osmdata.Key) ([]osmdata.Element, error) {
	var out []osmdata.Element
	for _, t := range osmdata.ElementTypes {
		var ids []int64
		for _, k := range keys {
			if k.Type == t {
				ids = append(ids, k.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		slices.Sort(ids)
		rels, err := r.RelationsWithMembers(ctx, t, ids)
		if err != nil {
			return nil, fmt.Errorf("relations of touched %ss: %w", t, err)
		}
		out = append(out, rels...)
	}
	return out, nil
}

// loadRelations adds the relations read with the touched members, those
// of the pending layers with such members, the touched relations, and
// the member ways of multipolygons among them with their nodes.
func (n *neighbourhood) loadRelations(ctx context.Context, touched []osmdata.Key, rels []osmdata.Element) error {
	n.remember(rels, true)
	relations := make([]osmdata.Key, 0, len(rels))
	for _, r := range rels {
		relations = append(relations, r.Key())
	}
	for _, t := range osmdata.ElementTypes {
		members := map[int64]bool{}
		for _, k := range touched {
			if k.Type == t {
				members[k.ID] = true
			}
		}
		if len(members) > 0 {
			relations = append(relations, n.pendingReferencing(osmdata.Relation, t, members)...)
		}
	}
	for _, k := range touched {
		if k.Type == osmdata.Relation {
			relations = append(relations, k)
		}
	}
	if err := n.add(ctx, relations); err != nil {
		return err
	}
	var rings []osmdata.Key
	seen := map[int64]bool{}
	for _, k := range relations {
		n.entry(k).versions(func(r *osmdata.Element) {
			if v, _ := r.Tags.Get("type"); v != "multipolygon" {
				return
			}
			for _, m := range r.Members {
				if m.Type == osmdata.Way && !seen[m.Ref] {
					seen[m.Ref] = true
					rings = append(rings, osmdata.Key{Type: osmdata.Way, ID: m.Ref})
				}
			}
		})
	}
	if len(rings) == 0 {
		return nil
	}
	if err := n.add(ctx, rings); err != nil {
		return err
	}
	return n.add(ctx, n.nodesOf(rings))
}

// pendingReferencing finds, in the pending layers, the elements of type
// of (ways or relations) whose content refers to an element of type t
// with one of ids, as WaysUsingNodes and RelationsWithMembers do in the
// dataset.
func (n *neighbourhood) pendingReferencing(of, t osmdata.ElementType, ids map[int64]bool) []osmdata.Key {
	var out []osmdata.Key
	for _, layer := range [][]*osmdata.Element{n.parentChanges, n.ownChanges} {
		for _, e := range layer {
			if e.Type != of || !e.Visible {
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
				out = append(out, e.Key())
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
	for k, e := range n.entries {
		if k.Type != osmdata.Node || !e.member {
			continue
		}
		e.versions(func(e *osmdata.Element) {
			sum += int64(e.Lat)
			count++
		})
	}
	if count == 0 {
		return 0
	}
	return int32(sum / count)
}

// snapshots builds Before and After over the neighbourhood.
func (n *neighbourhood) snapshots() (before, after *validate.Snapshot) {
	before, after = newSnapshot(), newSnapshot()
	for k, e := range n.entries {
		if !e.member {
			continue
		}
		if b := e.before(); b != nil {
			snapshotMap(before, k.Type)[k.ID] = b
		}
		if a := e.after(); a != nil {
			snapshotMap(after, k.Type)[k.ID] = a
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

// nodesNear reads the visible current nodes in the marked cells of near,
// through at most maxBoxReads NodesInBox reads, boxReaders at a time.
func nodesNear(ctx context.Context, r storage.Reader, near *proximity) ([]osmdata.Element, error) {
	boxes := near.boxes(maxBoxReads)
	results := make([][]osmdata.Element, len(boxes))
	errs := make([]error, len(boxes))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(boxReaders, len(boxes)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				found, err := r.NodesInBox(ctx, boxes[i], math.MaxInt32-1)
				if err != nil {
					errs[i] = fmt.Errorf("nodes near the changeset in %+v: %w", boxes[i], err)
					continue
				}
				results[i] = slices.DeleteFunc(found, func(e osmdata.Element) bool { return !near.contains(e.Lat, e.Lon) })
			}
		}()
	}
	for i := range boxes {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return slices.Concat(results...), nil
}
