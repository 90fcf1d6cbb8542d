package bus_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/geocommuns/geocommuns/editing"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
	"github.com/geocommuns/geocommuns/sync/bus"
)

// serve elects the review relay through this method (server/bus.go),
// beside LeadRelay.
var _ interface {
	LeadReviewRelay(context.Context) (bus.Lease, error)
} = (*postgres.Store)(nil)

// startReviewRelay runs a review relay of store to the NATS at url until
// the returned function stops it (and waits for it).
func startReviewRelay(t testing.TB, store bus.ReviewSource, url string, cfg bus.RelayConfig) (stop func()) {
	t.Helper()
	cfg.Conn, cfg.Retry = connect(t, url), 50*time.Millisecond
	relay, err := bus.NewReviewRelay(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { relay.Run(ctx) })
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// reviewAndMerge takes one new node through a reviewed changeset's life
// as the store records it: closed by its author (submitted), approved
// by the policy, merged. It returns the changeset's id.
func (d *dataset) reviewAndMerge() int64 {
	d.t.Helper()
	ctx := context.Background()
	lat, lon := nodePosition(d.placed)
	d.placed++
	cs, err := d.svc.CreateChangeset(ctx, d.who, osmdata.Tags{{Key: "comment", Value: "review test"}})
	if err != nil {
		d.t.Fatal(err)
	}
	op := createNode(-1, lat, lon)
	op.Element.Changeset = cs.ID
	if _, err := d.svc.Upload(ctx, d.who, cs.ID, []editing.Operation{op}); err != nil {
		d.t.Fatalf("upload to changeset %d: %v", cs.ID, err)
	}
	if _, err := d.svc.CloseChangeset(ctx, d.who, cs.ID); err != nil {
		d.t.Fatal(err)
	}
	if ok, err := d.store.DecideChangeset(ctx, cs.ID, true); err != nil || !ok {
		d.t.Fatalf("approve changeset %d: %v, %v", cs.ID, ok, err)
	}
	if _, err := d.store.Merge(ctx, cs.ID); err != nil {
		d.t.Fatalf("merge changeset %d: %v", cs.ID, err)
	}
	return cs.ID
}

// reviewMsg is one review message as a consumer reads it.
type reviewMsg struct {
	subject string
	msgID   string
	seq     string // the header
	event   *geocommunsv1.ReviewEvent
}

// receiveReviews reads the first n messages of the review stream's
// subjects matching filter, from the start of the stream.
func receiveReviews(t testing.TB, url, stream, filter string, n int) []reviewMsg {
	t.Helper()
	var out []reviewMsg
	for _, m := range receiveRaw(t, url, stream, filter, n) {
		var ev geocommunsv1.ReviewEvent
		if err := proto.Unmarshal(m.Data(), &ev); err != nil {
			t.Fatalf("%s: %v", m.Subject(), err)
		}
		out = append(out, reviewMsg{subject: m.Subject(), msgID: m.Headers().Get(jetstream.MsgIDHeader),
			seq: m.Headers().Get(bus.HeaderReviewSeq), event: &ev})
	}
	return out
}

// wantReviews is what a consumer of every review subject must read
// after changesets went through reviewAndMerge one after the other.
func wantReviews(changesets []int64) []string {
	var want []string
	for _, cs := range changesets {
		for _, kind := range []string{"submitted", "approved", "merged"} {
			want = append(want, fmt.Sprintf("%s %d", kind, cs))
		}
	}
	return want
}

// checkReviews checks that got is the review log numbered from 1 without
// gap or repeat, each message on its kind's and changeset's subject with
// its seq in the header and id, and that the events are want ("kind
// changeset") in that order.
func checkReviews(t testing.TB, prefix string, got []reviewMsg, want []string) {
	t.Helper()
	var kinds []string
	for i, m := range got {
		ev := m.event
		seq := strconv.Itoa(i + 1)
		if strconv.FormatInt(ev.GetSeq(), 10) != seq || m.seq != seq || m.msgID != "review-"+seq {
			t.Fatalf("message #%d: seq %d, header %s, id %s; want %s (gap, duplicate or disorder)", i+1, ev.GetSeq(), m.seq, m.msgID, seq)
		}
		if w := fmt.Sprintf("%s.reviews.%s.%d", prefix, ev.GetKind(), ev.GetChangeset()); m.subject != w {
			t.Errorf("event %s on %s, want %s", seq, m.subject, w)
		}
		kinds = append(kinds, fmt.Sprintf("%s %d", ev.GetKind(), ev.GetChangeset()))
	}
	if g, w := strings.Join(kinds, ", "), strings.Join(want, ", "); g != w {
		t.Errorf("events:\n got %s\nwant %s", g, w)
	}
}

func TestReviewEventsArriveInOrder(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			url := tg.url(t)
			stream, subjects := names(t, url)
			d := newDataset(t, openSQLite(t))
			// Some before the relay starts (it catches up), the rest while
			// it runs.
			var changesets []int64
			for range 2 {
				changesets = append(changesets, d.reviewAndMerge())
			}
			startReviewRelay(t, d.store, url, bus.RelayConfig{Stream: stream, Subjects: subjects})
			for range 3 {
				changesets = append(changesets, d.reviewAndMerge())
			}
			want := wantReviews(changesets)
			got := receiveReviews(t, url, stream, subjects.Prefix+".reviews.>", len(want))
			checkReviews(t, subjects.Prefix, got, want)

			// What each event says: the author submitted it, the system
			// approved and merged it, and the state followed.
			states := map[string]geocommunsv1.ReviewState{
				"submitted": geocommunsv1.ReviewState_REVIEW_STATE_SUBMITTED,
				"approved":  geocommunsv1.ReviewState_REVIEW_STATE_APPROVED,
				"merged":    geocommunsv1.ReviewState_REVIEW_STATE_MERGED,
			}
			for _, m := range got {
				ev := m.event
				if ev.GetState() != states[ev.GetKind()] {
					t.Errorf("event %d (%s): state %s", ev.GetSeq(), ev.GetKind(), ev.GetState())
				}
				author := ev.GetKind() == "submitted"
				if author && (ev.GetActorUid() != d.who.UserID || ev.GetActor() != "mapper") ||
					!author && ev.GetActorUid() != 0 {
					t.Errorf("event %d (%s): actor %d %q", ev.GetSeq(), ev.GetKind(), ev.GetActorUid(), ev.GetActor())
				}
				if age := time.Since(ev.GetTime().AsTime()); ev.GetTime() == nil || age < 0 || age > time.Hour {
					t.Errorf("event %d: time %v", ev.GetSeq(), ev.GetTime())
				}
			}

			// A consumer of one kind reads that kind only.
			approved := receiveReviews(t, url, stream, subjects.Prefix+".reviews.approved.*", len(changesets))
			for i, m := range approved {
				if m.event.GetKind() != "approved" || m.event.GetChangeset() != changesets[i] {
					t.Errorf("approved #%d: %s of changeset %d", i+1, m.event.GetKind(), m.event.GetChangeset())
				}
			}
		})
	}
}

