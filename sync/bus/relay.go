package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/changes"
)

// Source is what the relay reads of the dataset: the outbox, the
// versions it names, current nodes and ways for the tile subjects, and
// the wake-up on merge. storage.Store is one.
type Source interface {
	Outbox(ctx context.Context, afterSeq int64, limit int) ([]storage.OutboxEntry, error)
	CurrentElements(ctx context.Context, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error)
	storage.ChangeFeed
}

// Lease is the right to relay, held until Release or until Check says it
// may be lost (storage/postgres's LeadRelay gives one).
type Lease = interface {
	Check(context.Context) error
	Release() error
}

// Elect blocks until this process may relay, or ctx ends.
type Elect func(ctx context.Context) (Lease, error)

// RelayConfig is what a relay publishes, where, and how it is elected;
// the merge relay (NewRelay) and the review relay (NewReviewRelay) take
// the same.
type RelayConfig struct {
	Conn *nats.Conn
	// Stream is DefaultStream for the merge relay when empty,
	// DefaultReviewStream for the review relay.
	Stream   string
	Subjects Subjects
	// Header is what the osmChange documents say about themselves (the
	// merge relay's only).
	Header osmdata.DocumentHeader
	// Elect makes one relay at a time publish; nil means this process is
	// the only one (SQLite, tests).
	Elect Elect
	// Batch is how many outbox rows or review events one read takes
	// (256 when zero).
	Batch int
	// DedupWindow is the stream's (DefaultDedupWindow when zero). Tests
	// shorten it to show that resuming, not dedup, avoids duplicates.
	DedupWindow time.Duration
	// Retry is the pause after an error before starting over from the
	// stream's last message (1 s when zero).
	Retry  time.Duration
	Logger *slog.Logger
}

// Relay copies the outbox to the stream, in merge_seq order.
type Relay struct {
	cfg    RelayConfig
	source Source
	js     jetstream.JetStream
}

// NewRelay prepares a relay; Run runs it.
func NewRelay(source Source, cfg RelayConfig) (*Relay, error) {
	cfg, js, err := cfg.prepare(DefaultStream)
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	return &Relay{cfg: cfg, source: source, js: js}, nil
}

