package storagetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// mergeDataset is what the merge tests edit: three nodes, a way on two
// of them and a relation with the way, by alice (uid 1).
func mergeDataset() []osmdata.Element {
	return []osmdata.Element{
		newNode(1, 1, deg(10), deg(10)),
		newNode(2, 1, deg(10.1), deg(10.1)),
		newNode(3, 1, deg(10.2), deg(10.2), "amenity", "bench"),
		newWay(10, 1, []int64{1, 2}, "highway", "path"),
		newRelation(20, 1, []osmdata.Member{member(osmdata.Way, 10, "")}, "type", "route"),
	}
}

// merging opens a store with mergeDataset, or skips when the backend has
// no merge yet.
func merging(t *testing.T, open Opener) (storage.Store, storage.Merger) {
	t.Helper()
	s := open(t)
	m, ok := s.(storage.Merger)
	if !ok {
		t.Skipf("the store (%T) does not merge (storage.Merger)", s)
	}
	mustImport(t, s, mergeDataset())
	return s, m
}

// submitted stages each group of changes in a new changeset of uid,
// one upload per group, and closes it (review state submitted).
func submitted(t *testing.T, s storage.Store, uid int64, parents []int64, uploads ...[]storage.PendingChange) int64 {
	t.Helper()
	c := mustCreateChangeset(t, s, uid)
	for i, changes := range uploads {
		err := s.Stage(t.Context(), c.ID, uid, func(ctx context.Context, tx storage.StageTx) error {
			if i == 0 && len(parents) > 0 {
				if err := tx.AddParents(ctx, parents); err != nil {
					return err
				}
			}
			if err := tx.WritePending(ctx, changes); err != nil {
				return err
			}
			_, err := tx.UpdateChangeset(ctx, len(changes), osmdata.Box{}, false)
			return err
		})
		if err != nil {
			t.Fatalf("Stage to changeset %d: %v", c.ID, err)
		}
	}
	if _, err := s.CloseChangeset(t.Context(), c.ID, uid); err != nil {
		t.Fatalf("CloseChangeset %d: %v", c.ID, err)
	}
	return c.ID
}

func mustMerge(t *testing.T, m storage.Merger, id int64) storage.OutboxEntry {
	t.Helper()
	e, err := m.Merge(t.Context(), id)
	if err != nil {
		t.Fatalf("Merge %d: %v", id, err)
	}
	return e
}

// wantConflict checks that merging id fails with conflicts of the given
// kinds on the given elements (as "kind node 3").
func wantConflict(t *testing.T, m storage.Merger, id int64, want ...string) *storage.ConflictError {
	t.Helper()
	_, err := m.Merge(t.Context(), id)
	var cerr *storage.ConflictError
	if !errors.As(err, &cerr) || !errors.Is(err, storage.ErrMergeConflict) {
		t.Fatalf("Merge %d: got %v, want a conflict %v", id, err, want)
	}
	if diff := cmp.Diff(want, conflictNames(cerr.Conflicts)); diff != "" {
		t.Errorf("Merge %d conflicts (-want +got):\n%s", id, diff)
	}
	return cerr
}

func conflictNames(cs []storage.MergeConflict) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s %s", c.Kind, c.Element))
	}
	return out
}

func mustHistory(t *testing.T, s storage.Reader, typ osmdata.ElementType, id int64) []osmdata.Element {
	t.Helper()
	h, err := s.History(t.Context(), typ, id)
	if err != nil {
		t.Fatalf("History %s %d: %v", typ, id, err)
	}
	return h
}

// checkGapless checks that an element's history is versions 1..n.
func checkGapless(t *testing.T, h []osmdata.Element, n int) {
	t.Helper()
	var got []int
	for _, e := range h {
		got = append(got, e.Version)
	}
	var want []int
	for v := 1; v <= n; v++ {
		want = append(want, v)
	}
	if !cmp.Equal(want, got) {
		t.Errorf("versions %v, want %v", got, want)
	}
}

func mustLastSeq(t *testing.T, m storage.Merger) int64 {
	t.Helper()
	seq, err := m.LastMergeSeq(t.Context())
	if err != nil {
		t.Fatalf("LastMergeSeq: %v", err)
	}
	return seq
}

