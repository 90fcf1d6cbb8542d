package bus

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/sync/changes"
)

// headerRoom is what a message's headers may take of max_payload
// (JetStream counts headers and body against it); ours take under 200
// bytes.
const headerRoom = 1024

// Content types of the payloads.
const (
	contentProto     = "application/protobuf; proto=geocommuns.v1.MergedChange"
	contentOsmChange = "application/xml; type=osmChange"
)

// builder turns one merge into the messages the relay publishes for it,
// always the same list in the same order for the same merge and limit,
// so that a relay resuming mid-merge finds where it stopped.
type builder struct {
	subjects Subjects
	header   osmdata.DocumentHeader
	reader   currentReader
	zoom     int
	// maxBody is the most bytes a message body may have.
	maxBody int
}

func (b *builder) messages(ctx context.Context, m changes.Merge) ([]*nats.Msg, error) {
	var out []*nats.Msg
	out = append(out, b.protoMessages(b.subjects.All(), "", m)...)
	osc, err := b.osmChangeMessages(m)
	if err != nil {
		return nil, err
	}
	out = append(out, osc...)
	tiles, err := splitByTile(ctx, b.reader, m, b.zoom)
	if err != nil {
		return nil, err
	}
	for _, tc := range tiles {
		kind := fmt.Sprintf("tile-%d-%d-%d", tc.tile.Z, tc.tile.X, tc.tile.Y)
		out = append(out, b.protoMessages(b.subjects.Tile(tc.tile), kind, tc.merge)...)
	}
	out[len(out)-1].Header.Set(HeaderMergeEnd, "true")
	return out, nil
}

func (b *builder) protoMessages(subject, kind string, m changes.Merge) []*nats.Msg {
	parts := changes.Split(changes.ToProto(m), b.maxBody)
	out := make([]*nats.Msg, len(parts))
	for i, p := range parts {
		// Marshalling cannot fail for a message built from valid values;
		// a failure would be a bug worth a panic rather than a lost part.
		data, err := proto.Marshal(p)
		if err != nil {
			panic(fmt.Sprintf("marshal merge %d part %d: %v", m.Seq, p.GetPart(), err))
		}
		out[i] = newMessage(subject, m.Seq, kind, int(p.GetPart()), int(p.GetParts()), contentProto, data)
	}
	return out
}

// osmChangeMessages writes the merge as osmChange, halving the list of
// elements until every document fits: each part is a valid osmChange of
// its own, applied in part order.
func (b *builder) osmChangeMessages(m changes.Merge) ([]*nats.Msg, error) {
	var docs [][]byte
	var write func(elems []changes.ElementChange) error
	write = func(elems []changes.ElementChange) error {
		var buf bytes.Buffer
		part := changes.Merge{Seq: m.Seq, Changeset: m.Changeset, MergedAt: m.MergedAt, Elements: elems}
		if err := changes.WriteOsmChange(&buf, b.header, part); err != nil {
			return fmt.Errorf("merge %d: %w", m.Seq, err)
		}
		if buf.Len() <= b.maxBody || len(elems) <= 1 {
			docs = append(docs, buf.Bytes())
			return nil
		}
		half := len(elems) / 2
		if err := write(elems[:half]); err != nil {
			return err
		}
		return write(elems[half:])
	}
	if err := write(m.Elements); err != nil {
		return nil, err
	}
	out := make([]*nats.Msg, len(docs))
	for i, d := range docs {
		out[i] = newMessage(b.subjects.OsmChange(), m.Seq, "osc", i+1, len(docs), contentOsmChange, d)
	}
	return out, nil
}

func newMessage(subject string, seq int64, kind string, part, parts int, contentType string, data []byte) *nats.Msg {
	msg := nats.NewMsg(subject)
	msg.Data = data
	msg.Header.Set(jetstream.MsgIDHeader, msgID(seq, kind, part))
	msg.Header.Set(HeaderMergeSeq, strconv.FormatInt(seq, 10))
	msg.Header.Set(HeaderPart, strconv.Itoa(part))
	msg.Header.Set(HeaderParts, strconv.Itoa(parts))
	msg.Header.Set("Content-Type", contentType)
	return msg
}

// parseSeqHeader reads the sequence number a relay wrote in header name.
func parseSeqHeader(h nats.Header, name string) (int64, error) {
	v := h.Get(name)
	seq, err := strconv.ParseInt(v, 10, 64)
	if err != nil || seq <= 0 {
		return 0, fmt.Errorf("header %s is %q, not a sequence number", name, v)
	}
	return seq, nil
}
