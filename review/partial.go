package review

import (
	"context"
	"errors"

	"github.com/geocommuns/geocommuns/osmdata"
)

// AddedElement is an element a partial approval took in beside those the
// reviewer chose, because one of them needs it.
type AddedElement struct {
	Element osmdata.Key
	// Because is the chosen (or already added) element that needs it.
	Because osmdata.Key
	// Reason says how, for the reviewer: "way 7 uses node -> created in
	// this changeset", "deleting node 5 needs way 7's edit that releases
	// it".
	Reason string
}

// PartialApproval is the outcome of ApproveElements.
type PartialApproval struct {
	// Accepted are the elements approved: the chosen ones and Added, in
	// element order.
	Accepted []osmdata.Key
	Added    []AddedElement
	// Approved is the changeset after the decision (approved, or still
	// submitted when other scopes must approve too).
	Approved osmdata.Changeset
	// Returned is the new changeset holding the rest, returned to the
	// contributor as changes_requested; zero when the accepted set is the
	// whole changeset (then it is a plain approval).
	Returned osmdata.Changeset
}

// ApproveElements approves part of submitted changeset id (partial
// accept): the elements chosen, closed under dependencies (a way or
// relation brings the elements it uses that this changeset creates; a
// node or way deletion brings this changeset's edits of the ways and
// relations that used it, which release it), and returns the rest to the
// contributor in a new changeset (storage.Splitter.ApprovePart) with
// comment. The caller must be allowed to approve as Approve checks; chosen
// must name elements of the changeset (ErrBadRequest otherwise).
func (s *Service) ApproveElements(ctx context.Context, caller Caller, id int64, chosen []osmdata.Key, comment string) (PartialApproval, error) {
	return PartialApproval{}, errors.New("ApproveElements: not built yet")
}
