package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.Replication = (*Store)(nil)

// AddReplicationFile checks f against the latest file and inserts it. Two
// cutters adding the same number both pass the check, but the primary key
// lets only one insert: the other's unique violation is the refusal.
func (s *Store) AddReplicationFile(ctx context.Context, f storage.ReplicationFile) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		latest, err := latestReplicationState(ctx, tx)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err := storage.CheckReplicationSequence(latest, f.ReplicationState); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO replication_files
			(replication_seq, first_merge_seq, last_merge_seq, data_timestamp, osc_gz) VALUES ($1, $2, $3, $4, $5)`,
			f.Seq, f.FirstMergeSeq, f.LastMergeSeq, f.Timestamp.UTC(), f.OsmChangeGzip)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return fmt.Errorf("file %d was added by another cutter: %w", f.Seq, storage.ErrReplicationSeq)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("add replication file %d: %w", f.Seq, err)
	}
	return nil
}

// ReplicationFile reads one file with its content.
func (s *Store) ReplicationFile(ctx context.Context, seq int64) (storage.ReplicationFile, error) {
	var f storage.ReplicationFile
	err := s.pool.QueryRow(ctx, `SELECT replication_seq, first_merge_seq, last_merge_seq, data_timestamp, osc_gz
		FROM replication_files WHERE replication_seq = $1`, seq).
		Scan(&f.Seq, &f.FirstMergeSeq, &f.LastMergeSeq, &f.Timestamp, &f.OsmChangeGzip)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, fmt.Errorf("replication file %d: %w", seq, storage.ErrNotFound)
	}
	if err != nil {
		return f, fmt.Errorf("replication file %d: %w", seq, err)
	}
	f.Timestamp = f.Timestamp.UTC()
	return f, nil
}

// ReplicationState reads one file's state, leaving its content.
func (s *Store) ReplicationState(ctx context.Context, seq int64) (storage.ReplicationState, error) {
	st, err := scanReplicationState(s.pool.QueryRow(ctx, `SELECT replication_seq, first_merge_seq, last_merge_seq, data_timestamp
		FROM replication_files WHERE replication_seq = $1`, seq))
	if err != nil {
		return st, fmt.Errorf("replication state %d: %w", seq, err)
	}
	return st, nil
}

// LatestReplicationState reads the newest file's state through the
// primary key's index.
func (s *Store) LatestReplicationState(ctx context.Context) (storage.ReplicationState, error) {
	st, err := latestReplicationState(ctx, s.pool)
	if err != nil {
		return st, fmt.Errorf("latest replication state: %w", err)
	}
	return st, nil
}

func latestReplicationState(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (storage.ReplicationState, error) {
	return scanReplicationState(q.QueryRow(ctx, `SELECT replication_seq, first_merge_seq, last_merge_seq, data_timestamp
		FROM replication_files ORDER BY replication_seq DESC LIMIT 1`))
}

func scanReplicationState(row pgx.Row) (storage.ReplicationState, error) {
	var st storage.ReplicationState
	err := row.Scan(&st.Seq, &st.FirstMergeSeq, &st.LastMergeSeq, &st.Timestamp)
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.ReplicationState{}, storage.ErrNotFound
	}
	st.Timestamp = st.Timestamp.UTC()
	return st, err
}

// LeadReplication takes a session advisory lock on a connection opened
// for it alone, outside the pool: the lock lasts as long as that session,
// so a process that dies or loses its connection lets another one lead,
// and no pooled connection is held hostage while a process waits its turn.
func (s *Store) LeadReplication(ctx context.Context) (storage.ReplicationLease, error) {
	return s.lead(ctx, "replication")
}
