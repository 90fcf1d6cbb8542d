package bus

import (
	"context"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmproto"
)

// DefaultReviewStream names the stream of the review subjects: a stream
// of its own, so that its sequence and retention are the review log's,
// and a consumer of merges never reads past review events.
const DefaultReviewStream = "GEOCOMMUNS_REVIEWS"

// ReviewSource is what the review relay reads: the review event log.
// storage.Store is one.
type ReviewSource interface {
	ReviewEvents(ctx context.Context, afterSeq int64, limit int) ([]osmdata.ReviewEvent, error)
	WaitReviewEvent(ctx context.Context, afterSeq int64) (int64, error)
}

// ReviewRelay copies the review log to its stream, one message per
// event, in seq order. It runs as the merge relay does: elected, after
// commit (an event never waits for NATS), resuming from the stream's
// last message after any outage.
type ReviewRelay struct {
	cfg    RelayConfig
	source ReviewSource
	js     jetstream.JetStream
}

// NewReviewRelay prepares a review relay; Run runs it. cfg.Stream
// defaults to DefaultReviewStream, and cfg.Elect must not share its
// lease with the merge relay's, or one would wait for the other.
func NewReviewRelay(source ReviewSource, cfg RelayConfig) (*ReviewRelay, error) {
	cfg, js, err := cfg.prepare(DefaultReviewStream)
	if err != nil {
		return nil, fmt.Errorf("review relay: %w", err)
	}
	return &ReviewRelay{cfg: cfg, source: source, js: js}, nil
}

// Run relays until ctx ends, then returns nil. Errors are logged and
// retried from the stream's last message.
func (r *ReviewRelay) Run(ctx context.Context) error {
	return runElected(ctx, r.cfg, "NATS review relay", r.relay)
}

func (r *ReviewRelay) relay(ctx context.Context, lease Lease) error {
	st, err := ensureStream(ctx, r.js, streamSpec{name: r.cfg.Stream, subject: r.cfg.Subjects.Reviews(),
		description: "geocommuns review events, one message per event"}, r.cfg.DedupWindow)
	if err != nil {
		return err
	}
	last, streamSeq, err := lastReviewPublished(ctx, st)
	if err != nil {
		return err
	}
	r.cfg.Logger.Info("NATS review relay resumes", "stream", r.cfg.Stream, "last_review_seq", last)
	maxBody := int(r.cfg.Conn.MaxPayload()) - headerRoom
	pub := &publisher{js: r.js, stream: r.cfg.Stream, expect: streamSeq}
	publishAfter := func(ctx context.Context, after int64) (int64, error) {
		events, err := r.source.ReviewEvents(ctx, after, r.cfg.Batch)
		if err != nil {
			return 0, fmt.Errorf("read the review log after %d: %w", after, err)
		}
		if len(events) == 0 {
			return after, nil
		}
		for i := range events {
			msg, err := reviewMessage(r.cfg.Subjects, &events[i], maxBody)
			if err == nil {
				err = pub.publish(ctx, msg)
			}
			if err != nil {
				return 0, fmt.Errorf("review event %d: %w", events[i].Seq, err)
			}
		}
		if err := pub.flush(ctx); err != nil {
			return 0, fmt.Errorf("review events %d to %d: %w", events[0].Seq, events[len(events)-1].Seq, err)
		}
		return events[len(events)-1].Seq, nil
	}
	return pump(ctx, lease, last, publishAfter, r.source.WaitReviewEvent)
}

// lastReviewPublished is where the review stream ends: the seq of its
// last event (0 when empty) and its stream sequence.
func lastReviewPublished(ctx context.Context, st jetstream.Stream) (seq int64, streamSeq uint64, err error) {
	msg, streamSeq, err := lastMessage(ctx, st)
	if err != nil || msg == nil {
		return 0, streamSeq, err
	}
	seq, err = parseSeqHeader(msg.Header, HeaderReviewSeq)
	if err != nil {
		return 0, 0, fmt.Errorf("stream %s: its last message %d: %w", st.CachedInfo().Config.Name, streamSeq, err)
	}
	return seq, streamSeq, nil
}

const contentReviewEvent = "application/protobuf; proto=geocommuns.v1.ReviewEvent"

// reviewMessage is the one message of an event. A comment that would
// not fit in maxBody is cut (marked HeaderCommentCut) rather than left
// to stop every later event: the review log keeps it whole.
func reviewMessage(subjects Subjects, ev *osmdata.ReviewEvent, maxBody int) (*nats.Msg, error) {
	p := osmproto.ReviewEventToProto(ev)
	data, err := proto.Marshal(p)
	cut := false
	for err == nil && len(data) > maxBody && p.Comment != "" {
		keep := max(len(p.Comment)-(len(data)-maxBody), 0)
		for keep > 0 && !utf8.RuneStart(p.Comment[keep]) {
			keep--
		}
		p.Comment, cut = p.Comment[:keep], true
		data, err = proto.Marshal(p)
	}
	if err != nil {
		// Only text that is not UTF-8 fails, which neither backend
		// stores from the APIs' decoders.
		return nil, fmt.Errorf("marshal: %w", err)
	}
	msg := nats.NewMsg(subjects.Review(ev.Kind, ev.Changeset))
	msg.Data = data
	msg.Header.Set(jetstream.MsgIDHeader, "review-"+strconv.FormatInt(ev.Seq, 10))
	msg.Header.Set(HeaderReviewSeq, strconv.FormatInt(ev.Seq, 10))
	msg.Header.Set("Content-Type", contentReviewEvent)
	if cut {
		msg.Header.Set(HeaderCommentCut, "true")
	}
	return msg, nil
}
