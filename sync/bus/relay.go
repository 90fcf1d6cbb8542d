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

// RelayConfig is what a relay publishes, where, and how it is elected.
type RelayConfig struct {
	Conn     *nats.Conn
	Stream   string // DefaultStream when empty
	Subjects Subjects
	// Header is what the osmChange documents say about themselves.
	Header osmdata.DocumentHeader
	// Elect makes one relay at a time publish; nil means this process is
	// the only one (SQLite, tests).
	Elect Elect
	// Batch is how many outbox rows one read takes (256 when zero).
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
	if cfg.Stream == "" {
		cfg.Stream = DefaultStream
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
		return nil, fmt.Errorf("relay: %w", err)
	}
	return &Relay{cfg: cfg, source: source, js: js}, nil
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
	for ctx.Err() == nil {
		err := r.lead(ctx)
		if ctx.Err() != nil {
			break
		}
		r.cfg.Logger.Warn("NATS relay stopped; starting over from the stream's last message", "retry", r.cfg.Retry, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(r.cfg.Retry):
		}
	}
	return nil
}

// lead takes the lease, then relays while it holds it.
func (r *Relay) lead(ctx context.Context) error {
	if r.cfg.Elect == nil {
		return r.relay(ctx, nil)
	}
	lease, err := r.cfg.Elect(ctx)
	if err != nil {
		return fmt.Errorf("elect the relay: %w", err)
	}
	defer lease.Release()
	r.cfg.Logger.Info("NATS relay elected")
	return r.relay(ctx, lease)
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
	checked := time.Now()
	for {
		if lease != nil && time.Since(checked) > leaseCheckEvery {
			if err := lease.Check(ctx); err != nil {
				return err
			}
			checked = time.Now()
		}
		entries, err := r.source.Outbox(ctx, after, r.cfg.Batch)
		if err != nil {
			return fmt.Errorf("read the outbox after %d: %w", after, err)
		}
		if len(entries) == 0 {
			if err := r.wait(ctx, after); err != nil {
				return err
			}
			continue
		}
		merges, err := changes.Load(ctx, r.source, entries)
		if err != nil {
			return fmt.Errorf("load merges %d to %d: %w", entries[0].Seq, entries[len(entries)-1].Seq, err)
		}
		for _, m := range merges {
			msgs, err := b.messages(ctx, m)
			if err != nil {
				return err
			}
			if partial && m.Seq == doneSeq {
				rest, found := msgsAfter(msgs, lastID)
				if !found {
					if err := r.republish(ctx, pub, st, msgs); err != nil {
						return fmt.Errorf("merge %d: %w", m.Seq, err)
					}
					continue
				}
				msgs = rest
			}
			for _, msg := range msgs {
				if err := pub.publish(ctx, msg); err != nil {
					return fmt.Errorf("merge %d: %w", m.Seq, err)
				}
			}
		}
		if err := pub.flush(ctx); err != nil {
			return fmt.Errorf("merges %d to %d: %w", entries[0].Seq, entries[len(entries)-1].Seq, err)
		}
		after = entries[len(entries)-1].Seq
	}
}

// wait blocks until a merge after seq commits, a lease check is due, or
// ctx ends.
func (r *Relay) wait(ctx context.Context, seq int64) error {
	wctx, cancel := context.WithTimeout(ctx, leaseCheckEvery)
	defer cancel()
	_, err := r.source.WaitMerge(wctx, seq)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
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
