package mirror

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/changes"
)

// follow subscribes after pos and applies every merge, reconnecting with
// backoff whenever the stream ends, from the position last applied.
func (m *mirror) follow(ctx context.Context, pos int64) error {
	client := geocommunsv1connect.NewSyncServiceClient(m.cfg.Client, m.cfg.Source)
	for failures := 0; ; {
		applied, err := m.stream(ctx, client, &pos)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errDiverged) {
			return err
		}
		if applied > 0 {
			failures = 0
		}
		m.cfg.Logger.Warn("mirror: stream ended; reconnecting", "source", m.cfg.Source, "merge_seq", pos, "err", err)
		if !m.backoff(ctx, failures) {
			return nil
		}
		failures++
	}
}

// stream runs one Subscribe call until it fails, applying merges and
// advancing *pos past each; it returns how many it applied.
func (m *mirror) stream(ctx context.Context, client geocommunsv1connect.SyncServiceClient, pos *int64) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := client.Subscribe(ctx, connect.NewRequest(&geocommunsv1.SubscribeRequest{AfterSeq: *pos}))
	if err != nil {
		return 0, fmt.Errorf("subscribe: %w", err)
	}
	defer s.Close()
	m.cfg.Logger.Info("mirror: following", "source", m.cfg.Source, "after_seq", *pos)
	applied := 0
	var parts []*geocommunsv1.MergedChange
	for s.Receive() {
		c := s.Msg().GetChange()
		if c == nil {
			continue // a caught_up_to marker: only sent under a bbox
		}
		if len(parts) > 0 && parts[0].GetMergeSeq() != c.GetMergeSeq() {
			return applied, fmt.Errorf("merge %d began before merge %d's %d parts were all sent", c.GetMergeSeq(), parts[0].GetMergeSeq(), parts[0].GetParts())
		}
		parts = append(parts, c)
		if int32(len(parts)) < c.GetParts() {
			continue
		}
		whole, err := changes.Join(parts)
		parts = nil
		if err != nil {
			return applied, err
		}
		if err := m.apply(ctx, whole, *pos); err != nil {
			return applied, err
		}
		*pos = whole.GetMergeSeq()
		applied++
	}
	if err := s.Err(); err != nil {
		return applied, err
	}
	return applied, errors.New("the source ended the stream")
}

// apply writes one whole merge with the copy's new position.
func (m *mirror) apply(ctx context.Context, c *geocommunsv1.MergedChange, pos int64) error {
	merge, err := changes.FromProto(c)
	if err != nil {
		return fmt.Errorf("%w: %w", errDiverged, err)
	}
	// merge_seq is gapless (design.md): any other number than the next
	// means a merge lost or sent twice.
	if merge.Seq != pos+1 {
		return fmt.Errorf("%w: merge %d arrived after merge %d", errDiverged, merge.Seq, pos)
	}
	versions := make([]osmdata.Element, len(merge.Elements))
	for i := range merge.Elements {
		versions[i] = merge.Elements[i].New
	}
	if err := m.store.ApplyMirrored(ctx, merge.Seq, versions); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, storage.ErrVersionConflict) || errors.Is(err, storage.ErrMergeApplied) {
			return fmt.Errorf("%w: %w", errDiverged, err)
		}
		return err
	}
	m.cfg.Logger.Debug("mirror: merge applied", "merge_seq", merge.Seq, "changeset", merge.Changeset, "elements", len(versions))
	return nil
}
