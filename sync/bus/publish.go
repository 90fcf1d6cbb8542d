package bus

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// maxInFlight bounds the messages published and not yet acknowledged;
// nats.go's own bound is 4,000.
const maxInFlight = 512

// publisher pipelines a relay's publishes: it sends without waiting,
// each message expecting the stream's last sequence to be the one before
// it, so that the stream never stores a message after one it refused or
// lost (a gap), nor one of a relay that lost the lease while another
// moved the stream on. Any refusal fails the batch; the relay then
// starts over from the stream's last message.
type publisher struct {
	js      jetstream.JetStream
	stream  string
	expect  uint64
	pending []pending
}

type pending struct {
	ack jetstream.PubAckFuture
	id  string
}

func (p *publisher) publish(ctx context.Context, msg *nats.Msg) error {
	f, err := p.js.PublishMsgAsync(msg, jetstream.WithExpectStream(p.stream), jetstream.WithExpectLastSequence(p.expect))
	if err != nil {
		return fmt.Errorf("publish %s: %w", msg.Header.Get(jetstream.MsgIDHeader), err)
	}
	p.expect++
	p.pending = append(p.pending, pending{ack: f, id: msg.Header.Get(jetstream.MsgIDHeader)})
	if len(p.pending) >= maxInFlight {
		return p.flush(ctx)
	}
	return nil
}

// flush waits until the stream has stored every message published.
func (p *publisher) flush(ctx context.Context) error {
	defer func() { p.pending = p.pending[:0] }()
	for _, m := range p.pending {
		select {
		case ack := <-m.ack.Ok():
			if ack.Duplicate {
				return fmt.Errorf("publish %s: the stream had it already (another relay publishing?)", m.id)
			}
		case err := <-m.ack.Err():
			return fmt.Errorf("publish %s: %w", m.id, err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