// TestReviewSubscriberOfOneChangeset: a consumer of *.reviews.*.<id>
// reads that changeset's events, a comment among them, and nothing of
// the changesets reviewed before, between and after.
func TestReviewSubscriberOfOneChangeset(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			url := tg.url(t)
			stream, subjects := names(t, url)
			d := newDataset(t, openSQLite(t))
			startReviewRelay(t, d.store, url, bus.RelayConfig{Stream: stream, Subjects: subjects})
			ctx := context.Background()
			before := d.reviewAndMerge()
			cs, err := d.svc.CreateChangeset(ctx, d.who, nil)
			if err != nil {
				t.Fatal(err)
			}
			op := createNode(-1, 1, 2)
			op.Element.Changeset = cs.ID
			if _, err := d.svc.Upload(ctx, d.who, cs.ID, []editing.Operation{op}); err != nil {
				t.Fatal(err)
			}
			if _, err := d.svc.CloseChangeset(ctx, d.who, cs.ID); err != nil {
				t.Fatal(err)
			}
			between := d.reviewAndMerge()
			if _, err := d.store.AddReviewEvent(ctx, osmdata.ReviewEvent{Changeset: cs.ID, Kind: osmdata.EventCommented,
				ActorUID: d.who.UserID, Comment: "the bench faces north"}); err != nil {
				t.Fatal(err)
			}
			if _, err := d.store.SetReviewState(ctx, cs.ID, osmdata.ReviewRejected, storage.ReviewNote{Comment: "duplicate"}); err != nil {
				t.Fatal(err)
			}
			last := d.reviewAndMerge()

			// The whole stream first, so that the filtered read below
			// cannot stop early for want of messages still on their way.
			want := wantReviews([]int64{before})
			want = append(want, fmt.Sprintf("submitted %d", cs.ID))
			want = append(want, wantReviews([]int64{between})...)
			want = append(want, fmt.Sprintf("commented %d", cs.ID), fmt.Sprintf("rejected %d", cs.ID))
			want = append(want, wantReviews([]int64{last})...)
			checkReviews(t, subjects.Prefix, receiveReviews(t, url, stream, subjects.Reviews(), len(want)), want)

			// NATS 2.9 takes a consumer's filter only inside the stream's
			// subjects, so the prefix is spelled out there; the embedded
			// server (2.15), private to the test, takes any prefix.
			filters := []string{fmt.Sprintf("%s.reviews.*.%d", subjects.Prefix, cs.ID)}
			if tg.name == "embedded" {
				filters = append(filters, fmt.Sprintf("*.reviews.*.%d", cs.ID))
			}
			p := subjects.Prefix
			for _, filter := range filters {
				var got []string
				for _, m := range receiveRaw(t, url, stream, filter, 3) {
					got = append(got, m.Subject())
				}
				if g, w := strings.Join(got, " "), fmt.Sprintf("%s.reviews.submitted.%d %s.reviews.commented.%d %s.reviews.rejected.%d",
					p, cs.ID, p, cs.ID, p, cs.ID); g != w {
					t.Errorf("%s:\n got %s\nwant %s", filter, g, w)
				}
				if n := countFiltered(t, url, stream, filter); n != 3 {
					t.Errorf("%s matches %d messages, want 3", filter, n)
				}
			}
		})
	}
}

