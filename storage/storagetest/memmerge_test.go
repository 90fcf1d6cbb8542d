package storagetest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// memMerging is the merge side of memStore (storage.Merger and
// storage.MergeQueue), guarded by memEditing.mu. That mutex is the merge
// lock: a merge holds it from reading the changeset to writing the outbox
// entry, as SQLite's write lock is held from BEGIN IMMEDIATE to COMMIT, so
// merges are serialized with each other and with every editing write.
type memMerging struct {
	lastSeq   int64
	outbox    []storage.OutboxEntry
	conflicts map[int64][]storage.MergeConflict
	// merged is closed by the next merge (memchangefeed_test.go).
	merged chan struct{}
}

func (s *memStore) Merge(ctx context.Context, id int64) (storage.OutboxEntry, error) {
	return s.MergeWith(ctx, id, storage.MergeOptions{})
}

func (s *memStore) MergeWith(ctx context.Context, id int64, opts storage.MergeOptions) (storage.OutboxEntry, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.ed.init()
	// The dataset's lock too, for the whole merge: Apply and Import take
	// it, as they take the backends' merge lock, so nothing moves the
	// current versions between PlanMerge's checks and the write.
	s.mu.Lock()
	defer s.mu.Unlock()

	raw, ok := s.changesets[id]
	if !ok {
		return storage.OutboxEntry{}, fmt.Errorf("merge changeset %d: %w", id, storage.ErrNotFound)
	}
	if raw.ReviewState != osmdata.ReviewSubmitted && raw.ReviewState != osmdata.ReviewApproved {
		return storage.OutboxEntry{}, fmt.Errorf("merge changeset %d: review state %q: %w", id, raw.ReviewState, storage.ErrNotMergeable)
	}
	var changes []storage.PendingChange
	for k, p := range s.ed.pending {
		if k.changeset == id {
			changes = append(changes, clonePending(p))
		}
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Seq < changes[j].Seq })

	at := memNow()
	plan, conflicts, err := storage.PlanMerge(ctx, s.mergeTx(), s.view(raw), changes, at)
	if err != nil {
		return storage.OutboxEntry{}, fmt.Errorf("merge changeset %d: %w", id, err)
	}
	if len(conflicts) > 0 {
		cerr := &storage.ConflictError{Changeset: id, Conflicts: conflicts}
		if !cerr.OnlyWaitsForParents() && !(opts.KeepOnMovedBases && cerr.OnlyMovedBases()) {
			s.recordConflicts(id, conflicts)
		}
		return storage.OutboxEntry{}, cerr
	}

	for _, e := range plan.Versions {
		s.history[e.Type][e.ID] = append(s.history[e.Type][e.ID], clone(e))
		s.ed.finals[memPendingKey{id, e.Key()}] = e.Version
	}
	s.reindex()
	raw.ReviewState = osmdata.ReviewMerged
	if raw.Open && raw.ClosedAt.After(at) {
		raw.ClosedAt = at
	}
	raw.Open = false
	raw.NumChanges = len(plan.Versions)
	raw.HasBox, raw.Box = plan.HasBox, plan.Box
	s.changesets[id] = raw
	s.ed.merging.lastSeq++
	entry := plan.Entry(s.ed.merging.lastSeq, id, at)
	s.ed.merging.outbox = append(s.ed.merging.outbox, entry)
	s.ed.merging.wakeWaiters()
	s.ed.reviews.log(osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventMerged, State: osmdata.ReviewMerged})
	return cloneEntry(entry), nil
}

