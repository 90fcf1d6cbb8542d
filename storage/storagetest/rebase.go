package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// testRebase covers storage.Rebaser: the merge job's way of combining a
// changeset with edits that merged since its bases (issue 7). A merge
// that keeps moved bases leaves the changeset as it was; the rebased
// changes merge on top of the other side's edits; a rebase of rows that
// moved since they were read changes nothing; and the structured report
// of a conflict comes back as it was recorded.
func testRebase(t *testing.T, open Opener) {
	t.Run("KeepOnMovedBases", func(t *testing.T) { t.Parallel(); testRebaseKeep(t, open) })
	t.Run("RebaseThenMerge", func(t *testing.T) { t.Parallel(); testRebaseThenMerge(t, open) })
	t.Run("Stale", func(t *testing.T) { t.Parallel(); testRebaseStale(t, open) })
	t.Run("Stacked", func(t *testing.T) { t.Parallel(); testRebaseStacked(t, open) })
	t.Run("RecordConflicts", func(t *testing.T) { t.Parallel(); testRecordConflicts(t, open) })
	t.Run("RecordConflictsRefused", func(t *testing.T) { t.Parallel(); testRecordConflictsRefused(t, open) })
}

// rebasing opens a store with mergeDataset, or skips when the backend
// does not rebase.
func rebasing(t *testing.T, open Opener) (storage.Store, storage.Merger, storage.Rebaser) {
	t.Helper()
	s, m := merging(t, open)
	r, ok := s.(storage.Rebaser)
	if !ok {
		t.Skipf("the store (%T) does not rebase (storage.Rebaser)", s)
	}
	return s, m, r
}

func mustChangesetChanges(t *testing.T, s storage.Store, id int64) []storage.PendingChange {
	t.Helper()
	changes, err := s.ChangesetChanges(t.Context(), id)
	if err != nil {
		t.Fatalf("ChangesetChanges %d: %v", id, err)
	}
	return changes
}

// cloneElement copies e with lists of its own.
func cloneElement(e osmdata.Element) osmdata.Element {
	e.Tags, e.Nodes, e.Members = slices.Clone(e.Tags), slices.Clone(e.Nodes), slices.Clone(e.Members)
	return e
}

// pendingOf returns the changeset's row of key.
func pendingOf(t *testing.T, changes []storage.PendingChange, key osmdata.Key) storage.PendingChange {
	t.Helper()
	for _, p := range changes {
		if p.Element.Key() == key {
			return p
		}
	}
	t.Fatalf("%s is not among the pending changes %v", key, describe(changes))
	return storage.PendingChange{}
}

// rebasedOnto is the rebase of row p onto version to, with the content
// edit makes of p's.
func rebasedOnto(p storage.PendingChange, to int, edit func(e *osmdata.Element)) storage.RebasedChange {
	e := cloneElement(p.Element)
	edit(&e)
	return storage.RebasedChange{Element: e, FromBaseVersion: p.BaseVersion, FromBaseChangeset: p.BaseChangeset,
		FromSeq: p.Seq, ToBaseVersion: to}
}

// withRebase is row p as a rebase onto version to leaves it: the
// content of r, the new base, the rest as the upload gave it.
func withRebase(p storage.PendingChange, r storage.RebasedChange) storage.PendingChange {
	e := cloneElement(r.Element)
	e.Version, e.Changeset, e.UID, e.User, e.Timestamp = p.Element.Version, p.Element.Changeset, p.Element.UID, p.Element.User, p.Element.Timestamp
	p.Element = e
	p.BaseVersion, p.BaseChangeset = r.ToBaseVersion, 0
	return p
}

