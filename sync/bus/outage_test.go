package bus_test

import (
	"testing"

	"github.com/geocommuns/geocommuns/sync/bus"
)

// TestMergesDuringAnOutageArriveAfterIt stops NATS, merges 100
// changesets (none waits for NATS, none fails), starts NATS again, and
// expects every merge in order, each once.
func TestMergesDuringAnOutageArriveAfterIt(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		dir, addr := t.TempDir(), freeAddr(t)
		srv := startEmbedded(t, dir, addr)
		url := srv.ClientURL()
		outage(t, url, func() { srv.Shutdown() }, func() { startEmbedded(t, dir, addr) })
	})
	t.Run("debian", func(t *testing.T) {
		srv := newDebianServer(t)
		srv.start()
		t.Logf("nats-server %s", serverVersion(t, srv.url()))
		outage(t, srv.url(), srv.stop, srv.start)
	})
}

func outage(t testing.TB, url string, stop, start func()) {
	stream, subjects := names(t, url)
	d := newDataset(t, openSQLite(t))
	startRelay(t, d.store, url, bus.RelayConfig{Stream: stream, Subjects: subjects})
	d.mergeNodes(5)
	receive(t, url, stream, subjects.All(), 5)

	stop()
	d.mergeNodes(100)
	start()

	sizes, n := outboxSizes(t, d.store)
	if n != 105 {
		t.Fatalf("%d merges in the outbox, want 105", n)
	}
	checkInOrder(t, receive(t, url, stream, subjects.All(), n), sizes, n)
}