// recordConflicts makes the changeset conflicted, reopening it as
// SetReviewState does, and keeps the report in the backends' order.
// The caller holds both locks.
func (s *memStore) recordConflicts(id int64, conflicts []storage.MergeConflict) {
	now := memNow()
	c := s.changesets[id]
	c.ReviewState, c.Open, c.ClosedAt = osmdata.ReviewConflicted, true, now.Add(storage.ChangesetIdle)
	s.changesets[id] = c
	s.ed.openedAt[id] = now
	report := cloneConflicts(conflicts)
	slices.SortStableFunc(report, func(a, b storage.MergeConflict) int {
		return cmp.Or(cmp.Compare(a.Element.Type, b.Element.Type), cmp.Compare(a.Element.ID, b.Element.ID), cmp.Compare(a.Kind, b.Kind))
	})
	if s.ed.merging.conflicts == nil {
		s.ed.merging.conflicts = map[int64][]storage.MergeConflict{}
	}
	s.ed.merging.conflicts[id] = report
	s.ed.reviews.log(osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventConflicted,
		Comment: storage.ConflictSummary(conflicts), State: osmdata.ReviewConflicted})
}

// mergeTx is PlanMerge's view of the merge. Its Reader is a memStore
// over the same maps with a mutex of its own: the merge holds the real
// store's lock, so nobody writes them meanwhile, and the reads must not
// take that lock again.
func (s *memStore) mergeTx() memMergeTx {
	view := &memStore{history: s.history, changesets: s.changesets, users: s.users, next: s.next, byLat: s.byLat}
	return memMergeTx{Reader: view, ed: &s.ed}
}

type memMergeTx struct {
	storage.Reader
	ed *memEditing
}

func (t memMergeTx) FinalVersions(ctx context.Context, changeset int64) (map[osmdata.Key]storage.FinalVersion, error) {
	out := map[osmdata.Key]storage.FinalVersion{}
	for k, p := range t.ed.pending {
		if f, ok := t.ed.finals[k]; ok && k.changeset == changeset {
			out[k.key] = storage.FinalVersion{Provisional: p.Element.Version, Final: f}
		}
	}
	return out, nil
}

func (t memMergeTx) ChangesetParents(ctx context.Context, id int64) ([]int64, error) {
	return slices.Clone(t.ed.parents[id]), nil
}

func cloneEntry(e storage.OutboxEntry) storage.OutboxEntry {
	e.Versions = slices.Clone(e.Versions)
	return e
}

func (s *memStore) MergeConflicts(ctx context.Context, id int64) ([]storage.MergeConflict, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	return cloneConflicts(s.ed.merging.conflicts[id]), nil
}

func (s *memStore) Outbox(ctx context.Context, afterSeq int64, limit int) ([]storage.OutboxEntry, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	var out []storage.OutboxEntry
	for _, e := range s.ed.merging.outbox {
		if e.Seq > afterSeq && len(out) < limit {
			out = append(out, cloneEntry(e))
		}
	}
	return out, nil
}

func (s *memStore) LastMergeSeq(ctx context.Context) (int64, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	return s.ed.merging.lastSeq, nil
}

func (s *memStore) UndecidedChangesets(ctx context.Context, limit int) ([]osmdata.Changeset, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []osmdata.Changeset
	for id := range s.ed.undecided {
		if c := s.changesets[id]; c.ReviewState == osmdata.ReviewSubmitted {
			out = append(out, s.view(c))
		}
	}
	// Oldest submission first: a submission sets closed_at.
	slices.SortFunc(out, func(a, b osmdata.Changeset) int {
		return cmp.Or(a.ClosedAt.Compare(b.ClosedAt), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(len(out), max(limit, 0))], nil
}

func (s *memStore) DecideChangeset(ctx context.Context, id int64, approve bool) (bool, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.changesets[id]
	if !ok || c.ReviewState != osmdata.ReviewSubmitted || !s.ed.undecided[id] {
		return false, nil
	}
	delete(s.ed.undecided, id)
	if approve {
		c.ReviewState = osmdata.ReviewApproved
		s.changesets[id] = c
		s.ed.reviews.log(osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventApproved,
			Comment: storage.PolicyApprovalComment, State: osmdata.ReviewApproved})
	}
	return true, nil
}

func (s *memStore) ApprovedChangesets(ctx context.Context, limit int) ([]int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []int64
	for id, c := range s.changesets {
		if c.ReviewState == osmdata.ReviewApproved {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out[:min(len(out), max(limit, 0))], nil
}