// mergeKeeping merges id keeping moved bases and checks that it returned
// the conflicts want (as "kind node 3"), all moved bases.
func mergeKeeping(t *testing.T, r storage.Rebaser, id int64, want ...string) *storage.ConflictError {
	t.Helper()
	_, err := r.MergeWith(t.Context(), id, storage.MergeOptions{KeepOnMovedBases: true})
	var cerr *storage.ConflictError
	if !errors.As(err, &cerr) || !errors.Is(err, storage.ErrMergeConflict) {
		t.Fatalf("MergeWith %d keeping moved bases: got %v, want a conflict %v", id, err, want)
	}
	if diff := cmp.Diff(want, conflictNames(cerr.Conflicts)); diff != "" {
		t.Errorf("MergeWith %d conflicts (-want +got):\n%s", id, diff)
	}
	if !cerr.OnlyMovedBases() {
		t.Errorf("MergeWith %d: OnlyMovedBases = false for %v", id, cerr)
	}
	return cerr
}

// changesetSnapshot is what a reader sees of a changeset and its review:
// the changeset, its pending changes, its report and its review log.
type changesetSnapshot struct {
	Changeset osmdata.Changeset
	Changes   []storage.PendingChange
	Conflicts []storage.MergeConflict
	Events    []osmdata.ReviewEvent
}

func readSnapshot(t *testing.T, s storage.Store, id int64) changesetSnapshot {
	t.Helper()
	report, err := s.(storage.Merger).MergeConflicts(t.Context(), id)
	if err != nil {
		t.Fatalf("MergeConflicts %d: %v", id, err)
	}
	return changesetSnapshot{mustChangeset(t, s, id), mustChangesetChanges(t, s, id), report, mustChangesetReviewEvents(t, s, id)}
}

// checkUnchanged checks that changeset id reads as it did in before.
func checkUnchanged(t *testing.T, s storage.Store, what string, id int64, before changesetSnapshot) {
	t.Helper()
	if diff := cmp.Diff(before, readSnapshot(t, s, id), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s changed changeset %d (-before +after):\n%s", what, id, diff)
	}
}

func testRebaseKeep(t *testing.T, open Opener) {
	s, m, r := rebasing(t, open)
	mustMerge(t, m, submitted(t, s, ana, nil, []storage.PendingChange{pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "bench", "backrest", "yes")}))
	id := submitted(t, s, bo, nil, []storage.PendingChange{pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "bench", "material", "wood")})
	before := readSnapshot(t, s, id)

	mergeKeeping(t, r, id, "base_moved node 3")
	checkUnchanged(t, s, "a merge keeping moved bases", id, before)
	if seq := mustLastSeq(t, m); seq != 1 {
		t.Errorf("LastMergeSeq = %d, want 1", seq)
	}
	checkGapless(t, mustHistory(t, s, osmdata.Node, 3), 2)

	// The plain merge of the same changeset conflicts it.
	cerr := wantConflict(t, m, id, "base_moved node 3")
	if c := mustChangeset(t, s, id); c.ReviewState != osmdata.ReviewConflicted || !c.Open {
		t.Errorf("after a plain merge, changeset %d is %s, open %v; want conflicted and reopened", id, c.ReviewState, c.Open)
	}
	report, err := m.MergeConflicts(t.Context(), id)
	if err != nil {
		t.Fatalf("MergeConflicts: %v", err)
	}
	if diff := cmp.Diff(cerr.Conflicts, report, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("stored report (-returned +stored):\n%s", diff)
	}
	checkChangesetLog(t, s, id, "submitted by 8 -> submitted", "conflicted by 0 -> conflicted: node 3: base moved from v1 to v2")

	// A conflict that is not only moved bases is recorded even when the
	// merge keeps moved bases, and a clean changeset merges.
	broken := submitted(t, s, carla, nil, []storage.PendingChange{
		pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "bench", "colour", "green"),
		pendingWay(storage.Create, 30, 1, []int64{1, 999}),
	})
	_, err = r.MergeWith(t.Context(), broken, storage.MergeOptions{KeepOnMovedBases: true})
	var brokenErr *storage.ConflictError
	if !errors.As(err, &brokenErr) || brokenErr.OnlyMovedBases() {
		t.Errorf("MergeWith of a changeset with a missing reference: got %v, want a conflict beyond moved bases", err)
	}
	if c := mustChangeset(t, s, broken); c.ReviewState != osmdata.ReviewConflicted {
		t.Errorf("changeset %d with a missing reference is %s after MergeWith, want conflicted", broken, c.ReviewState)
	}
	clean := submitted(t, s, carla, nil, []storage.PendingChange{pendingNode(storage.Modify, 1, 2, 10, 10, "note", "clean")})
	e, err := r.MergeWith(t.Context(), clean, storage.MergeOptions{KeepOnMovedBases: true})
	if err != nil || e.Seq != 2 || e.Changeset != clean {
		t.Errorf("MergeWith of a clean changeset: merge %d of %d, %v; want merge 2 of %d", e.Seq, e.Changeset, err, clean)
	}
}