func testMerge(t *testing.T, open Opener) {
	t.Run("Merged", func(t *testing.T) { t.Parallel(); testMerged(t, open) })
	t.Run("BaseMoved", func(t *testing.T) { t.Parallel(); testMergeBaseMoved(t, open) })
	t.Run("HardConstraints", func(t *testing.T) { t.Parallel(); testMergeConstraints(t, open) })
	t.Run("Stacked", func(t *testing.T) { t.Parallel(); testMergeStacked(t, open) })
	t.Run("FailedParent", func(t *testing.T) { t.Parallel(); testMergeFailedParent(t, open) })
	t.Run("Concurrent", func(t *testing.T) { t.Parallel(); testMergeConcurrent(t, open) })
}

func testMerged(t *testing.T, open Opener) {
	s, m := merging(t, open)
	createdDeleted := pendingDelete(51, osmdata.Node, 2)
	createdDeleted.BaseVersion = 0
	before := time.Now()
	id := submitted(t, s, ana, nil,
		[]storage.PendingChange{
			pendingNode(storage.Modify, 1, 2, 11, 11),
			pendingNode(storage.Create, 50, 1, 12, 12, "amenity", "bench"),
			pendingNode(storage.Create, 51, 1, 13, 13),
		},
		[]storage.PendingChange{
			pendingWay(storage.Modify, 10, 2, []int64{1, 2, 50}, "highway", "footway"),
			createdDeleted,
		})
	entry := mustMerge(t, m, id)

	if entry.Seq != 1 || entry.Changeset != id {
		t.Errorf("merge %d of changeset %d, want 1 of %d", entry.Seq, entry.Changeset, id)
	}
	checkDatabaseTimes(t, "merge time", entry.MergedAt, before)
	want := []storage.MergedVersion{
		{Element: osmdata.Key{Type: osmdata.Node, ID: 1}, OldVersion: 1, NewVersion: 2},
		{Element: osmdata.Key{Type: osmdata.Node, ID: 50}, OldVersion: 0, NewVersion: 1},
		{Element: osmdata.Key{Type: osmdata.Node, ID: 51}, OldVersion: 0, NewVersion: 1},
		{Element: osmdata.Key{Type: osmdata.Way, ID: 10}, OldVersion: 1, NewVersion: 2},
	}
	if diff := cmp.Diff(want, entry.Versions); diff != "" {
		t.Errorf("merged versions (-want +got):\n%s", diff)
	}
	outbox, err := m.Outbox(t.Context(), 0, 10)
	if err != nil {
		t.Fatalf("Outbox: %v", err)
	}
	if diff := cmp.Diff([]storage.OutboxEntry{entry}, outbox); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
	if seq := mustLastSeq(t, m); seq != 1 {
		t.Errorf("LastMergeSeq = %d, want 1", seq)
	}

	final := func(e osmdata.Element) osmdata.Element {
		e.Changeset, e.UID, e.User, e.Timestamp = id, ana, "ana", entry.MergedAt
		return e
	}
	h := mustHistory(t, s, osmdata.Node, 1)
	checkElements(t, "history of node 1", h, []osmdata.Element{newNode(1, 1, deg(10), deg(10)), final(newNode(1, 2, deg(11), deg(11)))})
	// Created and deleted: one deleted version 1, with the content of
	// the pending delete.
	checkElements(t, "history of node 51", mustHistory(t, s, osmdata.Node, 51),
		[]osmdata.Element{final(osmdata.Element{Type: osmdata.Node, ID: 51, Version: 1})})
	checkElements(t, "history of way 10", mustHistory(t, s, osmdata.Way, 10),
		[]osmdata.Element{newWay(10, 1, []int64{1, 2}, "highway", "path"), final(newWay(10, 2, []int64{1, 2, 50}, "highway", "footway"))})

	ways, err := s.WaysUsingNodes(t.Context(), []int64{50})
	if err != nil {
		t.Fatalf("WaysUsingNodes: %v", err)
	}
	checkIDs(t, "ways using node 50", ways, 10)
	nodes, err := s.NodesInBox(t.Context(), osmdata.Box{MinLat: deg(11.9), MinLon: deg(11.9), MaxLat: deg(13.1), MaxLon: deg(13.1)}, 100)
	if err != nil {
		t.Fatalf("NodesInBox: %v", err)
	}
	checkIDs(t, "nodes around 12,12", nodes, 50)

	c := mustChangeset(t, s, id)
	if c.ReviewState != osmdata.ReviewMerged || c.Open || c.NumChanges != 4 {
		t.Errorf("changeset after merge: %s, open %v, %d changes; want merged, closed, 4", c.ReviewState, c.Open, c.NumChanges)
	}
	// The box: node 1's old and new positions, node 50, and way 10's
	// nodes; node 51 was never visible.
	if wantBox := (osmdata.Box{MinLat: deg(10), MinLon: deg(10), MaxLat: deg(12), MaxLon: deg(12)}); !c.HasBox || c.Box != wantBox {
		t.Errorf("changeset box %v (has %v), want %v", c.Box, c.HasBox, wantBox)
	}

	// The editor's diffResult versions stay citable after the merge.
	p, err := s.Pending(ana).PendingVersion(t.Context(), osmdata.Key{Type: osmdata.Way, ID: 10}, 2)
	if err != nil || p.Changeset != id {
		t.Errorf("PendingVersion way 10 v2 after merge: %v, changeset %d; want changeset %d", err, p.Changeset, id)
	}

	_, err = m.Merge(t.Context(), id)
	wantErr(t, "merging again", err, storage.ErrNotMergeable)
	if seq := mustLastSeq(t, m); seq != 1 {
		t.Errorf("LastMergeSeq after a refused merge = %d, want 1", seq)
	}
}

