package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// testReviewLog covers storage.ReviewLog: the events each store method
// that moves a review state writes, their gapless numbering in commit
// order (also when transactions roll back and when many write at once),
// the per-changeset log and the wake-up.
func testReviewLog(t *testing.T, open Opener) {
	t.Run("Lifecycle", func(t *testing.T) { t.Parallel(); testReviewLifecycle(t, open) })
	t.Run("NoGapAfterRollback", func(t *testing.T) { t.Parallel(); testReviewNoGap(t, open) })
	t.Run("AddReviewEvent", func(t *testing.T) { t.Parallel(); testAddReviewEvent(t, open) })
	t.Run("ConcurrentWriters", func(t *testing.T) { t.Parallel(); testReviewConcurrent(t, open) })
	t.Run("Wait", func(t *testing.T) { t.Parallel(); testWaitReviewEvent(t, open) })
	t.Run("CommentCounts", func(t *testing.T) { t.Parallel(); testReviewCommentCounts(t, open) })
}

// reviewEvent is what a reader checks of an event: all but its time,
// which checkReviewTimes checks.
type reviewEvent struct {
	Seq       int64
	Changeset int64
	Kind      osmdata.ReviewEventKind
	ActorUID  int64
	Actor     string
	Scope     string
	Comment   string
	State     osmdata.ReviewState
}

func withoutTimes(events []osmdata.ReviewEvent) []reviewEvent {
	out := make([]reviewEvent, len(events))
	for i, ev := range events {
		out[i] = reviewEvent{ev.Seq, ev.Changeset, ev.Kind, ev.ActorUID, ev.Actor, ev.Scope, ev.Comment, ev.State}
	}
	return out
}

// numbered gives want the seqs from first on, in their order.
func numbered(first int64, want ...reviewEvent) []reviewEvent {
	for i := range want {
		want[i].Seq = first + int64(i)
	}
	return want
}

func mustReviewEvents(t *testing.T, s storage.ReviewLog, after int64, limit int) []osmdata.ReviewEvent {
	t.Helper()
	events, err := s.ReviewEvents(t.Context(), after, limit)
	if err != nil {
		t.Fatalf("ReviewEvents(%d, %d): %v", after, limit, err)
	}
	return events
}

func mustChangesetReviewEvents(t *testing.T, s storage.ReviewLog, id int64) []osmdata.ReviewEvent {
	t.Helper()
	events, err := s.ChangesetReviewEvents(t.Context(), id)
	if err != nil {
		t.Fatalf("ChangesetReviewEvents(%d): %v", id, err)
	}
	return events
}

// checkReviewLog checks the whole log against want.
func checkReviewLog(t *testing.T, s storage.ReviewLog, what string, want []reviewEvent) []osmdata.ReviewEvent {
	t.Helper()
	got := mustReviewEvents(t, s, 0, 10000)
	if diff := cmp.Diff(want, withoutTimes(got), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s: review log (-want +got):\n%s", what, diff)
	}
	return got
}

// checkReviewTimes checks that the times are the database's, in whole
// seconds, near this machine's clock, and follow seq.
func checkReviewTimes(t *testing.T, events []osmdata.ReviewEvent, was time.Time) {
	t.Helper()
	for i, ev := range events {
		checkDatabaseTimes(t, fmt.Sprintf("time of review event %d", ev.Seq), ev.Time, was)
		if i > 0 && ev.Time.Before(events[i-1].Time) {
			t.Errorf("review event %d at %v, before event %d at %v", ev.Seq, ev.Time, events[i-1].Seq, events[i-1].Time)
		}
	}
}

// checkGaplessLog checks that the seqs are first, first+1, … .
func checkGaplessLog(t *testing.T, what string, events []osmdata.ReviewEvent, first int64) {
	t.Helper()
	for i, ev := range events {
		if ev.Seq != first+int64(i) {
			t.Fatalf("%s: event %d has seq %d, want %d (the log skips or repeats a number)", what, i, ev.Seq, first+int64(i))
		}
	}
}