func testRebaseThenMerge(t *testing.T, open Opener) {
	s, m, r := rebasing(t, open)
	ctx := t.Context()
	// ana moves node 3 far away and adds node 500 (in another block of
	// ids than nodes 1 to 3) to way 10.
	a := submitted(t, s, ana, nil, []storage.PendingChange{
		pendingNode(storage.Modify, 3, 2, 20, 20, "amenity", "bench"),
		pendingNode(storage.Create, 500, 1, 10.3, 10.3),
		pendingWay(storage.Modify, 10, 2, []int64{1, 2, 500}, "highway", "path"),
	})
	merged := mustMerge(t, m, a)
	// bo, on the versions before, tags node 3, retags way 10, and moves
	// node 1, which nobody else changed.
	b := submitted(t, s, bo, nil, []storage.PendingChange{
		pendingNode(storage.Modify, 1, 2, 10.01, 10.01),
		pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "bench", "material", "wood"),
		pendingWay(storage.Modify, 10, 2, []int64{1, 2}, "highway", "footway"),
	})
	mergeKeeping(t, r, b, "base_moved node 3", "base_moved way 10")

	rows := mustChangesetChanges(t, s, b)
	node3 := pendingOf(t, rows, osmdata.Key{Type: osmdata.Node, ID: 3})
	way10 := pendingOf(t, rows, osmdata.Key{Type: osmdata.Way, ID: 10})
	changes := []storage.RebasedChange{
		rebasedOnto(node3, 2, func(e *osmdata.Element) { e.Lat, e.Lon = deg(20), deg(20) }),
		rebasedOnto(way10, 2, func(e *osmdata.Element) { e.Nodes = []int64{1, 2, 500} }),
	}
	before := readSnapshot(t, s, b)
	if err := r.RebasePending(ctx, b, changes); err != nil {
		t.Fatalf("RebasePending: %v", err)
	}

	// The rows hold the rebased content on the current versions; the
	// changeset, its report and its log are as they were.
	after := readSnapshot(t, s, b)
	want := before
	want.Changes = slices.Clone(before.Changes)
	for i, p := range want.Changes {
		switch p.Element.Key() {
		case node3.Element.Key():
			want.Changes[i] = withRebase(p, changes[0])
		case way10.Element.Key():
			want.Changes[i] = withRebase(p, changes[1])
		}
	}
	// The order of staging after a rebase is not the contract's.
	if diff := cmp.Diff(want, after, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(storage.PendingChange{}, "Seq"),
		cmpopts.SortSlices(func(a, b storage.PendingChange) bool { return a.Element.Key().Less(b.Element.Key()) })); diff != "" {
		t.Errorf("changeset %d after RebasePending (-want +got):\n%s", b, diff)
	}

	// bo's overlay shows the rebased content: the node at its new place,
	// the way among the ways of node 500.
	pending := s.Pending(bo)
	got, err := pending.PendingElements(ctx, osmdata.Node, []int64{3})
	if diff := cmp.Diff([]storage.PendingChange{withRebase(node3, changes[0])}, got, pendingOpts, cmpopts.IgnoreFields(storage.PendingChange{}, "Seq")); err != nil || diff != "" {
		t.Errorf("bo's pending node 3 (%v) (-want +got):\n%s", err, diff)
	}
	got, err = pending.PendingNodesInBox(ctx, degBox(19.9, 19.9, 20.1, 20.1))
	if err != nil || len(got) != 1 || !slices.Equal(describe(got), []string{fmt.Sprintf("node 3 v2 in %d", b)}) ||
		!cmp.Equal(got[0].Element.Tags, tags("amenity", "bench", "material", "wood")) {
		t.Errorf("bo's pending nodes around 20,20: %v (%v), want node 3 tagged material=wood", describe(got), err)
	}
	got, err = pending.PendingNodesInBox(ctx, degBox(10.19, 10.19, 10.21, 10.21))
	if err != nil || len(got) != 0 {
		t.Errorf("bo's pending nodes at node 3's old place: %v (%v), want none", describe(got), err)
	}
	got, err = pending.PendingReferencing(ctx, osmdata.Node, []int64{500})
	if err != nil || !slices.Equal(describe(got), []string{fmt.Sprintf("way 10 v2 in %d", b)}) {
		t.Errorf("bo's pending ways of node 500: %v (%v), want way 10 of changeset %d", describe(got), err, b)
	}

	entry := mustMerge(t, m, b)
	wantVersions := []storage.MergedVersion{
		{Element: osmdata.Key{Type: osmdata.Node, ID: 1}, OldVersion: 1, NewVersion: 2},
		{Element: osmdata.Key{Type: osmdata.Node, ID: 3}, OldVersion: 2, NewVersion: 3},
		{Element: osmdata.Key{Type: osmdata.Way, ID: 10}, OldVersion: 2, NewVersion: 3},
	}
	if diff := cmp.Diff(wantVersions, entry.Versions); diff != "" {
		t.Errorf("merged versions (-want +got):\n%s", diff)
	}
	final := func(e osmdata.Element, id, uid int64, at storage.OutboxEntry) osmdata.Element {
		e.Changeset, e.UID, e.User, e.Timestamp = id, uid, authorNames[uid], at.MergedAt
		return e
	}
	checkElements(t, "history of node 3", mustHistory(t, s, osmdata.Node, 3), []osmdata.Element{
		newNode(3, 1, deg(10.2), deg(10.2), "amenity", "bench"),
		final(newNode(3, 2, deg(20), deg(20), "amenity", "bench"), a, ana, merged),
		final(newNode(3, 3, deg(20), deg(20), "amenity", "bench", "material", "wood"), b, bo, entry),
	})
	checkElements(t, "history of way 10", mustHistory(t, s, osmdata.Way, 10), []osmdata.Element{
		newWay(10, 1, []int64{1, 2}, "highway", "path"),
		final(newWay(10, 2, []int64{1, 2, 500}, "highway", "path"), a, ana, merged),
		final(newWay(10, 3, []int64{1, 2, 500}, "highway", "footway"), b, bo, entry),
	})
	if c := mustChangeset(t, s, b); c.ReviewState != osmdata.ReviewMerged {
		t.Errorf("changeset %d is %s after its merge, want merged", b, c.ReviewState)
	}
}

