package storagetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// memEditing is storage.Editing written as plainly as possible, for the
// suite's own tests. A changeset's Open field in memStore.changesets is
// the raw is_open; view computes OSM's "open" from it.
type memEditing struct {
	// mu serializes every editing write and the whole of each Stage, as
	// SQLite's write lock does; it is taken before memStore.mu.
	mu       sync.Mutex
	openedAt map[int64]time.Time
	pending  map[memPendingKey]storage.PendingChange
	versions map[memVersionKey]int64 // the seq that gave the version
	parents  map[int64][]int64
	seq      int64
	// finals is the final version a merge gave each pending row
	// (pending_changes.final_version); the merge side is memmerge_test.go.
	finals map[memPendingKey]int
	// undecided holds the changesets submitted since the merge queue's
	// policy last decided on them; only the submitted ones count.
	undecided map[int64]bool
	merging   memMerging
	reviews   memReviewLog
}

type memPendingKey struct {
	changeset int64
	key       osmdata.Key
}

type memVersionKey struct {
	author  int64
	key     osmdata.Key
	version int
	cs      int64
}

// memNow is the memory store's "database time", whole seconds.
func memNow() time.Time { return time.Now().UTC().Truncate(time.Second) }

func (s *memStore) view(c osmdata.Changeset) osmdata.Changeset {
	c.Open = c.Open && c.ClosedAt.After(time.Now()) && c.NumChanges < storage.MaxChangesetChanges
	c.Tags = slices.Clone(c.Tags)
	return c
}

func (e *memEditing) init() {
	if e.pending == nil {
		e.openedAt = map[int64]time.Time{}
		e.pending = map[memPendingKey]storage.PendingChange{}
		e.versions = map[memVersionKey]int64{}
		e.parents = map[int64][]int64{}
		e.finals = map[memPendingKey]int{}
		e.undecided = map[int64]bool{}
	}
}

func (s *memStore) CreateChangeset(ctx context.Context, n storage.NewChangeset) (osmdata.Changeset, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.ed.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := memNow()
	c := osmdata.Changeset{ID: s.next.Changeset, UID: n.UID, User: n.User, CreatedAt: now,
		ClosedAt: now.Add(storage.ChangesetIdle), Open: true, Tags: slices.Clone(n.Tags)}
	s.next.Changeset++
	s.changesets[c.ID] = c
	s.ed.openedAt[c.ID] = now
	return s.view(c), nil
}

// ownChangeset reads a changeset (raw) and checks owner and openness.
func (s *memStore) ownChangeset(id, uid int64) (osmdata.Changeset, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.changesets[id]
	if !ok {
		return c, fmt.Errorf("changeset %d: %w", id, storage.ErrNotFound)
	}
	if c.UID != uid {
		return c, fmt.Errorf("changeset %d: %w", id, storage.ErrNotOwner)
	}
	if !s.view(c).Open {
		return c, fmt.Errorf("changeset %d: %w", id, storage.ErrChangesetClosed)
	}
	return c, nil
}

// nextClose is closed_at after activity (OSM's update_closed_at).
func (s *memStore) nextClose(c osmdata.Changeset) time.Time {
	start, ok := s.ed.openedAt[c.ID]
	if !ok {
		start = c.CreatedAt
	}
	close := memNow().Add(storage.ChangesetIdle)
	if end := start.Add(storage.ChangesetMaxAge); end.Before(close) {
		close = end
	}
	return close
}

func (s *memStore) changeOwn(id, uid int64, change func(c *osmdata.Changeset)) (osmdata.Changeset, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.ed.init()
	c, err := s.ownChangeset(id, uid)
	if err != nil {
		return c, err
	}
	change(&c)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.changesets[id] = c
	return s.view(c), nil
}

func (s *memStore) UpdateChangesetTags(ctx context.Context, id, uid int64, tags osmdata.Tags) (osmdata.Changeset, error) {
	return s.changeOwn(id, uid, func(c *osmdata.Changeset) {
		c.Tags = slices.Clone(tags)
		c.ClosedAt = s.nextClose(*c)
	})
}

func (s *memStore) CloseChangeset(ctx context.Context, id, uid int64) (osmdata.Changeset, error) {
	return s.changeOwn(id, uid, func(c *osmdata.Changeset) {
		c.Open, c.ClosedAt, c.ReviewState = false, memNow(), osmdata.ReviewSubmitted
		s.ed.undecided[id] = true
		s.forgetSubmission(id)
		s.ed.reviews.log(osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventSubmitted, ActorUID: uid, State: osmdata.ReviewSubmitted})
	})
}

