package storagetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// testSplit covers storage.Splitter: a reviewer approves part of a
// changeset, the rest goes back to its author in a changeset of its own,
// and everything a user checks afterwards (the two changesets, their
// changes, merges, the author's overlay, the review logs) agrees.
func testSplit(t *testing.T, open Opener) {
	if _, ok := open(t).(storage.Splitter); !ok {
		t.Skip("the store is not a storage.Splitter")
	}
	t.Run("ApprovePart", func(t *testing.T) { t.Parallel(); testSplitApprovePart(t, open) })
	t.Run("ApprovalsIncomplete", func(t *testing.T) { t.Parallel(); testSplitApprovalsIncomplete(t, open) })
	t.Run("Refused", func(t *testing.T) { t.Parallel(); testSplitRefused(t, open) })
}

func splitting(t *testing.T, open Opener) (storage.Store, storage.Merger, storage.Splitter) {
	t.Helper()
	s, m := merging(t, open)
	return s, m, s.(storage.Splitter)
}

func mustParents(t *testing.T, s storage.Store, id int64) []int64 {
	t.Helper()
	parents, err := s.ChangesetParents(t.Context(), id)
	if err != nil {
		t.Fatalf("ChangesetParents(%d): %v", id, err)
	}
	return parents
}

func elemKey(typ osmdata.ElementType, id int64) osmdata.Key { return osmdata.Key{Type: typ, ID: id} }

// movedTo is what the changes of keys among changes look like once moved
// to changeset id, the others left as they are, both in staging order.
func movedTo(changes []storage.PendingChange, keys []osmdata.Key, id int64) (staying, moved []storage.PendingChange) {
	for _, p := range changes {
		e := &p.Element
		e.Tags, e.Nodes, e.Members = slices.Clone(e.Tags), slices.Clone(e.Nodes), slices.Clone(e.Members)
		if !slices.Contains(keys, p.Element.Key()) {
			staying = append(staying, p)
			continue
		}
		p.Changeset, p.Element.Changeset = id, id
		moved = append(moved, p)
	}
	return staying, moved
}

// splitLog checks a changeset's log as eventLine lines, except that a
// split event's comment must only name the other changeset as
// "changeset N", whatever else it says; it returns the events.
func splitLog(t *testing.T, s storage.Store, id, other int64, want ...string) []osmdata.ReviewEvent {
	t.Helper()
	events := mustChangesetReviewEvents(t, s, id)
	got := make([]string, len(events))
	for i, ev := range events {
		if ev.Kind == osmdata.EventSplit {
			if !strings.Contains(ev.Comment, fmt.Sprintf("changeset %d", other)) {
				t.Errorf("split event of changeset %d says %q, naming not changeset %d", id, ev.Comment, other)
			}
			ev.Comment = ""
		}
		got[i] = eventLine(ev)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("review log of changeset %d (-want +got):\n%s", id, diff)
	}
	return events
}