func testReviewLifecycle(t *testing.T, open Opener) {
	s, m := merging(t, open)
	started := time.Now()
	author := mustCreateAccount(t, s, "Ana Lifecycle", "contributor")
	other := mustCreateAccount(t, s, "Bo Other", "contributor")
	reviewer := mustCreateAccount(t, s, "Rita Reviewer", "reviewer")
	if got := mustReviewEvents(t, s, 0, 100); len(got) != 0 {
		t.Fatalf("a new dataset has review events: %v", got)
	}
	open1 := mustCreateChangeset(t, s, author.ID)
	if got := mustReviewEvents(t, s, 0, 100); len(got) != 0 {
		t.Fatalf("opening a changeset wrote review events: %v", got)
	}

	// Closed by its author: submitted, by the author.
	merged := submitted(t, s, author.ID, nil, []storage.PendingChange{pendingNode(storage.Create, 50, 1, 1, 1)})
	// Due, the sweeper closes them: submitted by the system, in id order.
	due1, due2 := mustCreateChangeset(t, s, other.ID), mustCreateChangeset(t, s, author.ID)
	mustBackdate(t, s, due2.ID, 2*time.Hour)
	mustBackdate(t, s, due1.ID, 2*time.Hour)
	swept, err := s.CloseDueChangesets(t.Context())
	if err != nil {
		t.Fatalf("CloseDueChangesets: %v", err)
	}
	if !cmp.Equal(swept, []int64{due1.ID, due2.ID}) {
		t.Fatalf("CloseDueChangesets closed %v, want %v", swept, []int64{due1.ID, due2.ID})
	}
	// The policy approves one (approved, by the system), queues another
	// (no event).
	if !mustDecide(t, s, merged, true) || !mustDecide(t, s, due1.ID, false) {
		t.Fatalf("DecideChangeset on %d or %d reported false", merged, due1.ID)
	}
	// A reviewer requests changes for a scope.
	note := storage.ReviewNote{ActorUID: reviewer.ID, Scope: "commune:canillo", Comment: "the bench has no backrest"}
	if _, err := s.SetReviewState(t.Context(), due2.ID, osmdata.ReviewChangesRequested, note); err != nil {
		t.Fatalf("SetReviewState(%d, changes_requested): %v", due2.ID, err)
	}
	mustMerge(t, m, merged)
	// Two changesets on node 3: the first merges, the second's base moved.
	first := submitted(t, s, author.ID, nil, []storage.PendingChange{pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "bench", "backrest", "yes")})
	second := submitted(t, s, other.ID, nil, []storage.PendingChange{pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "picnic_table")})
	mustMerge(t, m, first)
	wantConflict(t, m, second, "base_moved node 3")

	submittedBy := func(id int64, who storage.Account) reviewEvent {
		return reviewEvent{Changeset: id, Kind: osmdata.EventSubmitted, ActorUID: who.ID, Actor: who.DisplayName, State: osmdata.ReviewSubmitted}
	}
	system := func(id int64, kind osmdata.ReviewEventKind, state osmdata.ReviewState, comment string) reviewEvent {
		return reviewEvent{Changeset: id, Kind: kind, State: state, Comment: comment}
	}
	want := numbered(1,
		submittedBy(merged, author),
		system(due1.ID, osmdata.EventSubmitted, osmdata.ReviewSubmitted, ""),
		system(due2.ID, osmdata.EventSubmitted, osmdata.ReviewSubmitted, ""),
		system(merged, osmdata.EventApproved, osmdata.ReviewApproved, "approved by policy"),
		reviewEvent{Changeset: due2.ID, Kind: osmdata.EventChangesRequested, ActorUID: reviewer.ID, Actor: "Rita Reviewer",
			Scope: "commune:canillo", Comment: "the bench has no backrest", State: osmdata.ReviewChangesRequested},
		system(merged, osmdata.EventMerged, osmdata.ReviewMerged, ""),
		submittedBy(first, author),
		submittedBy(second, other),
		system(first, osmdata.EventMerged, osmdata.ReviewMerged, ""),
		system(second, osmdata.EventConflicted, osmdata.ReviewConflicted, "node 3: base moved from v1 to v2"),
	)
	events := checkReviewLog(t, s, "after close, sweep, decisions, changes requested, merges and a conflict", want)
	checkReviewTimes(t, events, started)

	// Each event's state is the changeset's now, for the changesets whose
	// last event it is.
	for _, id := range []int64{merged, due1.ID, due2.ID, first, second} {
		log := mustChangesetReviewEvents(t, s, id)
		if len(log) == 0 {
			t.Errorf("changeset %d has no review events", id)
			continue
		}
		if c := mustChangeset(t, s, id); log[len(log)-1].State != c.ReviewState {
			t.Errorf("changeset %d is %q, its last review event says %q", id, c.ReviewState, log[len(log)-1].State)
		}
	}

	// One changeset's log, in order, and none for one without events.
	var mergedLog []reviewEvent
	for _, ev := range want {
		if ev.Changeset == merged {
			mergedLog = append(mergedLog, ev)
		}
	}
	if diff := cmp.Diff(mergedLog, withoutTimes(mustChangesetReviewEvents(t, s, merged))); diff != "" {
		t.Errorf("ChangesetReviewEvents(%d) (-want +got):\n%s", merged, diff)
	}
	for _, id := range []int64{open1.ID, 99999} {
		if got := mustChangesetReviewEvents(t, s, id); len(got) != 0 {
			t.Errorf("ChangesetReviewEvents(%d) = %v, want none", id, got)
		}
	}

	// Pages: after a seq, at most limit.
	if diff := cmp.Diff(want[3:5], withoutTimes(mustReviewEvents(t, s, 3, 2))); diff != "" {
		t.Errorf("ReviewEvents(3, 2) (-want +got):\n%s", diff)
	}
	if got := mustReviewEvents(t, s, int64(len(want)), 10); len(got) != 0 {
		t.Errorf("ReviewEvents after the last = %v, want none", got)
	}

	// Closing again after changes were requested submits again.
	mustClose(t, s, due2.ID, author.ID)
	if got := withoutTimes(mustReviewEvents(t, s, int64(len(want)), 10)); !cmp.Equal(got, numbered(int64(len(want))+1, submittedBy(due2.ID, author))) {
		t.Errorf("the resubmission's event: %+v", got)
	}
}