func testRebaseStale(t *testing.T, open Opener) {
	s, m, r := rebasing(t, open)
	ctx := t.Context()
	a := submitted(t, s, ana, nil, []storage.PendingChange{pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "bench", "backrest", "yes")})
	mustMerge(t, m, a)
	b := submitted(t, s, bo, nil, []storage.PendingChange{
		pendingNode(storage.Modify, 2, 2, 10.1, 10.1, "note", "unmoved"),
		pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "bench", "material", "wood"),
	})
	mergeKeeping(t, r, b, "base_moved node 3")
	rows := mustChangesetChanges(t, s, b)
	node3 := pendingOf(t, rows, osmdata.Key{Type: osmdata.Node, ID: 3})
	addBackrest := func(e *osmdata.Element) { e.Tags = append(e.Tags, osmdata.Tag{Key: "backrest", Value: "yes"}) }
	good := rebasedOnto(node3, 2, addBackrest)
	other := rebasedOnto(pendingOf(t, rows, osmdata.Key{Type: osmdata.Node, ID: 2}), 1, addBackrest)

	stale := func(edit func(c *storage.RebasedChange)) storage.RebasedChange {
		c := good
		c.Element = cloneElement(good.Element)
		edit(&c)
		return c
	}
	for _, tc := range []struct {
		name    string
		changes []storage.RebasedChange
	}{
		{"WrongSeq", []storage.RebasedChange{stale(func(c *storage.RebasedChange) { c.FromSeq++ })}},
		{"WrongBaseVersion", []storage.RebasedChange{stale(func(c *storage.RebasedChange) { c.FromBaseVersion = 2 })}},
		{"WrongBaseChangeset", []storage.RebasedChange{stale(func(c *storage.RebasedChange) { c.FromBaseChangeset = a })}},
		{"NotPending", []storage.RebasedChange{stale(func(c *storage.RebasedChange) { c.Element.ID = 1 })}},
		{"OneStaleOfTwo", []storage.RebasedChange{other, stale(func(c *storage.RebasedChange) { c.FromSeq-- })}},
	} {
		before := readSnapshot(t, s, b)
		err := r.RebasePending(ctx, b, tc.changes)
		wantErr(t, tc.name, err, storage.ErrRebaseStale)
		checkUnchanged(t, s, tc.name+" RebasePending", b, before)
	}

	// A re-upload between the read and the rebase: the changeset is
	// returned to bo, who uploads node 3 again and closes it.
	if _, err := s.SetReviewState(ctx, b, osmdata.ReviewChangesRequested, storage.ReviewNote{ActorUID: carla}); err != nil {
		t.Fatalf("request changes: %v", err)
	}
	again := pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "bench", "material", "metal")
	mustWritePending(t, s, b, bo, again)
	if _, err := s.CloseChangeset(ctx, b, bo); err != nil {
		t.Fatalf("CloseChangeset %d: %v", b, err)
	}
	before := readSnapshot(t, s, b)
	wantErr(t, "RebasePending after a re-upload", r.RebasePending(ctx, b, []storage.RebasedChange{good}), storage.ErrRebaseStale)
	checkUnchanged(t, s, "a stale RebasePending", b, before)
	if p := pendingOf(t, before.Changes, node3.Element.Key()); !cmp.Equal(p.Element.Tags, tags("amenity", "bench", "material", "metal")) {
		t.Errorf("node 3 after the re-upload has tags %v, want material=metal", p.Element.Tags)
	}
	// Read again, the rebase goes through.
	fresh := rebasedOnto(pendingOf(t, before.Changes, node3.Element.Key()), 2, addBackrest)
	if err := r.RebasePending(ctx, b, []storage.RebasedChange{fresh}); err != nil {
		t.Fatalf("RebasePending after reading again: %v", err)
	}
	mustMerge(t, m, b)
	if h := mustHistory(t, s, osmdata.Node, 3); len(h) != 3 || !cmp.Equal(h[2].Tags, tags("amenity", "bench", "material", "metal", "backrest", "yes")) {
		t.Errorf("node 3 after the merge: %v, want v3 with material=metal and backrest=yes", versionsOf(h))
	}

	// Only a submitted or approved changeset is rebased.
	openCS := mustCreateChangeset(t, s, carla)
	mustWritePending(t, s, openCS.ID, carla, pendingNode(storage.Modify, 1, 2, 10, 10, "note", "open"))
	openRow := pendingOf(t, mustChangesetChanges(t, s, openCS.ID), osmdata.Key{Type: osmdata.Node, ID: 1})
	for _, tc := range []struct {
		name   string
		id     int64
		change storage.RebasedChange
	}{
		{"open", openCS.ID, rebasedOnto(openRow, 1, addBackrest)},
		{"merged", a, rebasedOnto(pendingOf(t, mustChangesetChanges(t, s, a), node3.Element.Key()), 2, addBackrest)},
	} {
		before := readSnapshot(t, s, tc.id)
		wantErr(t, "RebasePending of a changeset "+tc.name, r.RebasePending(ctx, tc.id, []storage.RebasedChange{tc.change}), storage.ErrNotMergeable)
		checkUnchanged(t, s, "RebasePending of a changeset "+tc.name, tc.id, before)
	}
}

