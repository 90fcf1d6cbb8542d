package editing

import (
	"context"
	"log/slog"
	"time"

	"github.com/geocommuns/geocommuns/storage"
)

// DefaultSweepPeriod is how often the sweeper looks for changesets due
// to close.
const DefaultSweepPeriod = time.Minute

// Sweeper closes changesets that are due (idle for an hour, open for 24
// hours, or full) and so submits them for review. Every server process
// runs one: the store locks rows with FOR UPDATE SKIP LOCKED and decides
// on the database's time, so sweepers in several processes never close a
// changeset twice nor disagree on when it is due.
type Sweeper struct {
	Store storage.Editing
	// Period between sweeps; DefaultSweepPeriod when zero.
	Period time.Duration
	Logger *slog.Logger
	// Submitted, when set, is called after a sweep closed (and so
	// submitted) changesets.
	Submitted func()
}

// NewSweeper returns the sweeper of the service's store.
func (s *Service) NewSweeper(period time.Duration) *Sweeper {
	return &Sweeper{Store: s.editing, Period: period, Logger: s.logger, Submitted: s.notifySubmitted}
}

// Run sweeps once right away, then every Period, until ctx is done. A
// failing sweep is logged and retried at the next period: a store that is
// briefly unavailable must not stop auto-closing for good.
func (w *Sweeper) Run(ctx context.Context) {
	period := w.Period
	if period <= 0 {
		period = DefaultSweepPeriod
	}
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	for {
		w.Sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// Sweep closes every changeset due now and returns their ids.
func (w *Sweeper) Sweep(ctx context.Context) []int64 {
	logger := w.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	closed, err := w.Store.CloseDueChangesets(ctx)
	if err != nil {
		switch {
		case ctx.Err() != nil:
		case storage.IsUnavailable(err):
			logger.Warn("auto-close sweep: the store is unavailable; retrying at the next period", "err", err)
		default:
			logger.Error("auto-close sweep failed", "err", err)
		}
		return nil
	}
	if len(closed) > 0 {
		logger.Info("auto-closed changesets", "count", len(closed), "ids", closed)
		if w.Submitted != nil {
			w.Submitted()
		}
	}
	return closed
}

// submitIfFull closes and submits at once a changeset an upload filled
// (MaxChangesetChanges changes), as the sweeper would at its next round:
// the editor cannot close it any more (a full changeset answers 409, as
// on openstreetmap.org), and its merge should not wait for the sweep. A
// failure leaves it to the sweeper; the upload itself has succeeded.
func (s *Service) submitIfFull(ctx context.Context, res *DiffResult, err error) (*DiffResult, error) {
	if err != nil || res.Changeset.NumChanges < s.limits.MaxChangesetChanges {
		return res, err
	}
	sweeper := s.NewSweeper(0)
	sweeper.Sweep(ctx)
	return res, nil
}
