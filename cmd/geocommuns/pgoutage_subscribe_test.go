package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/sync/changes"
)

// resubscribeDelay is how long the subscriber waits after a stream ended
// before it subscribes again: brief, as a consumer that keeps up would,
// so that the test sees the resubscriptions made while PostgreSQL is away.
const resubscribeDelay = 200 * time.Millisecond

// outageSubscriber follows the Subscribe stream through the outage as a
// well-written consumer does: it keeps every merge it receives (joining
// a merge's parts), and when the stream ends it waits briefly and
// subscribes again after the last merge_seq it holds. It keeps what it
// received as received, repeats and holes included, for check to judge.
type outageSubscriber struct {
	base   string
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	merges   []*geocommunsv1.MergedChange
	attempts []subscribeAttempt
	// broken is a stream's message the consumer could not make sense of.
	broken []string
}

// subscribeAttempt is one Subscribe call, from its request to its end.
type subscribeAttempt struct {
	afterSeq   int64
	start, end time.Time
	received   int
	// err is how the stream ended, nil while it goes on or when it ended
	// without an error.
	err   error
	ended bool
}

// startOutageSubscriber subscribes from the first merge and follows the
// stream until check (or the test's end) stops it.
func startOutageSubscriber(t *testing.T, base string) *outageSubscriber {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &outageSubscriber{base: base, cancel: cancel, done: make(chan struct{})}
	go s.follow(ctx)
	t.Cleanup(s.stop)
	return s
}

func (s *outageSubscriber) stop() {
	s.cancel()
	<-s.done
}

func (s *outageSubscriber) follow(ctx context.Context) {
	defer close(s.done)
	// No client timeout: it would cut a stream that is meant to last.
	client := geocommunsv1connect.NewSyncServiceClient(&http.Client{}, s.base)
	for ctx.Err() == nil {
		s.subscribeOnce(ctx, client)
		select {
		case <-ctx.Done():
		case <-time.After(resubscribeDelay):
		}
	}
}

// subscribeOnce reads one stream from after the last merge held until it
// ends.
func (s *outageSubscriber) subscribeOnce(ctx context.Context, client geocommunsv1connect.SyncServiceClient) {
	s.mu.Lock()
	after := s.lastHeld()
	at := len(s.attempts)
	s.attempts = append(s.attempts, subscribeAttempt{afterSeq: after, start: time.Now()})
	s.mu.Unlock()

	stream, err := client.Subscribe(ctx, connect.NewRequest(&geocommunsv1.SubscribeRequest{AfterSeq: after}))
	if err == nil {
		var parts []*geocommunsv1.MergedChange
		for stream.Receive() {
			change := stream.Msg().GetChange()
			if change == nil {
				continue // a caught_up_to marker, sent only under a bbox
			}
			s.mu.Lock()
			s.attempts[at].received++
			s.mu.Unlock()
			parts = append(parts, change)
			if change.GetPart() < change.GetParts() {
				continue
			}
			whole, err := changes.Join(parts)
			parts = nil
			s.mu.Lock()
			if err != nil {
				s.broken = append(s.broken, err.Error())
			} else {
				s.merges = append(s.merges, whole)
			}
			s.mu.Unlock()
		}
		// A merge whose last parts did not come is read again from the
		// resumed stream.
		err = stream.Err()
		stream.Close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &s.attempts[at]
	a.end, a.err, a.ended = time.Now(), err, ctx.Err() == nil
}

// lastHeld is the merge_seq to resume after; s.mu is held.
func (s *outageSubscriber) lastHeld() int64 {
	if len(s.merges) == 0 {
		return 0
	}
	return s.merges[len(s.merges)-1].GetMergeSeq()
}

// held is how many merges the subscriber holds, and the last one's
// merge_seq.
func (s *outageSubscriber) held() (int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.merges), s.lastHeld()
}

