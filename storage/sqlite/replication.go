package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.Replication = (*Store)(nil)

// AddReplicationFile checks f against the latest file and inserts it
// under the write lock, which makes the check and the insert one step.
func (s *Store) AddReplicationFile(ctx context.Context, f storage.ReplicationFile) error {
	return s.writeTx(ctx, fmt.Sprintf("add replication file %d", f.Seq), func(tx *sql.Tx) error {
		latest, err := latestReplicationState(ctx, tx)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err := storage.CheckReplicationSequence(latest, f.ReplicationState); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO replication_files
			(replication_seq, first_merge_seq, last_merge_seq, data_timestamp, osc_gz) VALUES (?, ?, ?, ?, ?)`,
			f.Seq, f.FirstMergeSeq, f.LastMergeSeq, f.Timestamp.Unix(), f.OsmChangeGzip)
		return err
	})
}

// ReplicationFile reads one file with its content.
func (s *Store) ReplicationFile(ctx context.Context, seq int64) (storage.ReplicationFile, error) {
	var f storage.ReplicationFile
	var unix int64
	err := s.reader.QueryRowContext(ctx, `SELECT replication_seq, first_merge_seq, last_merge_seq, data_timestamp, osc_gz
		FROM replication_files WHERE replication_seq = ?`, seq).
		Scan(&f.Seq, &f.FirstMergeSeq, &f.LastMergeSeq, &unix, &f.OsmChangeGzip)
	if errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("replication file %d: %w", seq, storage.ErrNotFound)
	}
	if err != nil {
		return f, fmt.Errorf("replication file %d: %w", seq, err)
	}
	f.Timestamp = time.Unix(unix, 0).UTC()
	return f, nil
}

// ReplicationState reads one file's state, leaving its content.
func (s *Store) ReplicationState(ctx context.Context, seq int64) (storage.ReplicationState, error) {
	st, err := scanReplicationState(s.reader.QueryRowContext(ctx, `SELECT replication_seq, first_merge_seq, last_merge_seq, data_timestamp
		FROM replication_files WHERE replication_seq = ?`, seq))
	if err != nil {
		return st, fmt.Errorf("replication state %d: %w", seq, err)
	}
	return st, nil
}

// LatestReplicationState reads the newest file's state.
func (s *Store) LatestReplicationState(ctx context.Context) (storage.ReplicationState, error) {
	st, err := latestReplicationState(ctx, s.reader)
	if err != nil {
		return st, fmt.Errorf("latest replication state: %w", err)
	}
	return st, nil
}

func latestReplicationState(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (storage.ReplicationState, error) {
	return scanReplicationState(q.QueryRowContext(ctx, `SELECT replication_seq, first_merge_seq, last_merge_seq, data_timestamp
		FROM replication_files ORDER BY replication_seq DESC LIMIT 1`))
}

func scanReplicationState(row *sql.Row) (storage.ReplicationState, error) {
	var st storage.ReplicationState
	var unix int64
	err := row.Scan(&st.Seq, &st.FirstMergeSeq, &st.LastMergeSeq, &unix)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.ReplicationState{}, storage.ErrNotFound
	}
	st.Timestamp = time.Unix(unix, 0).UTC()
	return st, err
}

// LeadReplication returns at once: only one process serves a SQLite
// dataset (design.md), and AddReplicationFile's check under the write
// lock still refuses a second cutter's file.
func (s *Store) LeadReplication(ctx context.Context) (storage.ReplicationLease, error) {
	return soleLease{}, nil
}

type soleLease struct{}

func (soleLease) Check(context.Context) error { return nil }
func (soleLease) Release() error              { return nil }