func testSplitApprovePart(t *testing.T, open Opener) {
	s, m, sp := splitting(t, open)
	ctx := t.Context()
	// ana's earlier changeset, merged: the original builds on it, and so
	// must the part split off.
	grandparent := submitted(t, s, ana, nil, []storage.PendingChange{pendingNode(storage.Modify, 2, 2, 10.15, 10.15)})
	mustMerge(t, m, grandparent)

	// The original: node 1 moved, node 50 created and used by way 10,
	// node 3 retagged in two uploads (its provisional v2 superseded by
	// v3), node 61 created on its own. The reviewer approves node 1,
	// node 50 and way 10, and returns node 3 and node 61.
	c := mustCreateChangeset(t, s, ana, "comment", "benches and a path", "created_by", "iD 2.30")
	second := pendingNode(storage.Modify, 3, 3, 10.2, 10.2, "amenity", "bench", "backrest", "no")
	second.BaseVersion = 1
	for i, upload := range [][]storage.PendingChange{{
		pendingNode(storage.Modify, 1, 2, 11, 11),
		pendingNode(storage.Create, 50, 1, 12, 12, "amenity", "bench"),
		pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "bench", "backrest", "yes"),
		pendingNode(storage.Create, 61, 1, 13, 13, "amenity", "waste_basket"),
	}, {
		pendingWay(storage.Modify, 10, 2, []int64{1, 2, 50}, "highway", "footway"),
		second,
	}} {
		err := s.Stage(ctx, c.ID, ana, func(ctx context.Context, tx storage.StageTx) error {
			if i == 0 {
				if err := tx.AddParents(ctx, []int64{grandparent}); err != nil {
					return err
				}
			}
			if err := tx.WritePending(ctx, upload); err != nil {
				return err
			}
			_, err := tx.UpdateChangeset(ctx, len(upload), osmdata.Box{}, false)
			return err
		})
		if err != nil {
			t.Fatalf("Stage upload %d: %v", i+1, err)
		}
	}
	mustClose(t, s, c.ID, ana)
	original := c.ID
	validated(t, s, original)
	// A stacked child of the original, on the node 3 it returns.
	onOriginal := pendingNode(storage.Modify, 3, 4, 10.2, 10.2, "amenity", "bench", "backrest", "no", "colour", "green")
	onOriginal.BaseChangeset = original
	child := submitted(t, s, ana, []int64{original}, []storage.PendingChange{onOriginal})

	before := mustChangesetChanges(t, s, original)
	numBefore := mustChangeset(t, s, original).NumChanges
	leave := []osmdata.Key{elemKey(osmdata.Node, 3), elemKey(osmdata.Node, 61), elemKey(osmdata.Node, 3)}
	decided := time.Now()
	approved, returned, err := sp.ApprovePart(ctx, storage.Decision{Changeset: original, Reviewer: bo, Kind: osmdata.EventApproved,
		Comment: "the path is fine; the bench needs its backrest checked"}, leave)
	if err != nil {
		t.Fatalf("ApprovePart: %v", err)
	}

	// The two changesets as their pages show them.
	if approved.ID != original || approved.ReviewState != osmdata.ReviewApproved || approved.Open {
		t.Errorf("approved changeset: %d %q, open %v; want %d approved, closed", approved.ID, approved.ReviewState, approved.Open, original)
	}
	if stored := mustChangeset(t, s, original); stored.ReviewState != osmdata.ReviewApproved || stored.NumChanges != approved.NumChanges {
		t.Errorf("changeset %d as stored: %q, %d changes; ApprovePart returned %q, %d", original, stored.ReviewState, stored.NumChanges,
			approved.ReviewState, approved.NumChanges)
	}
	stored := mustChangeset(t, s, returned.ID)
	if diff := cmp.Diff(stored, returned); diff != "" {
		t.Errorf("the returned changeset differs from the stored one (-stored +returned):\n%s", diff)
	}
	if returned.ID == original || returned.ID == child || returned.UID != ana || returned.User != "ana" {
		t.Errorf("returned changeset %d of %d %q; want a new changeset of ana (%d)", returned.ID, returned.UID, returned.User, ana)
	}
	if !returned.Open || returned.ReviewState != osmdata.ReviewChangesRequested {
		t.Errorf("returned changeset: %q, open %v; want changes_requested, open", returned.ReviewState, returned.Open)
	}
	checkDatabaseTimes(t, "created_at of the returned changeset", returned.CreatedAt, decided)
	checkDatabaseTimes(t, "closed_at of the returned changeset", returned.ClosedAt, decided.Add(storage.ChangesetIdle))
	if diff := cmp.Diff(c.Tags, returned.Tags); diff != "" {
		t.Errorf("tags of the returned changeset (-original +returned):\n%s", diff)
	}
	if returned.NumChanges != 2 || approved.NumChanges+returned.NumChanges != numBefore {
		t.Errorf("changes counted: %d approved + %d returned, want 2 returned and %d in all", approved.NumChanges, returned.NumChanges, numBefore)
	}
	if diff := cmp.Diff([]int64{grandparent, original}, mustParents(t, s, returned.ID)); diff != "" {
		t.Errorf("parents of the returned changeset (-want +got):\n%s", diff)
	}

	// Each side holds exactly its changes, as they were staged.
	staying, moved := movedTo(before, leave, returned.ID)
	checkPending(t, "changes of the approved changeset", mustChangesetChanges(t, s, original), nil, staying...)
	checkPending(t, "changes of the returned changeset", mustChangesetChanges(t, s, returned.ID), nil, moved...)

	// The author's overlay shows both parts and the child; the versions
	// the editor was given still resolve, in the changeset that now has
	// the element.
	overlay := s.Pending(ana)
	got, err := overlay.PendingElements(ctx, osmdata.Node, []int64{1, 3, 50, 61})
	if err == nil && len(got) == 4 {
		want := []string{
			fmt.Sprintf("node 1 v2 in %d", original), fmt.Sprintf("node 3 v4 in %d", child),
			fmt.Sprintf("node 50 v1 in %d", original), fmt.Sprintf("node 61 v1 in %d", returned.ID),
		}
		if diff := cmp.Diff(want, describe(got)); diff != "" {
			t.Errorf("the author's pending nodes (-want +got):\n%s", diff)
		}
	} else {
		t.Errorf("the author's pending nodes: %v, %v", describe(got), err)
	}
	inBox, err := overlay.PendingNodesInBox(ctx, degBox(11.5, 11.5, 13.5, 13.5))
	checkPending(t, "the author's pending nodes around 12,12 and 13,13", inBox, err, staying[1], moved[0])
	for _, v := range []int{2, 3} {
		p, err := overlay.PendingVersion(ctx, elemKey(osmdata.Node, 3), v)
		if err != nil || p.Changeset != returned.ID || p.Element.Version != 3 {
			t.Errorf("PendingVersion node 3 v%d: %s, %v; want node 3 v3 in %d", v, describe([]storage.PendingChange{p}), err, returned.ID)
		}
	}

	// The review logs, in one order: split on both, the request on the
	// returned changeset, the approval last.
	comment := "the path is fine; the bench needs its backrest checked"
	originalLog := splitLog(t, s, original, returned.ID,
		fmt.Sprintf("submitted by %d -> submitted", ana),
		fmt.Sprintf("split by %d -> submitted", bo),
		fmt.Sprintf("approved by %d -> approved: %s", bo, comment))
	returnedLog := splitLog(t, s, returned.ID, original,
		fmt.Sprintf("split by %d -> ", bo),
		fmt.Sprintf("changes_requested by %d -> changes_requested: %s", bo, comment))
	if len(originalLog) == 3 && len(returnedLog) == 2 {
		seqs := []int64{originalLog[1].Seq, returnedLog[0].Seq, returnedLog[1].Seq, originalLog[2].Seq}
		for i := 1; i < len(seqs); i++ {
			if seqs[i] != seqs[i-1]+1 {
				t.Errorf("the split's events have seqs %v; want consecutive: split, split, changes_requested, approved", seqs)
				break
			}
		}
	}

	// The original merges with its part only.
	entry := mustMerge(t, m, original)
	wantVersions := []storage.MergedVersion{
		{Element: elemKey(osmdata.Node, 1), OldVersion: 1, NewVersion: 2},
		{Element: elemKey(osmdata.Node, 50), OldVersion: 0, NewVersion: 1},
		{Element: elemKey(osmdata.Way, 10), OldVersion: 1, NewVersion: 2},
	}
	if diff := cmp.Diff(wantVersions, entry.Versions); diff != "" {
		t.Errorf("versions the original merged (-want +got):\n%s", diff)
	}
	checkGapless(t, mustHistory(t, s, osmdata.Node, 3), 1)
	wantErr(t, "History of node 61 after the original merged", func() error {
		_, err := s.History(ctx, osmdata.Node, 61)
		return err
	}(), storage.ErrNotFound)

	// The child needed node 3 from the original, which left it out.
	cerr := wantConflict(t, m, child, "base_moved node 3")
	if len(cerr.Conflicts) == 1 && cerr.Conflicts[0].Parent != original {
		t.Errorf("the child's conflict names changeset %d, want %d", cerr.Conflicts[0].Parent, original)
	}
	report, err := m.MergeConflicts(ctx, child)
	if err != nil || len(report) != 1 || report[0].Element != elemKey(osmdata.Node, 3) {
		t.Errorf("the child's report: %v, %v; want one line on node 3", conflictNames(report), err)
	}
	if c := mustChangeset(t, s, child); c.ReviewState != osmdata.ReviewConflicted {
		t.Errorf("child %d is %q, want conflicted", child, c.ReviewState)
	}

	// The author fixes the returned part with an ordinary upload and
	// closes it, which resubmits it; then it merges on its own.
	fix := pendingNode(storage.Create, 61, 2, 13.5, 13.5, "amenity", "waste_basket")
	fix.BaseVersion = 0
	mustWritePending(t, s, returned.ID, ana, fix)
	resubmitted, err := s.CloseChangeset(ctx, returned.ID, ana)
	if err != nil {
		t.Fatalf("CloseChangeset of the returned changeset: %v", err)
	}
	if resubmitted.ReviewState != osmdata.ReviewSubmitted || resubmitted.Open {
		t.Errorf("the returned changeset after closing: %q, open %v; want submitted, closed", resubmitted.ReviewState, resubmitted.Open)
	}
	splitLog(t, s, returned.ID, original,
		fmt.Sprintf("split by %d -> ", bo),
		fmt.Sprintf("changes_requested by %d -> changes_requested: %s", bo, comment),
		fmt.Sprintf("submitted by %d -> submitted", ana))
	entry = mustMerge(t, m, returned.ID)
	wantVersions = []storage.MergedVersion{
		{Element: elemKey(osmdata.Node, 3), OldVersion: 1, NewVersion: 2},
		{Element: elemKey(osmdata.Node, 61), OldVersion: 0, NewVersion: 1},
	}
	if diff := cmp.Diff(wantVersions, entry.Versions); diff != "" {
		t.Errorf("versions the returned changeset merged (-want +got):\n%s", diff)
	}
	h := mustHistory(t, s, osmdata.Node, 61)
	if len(h) != 1 || h[0].Lat != deg(13.5) || h[0].Changeset != returned.ID {
		t.Errorf("node 61 after the returned changeset merged: %v", h)
	}
	h = mustHistory(t, s, osmdata.Node, 3)
	if len(h) != 2 || !cmp.Equal(h[1].Tags, second.Element.Tags) || h[1].Changeset != returned.ID {
		t.Errorf("node 3 after the returned changeset merged: %v; want v2 of changeset %d tagged %v", h, returned.ID, second.Element.Tags)
	}
}

