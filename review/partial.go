package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
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
// comment, required then as for RequestChanges. The caller must be
// allowed to approve as Approve checks; chosen must name elements of the
// changeset (ErrBadRequest otherwise).
func (s *Service) ApproveElements(ctx context.Context, caller Caller, id int64, chosen []osmdata.Key, comment string) (PartialApproval, error) {
	var out PartialApproval
	d, err := s.decision(ctx, caller, id, osmdata.EventApproved, comment)
	if err != nil {
		return out, err
	}
	if len(chosen) == 0 {
		return out, fmt.Errorf("a partial approval names the elements it approves: %w", ErrBadRequest)
	}
	rows, err := s.store.ChangesetChanges(ctx, id)
	if err != nil {
		return out, fmt.Errorf("changes of changeset %d: %w", id, err)
	}
	changes := make(map[osmdata.Key]*storage.PendingChange, len(rows))
	var deleted []osmdata.Key
	for i := range rows {
		k := rows[i].Element.Key()
		changes[k] = &rows[i] // staging order: the latest row wins
	}
	var foreign []string
	for _, k := range chosen {
		if _, ok := changes[k]; !ok {
			foreign = append(foreign, k.String())
		}
	}
	if len(foreign) > 0 {
		return out, fmt.Errorf("changeset %d does not change %s: %w", id, strings.Join(foreign, ", "), ErrBadRequest)
	}
	for k, c := range changes {
		if !c.Element.Visible {
			deleted = append(deleted, k)
		}
	}
	users, err := currentUsers(ctx, s.store, deleted)
	if err != nil {
		return out, fmt.Errorf("users of the elements changeset %d deletes: %w", id, err)
	}
	out.Accepted, out.Added = closeUnder(chosen, changesetDependencies(changes, users))

	if len(out.Accepted) == len(changes) {
		if out.Approved, err = s.store.Decide(ctx, d); err != nil {
			return out, err
		}
		if out.Approved.ReviewState == osmdata.ReviewApproved {
			s.kick()
		}
		return out, nil
	}
	if strings.TrimSpace(comment) == "" {
		// The rest goes back to the contributor as changes requested,
		// which always says what to change.
		return out, fmt.Errorf("a comment to the contributor is required to return the %d elements left out: %w",
			len(changes)-len(out.Accepted), ErrBadRequest)
	}
	splitter, ok := s.store.(storage.Splitter)
	if !ok {
		return out, fmt.Errorf("partial approval of changeset %d: the store %T cannot split a changeset", id, s.store)
	}
	accepted := make(map[osmdata.Key]bool, len(out.Accepted))
	for _, k := range out.Accepted {
		accepted[k] = true
	}
	leave := make([]osmdata.Key, 0, len(changes)-len(out.Accepted))
	for k := range changes {
		if !accepted[k] {
			leave = append(leave, k)
		}
	}
	slices.SortFunc(leave, compareKeys)
	out.Approved, out.Returned, err = splitter.ApprovePart(ctx, d, leave)
	if errors.Is(err, storage.ErrInvalidSplit) {
		return out, fmt.Errorf("partial approval of changeset %d: %w: %w", id, ErrBadRequest, err)
	}
	if err != nil {
		return out, err
	}
	if out.Approved.ReviewState == osmdata.ReviewApproved {
		s.kick()
	}
	return out, nil
}
