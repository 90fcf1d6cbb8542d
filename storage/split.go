package storage

import (
	"fmt"

	"github.com/geocommuns/geocommuns/osmdata"
)

// CheckSplit refuses a split of a changeset of total changes whose leave
// names asked distinct elements, of which found are the changeset's.
func CheckSplit(id int64, total, found, asked int) error {
	switch {
	case asked == 0:
		return fmt.Errorf("the approval of changeset %d leaves out nothing: %w", id, ErrInvalidSplit)
	case found < asked:
		return fmt.Errorf("%d of the %d elements left out are not in changeset %d: %w", asked-found, asked, id, ErrInvalidSplit)
	case found == total:
		return fmt.Errorf("the approval of changeset %d leaves out all its %d elements: %w", id, total, ErrInvalidSplit)
	}
	return nil
}

// SplitEvents are ApprovePart's events in the order of the log: the
// split on both changesets, each naming the other, the request for
// changes that returns the new one to its author, then the approval as
// Decide records it. The new changeset has no review state until the
// request gives it one.
func SplitEvents(d Decision, returned int64, approval osmdata.ReviewEvent) []osmdata.ReviewEvent {
	return []osmdata.ReviewEvent{
		{Changeset: d.Changeset, Kind: osmdata.EventSplit, ActorUID: d.Reviewer, State: osmdata.ReviewSubmitted,
			Comment: fmt.Sprintf("the changes left out of the approval moved to changeset %d", returned)},
		{Changeset: returned, Kind: osmdata.EventSplit, ActorUID: d.Reviewer, State: osmdata.ReviewNone,
			Comment: fmt.Sprintf("the changes left out of the approval of changeset %d", d.Changeset)},
		{Changeset: returned, Kind: osmdata.EventChangesRequested, ActorUID: d.Reviewer, Comment: d.Comment,
			State: osmdata.ReviewChangesRequested},
		approval,
	}
}