// testReviewNoGap: writes that fail (refused, unknown changeset, a merge
// rolled back for its conflict) take no number; the log goes on without
// a hole.
func testReviewNoGap(t *testing.T, open Opener) {
	s, m := merging(t, open)
	ctx := t.Context()
	first := submitted(t, s, ana, nil, []storage.PendingChange{pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "bench", "backrest", "yes")})
	second := submitted(t, s, bo, nil, []storage.PendingChange{pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "picnic_table")})
	stillOpen := mustCreateChangeset(t, s, carla)

	_, err := s.SetReviewState(ctx, 99999, osmdata.ReviewApproved, storage.ReviewNote{ActorUID: bo})
	wantErr(t, "SetReviewState of an unknown changeset", err, storage.ErrNotFound)
	if _, err := s.SetReviewState(ctx, first, osmdata.ReviewNone, storage.ReviewNote{}); err == nil {
		t.Errorf("SetReviewState(%d, none) succeeded", first)
	}
	_, err = s.CloseChangeset(ctx, stillOpen.ID, ana)
	wantErr(t, "CloseChangeset by another user", err, storage.ErrNotOwner)
	_, err = m.Merge(ctx, stillOpen.ID)
	wantErr(t, "Merge of an open changeset", err, storage.ErrNotMergeable)
	_, err = s.AddReviewEvent(ctx, osmdata.ReviewEvent{Changeset: 99999, Kind: osmdata.EventCommented, ActorUID: bo, Comment: "?"})
	wantErr(t, "AddReviewEvent on an unknown changeset", err, storage.ErrNotFound)
	_, err = s.AddReviewEvent(ctx, osmdata.ReviewEvent{Changeset: first, Kind: osmdata.EventApproved, ActorUID: bo})
	wantErr(t, "AddReviewEvent of an approval", err, storage.ErrStateEventKind)
	if mustDecide(t, s, stillOpen.ID, true) {
		t.Errorf("DecideChangeset approved the open changeset %d", stillOpen.ID)
	}

	// The second merge rolls back (its base moved) and records the
	// conflict in a transaction of its own.
	mustMerge(t, m, first)
	wantConflict(t, m, second, "base_moved node 3")
	_, err = m.Merge(ctx, second)
	wantErr(t, "Merge of a conflicted changeset", err, storage.ErrNotMergeable)
	mustClose(t, s, stillOpen.ID, carla)

	events := mustReviewEvents(t, s, 0, 100)
	checkGaplessLog(t, "after failed writes", events, 1)
	var kinds []string
	for _, ev := range events {
		kinds = append(kinds, fmt.Sprintf("%s %d", ev.Kind, ev.Changeset))
	}
	want := []string{
		fmt.Sprintf("submitted %d", first), fmt.Sprintf("submitted %d", second),
		fmt.Sprintf("merged %d", first), fmt.Sprintf("conflicted %d", second), fmt.Sprintf("submitted %d", stillOpen.ID),
	}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("review log after failed writes (-want +got):\n%s", diff)
	}
}