func testRebaseStacked(t *testing.T, open Opener) {
	s, m, r := rebasing(t, open)
	ctx := t.Context()
	parent := submitted(t, s, ana, nil, []storage.PendingChange{pendingNode(storage.Modify, 2, 2, 10.11, 10.11)})
	onParent := pendingNode(storage.Modify, 2, 3, 10.11, 10.11, "note", "stacked")
	onParent.BaseChangeset = parent
	child := submitted(t, s, ana, []int64{parent}, []storage.PendingChange{onParent})
	mustMerge(t, m, parent)
	other := pendingNode(storage.Modify, 2, 3, 10.11, 10.11, "name", "Rock")
	mustMerge(t, m, submitted(t, s, bo, nil, []storage.PendingChange{other}))

	cerr := mergeKeeping(t, r, child, "base_moved node 2")
	if c := cerr.Conflicts[0]; c.BaseVersion != 2 || c.CurrentVersion != 3 {
		t.Errorf("conflict on node 2: base %d, current %d; want 2 (the parent's final version), 3", c.BaseVersion, c.CurrentVersion)
	}
	row := pendingOf(t, mustChangesetChanges(t, s, child), osmdata.Key{Type: osmdata.Node, ID: 2})
	if row.BaseChangeset != parent || row.BaseVersion != 2 {
		t.Fatalf("the child's row rests on v%d of changeset %d, want v2 of %d", row.BaseVersion, row.BaseChangeset, parent)
	}
	change := rebasedOnto(row, 3, func(e *osmdata.Element) { e.Tags = tags("name", "Rock", "note", "stacked") })

	unstacked := change
	unstacked.FromBaseChangeset = 0
	before := readSnapshot(t, s, child)
	wantErr(t, "RebasePending of a stacked row read as unstacked", r.RebasePending(ctx, child, []storage.RebasedChange{unstacked}), storage.ErrRebaseStale)
	checkUnchanged(t, s, "a stale RebasePending", child, before)

	if err := r.RebasePending(ctx, child, []storage.RebasedChange{change}); err != nil {
		t.Fatalf("RebasePending: %v", err)
	}
	rebasedRow := pendingOf(t, mustChangesetChanges(t, s, child), osmdata.Key{Type: osmdata.Node, ID: 2})
	if rebasedRow.BaseChangeset != 0 || rebasedRow.BaseVersion != 3 || rebasedRow.Element.Version != 3 {
		t.Errorf("the rebased row: v%d on v%d of changeset %d; want provisional v3 still, on authoritative v3", rebasedRow.Element.Version, rebasedRow.BaseVersion, rebasedRow.BaseChangeset)
	}
	// The provisional version the upload gave still resolves to the row.
	if p, err := s.Pending(ana).PendingVersion(ctx, osmdata.Key{Type: osmdata.Node, ID: 2}, 3); err != nil || p.Changeset != child ||
		!cmp.Equal(p.Element.Tags, tags("name", "Rock", "note", "stacked")) {
		t.Errorf("ana's node 2 v3: changeset %d, tags %v (%v); want changeset %d with the rebased tags", p.Changeset, p.Element.Tags, err, child)
	}

	entry := mustMerge(t, m, child)
	if diff := cmp.Diff([]storage.MergedVersion{{Element: osmdata.Key{Type: osmdata.Node, ID: 2}, OldVersion: 3, NewVersion: 4}}, entry.Versions); diff != "" {
		t.Errorf("child's merged versions (-want +got):\n%s", diff)
	}
	h := mustHistory(t, s, osmdata.Node, 2)
	checkGapless(t, h, 4)
	if len(h) == 4 && (h[3].Changeset != child || !cmp.Equal(h[3].Tags, tags("name", "Rock", "note", "stacked")) || h[3].Lat != deg(10.11)) {
		t.Errorf("node 2 v4: changeset %d, tags %v, lat %d; want changeset %d with name=Rock and note=stacked", h[3].Changeset, h[3].Tags, h[3].Lat, child)
	}
}