func testMergeBaseMoved(t *testing.T, open Opener) {
	s, m := merging(t, open)
	first := submitted(t, s, ana, nil, []storage.PendingChange{pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "bench", "backrest", "yes")})
	second := submitted(t, s, bo, nil, []storage.PendingChange{
		pendingNode(storage.Modify, 2, 2, 10.15, 10.15),
		pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "picnic_table"),
	})
	mustMerge(t, m, first)
	cerr := wantConflict(t, m, second, "base_moved node 3")
	if c := cerr.Conflicts[0]; c.BaseVersion != 1 || c.CurrentVersion != 2 {
		t.Errorf("conflict on node 3: base %d, current %d; want 1, 2", c.BaseVersion, c.CurrentVersion)
	}
	if c := mustChangeset(t, s, second); c.ReviewState != osmdata.ReviewConflicted {
		t.Errorf("changeset %d is %s, want conflicted", second, c.ReviewState)
	}
	report, err := m.MergeConflicts(t.Context(), second)
	if err != nil {
		t.Fatalf("MergeConflicts: %v", err)
	}
	if diff := cmp.Diff(cerr.Conflicts, report); diff != "" {
		t.Errorf("stored report (-returned +stored):\n%s", diff)
	}
	// Nothing of the conflicted changeset is applied, and its merge_seq
	// went back.
	checkGapless(t, mustHistory(t, s, osmdata.Node, 2), 1)
	checkGapless(t, mustHistory(t, s, osmdata.Node, 3), 2)
	if seq := mustLastSeq(t, m); seq != 1 {
		t.Errorf("LastMergeSeq = %d, want 1", seq)
	}
	if next := submitted(t, s, carla, nil, []storage.PendingChange{pendingNode(storage.Create, 60, 1, 1, 1)}); mustMerge(t, m, next).Seq != 2 {
		t.Errorf("the merge after a conflict did not take merge_seq 2")
	}
}