func testAddReviewEvent(t *testing.T, open Opener) {
	s := editing(t, open)
	ctx := t.Context()
	commenter := mustCreateAccount(t, s, "Cleo Commenter", "reviewer")
	c := mustCreateChangeset(t, s, ana)

	// On an open changeset: its state is none.
	got, err := s.AddReviewEvent(ctx, osmdata.ReviewEvent{Changeset: c.ID, Kind: osmdata.EventCommented, ActorUID: commenter.ID,
		Comment: "is this the right bench?", Seq: 40, State: osmdata.ReviewMerged, Actor: "someone else"})
	if err != nil {
		t.Fatalf("AddReviewEvent(commented): %v", err)
	}
	want := reviewEvent{Seq: 1, Changeset: c.ID, Kind: osmdata.EventCommented, ActorUID: commenter.ID, Actor: "Cleo Commenter",
		Comment: "is this the right bench?", State: osmdata.ReviewNone}
	if diff := cmp.Diff(want, withoutTimes([]osmdata.ReviewEvent{got})[0]); diff != "" {
		t.Errorf("AddReviewEvent returned (-want +got):\n%s", diff)
	}
	checkDatabaseTimes(t, "AddReviewEvent's time", got.Time, time.Now())

	// An imported contributor's name comes from the users table.
	mustClose(t, s, c.ID, ana)
	assigned, err := s.AddReviewEvent(ctx, osmdata.ReviewEvent{Changeset: c.ID, Kind: osmdata.EventAssigned, ActorUID: commenter.ID, Scope: "commune:ordino"})
	if err != nil {
		t.Fatalf("AddReviewEvent(assigned): %v", err)
	}
	escalated, err := s.AddReviewEvent(ctx, osmdata.ReviewEvent{Changeset: c.ID, Kind: osmdata.EventEscalated, Comment: "waiting for 3 days"})
	if err != nil {
		t.Fatalf("AddReviewEvent(escalated): %v", err)
	}
	if assigned.Seq != 3 || assigned.State != osmdata.ReviewSubmitted || escalated.Seq != 4 || escalated.Actor != "" {
		t.Errorf("assigned %+v, escalated %+v: want seq 3 and 4, submitted, the system unnamed", assigned, escalated)
	}
	log := mustChangesetReviewEvents(t, s, c.ID)
	if len(log) != 4 || log[1].Kind != osmdata.EventSubmitted || log[1].Actor != "ana" {
		t.Errorf("changeset %d's log: %+v; want 4 events, the second submitted by ana", c.ID, withoutTimes(log))
	}

	// Kinds that move a state are refused, whatever the changeset.
	for _, kind := range []osmdata.ReviewEventKind{osmdata.EventSubmitted, osmdata.EventApproved, osmdata.EventChangesRequested,
		osmdata.EventRejected, osmdata.EventMerged, osmdata.EventConflicted, osmdata.EventWithdrawn, "liked", ""} {
		_, err := s.AddReviewEvent(ctx, osmdata.ReviewEvent{Changeset: c.ID, Kind: kind, ActorUID: commenter.ID})
		wantErr(t, fmt.Sprintf("AddReviewEvent(%q)", kind), err, storage.ErrStateEventKind)
	}
	if c2 := mustChangeset(t, s, c.ID); c2.ReviewState != osmdata.ReviewSubmitted {
		t.Errorf("changeset %d is %q after refused events, want submitted", c.ID, c2.ReviewState)
	}
	checkGaplessLog(t, "after refused events", mustReviewEvents(t, s, 0, 100), 1)
	if n := len(mustReviewEvents(t, s, 0, 100)); n != 4 {
		t.Errorf("%d events after refused ones, want 4", n)
	}
}

