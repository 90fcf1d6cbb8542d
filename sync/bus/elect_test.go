package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/storage/postgres"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
	"github.com/geocommuns/geocommuns/sync/bus"
)

// serve elects the relay through this method (server/bus.go): a change
// of its signature must not silently turn the election off.
var _ interface {
	LeadRelay(context.Context) (bus.Lease, error)
} = (*postgres.Store)(nil)

// TestOneRelayAtATimeOnPostgreSQL runs two processes' relays (two stores
// on one PostgreSQL dataset) against one stream, with a dedup window too
// short to hide a message published twice: the elected one publishes,
// and when it stops the other takes over where the stream ends.
func TestOneRelayAtATimeOnPostgreSQL(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			url := tg.url(t)
			stream, subjects := names(t, url)
			cfg := pgtest.Config(t)
			first, second := pgtest.Open(t, cfg), pgtest.Open(t, cfg)
			d := newDataset(t, first)
			relay := func(s *postgres.Store) func() {
				return startRelay(t, s, url, bus.RelayConfig{Stream: stream, Subjects: subjects,
					DedupWindow: 100 * time.Millisecond, Elect: s.LeadRelay})
			}
			stopFirst := relay(first)
			relay(second)
			d.mergeNodes(20)
			receive(t, url, stream, subjects.All(), 20)
			stopFirst()
			d.mergeNodes(20)

			sizes, n := outboxSizes(t, d.store)
			checkInOrder(t, receive(t, url, stream, subjects.All(), n), sizes, n)
			checkEveryMessageOnce(t, url, stream, subjects)
		})
	}
}

// TestRelayLeaseIsOnePerDataset: a second process waits while the first
// holds the lease and gets it once released; another dataset (schema)
// on the same database has a lease of its own.
func TestRelayLeaseIsOnePerDataset(t *testing.T) {
	cfg := pgtest.Config(t)
	first, second, other := pgtest.Open(t, cfg), pgtest.Open(t, cfg), pgtest.Open(t, pgtest.Config(t))
	ctx := context.Background()
	lease, err := first.LeadRelay(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := lease.Check(ctx); err != nil {
		t.Fatalf("a fresh lease: %v", err)
	}
	otherLease, err := other.LeadRelay(ctx)
	if err != nil {
		t.Fatalf("another dataset's relay: %v", err)
	}
	defer otherLease.Release()

	waitCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if l, err := second.LeadRelay(waitCtx); err == nil {
		l.Release()
		t.Fatal("a second relay of the dataset was elected while the first held the lease")
	}
	if err := lease.Release(); err != nil {
		t.Fatal(err)
	}
	l, err := second.LeadRelay(ctx)
	if err != nil {
		t.Fatalf("after the first released it: %v", err)
	}
	l.Release()
}