func testMergeConstraints(t *testing.T, open Opener) {
	s, m := merging(t, open)
	// Staged before node 3's delete merged: a clean upload, broken at
	// merge.
	usesDeleted := submitted(t, s, bo, nil, []storage.PendingChange{
		pendingNode(storage.Create, 70, 1, 5, 5),
		pendingWay(storage.Create, 71, 1, []int64{70, 3}),
	})
	mustMerge(t, m, submitted(t, s, ana, nil, []storage.PendingChange{pendingDelete(3, osmdata.Node, 2)}))
	wantConflict(t, m, usesDeleted, "missing_reference way 71")

	stillUsed := submitted(t, s, carla, nil, []storage.PendingChange{pendingDelete(1, osmdata.Node, 2)})
	wantConflict(t, m, stillUsed, "still_used node 1")

	long := submitted(t, s, carla, nil, []storage.PendingChange{pendingNode(storage.Modify, 2, 2, 10.1, 10.1, "name", strings.Repeat("é", 256))})
	wantConflict(t, m, long, "tag_too_long node 2")

	nodes := make([]int64, storage.MaxWayNodes+1)
	for i := range nodes {
		nodes[i] = 1 + int64(i%2)
	}
	tooLong := submitted(t, s, carla, nil, []storage.PendingChange{pendingWay(storage.Modify, 10, 2, nodes)})
	wantConflict(t, m, tooLong, "too_many_nodes way 10")

	wayInRelation := submitted(t, s, carla, nil, []storage.PendingChange{pendingDelete(10, osmdata.Way, 2)})
	wantConflict(t, m, wayInRelation, "still_used way 10")
	missingMember := submitted(t, s, carla, nil, []storage.PendingChange{
		pendingRelation(storage.Create, 21, 1, []osmdata.Member{member(osmdata.Way, 10, ""), member(osmdata.Node, 999, "")}),
	})
	wantConflict(t, m, missingMember, "missing_reference relation 21")

	for _, id := range []int64{usesDeleted, stillUsed, long, tooLong, wayInRelation, missingMember} {
		if c := mustChangeset(t, s, id); c.ReviewState != osmdata.ReviewConflicted {
			t.Errorf("changeset %d is %s, want conflicted", id, c.ReviewState)
		}
	}
	checkGapless(t, mustHistory(t, s, osmdata.Node, 1), 1)
	checkGapless(t, mustHistory(t, s, osmdata.Node, 2), 1)
	checkGapless(t, mustHistory(t, s, osmdata.Way, 10), 1)
	if _, err := s.History(t.Context(), osmdata.Node, 70); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("node 70 of the conflicted changeset: got %v, want ErrNotFound", err)
	}
	if seq := mustLastSeq(t, m); seq != 1 {
		t.Errorf("LastMergeSeq = %d, want 1", seq)
	}
}

// stackedPair stages ana's node 2 twice in a parent (provisional v2,
// then v3, both on base 1) and a child on the parent's v3 (provisional
// v4): the parent's final version is 2, so the child's base resolves to
// 2 and its final version is 3.
func stackedPair(t *testing.T, s storage.Store) (parent, child int64) {
	t.Helper()
	second := pendingNode(storage.Modify, 2, 3, 10.12, 10.12)
	second.BaseVersion = 1
	parent = submitted(t, s, ana, nil,
		[]storage.PendingChange{pendingNode(storage.Modify, 2, 2, 10.11, 10.11)},
		[]storage.PendingChange{second})
	onParent := pendingNode(storage.Modify, 2, 4, 10.13, 10.13, "note", "stacked")
	onParent.BaseChangeset = parent
	child = submitted(t, s, ana, []int64{parent}, []storage.PendingChange{onParent})
	return parent, child
}

func testMergeStacked(t *testing.T, open Opener) {
	s, m := merging(t, open)
	parent, child := stackedPair(t, s)
	cerr := wantConflict(t, m, child, "parent_not_merged node 2")
	if !cerr.OnlyWaitsForParents() {
		t.Errorf("OnlyWaitsForParents = false for %v", cerr)
	}
	if c := mustChangeset(t, s, child); c.ReviewState != osmdata.ReviewSubmitted {
		t.Errorf("child waiting for its parent is %s, want still submitted", c.ReviewState)
	}
	mustMerge(t, m, parent)
	e := mustMerge(t, m, child)
	if diff := cmp.Diff([]storage.MergedVersion{{Element: osmdata.Key{Type: osmdata.Node, ID: 2}, OldVersion: 2, NewVersion: 3}}, e.Versions); diff != "" {
		t.Errorf("child's merged versions (-want +got):\n%s", diff)
	}
	h := mustHistory(t, s, osmdata.Node, 2)
	checkGapless(t, h, 3)
	if len(h) == 3 && (h[1].Lat != deg(10.12) || h[1].Changeset != parent || h[2].Lat != deg(10.13) || h[2].Changeset != child) {
		t.Errorf("node 2 history: v2 at %d in %d, v3 at %d in %d; want the parent's last upload then the child's", h[1].Lat, h[1].Changeset, h[2].Lat, h[2].Changeset)
	}
	if seq := mustLastSeq(t, m); seq != 2 {
		t.Errorf("LastMergeSeq = %d, want 2", seq)
	}
}

