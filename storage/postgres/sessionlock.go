package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
)

// sessionLease is a session advisory lock held by a connection opened for
// it alone, outside the pool: the lock lasts as long as that session, so a
// process that dies or loses its connection lets another one lead. The
// relay to NATS and the replication cutter each lead through one.
type sessionLease struct {
	what string
	conn *pgx.Conn
}

// leasePoll is how often a process waiting to lead tries the lock: how
// long a job may pause after its leader dies.
const leasePoll = time.Second

// lead blocks until this process holds the lock named what in the
// dataset's schema, or ctx ends. It polls pg_try_advisory_lock rather than
// waiting in pg_advisory_lock: a backend waiting on a lock does not notice
// its client die, so a killed process would leave its connection behind
// until the lock came free.
func (s *Store) lead(ctx context.Context, what string) (*sessionLease, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("%s lock: connect: %w", what, err)
	}
	// Derived from the schema: datasets in other schemas of the same
	// database (parallel tests) lead on their own.
	h := fnv.New64a()
	h.Write([]byte("geocommuns " + what + " " + s.schema))
	key := int64(h.Sum64() >> 1)
	for {
		var got bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("%s lock: %w", what, err)
		}
		if got {
			return &sessionLease{what: what, conn: conn}, nil
		}
		select {
		case <-ctx.Done():
			conn.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("%s lock: %w", what, ctx.Err())
		case <-time.After(leasePoll):
		}
	}
}

// Check asks the lock's session whether it is alive: while it is, the
// lock is held.
func (l *sessionLease) Check(ctx context.Context) error {
	if err := l.conn.Ping(ctx); err != nil {
		return fmt.Errorf("%s lock connection: %w", l.what, err)
	}
	return nil
}

// Release ends the session, and the lock with it.
func (l *sessionLease) Release() error { return l.conn.Close(context.Background()) }
