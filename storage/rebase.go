package storage

import (
	"context"
	"errors"

	"github.com/geocommuns/geocommuns/osmdata"
)

// ErrRebaseStale refuses a rebase of pending changes that moved since the
// caller read them (a re-upload, another process's rebase): nothing was
// written; read again and redo it.
var ErrRebaseStale = errors.New("pending changes changed since they were read")

// ErrInvalidSplit refuses a partial approval whose left-out elements are
// none, all, or not the changeset's (400).
var ErrInvalidSplit = errors.New("a partial approval leaves out some of the changeset's elements, not none or all")

// MergeOptions refine a merge.
type MergeOptions struct {
	// KeepOnMovedBases: when the only conflicts are bases that moved
	// (ConflictError.OnlyMovedBases), return the *ConflictError without
	// recording it or changing the changeset, for the caller to rebase the
	// changes (RebasePending) and merge again (design.md: "redo if not").
	KeepOnMovedBases bool
}

// RebasedChange is one pending change rebased onto the element's current
// version by the three-way merge (review/rebase).
type RebasedChange struct {
	// Element is the new pending content: the merge of the change with
	// what happened since its base. Its Version stays the provisional
	// version the upload gave (citations of it still resolve); Visible,
	// tags, position, nodes and members are the merged ones.
	Element osmdata.Element
	// FromBaseVersion and FromBaseChangeset are the base the caller read
	// the change with: the row must still rest on them (and its content
	// must not have been re-uploaded since, FromSeq), or the whole call is
	// ErrRebaseStale.
	FromBaseVersion   int
	FromBaseChangeset int64
	FromSeq           int64
	// ToBaseVersion is the current authoritative version merged against,
	// the change's new base (its base changeset becomes 0).
	ToBaseVersion int
}

// Rebaser is what the merge job needs to combine concurrent edits field
// by field (issue 7) rather than refuse the later changeset. Both
// backends implement it; a store is asserted to it where it is used.
type Rebaser interface {
	// MergeWith is Merge with options.
	MergeWith(ctx context.Context, id int64, opts MergeOptions) (OutboxEntry, error)
	// RebasePending replaces the content and base of pending changes of
	// changeset id, in one transaction, each only if its row is still as
	// the caller read it (else ErrRebaseStale, nothing written). The
	// changeset must be submitted or approved (ErrNotMergeable) and keeps
	// its review state; its approvals stand (the merge revalidates).
	RebasePending(ctx context.Context, id int64, changes []RebasedChange) error
	// RecordConflicts makes a submitted or approved changeset conflicted
	// with report, exactly as a conflicted Merge does (reopened for its
	// author, event conflicted with the report's summary, MergeConflicts
	// returns the report with its structured lines). ErrNotMergeable in
	// any other state.
	RecordConflicts(ctx context.Context, id int64, report []MergeConflict) error
}

// Splitter approves part of a changeset (partial accept, issue 7).
type Splitter interface {
	// ApprovePart records d (an approval, d.Kind EventApproved, checked as
	// Decide checks it) for the changeset's elements other than leave, in
	// one transaction: the pending changes of leave move to a new
	// changeset of the author with the same tags, which builds on d's
	// changeset (its parent) and is returned to the author: open,
	// changes_requested (reopened as design.md says), with d.Comment as
	// the event's comment. Events: split on both changesets (each
	// comment naming the other as "changeset N"), changes_requested on the
	// new one, and the approval (approved, when it completes the
	// changeset's approvals) on d's. leave must be a non-empty strict
	// subset of the changeset's elements (ErrInvalidSplit otherwise). It returns d's changeset after
	// the decision and the new changeset.
	ApprovePart(ctx context.Context, d Decision, leave []osmdata.Key) (approved, returned osmdata.Changeset, err error)
}