func testMergeFailedParent(t *testing.T, open Opener) {
	s, m := merging(t, open)
	parent, child := stackedPair(t, s)
	if _, err := s.SetReviewState(t.Context(), parent, osmdata.ReviewRejected, storage.ReviewNote{}); err != nil {
		t.Fatalf("reject the parent: %v", err)
	}
	cerr := wantConflict(t, m, child, "parent_failed node 2")
	if cerr.Conflicts[0].Parent != parent {
		t.Errorf("conflict names parent %d, want %d", cerr.Conflicts[0].Parent, parent)
	}
	if c := mustChangeset(t, s, child); c.ReviewState != osmdata.ReviewConflicted {
		t.Errorf("child of a rejected parent is %s, want conflicted", c.ReviewState)
	}
	checkGapless(t, mustHistory(t, s, osmdata.Node, 2), 1)
}

// testMergeConcurrent merges, from many goroutines at once, independent
// changesets (each tried twice) and a stacked chain on one node (each
// link retried until its parent has merged): merge_seq must come out
// 1..N in commit order with each changeset once, and the node's versions
// gapless.
func testMergeConcurrent(t *testing.T, open Opener) {
	s, m := merging(t, open)
	const independent, chain = 12, 8
	var ids []int64
	for i := range independent {
		ids = append(ids, submitted(t, s, bo, nil, []storage.PendingChange{pendingNode(storage.Create, int64(100+i), 1, 1, float64(i))}))
	}
	var links []int64
	for i := range chain {
		p := pendingNode(storage.Modify, 3, 2+i, 10.2, 10.2, "step", fmt.Sprint(i))
		var parents []int64
		if i > 0 {
			p.BaseChangeset = links[i-1]
			parents = []int64{links[i-1]}
		}
		links = append(links, submitted(t, s, ana, parents, []storage.PendingChange{p}))
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2*independent+chain)
	for _, id := range append(append(ids, ids...), links...) {
		wg.Go(func() {
			for {
				_, err := m.Merge(ctx, id)
				var cerr *storage.ConflictError
				if errors.As(err, &cerr) && cerr.OnlyWaitsForParents() && ctx.Err() == nil {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				if err != nil && !errors.Is(err, storage.ErrNotMergeable) {
					errs <- fmt.Errorf("merge %d: %w", id, err)
				}
				return
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	outbox, err := m.Outbox(t.Context(), 0, 1000)
	if err != nil {
		t.Fatalf("Outbox: %v", err)
	}
	seen := map[int64]int{}
	for i, e := range outbox {
		if e.Seq != int64(i+1) {
			t.Errorf("outbox row %d has merge_seq %d", i, e.Seq)
		}
		if i > 0 && e.MergedAt.Before(outbox[i-1].MergedAt) {
			t.Errorf("merge %d at %v, before merge %d at %v", e.Seq, e.MergedAt, e.Seq-1, outbox[i-1].MergedAt)
		}
		seen[e.Changeset]++
	}
	for _, id := range append(ids, links...) {
		if seen[id] != 1 {
			t.Errorf("changeset %d merged %d times", id, seen[id])
		}
		if c := mustChangeset(t, s, id); c.ReviewState != osmdata.ReviewMerged {
			t.Errorf("changeset %d is %s", id, c.ReviewState)
		}
	}
	if len(outbox) != independent+chain || mustLastSeq(t, m) != int64(independent+chain) {
		t.Errorf("%d outbox rows, LastMergeSeq %d; want %d", len(outbox), mustLastSeq(t, m), independent+chain)
	}
	h := mustHistory(t, s, osmdata.Node, 3)
	checkGapless(t, h, chain+1)
	for i, e := range h[1:] {
		if i < len(links) && e.Changeset != links[i] {
			t.Errorf("node 3 v%d from changeset %d, want %d", e.Version, e.Changeset, links[i])
		}
	}
}
