package replication

import (
	"context"
	"errors"
	"time"

	"github.com/geocommuns/geocommuns/storage"
)

// Timing of the job's waits.
const (
	// leaseCheckPeriod bounds how long a leader cutting one file per merge
	// waits for a merge before checking that it still holds the lease.
	leaseCheckPeriod = 30 * time.Second
	// Retries after a failure back off from retryMin to retryMax.
	retryMin = time.Second
	retryMax = 30 * time.Second
)

// Run cuts files until ctx ends: it waits for the lease (another process
// may hold it), cuts what the outbox holds beyond the latest file at once,
// then at every interval, or after every merge when the interval is zero.
// An interval without merges writes nothing. Failures are logged and
// retried; a lost lease is given up and waited for again.
func (c *Cutter) Run(ctx context.Context) {
	backoff := retryMin
	for ctx.Err() == nil {
		lease, err := c.store.LeadReplication(ctx)
		if err != nil {
			if ctx.Err() == nil {
				c.logger.Error("replication: take the cutter's lease", "err", err, "retry_in", backoff)
				backoff = sleep(ctx, backoff)
			}
			continue
		}
		c.logger.Info("replication: cutting files", "interval", c.cfg.Interval.String())
		if c.lead(ctx, lease) {
			backoff = retryMin
		} else {
			backoff = sleep(ctx, backoff)
		}
		if err := lease.Release(); err != nil {
			c.logger.Warn("replication: release the cutter's lease", "err", err)
		}
	}
}

// lead cuts while the lease holds and ctx lasts. It returns false after a
// failure, for Run to back off before leading again.
func (c *Cutter) lead(ctx context.Context, lease storage.ReplicationLease) bool {
	var ticker *time.Ticker
	if c.cfg.Interval > 0 {
		ticker = time.NewTicker(c.cfg.Interval)
		defer ticker.Stop()
	}
	for {
		if err := lease.Check(ctx); err != nil {
			if ctx.Err() == nil {
				c.logger.Warn("replication: the cutter's lease may be lost", "err", err)
			}
			return false
		}
		lastMerge, err := c.cutAll(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return true
			}
			// Refused by the store: another cutter wrote that number, so
			// this one no longer leads alone; lead again.
			if errors.Is(err, storage.ErrReplicationSeq) {
				c.logger.Warn("replication: another process cut the same file", "err", err)
			} else {
				c.logger.Error("replication: cut", "err", err)
			}
			return false
		}
		if ticker != nil {
			select {
			case <-ctx.Done():
				return true
			case <-ticker.C:
			}
			continue
		}
		waitCtx, cancel := context.WithTimeout(ctx, leaseCheckPeriod)
		_, err = c.store.WaitMerge(waitCtx, lastMerge)
		cancel()
		if ctx.Err() != nil {
			return true
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			c.logger.Error("replication: wait for a merge", "err", err)
			return false
		}
	}
}

// cutAll cuts files until the outbox has no merge beyond the latest file,
// and returns the last merge_seq written.
func (c *Cutter) cutAll(ctx context.Context) (int64, error) {
	for {
		st, ok, err := c.Cut(ctx)
		if err != nil {
			return 0, err
		}
		if !ok {
			latest, err := c.store.LatestReplicationState(ctx)
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return 0, err
			}
			return latest.LastMergeSeq, nil
		}
		c.logger.Debug("replication: file cut", "seq", st.Seq, "merges_from", st.FirstMergeSeq, "merges_to", st.LastMergeSeq,
			"timestamp", st.Timestamp)
	}
}

// sleep waits d or until ctx ends, and returns the next backoff.
func sleep(ctx context.Context, d time.Duration) time.Duration {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	return min(2*d, retryMax)
}
