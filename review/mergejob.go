package review

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// DefaultMergePoll is how often the merge job looks for work it was not
// told about: submissions and approvals in other processes, and work a
// crashed process left.
const DefaultMergePoll = time.Second

// mergeBatch is how many changesets one look at the queue takes.
const mergeBatch = 500

// MergeJob asks the policy about every new submission and merges every
// approved changeset. Every server process runs one on the shared store:
// the queue lives in the store (storage.MergeQueue), decisions are
// conditional updates, and the merge itself re-checks the review state
// under the merge lock, so a changeset is decided once and merged once
// whichever processes see it, and a process that dies mid-merge loses
// nothing (its transaction rolls back, another process merges).
type MergeJob struct {
	store  storage.Store
	policy Policy
	poll   time.Duration
	logger *slog.Logger
	kick   chan struct{}
	// escalated is when the job last escalated waiting changesets.
	escalated time.Time
}

// NewMergeJob returns the merge job of store. A zero poll is
// DefaultMergePoll; a nil logger discards.
func NewMergeJob(store storage.Store, policy Policy, poll time.Duration, logger *slog.Logger) *MergeJob {
	if poll <= 0 {
		poll = DefaultMergePoll
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &MergeJob{store: store, policy: policy, poll: poll, logger: logger, kick: make(chan struct{}, 1)}
}

// Kick makes Run look at the queue now rather than at its next poll: a
// changeset submitted in this process merges without waiting. It never
// blocks.
func (j *MergeJob) Kick() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// Run works through the queue at once, then on every Kick and every poll,
// until ctx is done. A failing step is logged and retried at the next
// one: a store briefly unavailable must not stop merging for good.
func (j *MergeJob) Run(ctx context.Context) {
	ticker := time.NewTicker(j.poll)
	defer ticker.Stop()
	for {
		if _, err := j.Step(ctx); err != nil && ctx.Err() == nil {
			// The step is retried at the next poll or kick: a database
			// that is away is waited out, not a reason to stop merging.
			if storage.IsUnavailable(err) {
				j.logger.Warn("merge job: the store is unavailable; retrying", "retry_in", j.poll, "err", err)
			} else {
				j.logger.Error("merge job step failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-j.kick:
		case <-ticker.C:
		}
	}
}

// Step decides on every undecided submission and merges every approved
// changeset it can, repeating while that changes anything (a merged
// parent lets its children merge). It returns the number of merges this
// process made.
func (j *MergeJob) Step(ctx context.Context) (int, error) {
	if err := j.escalate(ctx); err != nil {
		return 0, err
	}
	merged := 0
	for {
		decided, err := j.decide(ctx)
		if err != nil {
			return merged, err
		}
		n, changed, err := j.mergeApproved(ctx)
		merged += n
		if err != nil {
			return merged, err
		}
		if decided == 0 && !changed {
			return merged, nil
		}
	}
}

// decide asks the policy about the submissions nobody has decided on.
func (j *MergeJob) decide(ctx context.Context) (int, error) {
	undecided, err := j.store.UndecidedChangesets(ctx, mergeBatch)
	if err != nil {
		return 0, err
	}
	decided := 0
	for _, cs := range undecided {
		author, err := j.store.Account(ctx, cs.UID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return decided, fmt.Errorf("author of changeset %d: %w", cs.ID, err)
		}
		v, err := j.policy.Decide(ctx, cs, author)
		if err != nil {
			return decided, fmt.Errorf("policy on changeset %d: %w", cs.ID, err)
		}
		ok, err := j.store.DecideChangeset(ctx, cs.ID, v.Approve)
		if err != nil {
			return decided, err
		}
		if !ok {
			continue
		}
		decided++
		j.logger.Info("changeset decided", "changeset", cs.ID, "approved", v.Approve, "rejected", v.Reject)
		if v.Reject {
			if _, err := j.store.SetReviewState(ctx, cs.ID, osmdata.ReviewRejected, storage.ReviewNote{Comment: v.Comment}); err != nil {
				return decided, fmt.Errorf("reject changeset %d: %w", cs.ID, err)
			}
		}
	}
	return decided, nil
}

// mergeApproved merges the approved changesets, lowest id first. changed
// reports whether any changeset left the approved state (merged or
// conflicted), which may unblock others.
func (j *MergeJob) mergeApproved(ctx context.Context) (merged int, changed bool, err error) {
	approved, err := j.store.ApprovedChangesets(ctx, mergeBatch)
	if err != nil {
		return 0, false, err
	}
	for _, id := range approved {
		if ctx.Err() != nil {
			return merged, changed, ctx.Err()
		}
		if checker, ok := j.policy.(MergeChecker); ok {
			waiting, err := j.waitsForParents(ctx, id)
			if err != nil {
				return merged, changed, err
			}
			if waiting {
				// Validated when its parents have merged: the data it
				// builds on is theirs.
				continue
			}
			pass, reason, err := checker.BeforeMerge(ctx, id)
			if err != nil {
				return merged, changed, fmt.Errorf("check changeset %d before merge: %w", id, err)
			}
			if !pass {
				if _, err := j.store.SetReviewState(ctx, id, osmdata.ReviewConflicted, storage.ReviewNote{Comment: reason}); err != nil {
					return merged, changed, fmt.Errorf("block changeset %d: %w", id, err)
				}
				changed = true
				j.logger.Warn("changeset blocked by validation", "changeset", id, "reason", reason)
				continue
			}
		}
		start := time.Now()
		// A merge that has begun runs to its end, also when the process
		// is asked to stop: its work is not lost to a rollback.
		entry, err := j.merge(context.WithoutCancel(ctx), id)
		var conflict *storage.ConflictError
		switch {
		case err == nil:
			merged++
			changed = true
			j.logger.Info("changeset merged", "changeset", id, "merge_seq", entry.Seq,
				"elements", len(entry.Versions), "duration", time.Since(start))
		case errors.As(err, &conflict) && conflict.OnlyWaitsForParents():
			// Stays approved; merges after its parents.
		case errors.As(err, &conflict):
			changed = true
			j.logger.Warn("changeset conflicted", "changeset", id, "conflicts", len(conflict.Conflicts), "err", err)
		case errors.Is(err, storage.ErrNotMergeable):
			// Another process merged it (or a reviewer moved it) since
			// the queue was read.
		case errors.Is(err, errRebaseUnsettled):
			// Stays approved; the next step rebases it again, and the
			// other changesets merge meanwhile.
			j.logger.Warn("changeset left for the next step", "changeset", id, "err", err)
		default:
			return merged, changed, err
		}
	}
	return merged, changed, nil
}

// waitsForParents says whether a changeset builds on a changeset that has
// not merged yet.
func (j *MergeJob) waitsForParents(ctx context.Context, id int64) (bool, error) {
	parents, err := j.store.ChangesetParents(ctx, id)
	if err != nil {
		return false, fmt.Errorf("parents of changeset %d: %w", id, err)
	}
	for _, p := range parents {
		cs, err := j.store.Changeset(ctx, p)
		if err != nil {
			return false, fmt.Errorf("parent %d of changeset %d: %w", p, id, err)
		}
		if cs.ReviewState != osmdata.ReviewMerged {
			return true, nil
		}
	}
	return false, nil
}

// escalate lets an Escalator policy mark the changesets waiting too long,
// every EscalationPeriod.
func (j *MergeJob) escalate(ctx context.Context) error {
	esc, ok := j.policy.(Escalator)
	if !ok || time.Since(j.escalated) < EscalationPeriod {
		return nil
	}
	ids, err := esc.Escalate(ctx, time.Now())
	if err != nil {
		return err
	}
	j.escalated = time.Now()
	if len(ids) > 0 {
		j.logger.Warn("changesets escalated: waiting for review too long", "changesets", ids)
	}
	return nil
}
