package review

import (
	"context"
	"errors"

	"github.com/geocommuns/geocommuns/osmdata"
)

// RevertSkip is an element a revert leaves as it is, and why: a later
// edit by someone else conflicts with undoing it, or depends on what it
// made (a way now using a node the reverted changeset created).
type RevertSkip struct {
	Element osmdata.Key
	// By is the later changeset that keeps it, 0 when not one changeset.
	By     int64
	Reason string
}

// Revert is the outcome of RevertChangeset.
type Revert struct {
	// Changeset is the revert: a new changeset owned by the caller,
	// submitted for review like any other (its author cannot approve it).
	Changeset osmdata.Changeset
	// Reverted are the elements the revert changes, in element order.
	Reverted []osmdata.Key
	// Skipped are the elements it leaves, with the reason.
	Skipped []RevertSkip
}

// RevertChangeset reverts merged changeset id for caller (any signed-in
// contributor): the inverse of each of its final versions against the
// current data (a create deleted, a modify restored to the version
// before, a delete undone), rebased over later edits by the three-way
// merge (review/rebase); what a later edit changed in conflict, or
// depends on, is skipped and reported, never overwritten. The revert is
// staged in a new changeset of the caller tagged comment=comment (a
// default naming id when empty) and submitted. ErrReviewState when id is
// not merged; ErrBadRequest when nothing is left to revert.
func (s *Service) RevertChangeset(ctx context.Context, caller Caller, id int64, comment string) (Revert, error) {
	return Revert{}, errors.New("RevertChangeset: not built yet")
}
