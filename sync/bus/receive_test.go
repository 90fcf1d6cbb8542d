package bus_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/sync/bus"
	"github.com/geocommuns/geocommuns/sync/changes"
)

// receiveBound keeps a broken relay from hanging the test; nothing is
// timed against it.
const receiveBound = 3 * time.Minute

// received is what a subscriber of one subject saw.
type received struct {
	// merges are the joined merges in arrival order.
	merges []*geocommunsv1.MergedChange
	// messages counts messages, parts included.
	messages int
	// msgIDs counts each Nats-Msg-Id seen.
	msgIDs map[string]int
}

// receive reads subject from the start of the stream, as a consumer
// would, joining parts, until it has merge lastSeq.
func receive(t testing.TB, url, stream, subject string, lastSeq int64) received {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), receiveBound)
	defer cancel()
	var st jetstream.Stream
	for {
		st, err = js.Stream(ctx, stream)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("stream %s: %v", stream, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatalf("consumer of %s: %v", subject, err)
	}
	it, err := cons.Messages()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Stop()
	got := received{msgIDs: map[string]int{}}
	var pending []*geocommunsv1.MergedChange
	for {
		if n := len(got.merges); n > 0 && got.merges[n-1].GetMergeSeq() >= lastSeq {
			return got
		}
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				t.Fatalf("%s: have %d merges (last %v) after %s, want up to merge %d: %v",
					subject, len(got.merges), lastMerge(got.merges), receiveBound, lastSeq, err)
			}
			continue
		}
		got.messages++
		got.msgIDs[msg.Headers().Get(jetstream.MsgIDHeader)]++
		var part geocommunsv1.MergedChange
		if err := proto.Unmarshal(msg.Data(), &part); err != nil {
			t.Fatalf("%s: message %s: %v", subject, msg.Headers().Get(jetstream.MsgIDHeader), err)
		}
		if h := msg.Headers().Get(bus.HeaderMergeSeq); h != strconv.FormatInt(part.GetMergeSeq(), 10) {
			t.Errorf("%s header %s, payload merge_seq %d", bus.HeaderMergeSeq, h, part.GetMergeSeq())
		}
		if h := msg.Headers().Get(bus.HeaderPart) + "/" + msg.Headers().Get(bus.HeaderParts); h != strconv.Itoa(int(part.GetPart()))+"/"+strconv.Itoa(int(part.GetParts())) {
			t.Errorf("merge %d: part headers %s, payload part %d of %d", part.GetMergeSeq(), h, part.GetPart(), part.GetParts())
		}
		pending = append(pending, &part)
		if int32(len(pending)) < part.GetParts() {
			continue
		}
		whole, err := changes.Join(pending)
		if err != nil {
			t.Fatalf("%s: %v", subject, err)
		}
		got.merges = append(got.merges, whole)
		pending = nil
	}
}

func lastMerge(ms []*geocommunsv1.MergedChange) any {
	if len(ms) == 0 {
		return "none"
	}
	return ms[len(ms)-1].GetMergeSeq()
}

// checkInOrder says whether merges are exactly 1..n, each once, in
// order, each with as many elements as the dataset's outbox has.
func checkInOrder(t testing.TB, got received, want map[int64]int, n int64) {
	t.Helper()
	if int64(len(got.merges)) != n {
		t.Errorf("received %d merges, want %d", len(got.merges), n)
	}
	for i, m := range got.merges {
		if m.GetMergeSeq() != int64(i+1) {
			t.Fatalf("merge #%d received is merge_seq %d, want %d (gap, duplicate or disorder)", i+1, m.GetMergeSeq(), i+1)
		}
		if w, ok := want[m.GetMergeSeq()]; ok && len(m.GetElements()) != w {
			t.Errorf("merge %d has %d elements, want %d", m.GetMergeSeq(), len(m.GetElements()), w)
		}
	}
	for id, c := range got.msgIDs {
		if c > 1 {
			t.Errorf("message %s received %d times", id, c)
		}
	}
}
