package storage

import (
	"context"
	"errors"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
)

// Editing errors; the HTTP and Connect layers map them to OSM's statuses.
var (
	// ErrChangesetClosed: the changeset is not open (closed, submitted,
	// or past its closing time).
	ErrChangesetClosed = errors.New("changeset closed")
	// ErrNotOwner: the changeset belongs to another user.
	ErrNotOwner = errors.New("changeset owned by another user")
)

// Action is what a pending change does to its element, as the net effect
// of every operation the changeset staged on it: an element created and
// then modified in one changeset is a Create, created and deleted is a
// Delete with BaseVersion 0.
type Action uint8

const (
	Create Action = 1
	Modify Action = 2
	Delete Action = 3
)

func (a Action) String() string {
	switch a {
	case Create:
		return "create"
	case Modify:
		return "modify"
	case Delete:
		return "delete"
	}
	return "unknown"
}

// PendingChange is the content one changeset staged for one element
// (design.md). Pending rows are kept forever, after merge or rejection
// too: version resolution and audit need them.
type PendingChange struct {
	Changeset int64
	Author    int64
	Action    Action
	// Element is the content after the change: its ID is final (ids of
	// created elements are allocated at upload), its Version is the
	// provisional version the last diffResult gave, Visible is false for
	// a delete; Changeset, UID, User and Timestamp (the upload time) are
	// set.
	Element osmdata.Element
	// BaseVersion is the version the chain of changes rests on: an
	// authoritative version when BaseChangeset is 0, otherwise the
	// provisional version of the author's pending change in
	// BaseChangeset (stacking). 0 for an element created in this
	// changeset. Re-uploading an element already pending in the same
	// changeset keeps the row's base unless the upload cites the current
	// authoritative version, which becomes the new base.
	BaseVersion   int
	BaseChangeset int64
	// Seq orders every staged change of the whole store; the store sets
	// it on write. The latest Seq of an author's element is what the
	// author's overlay shows.
	Seq        int64
	UploadedAt time.Time
}

// ChangesetQuery filters GET /api/0.6/changesets. Zero fields do not
// filter.
type ChangesetQuery struct {
	IDs         []int64
	UID         int64
	DisplayName string
	Box         *osmdata.Box
	// ClosedAfter and CreatedBefore are OSM's time= filter: changesets
	// closed after the first time and created before the second.
	ClosedAfter   time.Time
	CreatedBefore time.Time
	OnlyOpen      bool
	OnlyClosed    bool
	ReviewStates  []osmdata.ReviewState
	// Limit is the number of changesets at most, newest first (OSM's
	// default is 100).
	Limit int
}

// NewChangeset is what PUT /changeset/create stores.
type NewChangeset struct {
	UID  int64
	User string
	Tags osmdata.Tags
}

// ChangesetIdle and ChangesetMaxAge are OSM's auto-close times: a
// changeset closes 1 h after its last upload, 24 h after it opened at
// the latest, or when it reaches MaxChangesetChanges.
const (
	ChangesetIdle       = time.Hour
	ChangesetMaxAge     = 24 * time.Hour
	MaxChangesetChanges = 10000
)

// Editing is the store's side of changesets and uploads. Times are the
// database's (now()), so every process agrees on when a changeset closes.
type Editing interface {
	// CreateChangeset opens a changeset: created_at now, closed_at
	// now + ChangesetIdle, is_open true, review state none.
	CreateChangeset(ctx context.Context, c NewChangeset) (osmdata.Changeset, error)
	// UpdateChangesetTags replaces the tags of an open changeset of uid
	// (ErrNotOwner, ErrChangesetClosed, ErrNotFound).
	UpdateChangesetTags(ctx context.Context, id, uid int64, tags osmdata.Tags) (osmdata.Changeset, error)
	// CloseChangeset closes an open changeset of uid and submits it:
	// is_open false, closed_at now, review state submitted.
	CloseChangeset(ctx context.Context, id, uid int64) (osmdata.Changeset, error)
	// CloseDueChangesets is the auto-close sweeper's step: it closes and
	// submits every open changeset whose closed_at has passed or that
	// holds MaxChangesetChanges changes, locking rows with FOR UPDATE SKIP
	// LOCKED so that every server process may sweep at once. It returns
	// the ids it closed.
	CloseDueChangesets(ctx context.Context) ([]int64, error)
	// SetReviewState records a review decision on changeset id (or
	// ErrNotFound) and returns the changeset. changes_requested and
	// conflicted reopen it (design.md: open, closed_at now +
	// ChangesetIdle, a fresh ChangesetMaxAge window from now); every
	// other state closes it if it was open. It checks no transition:
	// that is the review's job. ReviewNone is refused. The move's event
	// (kind osmdata.StateEvent(state), note's actor, scope and comment)
	// is written in the same transaction.
	SetReviewState(ctx context.Context, id int64, state osmdata.ReviewState, note ReviewNote) (osmdata.Changeset, error)
	// Changesets answers a ChangesetQuery, newest first.
	Changesets(ctx context.Context, q ChangesetQuery) ([]osmdata.Changeset, error)
	// ChangesetChanges returns the pending changes of a changeset in
	// staging order (Seq).
	ChangesetChanges(ctx context.Context, id int64) ([]PendingChange, error)
	// ChangesetParents returns the changesets a changeset builds on.
	ChangesetParents(ctx context.Context, id int64) ([]int64, error)
	// Pending reads the active pending changes of one author: those of
	// the author's changesets that are neither rejected nor merged.
	Pending(author int64) PendingReader
	// Stage runs fn in one write transaction for an upload to changeset
	// id by uid. It first locks the author (so uploads of one author are
	// serialized and see each other's pending changes) and the changeset,
	// and checks that the changeset is uid's (ErrNotOwner) and open
	// (ErrChangesetClosed). fn's error rolls everything back.
	Stage(ctx context.Context, id, uid int64, fn func(ctx context.Context, tx StageTx) error) error
}

