package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"connectrpc.com/connect"
	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/sync/bus"
)

// arrival is one message of a merge as a feed client received it.
type arrival struct {
	seq         int64
	part, parts int
	at          time.Time
	change      *geocommunsv1.MergedChange
	// size is the message body's length on NATS (0 from Subscribe).
	size int
}

// arrivals collects what one client receives, in arrival order, and
// lets the merging loop wait until a merge has arrived whole.
type arrivals struct {
	path string
	mu   sync.Mutex
	got  []arrival
	// complete is the highest merge_seq whose last part has arrived.
	complete int64
	err      error
	wake     chan struct{}
}

func newArrivals(path string) *arrivals {
	return &arrivals{path: path, wake: make(chan struct{}, 1)}
}

func (a *arrivals) add(x arrival) {
	a.mu.Lock()
	a.got = append(a.got, x)
	if x.part == x.parts && x.seq > a.complete {
		a.complete = x.seq
	}
	a.mu.Unlock()
	a.signal()
}

func (a *arrivals) fail(err error) {
	a.mu.Lock()
	if a.err == nil {
		a.err = err
	}
	a.mu.Unlock()
	a.signal()
}

func (a *arrivals) signal() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// feedPatience bounds the wait for one merge on one path: a guard
// against a feed that lost it, not a speed requirement.
const feedPatience = 30 * time.Second

// waitFor returns once merge seq has arrived whole.
func (a *arrivals) waitFor(ctx context.Context, seq int64) error {
	deadline := time.NewTimer(feedPatience)
	defer deadline.Stop()
	for {
		a.mu.Lock()
		complete, err := a.complete, a.err
		a.mu.Unlock()
		switch {
		case complete >= seq:
			return nil
		case err != nil:
			return fmt.Errorf("%s: %w", a.path, err)
		}
		select {
		case <-a.wake:
		case <-deadline.C:
			return fmt.Errorf("%s: merge_seq %d not received after %s (last whole merge %d)", a.path, seq, feedPatience, complete)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// snapshot copies what has arrived so far.
func (a *arrivals) snapshot() []arrival {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]arrival(nil), a.got...)
}

// listenNATS subscribes to every whole merge (the merges.all subject) as
// an outside NATS client does, recording each message's arrival before
// anything else is done with it.
func listenNATS(nc *nats.Conn, subjects bus.Subjects) (*arrivals, *nats.Subscription, error) {
	a := newArrivals("NATS " + subjects.All())
	sub, err := nc.Subscribe(subjects.All(), func(msg *nats.Msg) {
		at := time.Now()
		seq, err1 := strconv.ParseInt(msg.Header.Get(bus.HeaderMergeSeq), 10, 64)
		part, err2 := strconv.Atoi(msg.Header.Get(bus.HeaderPart))
		parts, err3 := strconv.Atoi(msg.Header.Get(bus.HeaderParts))
		if err := errors.Join(err1, err2, err3); err != nil {
			a.fail(fmt.Errorf("message headers %v: %w", msg.Header, err))
			return
		}
		change := &geocommunsv1.MergedChange{}
		if err := proto.Unmarshal(msg.Data, change); err != nil {
			a.fail(fmt.Errorf("merge_seq %d part %d: %w", seq, part, err))
			return
		}
		a.add(arrival{seq: seq, part: part, parts: parts, at: at, change: change, size: len(msg.Data)})
	})
	if err != nil {
		return nil, nil, fmt.Errorf("subscribe to %s: %w", subjects.All(), err)
	}
	// The server knows the subscription once the connection's buffer
	// has gone through.
	if err := nc.Flush(); err != nil {
		return nil, nil, fmt.Errorf("subscribe to %s: %w", subjects.All(), err)
	}
	return a, sub, nil
}

// listenSubscribe opens a Subscribe stream after afterSeq as a Connect
// client does and records each change's arrival; markers are skipped.
// The stream ends when ctx does.
func listenSubscribe(ctx context.Context, path string, client *http.Client, url string, afterSeq int64) (*arrivals, error) {
	a := newArrivals(path)
	rpc := geocommunsv1connect.NewSyncServiceClient(client, url)
	stream, err := rpc.Subscribe(ctx, connect.NewRequest(&geocommunsv1.SubscribeRequest{AfterSeq: afterSeq}))
	if err != nil {
		return nil, fmt.Errorf("subscribe after merge_seq %d: %w", afterSeq, err)
	}
	go func() {
		defer stream.Close()
		for stream.Receive() {
			at := time.Now()
			c := stream.Msg().GetChange()
			if c == nil {
				continue
			}
			a.add(arrival{seq: c.GetMergeSeq(), part: int(c.GetPart()), parts: int(c.GetParts()), at: at, change: c})
		}
		if err := stream.Err(); err != nil && ctx.Err() == nil {
			a.fail(fmt.Errorf("stream ended: %w", err))
		} else if ctx.Err() == nil {
			a.fail(errors.New("stream ended"))
		}
	}()
	return a, nil
}

// checkArrivals checks that merges from..to arrived each exactly once,
// in merge_seq order, every part in order, and nothing else; it returns
// when each merge arrived whole.
func checkArrivals(path string, got []arrival, from, to int64) (map[int64]time.Time, error) {
	whole := make(map[int64]time.Time, to-from+1)
	next, nextPart := from, 1
	for i, x := range got {
		if x.seq != next || x.part != nextPart || x.parts < x.part {
			return nil, fmt.Errorf("%s: message %d is merge_seq %d part %d/%d, want merge_seq %d part %d (each merge once, in order)",
				path, i, x.seq, x.part, x.parts, next, nextPart)
		}
		if x.part == x.parts {
			whole[x.seq] = x.at
			next, nextPart = next+1, 1
		} else {
			nextPart++
		}
	}
	if next != to+1 || nextPart != 1 {
		return nil, fmt.Errorf("%s: received merges %d to %d (part %d next), want %d to %d", path, from, next-1, nextPart, from, to)
	}
	return whole, nil
}

// wholeMerge puts the parts of merge seq back together as one message,
// as ToProto gives it.
func wholeMerge(got []arrival, seq int64) *geocommunsv1.MergedChange {
	var out *geocommunsv1.MergedChange
	for _, x := range got {
		if x.seq != seq {
			continue
		}
		if out == nil {
			out = proto.Clone(x.change).(*geocommunsv1.MergedChange)
			continue
		}
		out.Elements = append(out.Elements, x.change.GetElements()...)
	}
	if out != nil {
		out.Part, out.Parts = 1, 1
	}
	return out
}