// testReviewConcurrent: authors close their changesets and comment on
// them from many goroutines while a reader follows the log. The reader
// never sees a number before a lower one (commit order is seq order),
// the final log is gapless, and each writer's events follow its calls.
func testReviewConcurrent(t *testing.T, open Opener) {
	s := editing(t, open)
	const writers, perWriter = 8, 6
	ids := make([][]int64, writers)
	for w := range writers {
		for range perWriter {
			ids[w] = append(ids[w], mustCreateChangeset(t, s, int64(1000+w)).ID)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	// The follower reads after the last event it saw, as the NATS relay
	// does: a hole it sees is one it would skip for good.
	followed := make(chan error, 1)
	go func() {
		var last int64
		for {
			events, err := s.ReviewEvents(ctx, last, 1000)
			if ctx.Err() != nil {
				followed <- nil
				return
			}
			if err != nil {
				followed <- err
				return
			}
			if len(events) == 0 {
				time.Sleep(time.Millisecond)
			}
			for _, ev := range events {
				if ev.Seq != last+1 {
					followed <- fmt.Errorf("after event %d the follower read event %d", last, ev.Seq)
					return
				}
				last = ev.Seq
			}
		}
	}()

	// Each writer: close, then comment; returned seqs follow the calls.
	commentSeqs := make([][]int64, writers)
	errs := race(writers, func(w int) error {
		for _, id := range ids[w] {
			if _, err := s.CloseChangeset(t.Context(), id, int64(1000+w)); err != nil {
				return fmt.Errorf("close %d: %w", id, err)
			}
			ev, err := s.AddReviewEvent(t.Context(), osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventCommented,
				ActorUID: int64(1000 + w), Comment: fmt.Sprintf("writer %d", w)})
			if err != nil {
				return fmt.Errorf("comment on %d: %w", id, err)
			}
			commentSeqs[w] = append(commentSeqs[w], ev.Seq)
		}
		return nil
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := <-followed; err != nil {
		t.Errorf("follower: %v", err)
	}

	events := mustReviewEvents(t, s, 0, 10000)
	if len(events) != 2*writers*perWriter {
		t.Fatalf("%d events, want %d", len(events), 2*writers*perWriter)
	}
	checkGaplessLog(t, "after concurrent writers", events, 1)
	checkReviewTimes(t, events, time.Now())
	submittedAt := map[int64]int64{}
	for _, ev := range events {
		if ev.Kind == osmdata.EventSubmitted {
			if _, twice := submittedAt[ev.Changeset]; twice {
				t.Errorf("changeset %d submitted twice", ev.Changeset)
			}
			submittedAt[ev.Changeset] = ev.Seq
		}
	}
	for w := range writers {
		prev := int64(0)
		for i, id := range ids[w] {
			sub, ok := submittedAt[id]
			if !ok {
				t.Errorf("changeset %d has no submitted event", id)
				continue
			}
			if sub <= prev || commentSeqs[w][i] <= sub {
				t.Errorf("writer %d: changeset %d submitted at %d, commented at %d, after its previous event %d: not in call order",
					w, id, sub, commentSeqs[w][i], prev)
			}
			prev = commentSeqs[w][i]
		}
	}
}

func testWaitReviewEvent(t *testing.T, open Opener) {
	s := editing(t, open)
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
			seq, err := s.WaitReviewEvent(ctx, after)
			done <- result{seq, err}
		}()
		return done
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
	notYet := func(what string, w <-chan result) {
		t.Helper()
		select {
		case r := <-w:
			t.Errorf("%s returned %d, %v", what, r.seq, r.err)
		default:
		}
	}

	// Waiters before any event: a write that is no event (a changeset
	// opened) leaves them waiting, a close in another goroutine wakes
	// every one.
	var waiters []<-chan result
	for range 3 {
		waiters = append(waiters, wait(ctx, 0))
	}
	c := mustCreateChangeset(t, s, ana)
	for i, w := range waiters {
		notYet(fmt.Sprintf("waiter %d before any event", i), w)
	}
	go func() {
		if _, err := s.CloseChangeset(ctx, c.ID, ana); err != nil {
			t.Errorf("CloseChangeset: %v", err)
		}
	}()
	for i, w := range waiters {
		if r := receive(fmt.Sprintf("waiter %d", i), w); r.err != nil || r.seq != 1 {
			t.Errorf("waiter %d after the first event: %d, %v; want 1", i, r.seq, r.err)
		}
	}

	// Already past: at once. Waiting past the latest until the next,
	// which a waiter for a later one sleeps through.
	if r := receive("WaitReviewEvent after 0", wait(ctx, 0)); r.err != nil || r.seq != 1 {
		t.Errorf("WaitReviewEvent after 0 with event 1 written: %d, %v", r.seq, r.err)
	}
	next, later := wait(ctx, 1), wait(ctx, 2)
	// comment writes an event in another goroutine; the returned channel
	// closes when its call has returned: a waiter can wake (on the commit's
	// notification) before the client sees the commit, and the test must
	// not end, cancelling its context, in between.
	comment := func() <-chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := s.AddReviewEvent(ctx, osmdata.ReviewEvent{Changeset: c.ID, Kind: osmdata.EventCommented, ActorUID: bo, Comment: "ok"}); err != nil {
				t.Errorf("AddReviewEvent: %v", err)
			}
		}()
		return done
	}
	first := comment()
	if r := receive("WaitReviewEvent for the second event", next); r.err != nil || r.seq != 2 {
		t.Errorf("WaitReviewEvent after 1: %d, %v; want 2", r.seq, r.err)
	}
	notYet("WaitReviewEvent after 2 with event 2 the latest", later)
	<-first

	cctx, ccancel := context.WithCancel(ctx)
	cancelled := wait(cctx, 2)
	ccancel()
	if r := receive("WaitReviewEvent cancelled", cancelled); !errors.Is(r.err, context.Canceled) {
		t.Errorf("WaitReviewEvent cancelled: %d, %v; want context.Canceled", r.seq, r.err)
	}

	second := comment()
	if r := receive("WaitReviewEvent for the third event", later); r.err != nil || r.seq != 3 {
		t.Errorf("WaitReviewEvent after 2: %d, %v; want 3", r.seq, r.err)
	}
	<-second
}
