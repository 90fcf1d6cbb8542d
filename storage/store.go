// Package storage defines the one interface every geocommuns store
// implements, and the logic built only on that interface (the map call's
// steps). Backends live in storage/postgres and storage/sqlite; the
// conformance suite that both must pass lives in storage/storagetest.
package storage

import (
	"context"
	"errors"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
)

var (
	// ErrNotFound means no element, version, changeset or user has that id.
	ErrNotFound = errors.New("not found")
	// ErrNotEmpty refuses an import into a dataset that already has
	// elements, changesets or accounts: imported users and changesets keep
	// their ids, so an account or changeset made before the import could
	// take over an imported contributor's history.
	ErrNotEmpty = errors.New("the dataset is not empty (it has elements, changesets or accounts): import loads the initial dataset only, before any account is created")
	// ErrVersionConflict refuses an Apply whose versions do not follow the
	// current ones.
	ErrVersionConflict = errors.New("version conflict")
)

// Store is a geocommuns dataset. Every method is safe for concurrent use;
// every write is one transaction.
type Store interface {
	Reader
	Accounts
	Editing
	Merger
	MergeQueue
	ChangeFeed
	ReviewLog
	Reviews
	Operations
	// Import loads the initial dataset from src in one transaction. It
	// refuses a dataset that already has elements, changesets or accounts
	// (ErrNotEmpty), accepts
	// dangling references, records the users and changesets the elements
	// name, and moves the id sequences above the largest imported ids. On
	// any error, src's included, nothing is kept.
	Import(ctx context.Context, src ElementSource) (ImportResult, error)
	// Apply appends versions to the dataset in one transaction. Each
	// element's Version must be one more than its current version (1 for
	// an element the dataset does not have), in the order given;
	// otherwise Apply returns an error wrapping ErrVersionConflict and
	// writes nothing. The merge issue builds the real merge on it.
	Apply(ctx context.Context, versions []osmdata.Element) error
	// NextIDs reports the first id each sequence would hand out.
	NextIDs(ctx context.Context) (IDs, error)
	Close() error
}

// Reader is every read the API needs, each one bulk statement. The map
// call and the author's overlay are built on it, so a decorator of Reader
// (the overlay) serves every read call unchanged.
type Reader interface {
	// CurrentElements returns the current version (visible or deleted) of
	// each id the dataset has, sorted by id; unknown ids are left out.
	CurrentElements(ctx context.Context, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error)
	// ElementVersion returns one version, or ErrNotFound.
	ElementVersion(ctx context.Context, t osmdata.ElementType, id int64, version int) (osmdata.Element, error)
	// History returns every version of an element, oldest first, or
	// ErrNotFound when it has none.
	History(ctx context.Context, t osmdata.ElementType, id int64) ([]osmdata.Element, error)
	// NodesInBox returns the visible current nodes inside box, edges
	// included, sorted by id: at most limit+1 of them, so that a caller
	// can tell "more than limit" without reading them all.
	NodesInBox(ctx context.Context, box osmdata.Box, limit int) ([]osmdata.Element, error)
	// WaysUsingNodes returns the visible current ways that use any of the
	// nodes, sorted by id.
	WaysUsingNodes(ctx context.Context, nodeIDs []int64) ([]osmdata.Element, error)
	// RelationsWithMembers returns the visible current relations having a
	// member of type t with any of the ids, sorted by id.
	RelationsWithMembers(ctx context.Context, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error)
	// Changeset returns one changeset, or ErrNotFound.
	Changeset(ctx context.Context, id int64) (osmdata.Changeset, error)
	// Export calls fn for every visible current element: nodes, then ways,
	// then relations, each by ascending id, from one consistent snapshot.
	Export(ctx context.Context, fn func(*osmdata.Element) error) error
	// Counts counts the dataset's current visible elements and versions.
	Counts(ctx context.Context) (Counts, error)
}

// ElementSource yields elements in OSM file order (nodes, ways, relations,
// each by ascending id), one version per element. Next returns io.EOF at
// the end; any other error aborts the import.
type ElementSource interface {
	Next() (*osmdata.Element, error)
}

// ImportResult summarizes an import.
type ImportResult struct {
	Nodes, Ways, Relations int64
	Users, Changesets      int64
	Duration               time.Duration
}

// Elements is the number of elements imported.
func (r ImportResult) Elements() int64 { return r.Nodes + r.Ways + r.Relations }

// Counts of the current dataset.
type Counts struct {
	Nodes, Ways, Relations int64 // current and visible
	Versions               int64 // all versions of all elements
	Changesets, Users      int64
}

// IDs is the next id of each sequence.
type IDs struct {
	Node, Way, Relation, Changeset, User int64
}
