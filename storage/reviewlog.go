package storage

import (
	"context"

	"github.com/geocommuns/geocommuns/osmdata"
)

// ReviewNote says who moved a changeset's review, and why: it becomes the
// review event written in the same transaction as the move.
type ReviewNote struct {
	ActorUID int64 // 0 for the system
	Scope    string
	Comment  string
}

// ReviewLog is the review event log (osmdata.ReviewEvent). Every method
// of the store that changes a review state writes its event in its own
// transaction: CloseChangeset and CloseDueChangesets (submitted, by the
// author or the system), DecideChangeset when it approves (approved, by
// the system), SetReviewState (the state's event, by note's actor),
// Merge (merged, or conflicted with the report's summary as comment).
// Event numbers are allocated under a lock held to commit, as merge_seq
// is, so commit order is Seq order and a rolled-back event leaves no gap.
type ReviewLog interface {
	// AddReviewEvent records an event that moves no state (commented,
	// assigned, escalated) on changeset ev.Changeset (ErrNotFound), and
	// returns it with Seq, Actor, State and Time filled in.
	AddReviewEvent(ctx context.Context, ev osmdata.ReviewEvent) (osmdata.ReviewEvent, error)
	// ReviewEvents returns up to limit events with Seq > afterSeq, in Seq
	// order: what the NATS relay publishes.
	ReviewEvents(ctx context.Context, afterSeq int64, limit int) ([]osmdata.ReviewEvent, error)
	// ChangesetReviewEvents returns every event of one changeset in Seq
	// order: its audit log and discussion.
	ChangesetReviewEvents(ctx context.Context, changeset int64) ([]osmdata.ReviewEvent, error)
	// WaitReviewEvent returns the latest event Seq as soon as it is
	// greater than afterSeq, blocking until an event commits (in this
	// process or, on PostgreSQL, any other) or ctx ends; a missed
	// notification delays it by at most a short fallback poll.
	WaitReviewEvent(ctx context.Context, afterSeq int64) (int64, error)
}
