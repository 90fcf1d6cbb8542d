package subscribe_test

import (
	"context"
	"slices"
	"testing"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/subscribe"
)

// Under a bbox a client gets exactly the merges touching the box (a
// node by its old or new position, a way or relation by its nodes'
// positions), and caught_up_to markers: never more than MarkerEvery
// merges pass without an event, and the last event reaches the last
// merge, so that the client knows where to resume.
func TestBboxFilter(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *world) {
		const markerEvery = 3
		url := w.serveSubscribe(subscribe.Config{Batch: 4, MarkerEvery: markerEvery})
		in := func() (float64, float64) { return 10.5, 20.5 }
		out := func() (float64, float64) { return 50, -120 }

		var want []int64
		match := func(seq int64) { want = append(want, seq) }

		seq, a := w.mergeNode(in())
		match(seq)
		_, b := w.mergeNode(out())
		_, c := w.mergeNode(out())
		_, d := w.mergeNode(out())

		e, res := w.merge(op(storage.Create, osmdata.Element{Type: osmdata.Way, ID: -1, Nodes: []int64{a, b}}))
		match(e.Seq) // its node a is inside
		way := w.currentOf(osmdata.Way, res.Entries[0].NewID)
		way.Tags = osmdata.Tags{tag("highway", "path")}
		e, _ = w.merge(op(storage.Modify, way))
		match(e.Seq) // its tags change; its node a is still inside
		_, res = w.merge(op(storage.Create, osmdata.Element{Type: osmdata.Way, ID: -1, Nodes: []int64{b, c}}))
		outsideWay := res.Entries[0].NewID

		nodeB := w.current(b)
		nodeB.Lat, nodeB.Lon = osmdata.RoundCoordToFixed(10.9), osmdata.RoundCoordToFixed(20.9)
		e, _ = w.merge(op(storage.Modify, nodeB))
		match(e.Seq) // moved into the box
		nodeB = w.current(b)
		nodeB.Lat, nodeB.Lon = osmdata.RoundCoordToFixed(-10), osmdata.RoundCoordToFixed(20.9)
		e, _ = w.merge(op(storage.Modify, nodeB))
		match(e.Seq) // moved out of it

		e, _ = w.merge(op(storage.Create, osmdata.Element{Type: osmdata.Relation, ID: -1,
			Members: []osmdata.Member{{Type: osmdata.Node, Ref: a, Role: "stop"}}}))
		match(e.Seq)
		e, _ = w.merge(op(storage.Create, osmdata.Element{Type: osmdata.Relation, ID: -1,
			Members: []osmdata.Member{{Type: osmdata.Way, Ref: way.ID, Role: ""}}}))
		match(e.Seq) // through its way's node a
		w.merge(op(storage.Create, osmdata.Element{Type: osmdata.Relation, ID: -1,
			Members: []osmdata.Member{{Type: osmdata.Way, Ref: outsideWay, Role: ""}}}))
		w.merge(op(storage.Delete, w.current(d)))
		var last int64
		for range 7 {
			last, _ = w.mergeNode(out())
		}

		box := &geocommunsv1.BoundingBox{MinLatE7: 100000000, MaxLatE7: 110000000, MinLonE7: 200000000, MaxLonE7: 210000000}
		sub := subscribeTo(t, url, &geocommunsv1.SubscribeRequest{Bbox: box})
		var sent []int64
		prev := int64(0)
		for prev < last {
			ev := sub.next(t)
			seq := ev.GetCaughtUpTo()
			if ev.GetChange() != nil {
				seq = ev.GetChange().GetMergeSeq()
				sent = append(sent, seq)
			}
			if seq <= prev || seq-prev > markerEvery {
				t.Fatalf("event %v after merge %d: events must advance, by at most %d merges", ev, prev, markerEvery)
			}
			prev = seq
		}
		if !slices.Equal(sent, want) {
			t.Fatalf("sent merges %v, want %v (of 1..%d)", sent, want, last)
		}

		// Live: a merge outside gets a marker once the stream has caught
		// up with it, one inside is sent.
		seq, _ = w.mergeNode(out())
		if ev := sub.next(t); ev.GetCaughtUpTo() != seq {
			t.Fatalf("after merge %d outside the box: %v", seq, ev)
		}
		seq, _ = w.mergeNode(in())
		if ev := sub.next(t); ev.GetChange().GetMergeSeq() != seq {
			t.Fatalf("after merge %d inside the box: %v", seq, ev)
		}
	})
}

func (w *world) currentOf(t osmdata.ElementType, id int64) osmdata.Element {
	w.t.Helper()
	els, err := w.store.CurrentElements(context.Background(), t, []int64{id})
	if err != nil || len(els) != 1 {
		w.t.Fatalf("%s %d: %v", t, id, err)
	}
	return els[0]
}