// check waits until the subscriber holds merge lastSeq, stops it, and
// checks that it holds merges 1..lastSeq once each, in order, each with
// the changeset and element versions of its outbox row; that every
// stream ended with unavailable, none later than callBound after
// PostgreSQL was down or after a call made while it was down began; and
// that the outage ended a stream, or the stream went on through it.
func (s *outageSubscriber) check(t *testing.T, db *pgx.Conn, lastSeq int64, stopping, down, starting time.Time) {
	t.Helper()
	deadline := time.Now().Add(recoveryBound)
	for {
		n, last := s.held()
		if last >= lastSeq {
			break
		}
		if time.Now().After(deadline) {
			s.stop()
			s.mu.Lock()
			defer s.mu.Unlock()
			t.Fatalf("Subscribe: the subscriber holds %d merges up to merge_seq %d, want up to %d, %s after the load ended\n%s",
				n, last, lastSeq, recoveryBound, s.report())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Logf("Subscribe: %d merges over %d streams: %s; %s", len(s.merges), len(s.attempts), s.summary(), s.throughOutage(stopping))

	for _, b := range s.broken {
		t.Errorf("Subscribe: a merge's parts did not join: %s", b)
	}
	metOutage, wentOn := false, false
	for i, a := range s.attempts {
		if !a.ended {
			// Stopped by the test: the stream went on to the end.
			wentOn = wentOn || a.start.Before(stopping)
			continue
		}
		var cerr *connect.Error
		if !errors.As(a.err, &cerr) || cerr.Code() != connect.CodeUnavailable {
			t.Errorf("Subscribe: stream %d (after_seq %d, %s to %s) ended with %v, want unavailable",
				i, a.afterSeq, a.start.Format("15:04:05.000"), a.end.Format("15:04:05.000"), a.err)
		}
		// How long the stream may have stalled: from PostgreSQL's
		// going away, or from the call, whichever came last.
		if from := later(a.start, down); a.end.After(from.Add(callBound)) && from.Before(starting) {
			t.Errorf("Subscribe: stream %d (after_seq %d) ended %s after PostgreSQL was down and the call made, over %s",
				i, a.afterSeq, a.end.Sub(from).Round(time.Millisecond), callBound)
		}
		metOutage = metOutage || a.end.After(stopping) && a.start.Before(starting)
	}
	if !metOutage && !wentOn {
		t.Errorf("Subscribe: no stream met the outage: the test did not test it\n%s", s.report())
	}

	want := outboxMerges(t, db)
	if int64(len(want)) != lastSeq {
		t.Fatalf("the outbox holds %d merges, replication_state says %d", len(want), lastSeq)
	}
	for i, got := range s.merges {
		seq := int64(i + 1)
		if got.GetMergeSeq() != seq {
			t.Fatalf("Subscribe: merge %d of the subscriber is merge_seq %d, want %d (a merge lost or repeated)\n%s",
				i+1, got.GetMergeSeq(), seq, s.report())
		}
		if seq > lastSeq {
			t.Fatalf("Subscribe: the subscriber holds merge_seq %d, past the last merge %d", seq, lastSeq)
		}
		w := want[i]
		if got.GetChangeset() != w.changeset {
			t.Errorf("Subscribe: merge_seq %d carries changeset %d, the outbox records %d", seq, got.GetChangeset(), w.changeset)
		}
		if g := changeSteps(got); !slices.Equal(g, w.steps) {
			t.Errorf("Subscribe: merge_seq %d carries %v, the outbox records %v", seq, g, w.steps)
		}
	}
	if int64(len(s.merges)) != lastSeq {
		t.Errorf("Subscribe: the subscriber holds %d merges, want %d", len(s.merges), lastSeq)
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// outboxMerge is what the outbox records of one merge: its changeset and
// each element's step, "type/id vOLD->vNEW", sorted.
type outboxMerge struct {
	changeset int64
	steps     []string
}

// outboxMerges reads the outbox in merge_seq order (checkMerges has
// checked it gapless).
func outboxMerges(t *testing.T, db *pgx.Conn) []outboxMerge {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT changeset_id, elem_types, elem_ids, old_versions, new_versions
		FROM outbox ORDER BY merge_seq`)
	if err != nil {
		t.Fatal(err)
	}
	var out []outboxMerge
	for rows.Next() {
		var m outboxMerge
		var types []int16
		var ids []int64
		var olds, news []int32
		if err := rows.Scan(&m.changeset, &types, &ids, &olds, &news); err != nil {
			t.Fatal(err)
		}
		for i := range ids {
			m.steps = append(m.steps, elementStep(int32(types[i]), ids[i], int64(olds[i]), int64(news[i])))
		}
		slices.Sort(m.steps)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// changeSteps are a received merge's element steps, as outboxMerges
// gives them.
func changeSteps(m *geocommunsv1.MergedChange) []string {
	var steps []string
	for _, e := range m.GetElements() {
		n := e.GetNew()
		steps = append(steps, elementStep(int32(n.GetType()), n.GetId(), e.GetOld().GetVersion(), n.GetVersion()))
	}
	slices.Sort(steps)
	return steps
}

// elementStep names a step by the element type's number, which the
// outbox's elem_types and the protocol's ElementType share.
func elementStep(elemType int32, id, oldVersion, newVersion int64) string {
	return fmt.Sprintf("%d/%d v%d->v%d", elemType, id, oldVersion, newVersion)
}

// summary counts the streams' ends by how they ended; s.mu is held.
func (s *outageSubscriber) summary() string {
	ends := map[string]int{}
	for _, a := range s.attempts {
		switch {
		case !a.ended:
			ends["stopped by the test"]++
		case a.err == nil:
			ends["ended without error"]++
		default:
			ends[connect.CodeOf(a.err).String()]++
		}
	}
	return fmt.Sprint(ends)
}

// throughOutage tells how the stream open when PostgreSQL began to stop
// ended; s.mu is held.
func (s *outageSubscriber) throughOutage(stopping time.Time) string {
	for _, a := range s.attempts {
		switch {
		case a.start.After(stopping) || a.ended && a.end.Before(stopping):
		case !a.ended:
			return "the stream open at the stop went on through the outage"
		default:
			return fmt.Sprintf("the stream open at the stop ended %s after PostgreSQL began to stop: %v",
				a.end.Sub(stopping).Round(time.Millisecond), a.err)
		}
	}
	return "no stream was open at the stop"
}

// report lists every stream; s.mu is held.
func (s *outageSubscriber) report() string {
	var b strings.Builder
	for i, a := range s.attempts {
		fmt.Fprintf(&b, "stream %d: after_seq %d, %s to %s, %d messages, ended %t: %v\n", i, a.afterSeq,
			a.start.Format("15:04:05.000"), a.end.Format("15:04:05.000"), a.received, a.ended, a.err)
	}
	return b.String()
}