// splitPair is a validated submission of ana's creating nodes 50 and 51.
func splitPair(t *testing.T, s storage.Store) int64 {
	t.Helper()
	id := submitted(t, s, ana, nil, []storage.PendingChange{
		pendingNode(storage.Create, 50, 1, 12, 12), pendingNode(storage.Create, 51, 1, 12.5, 12.5),
	})
	validated(t, s, id)
	return id
}

func testSplitApprovalsIncomplete(t *testing.T, open Opener) {
	s, m, sp := splitting(t, open)
	id := splitPair(t, s)
	mustSetReviewScopes(t, s, id, 2, "lisboa", "benches")
	approved, returned, err := sp.ApprovePart(t.Context(), storage.Decision{Changeset: id, Reviewer: bo, Kind: osmdata.EventApproved,
		Scopes: []string{"benches"}}, []osmdata.Key{elemKey(osmdata.Node, 51)})
	if err != nil {
		t.Fatalf("ApprovePart: %v", err)
	}
	// One approval of two: the original waits for the other reviewer,
	// as after Decide; the returned part is back with its author anyway.
	if approved.ReviewState != osmdata.ReviewSubmitted || returned.ReviewState != osmdata.ReviewChangesRequested {
		t.Errorf("after one approval of two: original %q, returned %q; want submitted, changes_requested", approved.ReviewState, returned.ReviewState)
	}
	checkReviewScopes(t, s, id, storage.ScopeApproval{Scope: "benches", ApprovedBy: bo}, storage.ScopeApproval{Scope: "lisboa"})
	_, err = m.Merge(t.Context(), returned.ID)
	wantErr(t, "Merge of the returned changeset before its author resubmits it", err, storage.ErrNotMergeable)
	mustDecideReview(t, s, approve(carla, id, "lisboa"), osmdata.ReviewApproved)
	splitLog(t, s, id, returned.ID,
		fmt.Sprintf("submitted by %d -> submitted", ana),
		fmt.Sprintf("split by %d -> submitted", bo),
		fmt.Sprintf("approved by %d [benches] -> submitted", bo),
		fmt.Sprintf("approved by %d [lisboa] -> approved", carla))
	entry := mustMerge(t, m, id)
	if diff := cmp.Diff([]storage.MergedVersion{{Element: elemKey(osmdata.Node, 50), OldVersion: 0, NewVersion: 1}}, entry.Versions); diff != "" {
		t.Errorf("versions merged (-want +got):\n%s", diff)
	}
}

