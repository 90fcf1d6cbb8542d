package subscribe

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"connectrpc.com/connect"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/changes"
)

// Subscribe streams every merge after req.after_seq, then every new one.
func (s *Server) Subscribe(ctx context.Context, req *connect.Request[geocommunsv1.SubscribeRequest], out *connect.ServerStream[geocommunsv1.SubscribeResponse]) error {
	box, err := requestBox(req.Msg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.stopped, cancel)()

	st := &stream{s: s, out: out, after: req.Msg.GetAfterSeq(), reported: req.Msg.GetAfterSeq()}
	if box != nil {
		st.filter = &boxFilter{box: *box, source: s.source}
	}
	return s.ended(ctx, st, st.serve(ctx))
}

// ended says why a stream ended: a shutdown asks the client to resume
// elsewhere, a client that went away (or whose deadline passed) reads no
// error and is no failure to log.
func (s *Server) ended(ctx context.Context, st *stream, err error) error {
	switch {
	case err == nil:
		return nil
	case s.stopped.Err() != nil:
		return connect.NewError(connect.CodeUnavailable,
			fmt.Errorf("the server is shutting down; resume after merge_seq %d", st.reported))
	case ctx.Err() != nil:
		return connect.NewError(connect.CodeCanceled, ctx.Err())
	}
	return err
}

func (st *stream) serve(ctx context.Context) error {
	if err := st.checkStart(ctx); err != nil {
		return err
	}
	// The response headers go out now, not with the first merge: a
	// client's call returns once its subscription stands, even when no
	// merge comes for hours.
	if err := st.out.Send(nil); err != nil {
		return fmt.Errorf("send response headers: %w", err)
	}
	return st.run(ctx)
}

// stream is one client's position in the outbox.
type stream struct {
	s      *Server
	out    *connect.ServerStream[geocommunsv1.SubscribeResponse]
	filter *boxFilter
	// after is the last merge_seq read; reported the last one the client
	// was told of, by a change or a caught_up_to marker.
	after, reported int64
	skipped         int
}

// checkStart refuses an after_seq this dataset has not reached: the
// client resumes from another dataset, or one restored from an older
// backup, and waiting for merges that will carry other content would
// silently mislead it.
func (st *stream) checkStart(ctx context.Context) error {
	last, err := st.s.source.LastMergeSeq(ctx)
	if err != nil {
		return st.s.storeError(ctx, "read the last merge_seq", err)
	}
	if st.after > last {
		return connect.NewError(connect.CodeOutOfRange, fmt.Errorf(
			"after_seq %d is past the last merge of this dataset (%d): it comes from another dataset or a later state of this one", st.after, last))
	}
	return nil
}

func (st *stream) run(ctx context.Context) error {
	for {
		entries, err := st.s.source.Outbox(ctx, st.after, st.s.cfg.Batch)
		if err != nil {
			return st.s.storeError(ctx, fmt.Sprintf("read the outbox after %d", st.after), err)
		}
		if err := st.sendBatch(ctx, entries); err != nil {
			return err
		}
		if len(entries) == st.s.cfg.Batch {
			continue
		}
		// Caught up: a filtered client learns how far it has got, so
		// that it resumes from there rather than replaying the skipped.
		if st.filter != nil && st.reported < st.after {
			if err := st.marker(); err != nil {
				return err
			}
		}
		if err := st.s.waitMerge(ctx, st.after); err != nil {
			return st.s.storeError(ctx, fmt.Sprintf("wait for a merge after %d", st.after), err)
		}
	}
}

func (st *stream) sendBatch(ctx context.Context, entries []storage.OutboxEntry) error {
	for len(entries) > 0 {
		n := st.loadable(entries)
		chunk := entries[:n]
		entries = entries[n:]
		for _, e := range chunk {
			// merge_seq is gapless; a hole means rows were lost, and a
			// client must not be told it has everything.
			if e.Seq != st.after+1 {
				return connect.NewError(connect.CodeDataLoss, fmt.Errorf("the outbox has merge %d after %d: merges are missing", e.Seq, st.after))
			}
			st.after = e.Seq
		}
		merges, err := changes.Load(ctx, st.s.source, chunk)
		if err != nil {
			return st.s.storeError(ctx, "load merged versions", err)
		}
		send := make([]bool, len(merges))
		for i := range send {
			send[i] = true
		}
		if st.filter != nil {
			if send, err = st.filter.match(ctx, merges); err != nil {
				return st.s.storeError(ctx, "filter by bbox", err)
			}
		}
		for i := range merges {
			if err := st.sendMerge(&merges[i], send[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// loadable is how many entries one Load may take within MaxLoadVersions
// (at least one, however large).
func (st *stream) loadable(entries []storage.OutboxEntry) int {
	versions := 0
	for i, e := range entries {
		versions += 2 * len(e.Versions)
		if i > 0 && versions > st.s.cfg.MaxLoadVersions {
			return i
		}
	}
	return len(entries)
}

func (st *stream) sendMerge(m *changes.Merge, matches bool) error {
	if !matches {
		st.skipped++
		if st.skipped >= st.s.cfg.MarkerEvery {
			return st.markerAt(m.Seq)
		}
		return nil
	}
	for _, part := range changes.Split(changes.ToProto(*m), st.s.cfg.MaxMessageBytes) {
		if err := st.out.Send(&geocommunsv1.SubscribeResponse{Event: &geocommunsv1.SubscribeResponse_Change{Change: part}}); err != nil {
			return fmt.Errorf("send merge %d: %w", m.Seq, err)
		}
	}
	st.reported, st.skipped = m.Seq, 0
	return nil
}

func (st *stream) marker() error { return st.markerAt(st.after) }

func (st *stream) markerAt(seq int64) error {
	if err := st.out.Send(&geocommunsv1.SubscribeResponse{Event: &geocommunsv1.SubscribeResponse_CaughtUpTo{CaughtUpTo: seq}}); err != nil {
		return fmt.Errorf("send caught_up_to %d: %w", seq, err)
	}
	st.reported, st.skipped = seq, 0
	return nil
}

// storeError answers a failure of the store. The database being away
// (storage.IsUnavailable) is Unavailable with the Retry-After of every
// other API, which clients retry from their last merge_seq, and a
// warning; anything else is a failure of ours, Internal and an error in
// the log, so that a lasting fault is not retried for ever as an outage.
// A cancelled stream is left to Subscribe.
func (s *Server) storeError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return err
	}
	if storage.IsUnavailable(err) {
		s.cfg.Logger.Warn("subscribe: "+what+": the store is unavailable", "err", err)
		cerr := connect.NewError(connect.CodeUnavailable,
			fmt.Errorf("%s: the database is unavailable; resume after the last merge_seq received", what))
		cerr.Meta().Set("Retry-After", strconv.Itoa(storage.UnavailableRetryAfter))
		return cerr
	}
	s.cfg.Logger.Error("subscribe: "+what, "err", err)
	return connect.NewError(connect.CodeInternal, fmt.Errorf("%s: internal error", what))
}