// countFiltered asks the stream how many of its messages match filter.
func countFiltered(t testing.TB, url, stream, filter string) uint64 {
	t.Helper()
	js, err := jetstream.New(connect(t, url))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	return n
}

// TestReviewRelayRestartsNeitherDuplicateNorMiss stops review relays at
// random moments while changesets are reviewed, with a dedup window too
// short to hide a message published twice: every event is in the
// stream once, in order.
func TestReviewRelayRestartsNeitherDuplicateNorMiss(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			url := tg.url(t)
			stream, subjects := names(t, url)
			d := newDataset(t, openSQLite(t))
			cfg := bus.RelayConfig{Stream: stream, Subjects: subjects, DedupWindow: 100 * time.Millisecond}
			var changesets []int64
			done := make(chan struct{})
			go func() {
				defer close(done)
				for range 40 {
					changesets = append(changesets, d.reviewAndMerge())
				}
			}()
			restarts := 0
			for running := true; running; restarts++ {
				select {
				case <-done:
					running = false
				default:
				}
				stop := startReviewRelay(t, d.store, url, cfg)
				time.Sleep(time.Duration(rand.IntN(200)) * time.Millisecond)
				stop()
			}
			startReviewRelay(t, d.store, url, cfg)
			want := wantReviews(changesets)
			checkReviews(t, subjects.Prefix, receiveReviews(t, url, stream, subjects.Reviews(), len(want)), want)
			if n := streamMessages(t, url, stream); n != uint64(len(want)) {
				t.Errorf("the stream holds %d messages for %d events", n, len(want))
			}
			t.Logf("%d events, relay restarted %d times", len(want), restarts)
		})
	}
}

// streamMessages waits until the stream's count stops growing (a
// duplicate published late would still count), then returns it.
func streamMessages(t testing.TB, url, stream string) uint64 {
	t.Helper()
	js, err := jetstream.New(connect(t, url))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for range 3 {
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		last = info.State.Msgs
		time.Sleep(200 * time.Millisecond)
	}
	return last
}

// TestReviewEventsDuringAnOutageArriveAfterIt stops NATS, reviews and
// merges changesets (none waits, none fails), starts NATS again, and
// expects every event in order, each once.
func TestReviewEventsDuringAnOutageArriveAfterIt(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		dir, addr := t.TempDir(), freeAddr(t)
		srv := startEmbedded(t, dir, addr)
		reviewOutage(t, srv.ClientURL(), func() { srv.Shutdown() }, func() { startEmbedded(t, dir, addr) })
	})
	t.Run("debian", func(t *testing.T) {
		srv := newDebianServer(t)
		srv.start()
		t.Logf("nats-server %s", serverVersion(t, srv.url()))
		reviewOutage(t, srv.url(), srv.stop, srv.start)
	})
}

func reviewOutage(t testing.TB, url string, stop, start func()) {
	stream, subjects := names(t, url)
	d := newDataset(t, openSQLite(t))
	startReviewRelay(t, d.store, url, bus.RelayConfig{Stream: stream, Subjects: subjects})
	var changesets []int64
	for range 3 {
		changesets = append(changesets, d.reviewAndMerge())
	}
	receiveReviews(t, url, stream, subjects.Reviews(), 9)

	stop()
	outageStart := time.Now()
	for range 30 {
		changesets = append(changesets, d.reviewAndMerge())
	}
	if took := time.Since(outageStart); took > 30*time.Second {
		t.Errorf("30 changesets took %s during the outage: something waited for NATS", took)
	}
	start()

	want := wantReviews(changesets)
	checkReviews(t, subjects.Prefix, receiveReviews(t, url, stream, subjects.Reviews(), len(want)), want)
}

