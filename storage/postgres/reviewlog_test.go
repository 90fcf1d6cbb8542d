package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
)

// Two stores on one schema stand for two server processes: an event
// written through the first wakes the second's WaitReviewEvent through
// the notification on the review channel, which the second store hears
// on the same listening connection as its merges. Its fallback poll is
// an hour, so nothing else can wake it.
func TestWaitReviewEventWakesOtherStores(t *testing.T) {
	cfg := pgtest.Config(t)
	writer, waiter := pgtest.Open(t, cfg), pgtest.Open(t, cfg)
	waiter.SetMergePoll(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	waitEvent := func(after int64) <-chan waitResult {
		done := make(chan waitResult, 1)
		go func() {
			seq, err := waiter.WaitReviewEvent(ctx, after)
			done <- waitResult{seq, err}
		}()
		return done
	}
	receive := func(what string, w <-chan waitResult) waitResult {
		t.Helper()
		select {
		case r := <-w:
			return r
		case <-ctx.Done():
			t.Fatalf("%s: still waiting: %v", what, ctx.Err())
			return waitResult{}
		}
	}

	first := waitEvent(0)
	// Listening before the event commits, or the wake-up the listener
	// gives when it starts would hide a missing notification.
	waitFor(ctx, t, "the waiter's store listens", func() bool { return waiter.MergeListenerPID() != 0 })
	c, err := writer.CreateChangeset(ctx, storage.NewChangeset{UID: 77, User: "closer"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writer.CloseChangeset(ctx, c.ID, 77); err != nil {
		t.Fatal(err)
	}
	if r := receive("the submitted event", first); r.err != nil || r.seq != 1 {
		t.Errorf("WaitReviewEvent(0) on the other store: %d, %v; want 1", r.seq, r.err)
	}

	// A comment.
	second := waitEvent(1)
	if _, err := writer.AddReviewEvent(ctx, osmdata.ReviewEvent{Changeset: c.ID, Kind: osmdata.EventCommented, ActorUID: 78, Comment: "looks fine"}); err != nil {
		t.Fatal(err)
	}
	if r := receive("the comment", second); r.err != nil || r.seq != 2 {
		t.Errorf("WaitReviewEvent(1) on the other store: %d, %v; want 2", r.seq, r.err)
	}
	// The merge's event, written in the merge transaction.
	cs, err := writer.CreateChangeset(ctx, storage.NewChangeset{UID: 77, User: "closer"})
	if err != nil {
		t.Fatal(err)
	}
	err = writer.Stage(ctx, cs.ID, 77, func(ctx context.Context, tx storage.StageTx) error {
		return tx.WritePending(ctx, []storage.PendingChange{{Action: storage.Create, Element: osmdata.Element{
			Type: osmdata.Node, ID: 1_000_001, Version: 1, Visible: true, Lat: 1, Lon: 1}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writer.CloseChangeset(ctx, cs.ID, 77); err != nil {
		t.Fatal(err)
	}
	fourth := waitEvent(3)
	if _, err := writer.Merge(ctx, cs.ID); err != nil {
		t.Fatal(err)
	}
	if r := receive("the merged event", fourth); r.err != nil || r.seq != 4 {
		t.Errorf("WaitReviewEvent(3) on the other store after the merge: %d, %v; want 4", r.seq, r.err)
	}
}

// Sweepers of two processes race over the same due changesets: each is
// submitted once, and the log numbers the submissions gaplessly, each
// sweep's in changeset id order.
func TestReviewEventsOfRacingSweepers(t *testing.T) {
	cfg := pgtest.Config(t)
	a, b := pgtest.Open(t, cfg), pgtest.Open(t, cfg)
	ctx := t.Context()
	var ids []int64
	for i := range 30 {
		c, err := a.CreateChangeset(ctx, storage.NewChangeset{UID: int64(100 + i%3), User: "sweepme"})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.BackdateChangeset(ctx, c.ID, 2*time.Hour); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	swept := make([][][]int64, 2)
	done := make(chan error, 2)
	for i, s := range []interface {
		CloseDueChangesets(context.Context) ([]int64, error)
	}{a, b} {
		go func() {
			for range 5 {
				closed, err := s.CloseDueChangesets(ctx)
				if err != nil {
					done <- err
					return
				}
				if len(closed) > 0 {
					swept[i] = append(swept[i], closed)
				}
			}
			done <- nil
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	events, err := a.ReviewEvents(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var submitted []int64
	for i, ev := range events {
		if ev.Seq != int64(i+1) || ev.Kind != osmdata.EventSubmitted || ev.ActorUID != 0 {
			t.Errorf("event %d: seq %d, %s by %d; want seq %d, submitted by the system", i, ev.Seq, ev.Kind, ev.ActorUID, i+1)
		}
		submitted = append(submitted, ev.Changeset)
	}
	if got := slices.Sorted(slices.Values(submitted)); !slices.Equal(got, ids) {
		t.Errorf("submitted %v, want each of %v once", got, ids)
	}
	// Each sweep's events are consecutive and in id order.
	at := map[int64]int{}
	for i, id := range submitted {
		at[id] = i
	}
	for _, sweeps := range swept {
		for _, closed := range sweeps {
			for j := 1; j < len(closed); j++ {
				if at[closed[j]] != at[closed[j-1]]+1 || closed[j] < closed[j-1] {
					t.Errorf("sweep %v: its events are not consecutive in id order", closed)
					break
				}
			}
		}
	}
}
