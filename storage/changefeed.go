package storage

import (
	"context"

	"github.com/geocommuns/geocommuns/osmdata"
)

// VersionKey names one version of one element.
type VersionKey struct {
	Element osmdata.Key
	Version int
}

// ChangeFeed is what the change feeds (package sync/...) read of the
// dataset besides the outbox: the versions a merge wrote and replaced,
// and a wake-up when a merge commits in any process.
type ChangeFeed interface {
	// ElementVersions returns the given versions with their full content
	// (metadata, tags, way nodes, relation members), in the order given,
	// in one bulk read per element type. A version the dataset does not
	// have is an error wrapping ErrNotFound.
	ElementVersions(ctx context.Context, keys []VersionKey) ([]osmdata.Element, error)
	// WaitMerge returns the latest merge_seq as soon as it is greater
	// than afterSeq, blocking until a merge commits (in this process or,
	// on PostgreSQL, any other: the merge transaction notifies) or ctx
	// ends. A missed notification delays it by at most a short fallback
	// poll, never forever.
	WaitMerge(ctx context.Context, afterSeq int64) (int64, error)
}