func testRecordConflicts(t *testing.T, open Opener) {
	s, m, r := rebasing(t, open)
	ctx := t.Context()
	// ana retags node 3 and deletes way 10 with the relation using it;
	// bo retags node 3 otherwise and extends way 10.
	a := submitted(t, s, ana, nil, []storage.PendingChange{
		pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "picnic_table"),
		pendingDelete(10, osmdata.Way, 2),
		pendingDelete(20, osmdata.Relation, 2),
	})
	mustMerge(t, m, a)
	b := submitted(t, s, bo, nil, []storage.PendingChange{
		pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "bicycle_parking"),
		pendingWay(storage.Modify, 10, 2, []int64{1, 2, 3}, "highway", "path"),
	})
	mergeKeeping(t, r, b, "base_moved node 3", "base_moved way 10")

	rows := mustChangesetChanges(t, s, b)
	node3 := mustHistory(t, s, osmdata.Node, 3)
	way10 := mustHistory(t, s, osmdata.Way, 10)
	pending3 := pendingOf(t, rows, osmdata.Key{Type: osmdata.Node, ID: 3}).Element
	pending10 := pendingOf(t, rows, osmdata.Key{Type: osmdata.Way, ID: 10}).Element
	report := []storage.MergeConflict{
		{Kind: storage.ConflictParentFailed, Parent: 4242, Message: "builds on changeset 4242, which is rejected"},
		{Element: osmdata.Key{Type: osmdata.Node, ID: 3}, Kind: storage.ConflictEdited, BaseVersion: 1, CurrentVersion: 2,
			Message: "tag amenity set to picnic_table and to bicycle_parking",
			Fields:  []storage.ConflictField{{Kind: "tag", Key: "amenity", Base: "bench", Current: "picnic_table", Pending: "bicycle_parking"}},
			Base:    &node3[0], Current: &node3[1], Pending: &pending3},
		{Element: osmdata.Key{Type: osmdata.Way, ID: 10}, Kind: storage.ConflictEdited, BaseVersion: 1, CurrentVersion: 2,
			Message: "deleted, and its nodes changed",
			Fields: []storage.ConflictField{
				{Kind: "deleted", AbsentInCurrent: true},
				{Kind: "nodes", Base: "1 2", Pending: "1 2 3", AbsentInCurrent: true},
			},
			Base: &way10[0], Pending: &pending10},
	}
	if err := r.RecordConflicts(ctx, b, report); err != nil {
		t.Fatalf("RecordConflicts: %v", err)
	}
	if c := mustChangeset(t, s, b); c.ReviewState != osmdata.ReviewConflicted || !c.Open {
		t.Errorf("changeset %d after RecordConflicts is %s, open %v; want conflicted and reopened", b, c.ReviewState, c.Open)
	}
	checkChangesetLog(t, s, b, "submitted by 8 -> submitted", "conflicted by 0 -> conflicted: "+storage.ConflictSummary(report))
	checkReport(t, m, b, report)

	// bo resolves in the reopened changeset and submits again; a second
	// report replaces the first.
	mustWritePending(t, s, b, bo, pendingNode(storage.Modify, 3, 3, 10.2, 10.2, "amenity", "picnic_table", "bicycle_parking", "stands"))
	if _, err := s.CloseChangeset(ctx, b, bo); err != nil {
		t.Fatalf("CloseChangeset after resolving: %v", err)
	}
	second := []storage.MergeConflict{{Element: osmdata.Key{Type: osmdata.Way, ID: 10}, Kind: storage.ConflictEdited, BaseVersion: 1, CurrentVersion: 2,
		Message: "deleted, and its nodes changed", Fields: []storage.ConflictField{{Kind: "deleted", AbsentInCurrent: true}},
		Base: &way10[0], Pending: &pending10}}
	if err := r.RecordConflicts(ctx, b, second); err != nil {
		t.Fatalf("RecordConflicts again: %v", err)
	}
	checkReport(t, m, b, second)

	// An approved changeset is recorded as conflicted too.
	approved := submitted(t, s, carla, nil, []storage.PendingChange{pendingNode(storage.Modify, 1, 2, 10, 10, "note", "approved")})
	if _, err := s.SetReviewState(ctx, approved, osmdata.ReviewApproved, storage.ReviewNote{ActorUID: ana}); err != nil {
		t.Fatalf("approve: %v", err)
	}
	line := []storage.MergeConflict{{Element: osmdata.Key{Type: osmdata.Node, ID: 1}, Kind: storage.ConflictBaseMoved, BaseVersion: 1, CurrentVersion: 1, Message: "recorded by hand"}}
	if err := r.RecordConflicts(ctx, approved, line); err != nil {
		t.Fatalf("RecordConflicts of an approved changeset: %v", err)
	}
	if c := mustChangeset(t, s, approved); c.ReviewState != osmdata.ReviewConflicted || !c.Open {
		t.Errorf("approved changeset %d after RecordConflicts is %s, open %v; want conflicted and reopened", approved, c.ReviewState, c.Open)
	}
	checkReport(t, m, approved, line)
}

