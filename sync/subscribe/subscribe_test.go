package subscribe_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/geocommuns/geocommuns/editing"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/changes"
	"github.com/geocommuns/geocommuns/sync/subscribe"
)

// Through the whole server: a client replays 50 merges from the start,
// then receives 20 more as they commit, each once and in merge_seq
// order, with the content merged (old and new versions). The stream
// outlives the server's per-request deadline.
func TestReplayThenLive(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *world) {
		const requestTimeout = time.Second
		url, _ := w.serve(server.Config{RequestTimeout: requestTimeout})
		entries := map[int64]storage.OutboxEntry{}
		ids := make([]int64, 0, 50)
		for i := range 50 {
			e, res := w.merge(createNode(-1, float64(i)/10, -float64(i)/10, tag("n", i)))
			entries[e.Seq] = e
			ids = append(ids, res.Entries[0].NewID)
		}
		sub := subscribeTo(t, url, &geocommunsv1.SubscribeRequest{AfterSeq: 0})
		replayed := sub.changesUpTo(t, 50)
		checkSeqs(t, replayed, 1, 50)
		for i, c := range replayed {
			e := entries[c.GetMergeSeq()]
			els := c.GetElements()
			if c.GetChangeset() != e.Changeset || !c.GetMergedAt().AsTime().Equal(e.MergedAt) || c.GetParts() != 1 || len(els) != 1 ||
				els[0].GetOld() != nil || els[0].GetNew().GetId() != ids[i] || els[0].GetNew().GetVersion() != 1 ||
				els[0].GetNew().GetTags()[0].GetValue() != fmt.Sprint(i) || els[0].GetNew().GetLatE7() != osmdata.RoundCoordToFixed(float64(i)/10) {
				t.Fatalf("merge %d arrived as %v, merged as %+v", c.GetMergeSeq(), c, e)
			}
		}

		// Past the deadline every other request gets: a stream has none.
		time.Sleep(requestTimeout + 500*time.Millisecond)
		for i := range 20 {
			node := w.current(ids[i])
			if i%2 == 0 {
				node.Tags = osmdata.Tags{tag("n", i), tag("moved", "yes")}
				node.Lat += 10
				w.merge(op(storage.Modify, node))
			} else {
				w.merge(op(storage.Delete, node))
			}
		}
		live := sub.changesUpTo(t, 70)
		checkSeqs(t, live, 51, 70)
		for i, c := range live {
			ec := c.GetElements()[0]
			old, nw := ec.GetOld(), ec.GetNew()
			if old.GetId() != ids[i] || old.GetVersion() != 1 || nw.GetVersion() != 2 || nw.GetVisible() != (i%2 == 0) {
				t.Errorf("merge %d: old %v, new %v", c.GetMergeSeq(), old, nw)
			}
		}
	})
}

func (w *world) current(id int64) osmdata.Element { return w.currentOf(osmdata.Node, id) }

// Resuming after merge k gives k+1 on; resuming after the last merge
// gives nothing until the next one commits. Small batches put the
// outbox reads' boundaries inside the replay.
func TestResumeAfterSeq(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *world) {
		url := w.serveSubscribe(subscribe.Config{Batch: 3})
		for i := range 10 {
			w.mergeNode(1, 1, tag("n", i))
		}
		for _, k := range []int64{0, 1, 4, 9} {
			sub := subscribeTo(t, url, &geocommunsv1.SubscribeRequest{AfterSeq: k})
			checkSeqs(t, sub.changesUpTo(t, 10), k+1, 10)
			sub.cancel()
		}
		sub := subscribeTo(t, url, &geocommunsv1.SubscribeRequest{AfterSeq: 10})
		w.mergeNode(2, 2)
		checkSeqs(t, sub.changesUpTo(t, 11), 11, 11)
	})
}

