package subscribe

import (
	"context"
	"fmt"
	"time"
)

// mergeWaiter is storage.ChangeFeed's wake-up on merge.
type mergeWaiter interface {
	WaitMerge(ctx context.Context, afterSeq int64) (int64, error)
}

// waitMerge returns once a merge after afterSeq has committed.
func (s *Server) waitMerge(ctx context.Context, afterSeq int64) error {
	if w, ok := s.source.(mergeWaiter); ok {
		_, err := w.WaitMerge(ctx, afterSeq)
		return err
	}
	tick := time.NewTicker(s.cfg.PollInterval)
	defer tick.Stop()
	for {
		last, err := s.source.LastMergeSeq(ctx)
		if err != nil {
			return fmt.Errorf("read the last merge_seq: %w", err)
		}
		if last > afterSeq {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
