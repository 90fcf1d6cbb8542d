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
// dataset's). Every step is one bulk read (a few per element type, and
// up to chunkReaders side by side for a large one), plus at most
// maxBoxReads NodesInBox reads for the ways near the touched geometry,
// and two reads per level of stacked parents.
//
// Before and After share the elements the changeset leaves as they are:
// rules read them and must not modify them.
func LoadInput(ctx context.Context, store storage.Store, changeset int64) (*validate.Input, error) {
	// The changeset with its author's record, the stacked parents and the
	// changeset's own changes need nothing of each other: they are read
	// side by side.
	type changesetRead struct {
		cs     osmdata.Changeset
		merged int
		err    error
	}
	header := make(chan changesetRead, 1)
	go func() {
		cs, err := store.Changeset(ctx, changeset)
		if err != nil {
			header <- changesetRead{err: fmt.Errorf("changeset %d: %w", changeset, err)}
			return
		}
		merged, err := authorMergedChangesets(ctx, store, cs)
		header <- changesetRead{cs, merged, err}
	}()
	type parentsRead struct {
		changes []storage.PendingChange
		err     error
	}
	parents := make(chan parentsRead, 1)
	go func() {
		changes, err := stackedParentChanges(ctx, store, changeset)
		parents <- parentsRead{changes, err}
	}()
	own, ownErr := store.ChangesetChanges(ctx, changeset)
	head, stacked := <-header, <-parents
	switch {
	case head.err != nil:
		return nil, head.err
	case ownErr != nil:
		return nil, fmt.Errorf("changes of changeset %d: %w", changeset, ownErr)
	case stacked.err != nil:
		return nil, stacked.err
	}
	n := newNeighbourhood(store)
	for _, p := range latestPerElement(own) {
		n.setOwn(p)
	}
	for _, p := range latestPerElement(stacked.changes) {
		n.setParent(p)
	}
	if err := n.load(ctx); err != nil {
		return nil, fmt.Errorf("neighbourhood of changeset %d: %w", changeset, err)
	}
	in := &validate.Input{Changeset: head.cs, AuthorMergedChangesets: head.merged}
	in.Before, in.After = n.snapshots()
	slices.SortFunc(n.ownChanges, func(a, b *osmdata.Element) int { return compareKeys(a.Key(), b.Key()) })
	in.Changes = make([]validate.Change, len(n.ownChanges))
	for i, e := range n.ownChanges {
		in.Changes[i] = validate.Change{Old: n.entry(e.Key()).before(), New: visible(e)}
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
	reader storage.Reader
	// entries are keyed by packKey: a map of integers hashes faster than
	// one of structs, and there is one lookup per element per step.
	entries map[uint64]*entry
	// spare is where new entries are taken from: one allocation per
	// entrySlab entries rather than one each, tens of thousands fewer
	// objects for the collector.
	spare []entry
	// parentChanges and ownChanges are the pending layers as lists, for
	// the steps that search them as the store's reads search the dataset.
	parentChanges, ownChanges []*osmdata.Element
}

// entry is one element the neighbourhood has come across. One map of
// entries rather than a map per layer: a step looks an element up once.
type entry struct {
	key                  osmdata.Key
	current, parent, own *osmdata.Element
	// created: the changeset creates it, so the dataset has no version.
	// fetched: its current version was read (the dataset may have none).
	// member: it is part of the neighbourhood, not only known.
	created, fetched, member bool
}

func newNeighbourhood(r storage.Reader) *neighbourhood {
	return &neighbourhood{reader: r, entries: make(map[uint64]*entry, 1<<16)}
}

// packKey packs a key into the entries' map key: ids are positive and far
// below 2^61.
func packKey(k osmdata.Key) uint64 { return uint64(k.ID)<<2 | uint64(k.Type) }

func (n *neighbourhood) entry(k osmdata.Key) *entry {
	e := n.entries[packKey(k)]
	if e == nil {
		if len(n.spare) == 0 {
			n.spare = make([]entry, entrySlab)
		}
		e = &n.spare[0]
		n.spare = n.spare[1:]
		e.key = k
		n.entries[packKey(k)] = e
	}
	return e
}

// entrySlab is how many entries one allocation holds.
const entrySlab = 4096

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
// type, the current versions of those that need one.
func (n *neighbourhood) add(ctx context.Context, keys []osmdata.Key) error {
	var want [4][]int64
	for _, k := range keys {
		n.join(k, &want)
	}
	return n.fetch(ctx, want)
}

// addNodesOf puts the nodes of the ways among keys, in both versions,
// into the neighbourhood, and reads those that need it as add does.
func (n *neighbourhood) addNodesOf(ctx context.Context, keys []osmdata.Key) error {
	var want [4][]int64
	for _, k := range keys {
		if k.Type != osmdata.Way {
			continue
		}
		n.entry(k).versions(func(w *osmdata.Element) {
			for _, id := range w.Nodes {
				n.join(osmdata.Key{Type: osmdata.Node, ID: id}, &want)
			}
		})
	}
	return n.fetch(ctx, want)
}

// join makes k a member of the neighbourhood and adds its id to want when
// its current version is still to be read: not created by the changeset,
// not pending in a parent (which hides the current version on both
// sides), not read or asked for before.
func (n *neighbourhood) join(k osmdata.Key, want *[4][]int64) {
	e := n.entry(k)
	e.member = true
	if e.fetched || e.created || e.parent != nil || e.current != nil {
		return
	}
	e.fetched = true
	want[k.Type] = append(want[k.Type], k.ID)
}

// fetch reads the current versions of want, one read per type side by
// side, remembered in type order.
func (n *neighbourhood) fetch(ctx context.Context, want [4][]int64) error {
	var read [4][][]osmdata.Element
	var errs [4]error
	var wg sync.WaitGroup
	for _, t := range osmdata.ElementTypes {
		if len(want[t]) == 0 {
			continue
		}
		slices.Sort(want[t])
		wg.Add(1)
		go func() {
			defer wg.Done()
			read[t], errs[t] = readChunked(ctx, want[t], func(ctx context.Context, ids []int64) ([]osmdata.Element, error) {
				return n.reader.CurrentElements(ctx, t, ids)
			})
			if errs[t] != nil {
				errs[t] = fmt.Errorf("current %ss: %w", t, errs[t])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return err
	}
	for _, t := range osmdata.ElementTypes {
		for _, part := range read[t] {
			n.remember(part, false)
		}
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

// memberWays lists the ways of the neighbourhood so far.
func (n *neighbourhood) memberWays() []osmdata.Key {
	var out []osmdata.Key
	for _, e := range n.entries {
		if e.member && e.key.Type == osmdata.Way {
			out = append(out, e.key)
		}
	}
	return out
}

// node is a node's after version, or its before one when the changeset
// deletes it: either position keeps the neighbourhood a superset.
func (n *neighbourhood) node(id int64) *osmdata.Element {
	e := n.entries[packKey(osmdata.Key{Type: osmdata.Node, ID: id})]
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
	// The nodes of touched ways as the pending layers have them are known
	// now and read with the touched elements: only those of the current
	// versions (a way's nodes before the changeset edits its list) wait
	// for a second read, which a retag or a new way does not need.
	first := slices.Clone(touched)
	for _, k := range touched {
		if k.Type != osmdata.Way {
			continue
		}
		e := n.entry(k)
		for _, w := range []*osmdata.Element{visible(e.parent), visible(e.own)} {
			if w != nil {
				for _, id := range w.Nodes {
					first = append(first, osmdata.Key{Type: osmdata.Node, ID: id})
				}
			}
		}
	}
	if err := n.add(ctx, first); err != nil {
		return err
	}
	// The relations of touched elements and the rings of multipolygons
	// among them need nothing the ways' steps read: they are read
	// meanwhile, from contents handed over now (the goroutine does not
	// touch the entries).
	pending := map[osmdata.Key][]*osmdata.Element{}
	for _, layer := range [][]*osmdata.Element{n.parentChanges, n.ownChanges} {
		for _, e := range layer {
			if e.Type != osmdata.Node {
				pending[e.Key()] = append(pending[e.Key()], e)
			}
		}
	}
	var touchedRelations []*osmdata.Element
	for _, k := range touched {
		if k.Type == osmdata.Relation {
			n.entry(k).versions(func(r *osmdata.Element) { touchedRelations = append(touchedRelations, r) })
		}
	}
	relations := make(chan relationsRead, 1)
	go func() {
		relations <- readRelations(ctx, n.reader, touched, touchedRelations, pending)
	}()
	err := n.loadWays(ctx, touched)
	rr := <-relations
	if err != nil {
		return err
	}
	if rr.err != nil {
		return rr.err
	}
	n.remember(rr.read, false)
	for _, k := range rr.members {
		n.entry(k).member = true
	}
	return nil
}

// relationsRead is what readRelations found: the current versions it
// read, and the keys of the neighbourhood's relations part (elements
// pending only included).
type relationsRead struct {
	read    []osmdata.Element
	members []osmdata.Key
	err     error
}

// readRelations reads the relations having a touched element as a
// member, and for the multipolygons among them and among the touched
// relations, their member ways and those ways' nodes: three steps of one
// bulk read (the first one per element type). pending holds the pending
// contents of ways and relations, parents' and the changeset's, which
// take part as the dataset's do.
func readRelations(ctx context.Context, r storage.Reader, touched []osmdata.Key, touchedRelations []*osmdata.Element,
	pending map[osmdata.Key][]*osmdata.Element) relationsRead {
	var out relationsRead
	var ids [4][]int64
	for _, k := range touched {
		ids[k.Type] = append(ids[k.Type], k.ID)
	}
	isTouched := map[osmdata.Key]bool{}
	for _, k := range touched {
		isTouched[k] = true
	}
	candidates := slices.Clone(touchedRelations)
	for _, t := range osmdata.ElementTypes {
		if len(ids[t]) == 0 {
			continue
		}
		slices.Sort(ids[t])
		rels, err := r.RelationsWithMembers(ctx, t, ids[t])
		if err != nil {
			out.err = fmt.Errorf("relations of touched %ss: %w", t, err)
			return out
		}
		out.read = append(out.read, rels...)
	}
	for i := range out.read {
		candidates = append(candidates, &out.read[i])
		candidates = append(candidates, pending[out.read[i].Key()]...)
	}
	for _, versions := range pending {
		for _, e := range versions {
			if e.Type != osmdata.Relation || !e.Visible {
				continue
			}
			for _, m := range e.Members {
				if isTouched[osmdata.Key{Type: m.Type, ID: m.Ref}] {
					candidates = append(candidates, e)
					break
				}
			}
		}
	}
	rings := map[int64]bool{}
	for _, rel := range candidates {
		out.members = append(out.members, rel.Key())
		if v, _ := rel.Tags.Get("type"); v != "multipolygon" || !rel.Visible {
			continue
		}
		for _, m := range rel.Members {
			if m.Type == osmdata.Way {
				rings[m.Ref] = true
			}
		}
	}
	if len(rings) == 0 {
		return out
	}
	ways, err := r.CurrentElements(ctx, osmdata.Way, sortedIDs(rings))
	if err != nil {
		out.err = fmt.Errorf("multipolygon rings: %w", err)
		return out
	}
	ringNodes := map[int64]bool{}
	addNodes := func(w *osmdata.Element) {
		for _, id := range w.Nodes {
			ringNodes[id] = true
		}
	}
	for id := range rings {
		k := osmdata.Key{Type: osmdata.Way, ID: id}
		out.members = append(out.members, k)
		for _, w := range pending[k] {
			addNodes(w)
		}
	}
	for i := range ways {
		addNodes(&ways[i])
	}
	out.read = append(out.read, ways...)
	nodes, err := r.CurrentElements(ctx, osmdata.Node, sortedIDs(ringNodes))
	if err != nil {
		out.err = fmt.Errorf("nodes of multipolygon rings: %w", err)
		return out
	}
	for id := range ringNodes {
		out.members = append(out.members, osmdata.Key{Type: osmdata.Node, ID: id})
	}
	out.read = append(out.read, nodes...)
	return out
}

// loadWays gathers the nodes of touched ways, the nodes near the touched
// elements, the ways using any of those nodes and the nodes of
// every such way.
func (n *neighbourhood) loadWays(ctx context.Context, touched []osmdata.Key) error {
	if err := n.addNodesOf(ctx, touched); err != nil {
		return err
	}

	// Nodes near the touched geometry: the nodes touched, and those of
	// touched ways (whose segments count, not only their vertices). The
	// marks are gathered first, so that the grid knows their area.
	var marks []mark
	area := osmdata.Box{MinLat: math.MaxInt32, MinLon: math.MaxInt32, MaxLat: math.MinInt32, MaxLon: math.MinInt32}
	add := func(m mark) {
		marks = append(marks, m)
		area.MinLat, area.MaxLat = min(area.MinLat, m.lat1, m.lat2), max(area.MaxLat, m.lat1, m.lat2)
		area.MinLon, area.MaxLon = min(area.MinLon, m.lon1, m.lon2), max(area.MaxLon, m.lon1, m.lon2)
	}
	for _, k := range touched {
		n.entry(k).versions(func(e *osmdata.Element) {
			switch e.Type {
			case osmdata.Node:
				add(mark{e.Lat, e.Lon, e.Lat, e.Lon})
			case osmdata.Way:
				var prev *osmdata.Element
				for _, id := range e.Nodes {
					nd := n.node(id)
					if nd == nil {
						continue
					}
					if prev != nil {
						add(mark{prev.Lat, prev.Lon, nd.Lat, nd.Lon})
					} else {
						add(mark{nd.Lat, nd.Lon, nd.Lat, nd.Lon})
					}
					prev = nd
				}
			}
		})
	}
	near := newProximity(n.meanLatitude(), area)
	for _, m := range marks {
		if m.lat1 == m.lat2 && m.lon1 == m.lon2 {
			near.markPoint(m.lat1, m.lon1)
		} else {
			near.markSegment(m.lat1, m.lon1, m.lat2, m.lon2)
		}
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
	// The boxes hold more nodes than the marked cells: those outside are
	// kept as known, not members, since the nodes of the ways near reach
	// out there and need not be read a second time.
	for _, box := range found {
		n.remember(box, false)
		for i := range box {
			if near.contains(box[i].Lat, box[i].Lon) {
				nodeIDs[box[i].ID] = true
				n.entry(box[i].Key()).member = true
			}
		}
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
	// Split, a way using nodes of two chunks comes twice: remember keeps
	// the first.
	ways, err := readChunked(ctx, sortedIDs(nodeIDs), n.reader.WaysUsingNodes)
	if err != nil {
		return fmt.Errorf("ways near the changeset: %w", err)
	}
	for _, part := range ways {
		n.remember(part, true)
	}
	for _, k := range n.pendingReferencing(osmdata.Way, osmdata.Node, nodeIDs) {
		n.entry(k).member = true
	}
	return n.addNodesOf(ctx, n.memberWays())
}

// mark is a segment, or a point when both ends are one, whose
// neighbourhood is read.
type mark struct{ lat1, lon1, lat2, lon2 int32 }

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
	for _, e := range n.entries {
		if e.key.Type != osmdata.Node || !e.member {
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

// snapshots builds Before and After over the neighbourhood, side by
// side: each is a pass over every entry, filling maps of tens of
// thousands of elements.
func (n *neighbourhood) snapshots() (before, after *validate.Snapshot) {
	var sizes [4]int
	members := make([]*entry, 0, len(n.entries))
	for _, e := range n.entries {
		if e.member {
			sizes[e.key.Type]++
			members = append(members, e)
		}
	}
	fill := func(version func(*entry) *osmdata.Element) *validate.Snapshot {
		s := newSnapshot(sizes)
		for _, e := range members {
			if v := version(e); v != nil {
				snapshotMap(s, e.key.Type)[e.key.ID] = v
			}
		}
		return s
	}
	done := make(chan struct{})
	go func() {
		before = fill((*entry).before)
		close(done)
	}()
	after = fill((*entry).after)
	<-done
	return before, after
}

func newSnapshot(sizes [4]int) *validate.Snapshot {
	return &validate.Snapshot{
		Nodes:     make(map[int64]*osmdata.Element, sizes[osmdata.Node]),
		Ways:      make(map[int64]*osmdata.Element, sizes[osmdata.Way]),
		Relations: make(map[int64]*osmdata.Element, sizes[osmdata.Relation]),
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

// nodesNear reads the visible current nodes in the boxes covering the
// marked cells of near, through at most maxBoxReads NodesInBox reads,
// boxReaders at a time; nodes outside marked cells are for the caller to
// tell apart.
func nodesNear(ctx context.Context, r storage.Reader, near *proximity) ([][]osmdata.Element, error) {
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
				results[i] = found
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
	return results, nil
}
