package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
)

// LeadRelay blocks until this process is the only one relaying the
// dataset's merges to NATS (design.md), or ctx ends. It takes a session
// advisory lock on a connection opened for it alone, outside the pool:
// the lock lasts as long as that session, so a process that dies or
// loses its connection lets another one relay. The lease's Check asks
// whether the session is still alive; Release ends it.
//
// The result type is spelled out rather than named so that package
// sync/bus can ask for it without importing this backend.
func (s *Store) LeadRelay(ctx context.Context) (interface {
	Check(context.Context) error
	Release() error
}, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("relay lock: connect: %w", err)
	}
	// Polls rather than blocking in pg_advisory_lock: a backend waiting
	// on a lock does not notice its client die, so a killed process
	// would leave its connection behind until the lock came free.
	for {
		var got bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", relayLockID(s.schema)).Scan(&got); err != nil {
			conn.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("relay lock: %w", err)
		}
		if got {
			break
		}
		select {
		case <-ctx.Done():
			conn.Close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("relay lock: %w", ctx.Err())
		case <-time.After(relayLockPoll):
		}
	}
	return relayLease{conn: conn}, nil
}

// relayLockPoll is how often a process waiting to relay tries the
// lock: how long the relay may pause after its leader dies.
const relayLockPoll = time.Second

// relayLockID derives the lock from the schema: datasets in other
// schemas of the same database (parallel tests) relay on their own.
func relayLockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("geocommuns nats relay " + schema))
	return int64(h.Sum64() >> 1)
}

type relayLease struct{ conn *pgx.Conn }

func (l relayLease) Check(ctx context.Context) error {
	if err := l.conn.Ping(ctx); err != nil {
		return fmt.Errorf("relay lock connection: %w", err)
	}
	return nil
}

func (l relayLease) Release() error { return l.conn.Close(context.Background()) }
