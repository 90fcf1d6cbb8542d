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
// (DefaultDedupWindow when zero). Only fields NATS 2.9 knows are set, so
// that the same code runs on Debian's nats-server and the embedded 2.15.
func EnsureStream(ctx context.Context, js jetstream.JetStream, name string, subjects Subjects, dedupWindow time.Duration) (jetstream.Stream, error) {
	if dedupWindow <= 0 {
		dedupWindow = DefaultDedupWindow
	}
	cfg := jetstream.StreamConfig{
		Name:        name,
		Description: "geocommuns merges, one message (or part) per merge and subject",
		Subjects:    []string{subjects.Merges()},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		Duplicates:  dedupWindow,
	}
	st, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("stream %s on %s: %w", name, subjects.Merges(), err)
	}
	return st, nil
}

// lastPublished is where the stream ends: the merge_seq of its last
// message, that message's id unless it ended its merge, and its stream
// sequence. An empty stream gives 0, "" and the sequence it ends at.
func lastPublished(ctx context.Context, st jetstream.Stream) (seq int64, msgID string, streamSeq uint64, err error) {
	info, err := st.Info(ctx)
	if err != nil {
		return 0, "", 0, fmt.Errorf("stream info: %w", err)
	}
	if info.State.Msgs == 0 {
		return 0, "", info.State.LastSeq, nil
	}
	msg, err := st.GetMsg(ctx, info.State.LastSeq)
	if err != nil {
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return 0, "", 0, fmt.Errorf("stream %s: its last message %d is gone: %w", info.Config.Name, info.State.LastSeq, err)
		}
		return 0, "", 0, fmt.Errorf("stream %s: read its last message %d: %w", info.Config.Name, info.State.LastSeq, err)
	}
	seq, err = parseSeqHeader(msg.Header.Get(HeaderMergeSeq))
	if err != nil {
		return 0, "", 0, fmt.Errorf("stream %s: its last message %d: %w", info.Config.Name, info.State.LastSeq, err)
	}
	if msg.Header.Get(HeaderMergeEnd) != "" {
		return seq, "", info.State.LastSeq, nil
	}
	return seq, msg.Header.Get(jetstream.MsgIDHeader), info.State.LastSeq, nil
}
