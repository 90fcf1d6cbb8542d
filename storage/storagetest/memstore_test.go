package storagetest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// memStore is the storage semantics written as plainly as possible, in
// memory: the suite's own tests run against it to show that the suite
// passes a correct store (and, through the negative control, fails a
// broken one) without a database. It is not a backend: nothing outside
// this package's tests can use it.
type memStore struct {
	mu sync.RWMutex
	// history holds every version by type, then id: the reads scan one
	// type only.
	history    map[osmdata.ElementType]map[int64][]osmdata.Element
	changesets map[int64]osmdata.Changeset
	users      map[int64]bool
	next       storage.IDs
	// byLat is every current visible node sorted by latitude, rebuilt
	// after each write, so that a box over a million nodes is a binary
	// search rather than a scan.
	byLat []latIndex
	// ed is the editing side (memediting_test.go).
	ed memEditing
	// rv is the review side (memreviews_test.go), guarded by ed.mu.
	rv memReviews
}

type latIndex struct {
	lat, lon int32
	id       int64
}

func (s *memStore) reindex() {
	s.byLat = s.byLat[:0]
	for id, h := range s.history[osmdata.Node] {
		if e := &h[len(h)-1]; e.Visible {
			s.byLat = append(s.byLat, latIndex{e.Lat, e.Lon, id})
		}
	}
	sort.Slice(s.byLat, func(i, j int) bool { return s.byLat[i].lat < s.byLat[j].lat })
}

var _ storage.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{
		history: map[osmdata.ElementType]map[int64][]osmdata.Element{
			osmdata.Node: {}, osmdata.Way: {}, osmdata.Relation: {},
		},
		changesets: map[int64]osmdata.Changeset{},
		users:      map[int64]bool{},
		next:       storage.IDs{Node: 1, Way: 1, Relation: 1, Changeset: 1, User: 1},
	}
}

func clone(e osmdata.Element) osmdata.Element {
	e.Tags, e.Nodes, e.Members = slices.Clone(e.Tags), slices.Clone(e.Nodes), slices.Clone(e.Members)
	return e
}

func (s *memStore) current(k osmdata.Key) (osmdata.Element, bool) {
	h := s.history[k.Type][k.ID]
	if len(h) == 0 {
		return osmdata.Element{}, false
	}
	return h[len(h)-1], true
}