func (s *memStore) CloseDueChangesets(ctx context.Context) ([]int64, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.ed.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int64
	now := memNow()
	for id, c := range s.changesets {
		if c.Open && (!c.ClosedAt.After(time.Now()) || c.NumChanges >= storage.MaxChangesetChanges) {
			c.Open, c.ReviewState = false, osmdata.ReviewSubmitted
			if c.ClosedAt.After(now) {
				c.ClosedAt = now
			}
			s.changesets[id] = c
			s.ed.undecided[id] = true
			s.forgetSubmission(id)
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		s.ed.reviews.log(osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventSubmitted, State: osmdata.ReviewSubmitted})
	}
	return ids, nil
}

func (s *memStore) SetReviewState(ctx context.Context, id int64, state osmdata.ReviewState, note storage.ReviewNote) (osmdata.Changeset, error) {
	if state == osmdata.ReviewNone {
		return osmdata.Changeset{}, errors.New("the review state cannot go back to none")
	}
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.ed.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.changesets[id]
	if !ok {
		return c, fmt.Errorf("changeset %d: %w", id, storage.ErrNotFound)
	}
	s.applyReviewState(&c, state)
	s.changesets[id] = c
	s.ed.reviews.log(osmdata.ReviewEvent{Changeset: id, Kind: osmdata.StateEvent(state),
		ActorUID: note.ActorUID, Scope: note.Scope, Comment: note.Comment, State: state})
	return s.view(c), nil
}

// applyReviewState moves c to state as SetReviewState does; Decide and
// Withdraw (memreviews_test.go) move it alike. The caller holds both
// locks.
func (s *memStore) applyReviewState(c *osmdata.Changeset, state osmdata.ReviewState) {
	now := memNow()
	c.ReviewState = state
	if state == osmdata.ReviewSubmitted {
		s.ed.undecided[c.ID] = true
	}
	switch state {
	case osmdata.ReviewChangesRequested, osmdata.ReviewConflicted:
		c.Open, c.ClosedAt = true, now.Add(storage.ChangesetIdle)
		s.ed.openedAt[c.ID] = now
	default:
		if c.Open && c.ClosedAt.After(now) {
			c.ClosedAt = now
		}
		c.Open = false
	}
}

func (s *memStore) BackdateChangeset(ctx context.Context, id int64, d time.Duration) error {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.ed.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.changesets[id]
	if !ok {
		return fmt.Errorf("changeset %d: %w", id, storage.ErrNotFound)
	}
	d = d.Truncate(time.Second)
	c.CreatedAt, c.ClosedAt = c.CreatedAt.Add(-d), c.ClosedAt.Add(-d)
	if o, ok := s.ed.openedAt[id]; ok {
		s.ed.openedAt[id] = o.Add(-d)
	}
	s.changesets[id] = c
	return nil
}

