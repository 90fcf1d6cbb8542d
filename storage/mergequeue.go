package storage

import (
	"context"

	"github.com/geocommuns/geocommuns/osmdata"
)

// MergeQueue is how the merge job (package review) finds its work in a
// store shared by every server process. A submitted changeset first waits
// for the review policy's decision; the policy approves it (the job then
// merges it) or leaves it submitted, queued for reviewers. The decision is
// recorded in the store, so a process that dies between a submission and
// its merge loses nothing: any other process picks the work up.
type MergeQueue interface {
	// UndecidedChangesets returns up to limit submitted changesets the
	// policy has not decided on since their (latest) submission, oldest
	// submission first.
	UndecidedChangesets(ctx context.Context, limit int) ([]osmdata.Changeset, error)
	// DecideChangeset records the policy's decision on an undecided
	// submitted changeset: approve makes it approved; otherwise it stays
	// submitted, queued for reviewers, and UndecidedChangesets no longer
	// lists it. It reports false and changes nothing when the changeset is
	// no longer an undecided submitted one (another process decided first,
	// or a reviewer or the author moved it on).
	DecideChangeset(ctx context.Context, id int64, approve bool) (bool, error)
	// ApprovedChangesets returns the ids of up to limit approved
	// changesets, lowest id first (a stacked child is usually younger
	// than its parents).
	ApprovedChangesets(ctx context.Context, limit int) ([]int64, error)
}
