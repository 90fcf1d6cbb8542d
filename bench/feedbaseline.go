package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"

	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/changes"
	"github.com/geocommuns/geocommuns/sync/subscribe"
)

// notifyRoundTrips times n bare PostgreSQL notifications: pg_notify of a
// payload of size bytes on one connection, from just before the call to
// its arrival on another connection listening to the channel. It is the
// floor of a PostgreSQL store's wake-up on merge.
func notifyRoundTrips(ctx context.Context, url string, n, size int) ([]time.Duration, error) {
	listener, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("NOTIFY baseline: %w", err)
	}
	defer listener.Close(context.Background())
	sender, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("NOTIFY baseline: %w", err)
	}
	defer sender.Close(context.Background())
	channel := "bench_feed_" + randomSuffix()
	if _, err := listener.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return nil, fmt.Errorf("NOTIFY baseline: listen: %w", err)
	}
	// NOTIFY payloads must be under 8,000 bytes.
	payload := hexPayload(min(size, 7999))

	listenCtx, stop := context.WithCancel(ctx)
	received := make(chan time.Time, 1)
	listenErr := make(chan error, 1)
	go func() {
		for {
			note, err := listener.WaitForNotification(listenCtx)
			if err != nil {
				listenErr <- err
				return
			}
			if note.Payload != payload {
				listenErr <- fmt.Errorf("notification payload of %d bytes, sent %d", len(note.Payload), len(payload))
				return
			}
			received <- time.Now()
		}
	}()
	defer func() {
		stop()
		<-listenErr
	}()

	out := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if _, err := sender.Exec(ctx, "SELECT pg_notify($1, $2)", channel, payload); err != nil {
			return nil, fmt.Errorf("NOTIFY baseline: %w", err)
		}
		select {
		case at := <-received:
			out = append(out, at.Sub(start))
		case err := <-listenErr:
			listenErr <- err
			return nil, fmt.Errorf("NOTIFY baseline: %w", err)
		case <-time.After(feedPatience):
			return nil, fmt.Errorf("NOTIFY baseline: notification %d not received after %s", len(out)+1, feedPatience)
		}
	}
	return out, nil
}

// natsRoundTrips times n bare core NATS publishes of size bytes from pub
// to a subscriber on sub, from just before Publish to arrival.
func natsRoundTrips(pub, sub *nats.Conn, subject string, n, size int) ([]time.Duration, error) {
	payload := []byte(hexPayload(size))
	received := make(chan time.Time, 1)
	s, err := sub.Subscribe(subject, func(msg *nats.Msg) {
		at := time.Now()
		if len(msg.Data) == len(payload) {
			received <- at
		}
	})
	if err != nil {
		return nil, fmt.Errorf("NATS baseline: %w", err)
	}
	defer s.Unsubscribe()
	if err := sub.Flush(); err != nil {
		return nil, fmt.Errorf("NATS baseline: %w", err)
	}
	out := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if err := pub.Publish(subject, payload); err != nil {
			return nil, fmt.Errorf("NATS baseline: %w", err)
		}
		select {
		case at := <-received:
			out = append(out, at.Sub(start))
		case <-time.After(feedPatience):
			return nil, fmt.Errorf("NATS baseline: message %d not received after %s", len(out)+1, feedPatience)
		}
	}
	return out, nil
}

func hexPayload(size int) string {
	b := make([]byte, (size+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:size]
}

// replayResult is one full replay of the outbox.
type replayResult struct {
	merges, elements int
	elapsed          time.Duration
	got              []arrival
}

// replayAll subscribes from merge_seq 0 as a client catching up does and
// reads every merge up to last.
func replayAll(ctx context.Context, client *http.Client, url string, last int64) (replayResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	a, err := listenSubscribe(ctx, "replay", client, url, 0)
	if err != nil {
		return replayResult{}, err
	}
	if err := a.waitFor(ctx, last); err != nil {
		return replayResult{}, err
	}
	elapsed := time.Since(start)
	r := replayResult{elapsed: elapsed, got: a.snapshot()}
	for _, x := range r.got {
		r.elements += len(x.change.GetElements())
		if x.part == x.parts {
			r.merges++
		}
	}
	return r, nil
}

// bareReplay is the replay's baseline: the outbox reads and Load of the
// same merges, in Subscribe's batches, without the stream around them.
func bareReplay(ctx context.Context, store storage.Store, last int64) (time.Duration, int, error) {
	start := time.Now()
	elements := 0
	for after := int64(0); after < last; {
		entries, err := store.Outbox(ctx, after, subscribe.DefaultBatch)
		if err != nil {
			return 0, 0, err
		}
		if len(entries) == 0 {
			return 0, 0, fmt.Errorf("outbox ends at merge_seq %d, before %d", after, last)
		}
		ms, err := changes.Load(ctx, store, entries)
		if err != nil {
			return 0, 0, err
		}
		for _, m := range ms {
			elements += len(m.Elements)
		}
		after = entries[len(entries)-1].Seq
	}
	return time.Since(start), elements, nil
}
