package postgres

import (
	"context"
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
	return s.lead(ctx, "nats relay")
}

// LeadReviewRelay is LeadRelay for the relay of the review log to NATS:
// a lock of its own, so that the two relays need not run in one process
// nor wait for each other.
func (s *Store) LeadReviewRelay(ctx context.Context) (interface {
	Check(context.Context) error
	Release() error
}, error) {
	return s.lead(ctx, "nats review relay")
}