func (s *memStore) Changesets(ctx context.Context, q storage.ChangesetQuery) ([]osmdata.Changeset, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	namedUser := func(uid int64) bool {
		for _, byID := range s.history {
			for _, h := range byID {
				for _, e := range h {
					if e.UID == uid && e.User == q.DisplayName {
						return true
					}
				}
			}
		}
		return false
	}
	var out []osmdata.Changeset
	for _, raw := range s.changesets {
		c := s.view(raw)
		switch {
		case len(q.IDs) > 0 && !slices.Contains(q.IDs, c.ID),
			q.UID != 0 && c.UID != q.UID,
			q.DisplayName != "" && !namedUser(c.UID),
			q.Box != nil && !(c.HasBox && c.Box.MinLon < q.Box.MaxLon && c.Box.MaxLon > q.Box.MinLon &&
				c.Box.MinLat < q.Box.MaxLat && c.Box.MaxLat > q.Box.MinLat),
			!q.ClosedAfter.IsZero() && c.ClosedAt.Before(q.ClosedAfter),
			!q.CreatedBefore.IsZero() && c.CreatedAt.After(q.CreatedBefore),
			q.OnlyOpen && !c.Open,
			q.OnlyClosed && c.Open,
			len(q.ReviewStates) > 0 && !slices.Contains(q.ReviewStates, c.ReviewState):
			continue
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func clonePending(p storage.PendingChange) storage.PendingChange {
	p.Element = clone(p.Element)
	return p
}

func (s *memStore) ChangesetChanges(ctx context.Context, id int64) ([]storage.PendingChange, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	var out []storage.PendingChange
	for k, p := range s.ed.pending {
		if k.changeset == id {
			out = append(out, clonePending(p))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

func (s *memStore) ChangesetParents(ctx context.Context, id int64) ([]int64, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	return slices.Clone(s.ed.parents[id]), nil
}

// memPending is one author's view of a snapshot of the pending rows.
type memPending struct {
	s        *memStore
	author   int64
	pending  map[memPendingKey]storage.PendingChange
	versions map[memVersionKey]int64
	// locked says the caller holds memEditing.mu (inside Stage).
	locked bool
}

func (s *memStore) Pending(author int64) storage.PendingReader {
	return &memPending{s: s, author: author}
}

// snapshot returns the rows to read, copying the committed ones under
// the editing lock when called outside Stage.
func (r *memPending) snapshot() (map[memPendingKey]storage.PendingChange, map[memVersionKey]int64) {
	if r.locked {
		return r.pending, r.versions
	}
	r.s.ed.mu.Lock()
	defer r.s.ed.mu.Unlock()
	return maps.Clone(r.s.ed.pending), maps.Clone(r.s.ed.versions)
}

func (r *memPending) reviewState(cs int64) osmdata.ReviewState {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	return r.s.changesets[cs].ReviewState
}

// latest is the author's latest active row of every element.
func (r *memPending) latest() map[osmdata.Key]storage.PendingChange {
	rows, _ := r.snapshot()
	out := map[osmdata.Key]storage.PendingChange{}
	for k, p := range rows {
		if p.Author != r.author {
			continue
		}
		if st := r.reviewState(k.changeset); st == osmdata.ReviewRejected || st == osmdata.ReviewMerged {
			continue
		}
		if have, ok := out[k.key]; !ok || p.Seq > have.Seq {
			out[k.key] = p
		}
	}
	return out
}

func sortedPending(m map[osmdata.Key]storage.PendingChange, keep func(storage.PendingChange) bool) []storage.PendingChange {
	var out []storage.PendingChange
	for _, p := range m {
		if keep(p) {
			out = append(out, clonePending(p))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Element.Key().Less(out[j].Element.Key()) })
	return out
}

func (r *memPending) PendingElements(ctx context.Context, t osmdata.ElementType, ids []int64) ([]storage.PendingChange, error) {
	return sortedPending(r.latest(), func(p storage.PendingChange) bool {
		return p.Element.Type == t && slices.Contains(ids, p.Element.ID)
	}), nil
}

func (r *memPending) PendingNodesInBox(ctx context.Context, box osmdata.Box) ([]storage.PendingChange, error) {
	return sortedPending(r.latest(), func(p storage.PendingChange) bool {
		e := p.Element
		return e.Type == osmdata.Node && e.Visible && box.Contains(e.Lat, e.Lon)
	}), nil
}

func (r *memPending) PendingReferencing(ctx context.Context, t osmdata.ElementType, ids []int64) ([]storage.PendingChange, error) {
	return sortedPending(r.latest(), func(p storage.PendingChange) bool {
		e := p.Element
		if !e.Visible {
			return false
		}
		if t == osmdata.Node && slices.ContainsFunc(e.Nodes, func(n int64) bool { return slices.Contains(ids, n) }) {
			return true
		}
		return slices.ContainsFunc(e.Members, func(m osmdata.Member) bool { return m.Type == t && slices.Contains(ids, m.Ref) })
	}), nil
}

func (r *memPending) PendingVersion(ctx context.Context, key osmdata.Key, version int) (storage.PendingChange, error) {
	rows, versions := r.snapshot()
	best, bestSeq := int64(0), int64(-1)
	for v, seq := range versions {
		if v.author == r.author && v.key == key && v.version == version && seq > bestSeq &&
			r.reviewState(v.cs) != osmdata.ReviewRejected {
			best, bestSeq = v.cs, seq
		}
	}
	if bestSeq < 0 {
		return storage.PendingChange{}, fmt.Errorf("pending %s v%d: %w", key, version, storage.ErrNotFound)
	}
	return clonePending(rows[memPendingKey{best, key}]), nil
}

func (s *memStore) Stage(ctx context.Context, id, uid int64, fn func(ctx context.Context, tx storage.StageTx) error) error {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.ed.init()
	cs, err := s.ownChangeset(id, uid)
	if err != nil {
		return err
	}
	tx := &memStageTx{memStore: s, raw: cs, locked: s.view(cs), seq: s.ed.seq,
		pending: maps.Clone(s.ed.pending), versions: maps.Clone(s.ed.versions),
		parents: slices.Clone(s.ed.parents[id])}
	if err := fn(ctx, tx); err != nil {
		return err
	}
	s.ed.pending, s.ed.versions, s.ed.seq = tx.pending, tx.versions, tx.seq
	s.ed.parents[id] = tx.parents
	s.mu.Lock()
	s.changesets[id] = tx.raw
	s.mu.Unlock()
	return nil
}

// memStageTx works on copies that Stage swaps in on success. Its Reader
// is the memStore's (an upload never writes the dataset).
type memStageTx struct {
	*memStore
	raw, locked osmdata.Changeset
	seq         int64
	pending     map[memPendingKey]storage.PendingChange
	versions    map[memVersionKey]int64
	parents     []int64
}

func (t *memStageTx) LockedChangeset() osmdata.Changeset { return t.locked }

func (t *memStageTx) Pending() storage.PendingReader {
	return &memPending{s: t.memStore, author: t.raw.UID, pending: t.pending, versions: t.versions, locked: true}
}

// ConflictReport reads under the lock Stage holds (memStore's
// MergeConflicts would take it again).
func (t *memStageTx) ConflictReport(ctx context.Context) ([]storage.MergeConflict, error) {
	return cloneConflicts(t.ed.merging.conflicts[t.raw.ID]), nil
}

func (t *memStageTx) AllocateIDs(ctx context.Context, typ osmdata.ElementType, n int) ([]int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var next *int64
	switch typ {
	case osmdata.Node:
		next = &t.next.Node
	case osmdata.Way:
		next = &t.next.Way
	case osmdata.Relation:
		next = &t.next.Relation
	default:
		return nil, fmt.Errorf("unknown element type %d", typ)
	}
	var ids []int64
	for range n {
		ids = append(ids, *next)
		*next++
	}
	return ids, nil
}

func (t *memStageTx) WritePending(ctx context.Context, changes []storage.PendingChange) error {
	now := memNow()
	for i := range changes {
		p := &changes[i]
		if p.Action < storage.Create || p.Action > storage.Delete {
			return fmt.Errorf("%s: unknown action %d", p.Element.Key(), p.Action)
		}
		if (p.Changeset != 0 && p.Changeset != t.raw.ID) || (p.Author != 0 && p.Author != t.raw.UID) {
			return fmt.Errorf("%s: for changeset %d by %d", p.Element.Key(), p.Changeset, p.Author)
		}
	}
	for i := range changes {
		p := &changes[i]
		t.seq++
		p.Seq, p.UploadedAt, p.Element.Timestamp = t.seq, now, now
		p.Changeset, p.Element.Changeset = t.raw.ID, t.raw.ID
		p.Author, p.Element.UID = t.raw.UID, t.raw.UID
		if p.Element.User == "" {
			p.Element.User = t.raw.User
		}
		t.pending[memPendingKey{t.raw.ID, p.Element.Key()}] = clonePending(*p)
		t.versions[memVersionKey{t.raw.UID, p.Element.Key(), p.Element.Version, t.raw.ID}] = p.Seq
	}
	return nil
}

func (t *memStageTx) AddParents(ctx context.Context, parents []int64) error {
	for _, p := range parents {
		if p == t.raw.ID {
			continue
		}
		t.mu.RLock()
		c, ok := t.changesets[p]
		t.mu.RUnlock()
		if !ok || c.UID != t.raw.UID {
			return fmt.Errorf("changeset %d is not user %d's", p, t.raw.UID)
		}
		if !slices.Contains(t.parents, p) {
			t.parents = append(t.parents, p)
		}
	}
	slices.Sort(t.parents)
	return nil
}

func (t *memStageTx) UpdateChangeset(ctx context.Context, numChanges int, box osmdata.Box, hasBox bool) (osmdata.Changeset, error) {
	c := &t.raw
	c.NumChanges += numChanges
	if hasBox {
		if !c.HasBox {
			c.HasBox, c.Box = true, box
		}
		c.Box.MinLat, c.Box.MinLon = min(c.Box.MinLat, box.MinLat), min(c.Box.MinLon, box.MinLon)
		c.Box.MaxLat, c.Box.MaxLon = max(c.Box.MaxLat, box.MaxLat), max(c.Box.MaxLon, box.MaxLon)
	}
	if c.NumChanges >= storage.MaxChangesetChanges {
		c.ClosedAt = memNow()
	} else {
		c.ClosedAt = t.nextClose(*c)
	}
	return t.view(*c), nil
}
