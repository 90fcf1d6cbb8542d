package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// testChangeFeed covers storage.ChangeFeed: the versions a merge wrote
// and replaced, read back as the change feeds read them, and the wait
// for the next merge.
func testChangeFeed(t *testing.T, open Opener) {
	t.Run("ElementVersions", func(t *testing.T) { t.Parallel(); testElementVersions(t, open) })
	t.Run("WaitMerge", func(t *testing.T) { t.Parallel(); testWaitMerge(t, open) })
}

func versionKey(t osmdata.ElementType, id int64, v int) storage.VersionKey {
	return storage.VersionKey{Element: osmdata.Key{Type: t, ID: id}, Version: v}
}

func testElementVersions(t *testing.T, open Opener) {
	s, m := merging(t, open)
	feed := storage.ChangeFeed(s)
	ctx := t.Context()
	if got, err := feed.ElementVersions(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("ElementVersions of nothing: %v, %v", got, err)
	}

	// One merge that modifies, creates and deletes each kind of content:
	// tags in an order no sort gives, a way's nodes, a relation's
	// members with roles.
	changes := []storage.PendingChange{
		pendingNode(storage.Modify, 1, 2, 11, 11, "name", "Zürich", "amenity", "bench", "backrest", "yes"),
		pendingNode(storage.Create, 50, 1, 12, 12, "highway", "bus_stop"),
		pendingDelete(3, osmdata.Node, 2),
		pendingWay(storage.Modify, 10, 2, []int64{50, 1, 2, 50}, "highway", "footway", "access", "no"),
		pendingRelation(storage.Modify, 20, 2, []osmdata.Member{
			member(osmdata.Node, 50, "stop"), member(osmdata.Way, 10, ""), member(osmdata.Node, 1, "platform"),
		}, "type", "route", "route", "bus", "name", "2"),
	}
	id := submitted(t, s, ana, nil, changes)
	entry := mustMerge(t, m, id)

	final := func(e osmdata.Element) osmdata.Element {
		e.Changeset, e.UID, e.User, e.Timestamp = id, ana, "ana", entry.MergedAt
		return e
	}
	imported := map[osmdata.Key]osmdata.Element{}
	for _, e := range mergeDataset() {
		imported[e.Key()] = e
	}
	merged := map[osmdata.Key]osmdata.Element{}
	for _, c := range changes {
		merged[c.Element.Key()] = final(c.Element)
	}
	// The delete's version is invisible, without tags, and keeps the
	// node's last position (as osmdata.Element documents).
	deleted := imported[osmdata.Key{Type: osmdata.Node, ID: 3}]
	merged[deleted.Key()] = final(osmdata.Element{Type: osmdata.Node, ID: 3, Version: 2, Lat: deleted.Lat, Lon: deleted.Lon})

	// What a change feed asks for: the old and new version of each
	// element the outbox names.
	var keys []storage.VersionKey
	var want []osmdata.Element
	for _, v := range entry.Versions {
		if v.OldVersion > 0 {
			keys = append(keys, storage.VersionKey{Element: v.Element, Version: v.OldVersion})
			want = append(want, imported[v.Element])
		}
		keys = append(keys, storage.VersionKey{Element: v.Element, Version: v.NewVersion})
		want = append(want, merged[v.Element])
	}
	if len(keys) != 9 {
		t.Fatalf("the outbox names %d versions (%v), want 9: 4 modified or deleted elements twice, 1 created", len(keys), entry.Versions)
	}
	got, err := feed.ElementVersions(ctx, keys)
	if err != nil {
		t.Fatalf("ElementVersions: %v", err)
	}
	checkElements(t, "the versions the outbox names", got, want)

	// Mixed types in an order of their own, one key twice: the answer
	// follows the question.
	order := []int{8, 0, 4, 1, 7, 2, 6, 3, 5, 0}
	var mixedKeys []storage.VersionKey
	var mixedWant []osmdata.Element
	for _, i := range order {
		mixedKeys, mixedWant = append(mixedKeys, keys[i]), append(mixedWant, want[i])
	}
	got, err = feed.ElementVersions(ctx, mixedKeys)
	if err != nil {
		t.Fatalf("ElementVersions in mixed order: %v", err)
	}
	checkElements(t, "the versions in the order asked", got, mixedWant)

	for _, missing := range [][]storage.VersionKey{
		{versionKey(osmdata.Node, 1, 1), versionKey(osmdata.Node, 1, 3)},
		{versionKey(osmdata.Node, 999, 1)},
		{versionKey(osmdata.Way, 10, 2), versionKey(osmdata.Way, 10, 3)},
		{versionKey(osmdata.Relation, 20, 0)},
		{versionKey(osmdata.Node, 2, 1), versionKey(osmdata.Relation, 10, 1)},
	} {
		got, err := feed.ElementVersions(ctx, missing)
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("ElementVersions %v: %v, %v; want ErrNotFound", missing, versionsOf(got), err)
		}
	}
}