// TestOneReviewRelayAtATimeOnPostgreSQL: two processes' review relays
// (two stores on one dataset) against one stream, with a dedup window
// too short to hide a message published twice; when the elected one
// stops, the other carries on where the stream ends.
func TestOneReviewRelayAtATimeOnPostgreSQL(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			url := tg.url(t)
			stream, subjects := names(t, url)
			cfg := pgtest.Config(t)
			first, second := pgtest.Open(t, cfg), pgtest.Open(t, cfg)
			d := newDataset(t, first)
			relay := func(s *postgres.Store) func() {
				return startReviewRelay(t, s, url, bus.RelayConfig{Stream: stream, Subjects: subjects,
					DedupWindow: 100 * time.Millisecond, Elect: s.LeadReviewRelay})
			}
			stopFirst := relay(first)
			relay(second)
			var changesets []int64
			for range 5 {
				changesets = append(changesets, d.reviewAndMerge())
			}
			receiveReviews(t, url, stream, subjects.Reviews(), 15)
			stopFirst()
			for range 5 {
				changesets = append(changesets, d.reviewAndMerge())
			}
			want := wantReviews(changesets)
			checkReviews(t, subjects.Prefix, receiveReviews(t, url, stream, subjects.Reviews(), len(want)), want)
			if n := streamMessages(t, url, stream); n != uint64(len(want)) {
				t.Errorf("the stream holds %d messages for %d events", n, len(want))
			}
		})
	}
}

// TestReviewRelayLeaseIsItsOwn: the review relay's lease is one per
// dataset, as the merge relay's, and neither waits for the other.
func TestReviewRelayLeaseIsItsOwn(t *testing.T) {
	cfg := pgtest.Config(t)
	first, second := pgtest.Open(t, cfg), pgtest.Open(t, cfg)
	ctx := context.Background()
	merges, err := first.LeadRelay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer merges.Release()
	reviewCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	reviews, err := second.LeadReviewRelay(reviewCtx)
	if err != nil {
		t.Fatalf("the review relay waited for the merge relay's lease: %v", err)
	}
	waitCtx, cancelWait := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelWait()
	if l, err := first.LeadReviewRelay(waitCtx); err == nil {
		l.Release()
		t.Fatal("a second review relay of the dataset was elected while the first held the lease")
	}
	if err := reviews.Release(); err != nil {
		t.Fatal(err)
	}
	l, err := first.LeadReviewRelay(ctx)
	if err != nil {
		t.Fatalf("after the first released it: %v", err)
	}
	l.Release()
}

// TestReviewCommentTooLargeForOneMessage: a comment larger than the
// server's max payload arrives cut and marked, and the events after it
// still arrive.
func TestReviewCommentTooLargeForOneMessage(t *testing.T) {
	url := startEmbedded(t, t.TempDir(), "127.0.0.1:0").ClientURL()
	stream, subjects := names(t, url)
	d := newDataset(t, openSQLite(t))
	startReviewRelay(t, d.store, url, bus.RelayConfig{Stream: stream, Subjects: subjects})
	first := d.reviewAndMerge()
	ctx := context.Background()
	comment := strings.Repeat("é, ", 400_000) // 1.6 MB
	if _, err := d.store.AddReviewEvent(ctx, osmdata.ReviewEvent{Changeset: first, Kind: osmdata.EventCommented,
		ActorUID: d.who.UserID, Comment: comment}); err != nil {
		t.Skipf("the store refuses a 1.6 MB comment, so no message can outgrow max payload: %v", err)
	}
	next := d.reviewAndMerge()
	want := append(wantReviews([]int64{first}), fmt.Sprintf("commented %d", first))
	want = append(want, wantReviews([]int64{next})...)
	checkReviews(t, subjects.Prefix, receiveReviews(t, url, stream, subjects.Reviews(), len(want)), want)

	m := receiveRaw(t, url, stream, fmt.Sprintf("%s.reviews.commented.%d", subjects.Prefix, first), 1)[0]
	var ev geocommunsv1.ReviewEvent
	if err := proto.Unmarshal(m.Data(), &ev); err != nil {
		t.Fatal(err)
	}
	if m.Headers().Get(bus.HeaderCommentCut) != "true" || len(ev.GetComment()) < 900_000 || !strings.HasPrefix(comment, ev.GetComment()) {
		t.Errorf("cut header %q, a comment of %d bytes, a prefix of the original: %v",
			m.Headers().Get(bus.HeaderCommentCut), len(ev.GetComment()), strings.HasPrefix(comment, ev.GetComment()))
	}
}