func testSplitRefused(t *testing.T, open Opener) {
	s, _, sp := splitting(t, open)
	id := splitPair(t, s)
	other := splitPair(t, s)
	unvalidated := submitted(t, s, ana, nil, []storage.PendingChange{
		pendingNode(storage.Create, 52, 1, 12, 12), pendingNode(storage.Create, 53, 1, 12.5, 12.5),
	})
	approvedAlready := splitPair(t, s)
	mustDecideReview(t, s, approve(carla, approvedAlready), osmdata.ReviewApproved)
	openOne := mustCreateChangeset(t, s, ana)
	mustWritePending(t, s, openOne.ID, ana, pendingNode(storage.Create, 54, 1, 12, 12), pendingNode(storage.Create, 55, 1, 12.5, 12.5))

	changesetsBefore, err := s.Changesets(t.Context(), storage.ChangesetQuery{UID: ana})
	if err != nil {
		t.Fatalf("Changesets: %v", err)
	}
	eventsBefore := mustReviewEvents(t, s, 0, 1000)
	changesBefore := mustChangesetChanges(t, s, id)
	node := func(ids ...int64) []osmdata.Key {
		var keys []osmdata.Key
		for _, n := range ids {
			keys = append(keys, elemKey(osmdata.Node, n))
		}
		return keys
	}
	for _, c := range []struct {
		what     string
		d        storage.Decision
		leave    []osmdata.Key
		want     error
		unmoved  int64
		wasState osmdata.ReviewState
	}{
		{"by its author", approve(ana, id), node(51), storage.ErrSelfReview, id, osmdata.ReviewSubmitted},
		{"before its validation", approve(bo, unvalidated), node(53), storage.ErrReviewState, unvalidated, osmdata.ReviewSubmitted},
		{"once approved", approve(bo, approvedAlready), node(51), storage.ErrReviewState, approvedAlready, osmdata.ReviewApproved},
		{"while open", approve(bo, openOne.ID), node(55), storage.ErrReviewState, openOne.ID, osmdata.ReviewNone},
		{"leaving out nothing", approve(bo, id), nil, storage.ErrInvalidSplit, id, osmdata.ReviewSubmitted},
		{"leaving out everything", approve(bo, id), node(50, 51), storage.ErrInvalidSplit, id, osmdata.ReviewSubmitted},
		{"leaving out an element it does not change", approve(bo, id), node(51, 1), storage.ErrInvalidSplit, id, osmdata.ReviewSubmitted},
		{"leaving out another changeset's element", approve(bo, id), node(52), storage.ErrInvalidSplit, id, osmdata.ReviewSubmitted},
		{"for scopes it does not need", approve(bo, other, "porto"), node(51), storage.ErrReviewState, other, osmdata.ReviewSubmitted},
	} {
		if c.d.Changeset == other {
			mustSetReviewScopes(t, s, other, 1, "lisboa")
		}
		before := mustChangeset(t, s, c.d.Changeset)
		_, _, err := sp.ApprovePart(t.Context(), c.d, c.leave)
		wantErr(t, "ApprovePart "+c.what, err, c.want)
		after := mustChangeset(t, s, c.d.Changeset)
		if after.ReviewState != c.wasState || after.ReviewState != before.ReviewState || after.Open != before.Open || after.NumChanges != before.NumChanges {
			t.Errorf("ApprovePart %s moved changeset %d from %q (open %v, %d changes) to %q (open %v, %d changes)", c.what, c.d.Changeset,
				before.ReviewState, before.Open, before.NumChanges, after.ReviewState, after.Open, after.NumChanges)
		}
		if n := len(mustChangesetChanges(t, s, c.unmoved)); n != 2 {
			t.Errorf("ApprovePart %s: changeset %d has %d changes, want its 2", c.what, c.unmoved, n)
		}
	}
	checkReviewScopes(t, s, other, storage.ScopeApproval{Scope: "lisboa"})
	checkPending(t, "changes of the changeset after the refusals", mustChangesetChanges(t, s, id), nil, changesBefore...)
	changesetsAfter, err := s.Changesets(t.Context(), storage.ChangesetQuery{UID: ana})
	if err != nil {
		t.Fatalf("Changesets: %v", err)
	}
	if len(changesetsAfter) != len(changesetsBefore) {
		t.Errorf("ana has %d changesets after the refusals, %d before", len(changesetsAfter), len(changesetsBefore))
	}
	if events := mustReviewEvents(t, s, 0, 1000); len(events) != len(eventsBefore) {
		t.Errorf("%d review events after the refusals, %d before: %v", len(events), len(eventsBefore), events[len(eventsBefore):])
	}
	_, _, err = sp.ApprovePart(t.Context(), storage.Decision{Changeset: id, Reviewer: bo, Kind: osmdata.EventRejected}, node(51))
	if err == nil {
		t.Errorf("ApprovePart of a rejection succeeded")
	}
}
