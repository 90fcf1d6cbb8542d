package storage

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrReplicationSeq refuses a replication file whose replication_seq is
// not one more than the latest file's (1 for the first), or whose merges
// do not start right after the latest file's: the feed stays gapless, and
// of two cutters racing for the same number only one wins.
var ErrReplicationSeq = errors.New("replication file out of sequence")

// ReplicationState describes one file of the OSM replication feed
// (design.md's replication_seq) without its content.
type ReplicationState struct {
	// Seq is the file's replication_seq: 1 for the first file, then
	// gapless.
	Seq int64
	// FirstMergeSeq and LastMergeSeq are the merges the file holds; the
	// next file starts at LastMergeSeq+1.
	FirstMergeSeq, LastMergeSeq int64
	// Timestamp is the merge time of the last merge, in whole seconds
	// (UTC): what state.txt says the data is current to.
	Timestamp time.Time
}

// ReplicationFile is a replication file with its content.
type ReplicationFile struct {
	ReplicationState
	// OsmChangeGzip is the .osc.gz file as served, byte for byte: every
	// process serves the bytes stored here, never a re-encoding.
	OsmChangeGzip []byte
}

// Replication stores the OSM replication feed's files, so that every
// server process serves the same immutable files whichever process cut
// them.
//
// It is not part of Store yet (another change is editing Store): callers
// reach it with a type assertion; both backends implement it.
type Replication interface {
	// AddReplicationFile stores f in one transaction. It refuses, with an
	// error wrapping ErrReplicationSeq and storing nothing, a file whose
	// Seq is not the latest's plus one (1 for the first), whose
	// FirstMergeSeq is not the latest's LastMergeSeq plus one, or whose
	// merge range is empty.
	AddReplicationFile(ctx context.Context, f ReplicationFile) error
	// ReplicationFile returns the file numbered seq, or ErrNotFound.
	ReplicationFile(ctx context.Context, seq int64) (ReplicationFile, error)
	// ReplicationState returns the state of the file numbered seq without
	// its content, or ErrNotFound.
	ReplicationState(ctx context.Context, seq int64) (ReplicationState, error)
	// LatestReplicationState returns the state of the latest file, or
	// ErrNotFound before the first.
	LatestReplicationState(ctx context.Context) (ReplicationState, error)
	// LeadReplication blocks until this process is the only one cutting
	// replication files of the dataset, or ctx ends. On PostgreSQL it holds
	// a session advisory lock on a connection of its own until Release;
	// on SQLite (one serving process) it returns at once.
	LeadReplication(ctx context.Context) (ReplicationLease, error)
}

// ReplicationLease is the right to cut replication files, held until
// Release or until the process's hold on it is lost (a dropped
// connection ends a PostgreSQL session lock).
type ReplicationLease interface {
	// Check reports an error when the lease may have been lost; the holder
	// then releases it and leads again before cutting more.
	Check(ctx context.Context) error
	// Release gives the lease up.
	Release() error
}

// CheckReplicationSequence says whether f may follow latest (the zero
// state before the first file), for backends to call under their write
// lock: the rule AddReplicationFile enforces, in one place.
func CheckReplicationSequence(latest ReplicationState, f ReplicationState) error {
	switch {
	case f.Seq != latest.Seq+1:
		return fmt.Errorf("file %d after file %d: %w", f.Seq, latest.Seq, ErrReplicationSeq)
	case f.FirstMergeSeq != latest.LastMergeSeq+1:
		return fmt.Errorf("file %d starts at merge %d, but file %d ended at merge %d: %w",
			f.Seq, f.FirstMergeSeq, latest.Seq, latest.LastMergeSeq, ErrReplicationSeq)
	case f.LastMergeSeq < f.FirstMergeSeq:
		return fmt.Errorf("file %d covers no merge (%d to %d): %w", f.Seq, f.FirstMergeSeq, f.LastMergeSeq, ErrReplicationSeq)
	}
	return nil
}
