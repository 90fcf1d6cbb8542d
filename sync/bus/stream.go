package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultStream names the stream of the merge subjects.
const DefaultStream = "GEOCOMMUNS"

// DefaultDedupWindow is JetStream's default, written out because the
// relay's resume logic, not the window, is what covers longer outages.
const DefaultDedupWindow = 2 * time.Minute

// EnsureStream creates the stream of the merge subjects, or updates an
// existing one to hold them, with the given dedup window
// (DefaultDedupWindow when zero).
func EnsureStream(ctx context.Context, js jetstream.JetStream, name string, subjects Subjects, dedupWindow time.Duration) (jetstream.Stream, error) {
	return ensureStream(ctx, js, streamSpec{name: name, subject: subjects.Merges(),
		description: "geocommuns merges, one message (or part) per merge and subject"}, dedupWindow)
}

// streamSpec is what one relay's stream holds.
type streamSpec struct {
	name, subject, description string
}

// ensureStream creates a relay's stream or updates an existing one.
// Only fields NATS 2.9 knows are set, so that the same code runs on
// Debian's nats-server and the embedded 2.15.
func ensureStream(ctx context.Context, js jetstream.JetStream, spec streamSpec, dedupWindow time.Duration) (jetstream.Stream, error) {
	if dedupWindow <= 0 {
		dedupWindow = DefaultDedupWindow
	}
	cfg := jetstream.StreamConfig{
		Name:        spec.name,
		Description: spec.description,
		Subjects:    []string{spec.subject},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		Duplicates:  dedupWindow,
	}
	st, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("stream %s on %s: %w", spec.name, spec.subject, err)
	}
	return st, nil
}

// lastPublished is where the merge stream ends: the merge_seq of its
// last message, that message's id unless it ended its merge, and its
// stream sequence. An empty stream gives 0, "" and the sequence it ends
// at.
func lastPublished(ctx context.Context, st jetstream.Stream) (seq int64, msgID string, streamSeq uint64, err error) {
	msg, streamSeq, err := lastMessage(ctx, st)
	if err != nil || msg == nil {
		return 0, "", streamSeq, err
	}
	seq, err = parseSeqHeader(msg.Header, HeaderMergeSeq)
	if err != nil {
		return 0, "", 0, fmt.Errorf("stream %s: its last message %d: %w", st.CachedInfo().Config.Name, streamSeq, err)
	}
	if msg.Header.Get(HeaderMergeEnd) != "" {
		return seq, "", streamSeq, nil
	}
	return seq, msg.Header.Get(jetstream.MsgIDHeader), streamSeq, nil
}

// lastMessage reads the stream's last message, nil when it is empty, and
// the stream sequence it ends at.
func lastMessage(ctx context.Context, st jetstream.Stream) (*jetstream.RawStreamMsg, uint64, error) {
	info, err := st.Info(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("stream info: %w", err)
	}
	if info.State.Msgs == 0 {
		return nil, info.State.LastSeq, nil
	}
	msg, err := st.GetMsg(ctx, info.State.LastSeq)
	if err != nil {
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil, 0, fmt.Errorf("stream %s: its last message %d is gone: %w", info.Config.Name, info.State.LastSeq, err)
		}
		return nil, 0, fmt.Errorf("stream %s: read its last message %d: %w", info.Config.Name, info.State.LastSeq, err)
	}
	return msg, info.State.LastSeq, nil
}