// checkReport checks that the stored report of id is want, structured
// lines included. cmp tells a nil content from an empty one, so a
// content absent from the report stays absent.
func checkReport(t *testing.T, m storage.Merger, id int64, want []storage.MergeConflict) {
	t.Helper()
	got, err := m.MergeConflicts(t.Context(), id)
	if err != nil {
		t.Fatalf("MergeConflicts %d: %v", id, err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("report of changeset %d (-recorded +stored):\n%s", id, diff)
	}
}

func testRecordConflictsRefused(t *testing.T, open Opener) {
	s, m, r := rebasing(t, open)
	ctx := t.Context()
	report := []storage.MergeConflict{{Element: osmdata.Key{Type: osmdata.Node, ID: 1}, Kind: storage.ConflictEdited, BaseVersion: 1, CurrentVersion: 2,
		Message: "moved by both", Fields: []storage.ConflictField{{Kind: "position", Base: "10 10", Current: "11 11", Pending: "12 12"}}}}

	openChangeset := mustCreateChangeset(t, s, ana)
	mustWritePending(t, s, openChangeset.ID, ana, pendingNode(storage.Modify, 1, 2, 12, 12))
	merged := submitted(t, s, ana, nil, []storage.PendingChange{pendingNode(storage.Modify, 2, 2, 10.1, 10.1, "note", "merged")})
	mustMerge(t, m, merged)
	rejected := submitted(t, s, bo, nil, []storage.PendingChange{pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "note", "rejected")})
	if _, err := s.SetReviewState(ctx, rejected, osmdata.ReviewRejected, storage.ReviewNote{ActorUID: carla}); err != nil {
		t.Fatalf("reject: %v", err)
	}
	conflicted := submitted(t, s, carla, nil, []storage.PendingChange{pendingNode(storage.Modify, 1, 2, 11, 11)})
	if err := r.RecordConflicts(ctx, conflicted, report); err != nil {
		t.Fatalf("RecordConflicts: %v", err)
	}
	for _, tc := range []struct {
		name string
		id   int64
	}{{"open", openChangeset.ID}, {"merged", merged}, {"rejected", rejected}, {"conflicted", conflicted}} {
		before := readSnapshot(t, s, tc.id)
		wantErr(t, "RecordConflicts of a changeset "+tc.name, r.RecordConflicts(ctx, tc.id, report), storage.ErrNotMergeable)
		checkUnchanged(t, s, "RecordConflicts of a changeset "+tc.name, tc.id, before)
	}
}