func testWaitMerge(t *testing.T, open Opener) {
	s, m := merging(t, open)
	feed := storage.ChangeFeed(s)
	// A bound for a broken store, not a timing assertion.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	type result struct {
		seq int64
		err error
	}
	wait := func(ctx context.Context, after int64) <-chan result {
		done := make(chan result, 1)
		go func() {
			seq, err := feed.WaitMerge(ctx, after)
			done <- result{seq, err}
		}()
		return done
	}
	created := int64(100)
	mergeOne := func() <-chan storage.OutboxEntry {
		created++
		id := submitted(t, s, ana, nil, []storage.PendingChange{pendingNode(storage.Create, created, 1, 1, float64(created%90))})
		merged := make(chan storage.OutboxEntry, 1)
		go func() {
			e, err := m.Merge(ctx, id)
			if err != nil {
				t.Errorf("Merge %d: %v", id, err)
			}
			merged <- e
		}()
		return merged
	}
	receive := func(what string, w <-chan result) result {
		t.Helper()
		select {
		case r := <-w:
			return r
		case <-ctx.Done():
			t.Fatalf("%s: still waiting after %v", what, ctx.Err())
			return result{}
		}
	}

	// Waiters for the first merge, before there is any: a write that is
	// no merge (a changeset opened and closed) leaves them waiting, the
	// merge in another goroutine wakes every one with its merge_seq.
	var waiters []<-chan result
	for range 3 {
		waiters = append(waiters, wait(ctx, 0))
	}
	closed := mustCreateChangeset(t, s, bo)
	if _, err := s.CloseChangeset(ctx, closed.ID, bo); err != nil {
		t.Fatalf("CloseChangeset: %v", err)
	}
	for i, w := range waiters {
		select {
		case r := <-w:
			t.Fatalf("waiter %d returned %d, %v before any merge", i, r.seq, r.err)
		default:
		}
	}
	first := <-mergeOne()
	for i, w := range waiters {
		if r := receive(fmt.Sprintf("waiter %d", i), w); r.err != nil || r.seq != first.Seq {
			t.Errorf("waiter %d after merge %d: %d, %v", i, first.Seq, r.seq, r.err)
		}
	}

	// Already past: at once, with the latest merge_seq.
	second := <-mergeOne()
	for _, after := range []int64{0, first.Seq} {
		if r := receive(fmt.Sprintf("WaitMerge after %d", after), wait(ctx, after)); r.err != nil || r.seq != second.Seq {
			t.Errorf("WaitMerge after %d, with merge %d done: %d, %v", after, second.Seq, r.seq, r.err)
		}
	}

	// Waiting past the latest until the next, which a waiter for a later
	// one sleeps through.
	next, later := wait(ctx, second.Seq), wait(ctx, second.Seq+1)
	third := <-mergeOne()
	if r := receive("WaitMerge for the third merge", next); r.err != nil || r.seq != third.Seq {
		t.Errorf("WaitMerge after %d: %d, %v; want %d", second.Seq, r.seq, r.err, third.Seq)
	}
	select {
	case r := <-later:
		t.Errorf("WaitMerge after %d returned %d, %v with merge %d the latest", second.Seq+1, r.seq, r.err, third.Seq)
	default:
	}

	// Cancelled, or past its deadline: the context's error.
	cctx, ccancel := context.WithCancel(ctx)
	cancelled := wait(cctx, third.Seq)
	ccancel()
	if r := receive("WaitMerge cancelled", cancelled); !errors.Is(r.err, context.Canceled) {
		t.Errorf("WaitMerge cancelled: %d, %v; want context.Canceled", r.seq, r.err)
	}
	dctx, dcancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer dcancel()
	if r := receive("WaitMerge past its deadline", wait(dctx, third.Seq)); !errors.Is(r.err, context.DeadlineExceeded) {
		t.Errorf("WaitMerge past its deadline: %d, %v; want context.DeadlineExceeded", r.seq, r.err)
	}

	// The waiter for a later merge gets the one after the third.
	fourth := <-mergeOne()
	if r := receive("WaitMerge for the fourth merge", later); r.err != nil || r.seq != fourth.Seq {
		t.Errorf("WaitMerge after %d: %d, %v; want %d", second.Seq+1, r.seq, r.err, fourth.Seq)
	}
}