// A client that disconnects while merges commit, then resumes from the
// last merge_seq it received, ends with every merge once.
func TestDisconnectAndResume(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *world) {
		url := w.serveSubscribe(subscribe.Config{Batch: 4})
		const total = 40
		merged := make(chan error, 1)
		go func() {
			for i := range total {
				w.mergeNode(float64(i%80), 0)
			}
			merged <- nil
		}()
		var got []*geocommunsv1.MergedChange
		after := int64(0)
		for round := 0; after < total; round++ {
			sub := subscribeTo(t, url, &geocommunsv1.SubscribeRequest{AfterSeq: after})
			// Each connection reads a few changes and drops.
			for range 7 {
				c := sub.next(t).GetChange()
				got = append(got, c)
				after = c.GetMergeSeq()
				if after == total {
					break
				}
			}
			sub.cancel()
		}
		<-merged
		checkSeqs(t, got, 1, total)
	})
}

// A merge larger than a message may be arrives in parts, which join
// into the whole merge.
func TestLargeMergeArrivesInParts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *world) {
		url := w.serveSubscribe(subscribe.Config{MaxMessageBytes: 20_000})
		ops := make([]editing.Operation, 1000)
		for i := range ops {
			ops[i] = createNode(-int64(i+1), 1, 1, tag("n", i))
		}
		e, _ := w.merge(ops...)
		sub := subscribeTo(t, url, &geocommunsv1.SubscribeRequest{})
		var parts []*geocommunsv1.MergedChange
		for {
			c := sub.next(t).GetChange()
			parts = append(parts, c)
			if c.GetPart() == c.GetParts() {
				break
			}
		}
		if len(parts) < 2 {
			t.Fatalf("%d parts", len(parts))
		}
		whole, err := changes.Join(parts)
		if err != nil {
			t.Fatal(err)
		}
		if whole.GetMergeSeq() != e.Seq || len(whole.GetElements()) != 1000 {
			t.Fatalf("joined merge %d has %d elements", whole.GetMergeSeq(), len(whole.GetElements()))
		}
		for i, ec := range whole.GetElements() {
			if ec.GetNew().GetTags()[0].GetValue() != fmt.Sprint(i) {
				t.Fatalf("element %d is %v", i, ec.GetNew())
			}
		}
	})
}

func TestBadRequests(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *world) {
		url, _ := w.serve(server.Config{})
		w.mergeNode(1, 1)
		for _, c := range []struct {
			name string
			req  *geocommunsv1.SubscribeRequest
			code connect.Code
			text string
		}{
			{"negative after_seq", &geocommunsv1.SubscribeRequest{AfterSeq: -1}, connect.CodeInvalidArgument, "after_seq is -1"},
			{"inverted bbox", &geocommunsv1.SubscribeRequest{Bbox: &geocommunsv1.BoundingBox{MinLatE7: 10, MaxLatE7: 5, MinLonE7: 0, MaxLonE7: 1}},
				connect.CodeInvalidArgument, "bbox is inverted"},
			{"bbox outside the world", &geocommunsv1.SubscribeRequest{Bbox: &geocommunsv1.BoundingBox{MinLatE7: -910000000, MaxLatE7: 0, MinLonE7: 0, MaxLonE7: 1}},
				connect.CodeInvalidArgument, "outside the world"},
			{"after_seq past the last merge", &geocommunsv1.SubscribeRequest{AfterSeq: 2}, connect.CodeOutOfRange, "past the last merge"},
		} {
			sub := subscribeTo(t, url, c.req)
			if ev, ok := <-sub.events; ok {
				t.Errorf("%s: event %v", c.name, ev)
				continue
			}
			err := <-sub.done
			if connectCode(t, err) != c.code || !strings.Contains(err.Error(), c.text) {
				t.Errorf("%s: %v, want %v with %q", c.name, err, c.code, c.text)
			}
		}
	})
}

// A server shutting down ends its streams with Unavailable at once
// rather than holding the shutdown until its grace period ends, and the
// client resumes elsewhere.
func TestShutdownEndsStreams(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *world) {
		url, stop := w.serve(server.Config{ShutdownTimeout: time.Minute})
		w.mergeNode(1, 1)
		sub := subscribeTo(t, url, &geocommunsv1.SubscribeRequest{})
		checkSeqs(t, sub.changesUpTo(t, 1), 1, 1)
		if err := stop(); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		for range sub.events {
		}
		if err := <-sub.done; connectCode(t, err) != connect.CodeUnavailable {
			t.Errorf("stream ended with %v", err)
		}
	})
}