// PendingReader reads one author's active pending changes, the latest
// (highest Seq) per element. Each method is one bulk statement.
type PendingReader interface {
	// PendingElements returns the pending changes of the given elements.
	PendingElements(ctx context.Context, t osmdata.ElementType, ids []int64) ([]PendingChange, error)
	// PendingNodesInBox returns the pending node changes whose new
	// position is inside box (visible ones; a pending delete is found
	// through PendingElements).
	PendingNodesInBox(ctx context.Context, box osmdata.Box) ([]PendingChange, error)
	// PendingReferencing returns the pending way and relation changes
	// whose content refers to any element of type t with these ids (way
	// nodes, relation members).
	PendingReferencing(ctx context.Context, t osmdata.ElementType, ids []int64) ([]PendingChange, error)
	// PendingVersion returns the author's pending change of an element
	// whose provisional version is version, in any changeset of the
	// author's that is not rejected (merged ones included: their
	// provisional versions stay citable), or ErrNotFound. It is the first
	// step of design.md's version resolution.
	PendingVersion(ctx context.Context, key osmdata.Key, version int) (PendingChange, error)
	// MergedVersions is PendingVersion in bulk for elements that have no
	// active pending change, answering only which change it is: for each
	// cited version that one of the author's merged changesets gave the
	// element (as its row's version or as one a later upload to that
	// changeset superseded), the latest such changeset and the final
	// version its merge gave the element. Cited versions no merged
	// changeset of the author's gave are left out, and so may be a
	// Current one whose latest such change has that final version (the
	// current version is then that change's). The rest come in element,
	// then version order. It reads nothing more when the author has no
	// merged changeset, and otherwise is one statement whatever the
	// number cited.
	MergedVersions(ctx context.Context, cited []CitedVersion) ([]MergedProvisional, error)
}

// CitedVersion is a version an upload cites of an element.
type CitedVersion struct {
	Element osmdata.Key
	Version int
	// Current says that Version is the element's current authoritative
	// version. Most cited versions are, and few of those were given by
	// a merged change with another final version: the store may find
	// these few without looking at every merged change.
	Current bool
}

// MergedProvisional is a provisional version that one of an author's
// merged changesets gave an element, and what the merge made of it.
type MergedProvisional struct {
	Cited     CitedVersion
	Changeset int64
	// Version is the provisional version of the changeset's row of the
	// element, whose content the merge took: the cited one, or a later
	// one when a later upload to the changeset superseded it.
	Version int
	// FinalVersion is the version the merge gave the element.
	FinalVersion int
}

// StageTx is what an upload may do inside its transaction.
type StageTx interface {
	// Reader reads the authoritative dataset inside the transaction.
	Reader
	// LockedChangeset is the locked changeset the upload goes to, as it
	// was when Stage began.
	LockedChangeset() osmdata.Changeset
	// Pending reads the uploading author's active pending changes inside
	// the transaction.
	Pending() PendingReader
	// ConflictReport is Merger.MergeConflicts of the locked changeset,
	// read inside the transaction: an upload that read it on the store's
	// other connections would hold its own while waiting for one, and as
	// many such uploads as the pool has connections would wait forever.
	ConflictReport(ctx context.Context) ([]MergeConflict, error)
	// AllocateIDs hands out n final ids of type t.
	AllocateIDs(ctx context.Context, t osmdata.ElementType, n int) ([]int64, error)
	// WritePending writes the changes, replacing any pending change of
	// the same element in the same changeset, and sets Seq.
	WritePending(ctx context.Context, changes []PendingChange) error
	// AddParents records that the changeset builds on these changesets of
	// the same author.
	AddParents(ctx context.Context, parents []int64) error
	// UpdateChangeset records the upload on the changeset: numChanges
	// more changes, the box grown to include box (when hasBox), and
	// closed_at moved to now + ChangesetIdle but never past
	// created_at + ChangesetMaxAge. It returns the updated changeset.
	UpdateChangeset(ctx context.Context, numChanges int, box osmdata.Box, hasBox bool) (osmdata.Changeset, error)
}

// StateReader is an optional part of a StageTx. CurrentStates returns the
// current authoritative version of each of the distinct ids the dataset
// has, as CurrentElements does but in no particular order and holding
// only what an upload checks and builds on: Type, ID, Version, Visible, a
// node's Lat and Lon, a way's Nodes and a relation's Members; no tags,
// changeset, user or timestamp. Uploads read the elements they mention
// through it when the store's StageTx has it, and through CurrentElements
// otherwise.
type StateReader interface {
	CurrentStates(ctx context.Context, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error)
}

// EarlyReader is an optional part of an Editing store: the work of an
// upload that needs no transaction, which an upload may do on the
// store's other connections while it still reads its document. Its
// methods are safe for concurrent use.
type EarlyReader interface {
	// CurrentStates is StateReader's, read outside the upload's
	// transaction and before it: what the client built its document on
	// was committed before it sent the document, so such a read sees it;
	// a merge committed while the document arrives may be missed, as it
	// may be after a read inside the transaction, and the merge of the
	// upload checks the versions again.
	StateReader
	// AllocateIDs hands out n final ids of type t as StageTx.AllocateIDs
	// does; ids an upload took and did not use (it failed) are not handed
	// out again, as with ids taken by a transaction that rolled back.
	AllocateIDs(ctx context.Context, t osmdata.ElementType, n int) ([]int64, error)
}