// visible returns the current visible elements of type t that keep, by id.
func (s *memStore) visible(t osmdata.ElementType, keep func(osmdata.Element) bool) []osmdata.Element {
	var out []osmdata.Element
	for _, h := range s.history[t] {
		if e := &h[len(h)-1]; e.Visible && keep(*e) {
			out = append(out, clone(*e))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *memStore) CurrentElements(ctx context.Context, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids = slices.Clone(ids)
	slices.Sort(ids)
	var out []osmdata.Element
	for _, id := range slices.Compact(ids) {
		if e, ok := s.current(osmdata.Key{Type: t, ID: id}); ok {
			out = append(out, clone(e))
		}
	}
	return out, nil
}

func (s *memStore) ElementVersion(ctx context.Context, t osmdata.ElementType, id int64, version int) (osmdata.Element, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, e := range s.history[t][id] {
		if e.Version == version {
			if s.redacted(e) {
				return osmdata.Element{}, fmt.Errorf("%s %d v%d: %w", t, id, version, storage.ErrRedacted)
			}
			return clone(e), nil
		}
	}
	return osmdata.Element{}, fmt.Errorf("%s %d v%d: %w", t, id, version, storage.ErrNotFound)
}

func (s *memStore) History(ctx context.Context, t osmdata.ElementType, id int64) ([]osmdata.Element, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	h := s.history[t][id]
	if len(h) == 0 {
		return nil, fmt.Errorf("%s %d: %w", t, id, storage.ErrNotFound)
	}
	out := make([]osmdata.Element, 0, len(h))
	for _, e := range h {
		if !s.redacted(e) {
			out = append(out, clone(e))
		}
	}
	return out, nil
}

func (s *memStore) NodesInBox(ctx context.Context, b osmdata.Box, limit int) ([]osmdata.Element, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []osmdata.Element
	i := sort.Search(len(s.byLat), func(i int) bool { return s.byLat[i].lat >= b.MinLat })
	for ; i < len(s.byLat) && s.byLat[i].lat <= b.MaxLat; i++ {
		if n := s.byLat[i]; b.Contains(n.lat, n.lon) {
			h := s.history[osmdata.Node][n.id]
			out = append(out, clone(h[len(h)-1]))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit+1 {
		out = out[:limit+1]
	}
	return out, nil
}

func (s *memStore) WaysUsingNodes(ctx context.Context, nodeIDs []int64) ([]osmdata.Element, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	want := map[int64]bool{}
	for _, id := range nodeIDs {
		want[id] = true
	}
	return s.visible(osmdata.Way, func(e osmdata.Element) bool {
		return slices.ContainsFunc(e.Nodes, func(id int64) bool { return want[id] })
	}), nil
}

func (s *memStore) RelationsWithMembers(ctx context.Context, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	want := map[int64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	return s.visible(osmdata.Relation, func(e osmdata.Element) bool {
		return slices.ContainsFunc(e.Members, func(m osmdata.Member) bool { return m.Type == t && want[m.Ref] })
	}), nil
}

func (s *memStore) Changeset(ctx context.Context, id int64) (osmdata.Changeset, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.changesets[id]
	if !ok {
		return c, fmt.Errorf("changeset %d: %w", id, storage.ErrNotFound)
	}
	return s.view(c), nil
}

func (s *memStore) Export(ctx context.Context, fn func(*osmdata.Element) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, t := range osmdata.ElementTypes {
		for _, e := range s.visible(t, func(osmdata.Element) bool { return true }) {
			if err := fn(&e); err != nil {
				return fmt.Errorf("export %s: %w", e.Key(), err)
			}
		}
	}
	return nil
}

func (s *memStore) Counts(ctx context.Context) (storage.Counts, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := storage.Counts{Changesets: int64(len(s.changesets)), Users: int64(len(s.users))}
	visible := map[osmdata.ElementType]*int64{osmdata.Node: &c.Nodes, osmdata.Way: &c.Ways, osmdata.Relation: &c.Relations}
	for t, byID := range s.history {
		for _, h := range byID {
			c.Versions += int64(len(h))
			if h[len(h)-1].Visible {
				*visible[t]++
			}
		}
	}
	return c, nil
}

func (s *memStore) Import(ctx context.Context, src storage.ElementSource) (storage.ImportResult, error) {
	start := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.history[osmdata.Node])+len(s.history[osmdata.Way])+len(s.history[osmdata.Relation]) > 0 || s.hasAccounts() {
		return storage.ImportResult{}, storage.ErrNotEmpty
	}
	var els []osmdata.Element
	for {
		e, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return storage.ImportResult{}, fmt.Errorf("import: read source: %w", err)
		}
		els = append(els, clone(*e))
	}
	if err := ctx.Err(); err != nil {
		return storage.ImportResult{}, fmt.Errorf("import: %w", err)
	}
	var res storage.ImportResult
	next := s.next
	for _, e := range els {
		s.history[e.Type][e.ID] = []osmdata.Element{e}
		switch e.Type {
		case osmdata.Node:
			res.Nodes++
			next.Node = max(next.Node, e.ID+1)
		case osmdata.Way:
			res.Ways++
			next.Way = max(next.Way, e.ID+1)
		case osmdata.Relation:
			res.Relations++
			next.Relation = max(next.Relation, e.ID+1)
		}
		next.Changeset = max(next.Changeset, e.Changeset+1)
		next.User = max(next.User, e.UID+1)
		s.users[e.UID] = true
		c, ok := s.changesets[e.Changeset]
		if !ok {
			c = osmdata.Changeset{ID: e.Changeset, UID: e.UID, User: e.User, CreatedAt: e.Timestamp, ClosedAt: e.Timestamp, ReviewState: osmdata.ReviewMerged}
		}
		c.NumChanges++
		if e.Timestamp.Before(c.CreatedAt) {
			c.CreatedAt = e.Timestamp
		}
		if e.Timestamp.After(c.ClosedAt) {
			c.ClosedAt = e.Timestamp
		}
		if e.Type == osmdata.Node {
			if !c.HasBox {
				c.HasBox, c.Box = true, osmdata.Box{MinLat: e.Lat, MinLon: e.Lon, MaxLat: e.Lat, MaxLon: e.Lon}
			}
			c.Box.MinLat, c.Box.MaxLat = min(c.Box.MinLat, e.Lat), max(c.Box.MaxLat, e.Lat)
			c.Box.MinLon, c.Box.MaxLon = min(c.Box.MinLon, e.Lon), max(c.Box.MaxLon, e.Lon)
		}
		s.changesets[e.Changeset] = c
	}
	s.next = next
	s.reindex()
	res.Users, res.Changesets = int64(len(s.users)), int64(len(s.changesets))
	res.Duration = time.Since(start)
	return res, nil
}

func (s *memStore) Apply(ctx context.Context, versions []osmdata.Element) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := map[osmdata.Key]int{}
	for _, e := range versions {
		have, ok := cur[e.Key()]
		if !ok {
			if c, found := s.current(e.Key()); found {
				have = c.Version
			}
		}
		if e.Version != have+1 {
			return fmt.Errorf("%s: version %d, current is %d: %w", e.Key(), e.Version, have, storage.ErrVersionConflict)
		}
		cur[e.Key()] = e.Version
	}
	for _, e := range versions {
		s.history[e.Type][e.ID] = append(s.history[e.Type][e.ID], clone(e))
	}
	s.reindex()
	return nil
}

func (s *memStore) NextIDs(ctx context.Context) (storage.IDs, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.next, nil
}

func (s *memStore) Close() error { return nil }