// prepare fills in the defaults (stream, the relay's own default) and
// opens the JetStream context both relays publish through.
func (cfg RelayConfig) prepare(stream string) (RelayConfig, jetstream.JetStream, error) {
	if cfg.Stream == "" {
		cfg.Stream = stream
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 256
	}
	if cfg.Retry <= 0 {
		cfg.Retry = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	js, err := jetstream.New(cfg.Conn, jetstream.WithPublishAsyncTimeout(publishTimeout))
	if err != nil {
		return cfg, nil, err
	}
	return cfg, js, nil
}

// publishTimeout bounds the wait for the stream to acknowledge a
// message; past it the relay starts over from the stream's end.
const publishTimeout = 10 * time.Second

// leaseCheckEvery is how often a leading relay confirms it still leads
// while idle or between batches.
const leaseCheckEvery = 5 * time.Second

// Run relays until ctx ends, then returns nil. Errors (NATS down, the
// lease lost, the store failing) are logged and retried: the merge
// never hears of them.
func (r *Relay) Run(ctx context.Context) error {
	return runElected(ctx, r.cfg, "NATS relay", r.relay)
}

// runElected runs relay, named name in the logs, while this process
// holds the lease cfg.Elect gives, starting over (and so from the
// stream's last message) after any error, until ctx ends.
func runElected(ctx context.Context, cfg RelayConfig, name string, relay func(context.Context, Lease) error) error {
	for ctx.Err() == nil {
		err := lead(ctx, cfg, name, relay)
		if ctx.Err() != nil {
			break
		}
		cfg.Logger.Warn(name+" stopped; starting over from the stream's last message", "retry", cfg.Retry, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(cfg.Retry):
		}
	}
	return nil
}

// lead takes the lease, then relays while it holds it.
func lead(ctx context.Context, cfg RelayConfig, name string, relay func(context.Context, Lease) error) error {
	if cfg.Elect == nil {
		return relay(ctx, nil)
	}
	lease, err := cfg.Elect(ctx)
	if err != nil {
		return fmt.Errorf("elect the %s: %w", name, err)
	}
	defer lease.Release()
	cfg.Logger.Info(name + " elected")
	return relay(ctx, lease)
}

// pump is a relay's loop once it knows where the stream ends: it
// publishes batch after batch of what the dataset logged after seq
// after, and waits for more when there is none, confirming the lease
// as it goes. publishAfter returns the last sequence number it
// published, after itself when it found nothing; wait is the source's
// wake-up.
func pump(ctx context.Context, lease Lease, after int64,
	publishAfter func(ctx context.Context, after int64) (int64, error),
	wait func(ctx context.Context, after int64) (int64, error)) error {
	checked := time.Now()
	for {
		if lease != nil && time.Since(checked) > leaseCheckEvery {
			if err := lease.Check(ctx); err != nil {
				return err
			}
			checked = time.Now()
		}
		last, err := publishAfter(ctx, after)
		if err != nil {
			return err
		}
		if last != after {
			after = last
			continue
		}
		if err := waitBriefly(ctx, wait, after); err != nil {
			return err
		}
	}
}

// waitBriefly blocks until something after seq commits, a lease check
// is due, or ctx ends.
func waitBriefly(ctx context.Context, wait func(context.Context, int64) (int64, error), seq int64) error {
	wctx, cancel := context.WithTimeout(ctx, leaseCheckEvery)
	defer cancel()
	_, err := wait(wctx, seq)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// relay publishes from where the stream ends, for as long as nothing
// fails.
func (r *Relay) relay(ctx context.Context, lease Lease) error {
	st, err := EnsureStream(ctx, r.js, r.cfg.Stream, r.cfg.Subjects, r.cfg.DedupWindow)
	if err != nil {
		return err
	}
	doneSeq, lastID, streamSeq, err := lastPublished(ctx, st)
	if err != nil {
		return err
	}
	// A last message that did not end its merge leaves that merge
	// published in part: it goes again from the message after it.
	after, partial := doneSeq, lastID != ""
	if partial {
		after = doneSeq - 1
	}
	r.cfg.Logger.Info("NATS relay resumes", "stream", r.cfg.Stream, "last_merge_seq", doneSeq, "last_msg_id", lastID)
	b := &builder{subjects: r.cfg.Subjects, header: r.cfg.Header, reader: r.source, zoom: TileZoom,
		maxBody: int(r.cfg.Conn.MaxPayload()) - headerRoom}
	pub := &publisher{js: r.js, stream: r.cfg.Stream, expect: streamSeq}
	publishAfter := func(ctx context.Context, after int64) (int64, error) {
		entries, err := r.source.Outbox(ctx, after, r.cfg.Batch)
		if err != nil {
			return 0, fmt.Errorf("read the outbox after %d: %w", after, err)
		}
		if len(entries) == 0 {
			return after, nil
		}
		merges, err := changes.Load(ctx, r.source, entries)
		if err != nil {
			return 0, fmt.Errorf("load merges %d to %d: %w", entries[0].Seq, entries[len(entries)-1].Seq, err)
		}
		for _, m := range merges {
			msgs, err := b.messages(ctx, m)
			if err != nil {
				return 0, err
			}
			if partial && m.Seq == doneSeq {
				rest, found := msgsAfter(msgs, lastID)
				if !found {
					if err := r.republish(ctx, pub, st, msgs); err != nil {
						return 0, fmt.Errorf("merge %d: %w", m.Seq, err)
					}
					continue
				}
				msgs = rest
			}
			for _, msg := range msgs {
				if err := pub.publish(ctx, msg); err != nil {
					return 0, fmt.Errorf("merge %d: %w", m.Seq, err)
				}
			}
		}
		if err := pub.flush(ctx); err != nil {
			return 0, fmt.Errorf("merges %d to %d: %w", entries[0].Seq, entries[len(entries)-1].Seq, err)
		}
		return entries[len(entries)-1].Seq, nil
	}
	return pump(ctx, lease, after, publishAfter, r.source.WaitMerge)
}

// msgsAfter drops the messages up to and including the one with id
// lastID, published before the relay stopped, and says whether it found
// it.
func msgsAfter(msgs []*nats.Msg, lastID string) ([]*nats.Msg, bool) {
	for i, m := range msgs {
		if m.Header.Get(jetstream.MsgIDHeader) == lastID {
			return msgs[i+1:], true
		}
	}
	return msgs, false
}

// republish publishes a merge the stream has part of when the relay
// cannot tell which part: its messages now differ from those published
// (the max payload changed, or a later merge moved nodes of its ways and
// so its tiles). It publishes them all, one at a time, for JetStream to
// drop those it has within its dedup window, then carries on from the
// stream's new end.
func (r *Relay) republish(ctx context.Context, pub *publisher, st jetstream.Stream, msgs []*nats.Msg) error {
	if err := pub.flush(ctx); err != nil {
		return err
	}
	r.cfg.Logger.Warn("NATS relay: the stream's last message is not among the merge's messages; publishing the merge again",
		"merge_seq", msgs[0].Header.Get(HeaderMergeSeq))
	for _, msg := range msgs {
		if _, err := r.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(r.cfg.Stream)); err != nil {
			return fmt.Errorf("publish %s: %w", msg.Header.Get(jetstream.MsgIDHeader), err)
		}
	}
	info, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream info: %w", err)
	}
	pub.expect = info.State.LastSeq
	return nil
}
