package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
)

// Merge errors.
var (
	// ErrMergeConflict is wrapped by a *ConflictError: the changeset
	// became conflicted and nothing of it was applied.
	ErrMergeConflict = errors.New("merge conflict")
	// ErrNotMergeable refuses a changeset whose review state does not
	// allow a merge (still open, already merged, rejected, conflicted).
	// Nothing changes.
	ErrNotMergeable = errors.New("changeset cannot be merged in its review state")
)

// Hard constraints the merge re-checks on the merged result (design.md).
const (
	MaxWayNodes  = 2000
	MaxTagLength = 255 // characters, of a key and of a value
)

// ConflictKind names why one element kept its changeset from merging.
type ConflictKind string

const (
	// ConflictBaseMoved: the element's current version is no longer the
	// one the change was based on.
	ConflictBaseMoved ConflictKind = "base_moved"
	// ConflictMissingReference: a way node or relation member is not
	// visible in the merged result.
	ConflictMissingReference ConflictKind = "missing_reference"
	// ConflictStillUsed: a deleted element is still used by a visible way
	// or relation.
	ConflictStillUsed ConflictKind = "still_used"
	// ConflictTooManyNodes: a way has more than MaxWayNodes nodes.
	ConflictTooManyNodes ConflictKind = "too_many_nodes"
	// ConflictTagTooLong: a tag key or value is longer than MaxTagLength.
	ConflictTagTooLong ConflictKind = "tag_too_long"
	// ConflictParentNotMerged: the change builds on a parent changeset
	// that is not merged yet. The child stays as it was (not conflicted):
	// it merges once the parent has.
	ConflictParentNotMerged ConflictKind = "parent_not_merged"
	// ConflictParentFailed: a parent changeset ended rejected or
	// conflicted.
	ConflictParentFailed ConflictKind = "parent_failed"
	// ConflictEdited: the element changed since the change's base and the
	// three-way merge (review/rebase) found fields both sides changed
	// differently; Fields and the three contents say which.
	ConflictEdited ConflictKind = "edited"
)

// ConflictField is one field of an element that the pending change and
// the dataset changed differently since the base: Kind is "tag",
// "position", "nodes", "members" or "deleted", Key the tag key of a tag;
// the values are as a person reads them, Absent* telling a missing value
// (a tag not set, an element deleted) from an empty one.
type ConflictField struct {
	Kind, Key                                      string
	Base, Current, Pending                         string
	AbsentInBase, AbsentInCurrent, AbsentInPending bool
}

// MergeConflict is one line of a conflicted changeset's report.
type MergeConflict struct {
	Element osmdata.Key
	Kind    ConflictKind
	// BaseVersion is the authoritative version the change rests on (the
	// parent's final version for a stacked change, 0 for a create), and
	// CurrentVersion the dataset's at merge time (0 when it has none).
	BaseVersion, CurrentVersion int
	// Parent is the parent changeset, for the parent kinds.
	Parent  int64
	Message string
	// Fields, Base, Current and Pending are the structured report of a
	// ConflictEdited line: what both sides changed, and the element's
	// content at the base, now, and as the changeset has it (nil when
	// absent: a create has no base, a deleted element no content). The
	// store keeps them with the line.
	Fields                 []ConflictField
	Base, Current, Pending *osmdata.Element
}

// ConflictError lists why a merge did not happen.
type ConflictError struct {
	Changeset int64
	Conflicts []MergeConflict
}

func (e *ConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "merge of changeset %d: %d conflicts", e.Changeset, len(e.Conflicts))
	for i, c := range e.Conflicts {
		if i == 5 {
			fmt.Fprintf(&b, "; …")
			break
		}
		fmt.Fprintf(&b, "; %s: %s", c.Element, c.Message)
	}
	return b.String()
}

func (e *ConflictError) Unwrap() error { return ErrMergeConflict }

// OnlyWaitsForParents reports whether every conflict is a parent not yet
// merged: the changeset is not conflicted and may be merged again later.
func (e *ConflictError) OnlyWaitsForParents() bool {
	for _, c := range e.Conflicts {
		if c.Kind != ConflictParentNotMerged {
			return false
		}
	}
	return len(e.Conflicts) > 0
}

// OnlyMovedBases reports whether every conflict is a base that moved
// (ConflictBaseMoved not naming a parent): the merge job may rebase the
// changes and try again.
func (e *ConflictError) OnlyMovedBases() bool {
	for _, c := range e.Conflicts {
		if c.Kind != ConflictBaseMoved || c.Parent != 0 {
			return false
		}
	}
	return len(e.Conflicts) > 0
}

// MergedVersion is one element's step in a merge: its version before
// (0 for an element the merge created) and its final version.
type MergedVersion struct {
	Element                osmdata.Key
	OldVersion, NewVersion int
}

// OutboxEntry is the record of one merge, written in its transaction.
type OutboxEntry struct {
	Seq       int64
	Changeset int64
	MergedAt  time.Time
	Versions  []MergedVersion
}

// Merger is the merge (design.md): the one way pending changes become
// authoritative.
type Merger interface {
	// Merge makes changeset id's pending changes authoritative in one
	// transaction, under the merge lock that also allocates merge_seq:
	// one final version per element (the net effect), timestamped with
	// the merge time in whole seconds, the changeset merged with its
	// final counts and box, and the outbox row. A changeset whose bases
	// moved or whose merged result breaks a hard constraint gets nothing
	// applied, becomes conflicted with its report (MergeConflicts), and
	// Merge returns a *ConflictError. A parent not yet merged returns a
	// *ConflictError too (OnlyWaitsForParents) but leaves the changeset
	// as it was. A changeset neither submitted nor approved is refused
	// with ErrNotMergeable.
	Merge(ctx context.Context, id int64) (OutboxEntry, error)
	// MergeConflicts returns the report of the changeset's last
	// conflicted merge (or RecordConflicts), in element order, each line
	// with its structured report (Fields and contents) when it has one.
	MergeConflicts(ctx context.Context, id int64) ([]MergeConflict, error)
	// Outbox returns up to limit merges with merge_seq > afterSeq, in
	// merge_seq order.
	Outbox(ctx context.Context, afterSeq int64, limit int) ([]OutboxEntry, error)
	// LastMergeSeq is the merge_seq of the latest merge (0 before any).
	LastMergeSeq(ctx context.Context) (int64, error)
}
