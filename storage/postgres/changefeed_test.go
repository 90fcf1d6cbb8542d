package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
)

// mergeNode merges a changeset creating node id through s.
func mergeNode(t *testing.T, s *postgres.Store, id int64) storage.OutboxEntry {
	t.Helper()
	ctx := t.Context()
	c, err := s.CreateChangeset(ctx, storage.NewChangeset{UID: 77, User: "merger"})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Stage(ctx, c.ID, 77, func(ctx context.Context, tx storage.StageTx) error {
		return tx.WritePending(ctx, []storage.PendingChange{{Action: storage.Create, Element: osmdata.Element{
			Type: osmdata.Node, ID: id, Version: 1, Visible: true, Lat: int32(id), Lon: int32(id)}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CloseChangeset(ctx, c.ID, 77); err != nil {
		t.Fatal(err)
	}
	e, err := s.Merge(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// waitFor polls cond until it holds: for a state the test cannot be told
// of, bounded by ctx.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

type waitResult struct {
	seq int64
	err error
}

func waitMerge(ctx context.Context, s storage.ChangeFeed, after int64) <-chan waitResult {
	done := make(chan waitResult, 1)
	go func() {
		seq, err := s.WaitMerge(ctx, after)
		done <- waitResult{seq, err}
	}()
	return done
}

// Two stores on one schema stand for two server processes: a merge
// through the first wakes the second's WaitMerge through the merge
// transaction's notification, also after the second's listening
// connection was killed and came back. The second store's fallback poll
// is an hour, so nothing else can wake it.
func TestWaitMergeWakesOtherStores(t *testing.T) {
	cfg := pgtest.Config(t)
	merger, waiter := pgtest.Open(t, cfg), pgtest.Open(t, cfg)
	waiter.SetMergePoll(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	receive := func(what string, w <-chan waitResult) waitResult {
		t.Helper()
		select {
		case r := <-w:
			return r
		case <-ctx.Done():
			t.Fatalf("%s: still waiting: %v", what, ctx.Err())
			return waitResult{}
		}
	}

	first := waitMerge(ctx, waiter, 0)
	// Listening before the merge commits, or the wake-up the listener
	// gives when it starts would hide a missing notification.
	waitFor(ctx, t, "the waiter's store listens", func() bool { return waiter.MergeListenerPID() != 0 })
	e1 := mergeNode(t, merger, 1_000_001)
	if r := receive("the first merge", first); r.err != nil || r.seq != e1.Seq {
		t.Errorf("WaitMerge(0) on the other store: %d, %v; want %d", r.seq, r.err, e1.Seq)
	}

	// The listening connection dies (a server restart, a network cut):
	// the store listens again on a new one and wakes on the next merge.
	killed := waiter.MergeListenerPID()
	conn, err := pgx.Connect(ctx, cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var terminated bool
	if err := conn.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, int64(killed)).Scan(&terminated); err != nil || !terminated {
		t.Fatalf("terminate the listening connection %d: %v, %v", killed, terminated, err)
	}
	waitFor(ctx, t, "the waiter's store listens again", func() bool {
		pid := waiter.MergeListenerPID()
		return pid != 0 && pid != killed
	})
	second := waitMerge(ctx, waiter, e1.Seq)
	e2 := mergeNode(t, merger, 1_000_002)
	if r := receive("the merge after the reconnection", second); r.err != nil || r.seq != e2.Seq {
		t.Errorf("WaitMerge(%d) on the other store after a reconnection: %d, %v; want %d", e1.Seq, r.seq, r.err, e2.Seq)
	}

	// Closing the store stops its listener; waiting on it afterwards
	// fails rather than hangs.
	waiter.Close()
	waitFor(ctx, t, "the listening connection closes", func() bool {
		var n int
		err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, int64(killed)).Scan(&n)
		return err == nil && n == 0
	})
	if r := receive("WaitMerge on a closed store", waitMerge(ctx, waiter, e2.Seq)); r.err == nil {
		t.Errorf("WaitMerge on a closed store: %d, want an error", r.seq)
	}
}

// Each dataset notifies on its own channel, carrying the merge_seq:
// datasets in other schemas of the database hear nothing of it.
func TestMergeNotifiesItsSchemaOnly(t *testing.T) {
	cfgA, cfgB := pgtest.Config(t), pgtest.Config(t)
	a, b := pgtest.Open(t, cfgA), pgtest.Open(t, cfgB)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, cfgA.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	chanA, chanB := postgres.MergeChannel(cfgA.Schema), postgres.MergeChannel(cfgB.Schema)
	for _, c := range []string{chanA, chanB} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{c}.Sanitize()); err != nil {
			t.Fatal(err)
		}
	}
	// Notifications of separate transactions arrive in commit order, so
	// one of A's merges sent to B's channel too would come in between.
	mergeNode(t, a, 1_000_001)
	mergeNode(t, a, 1_000_002)
	mergeNode(t, b, 1_000_001)
	var got []string
	for range 3 {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		got = append(got, fmt.Sprintf("%s %s", n.Channel, n.Payload))
	}
	want := []string{chanA + " 1", chanA + " 2", chanB + " 1"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("notifications %q, want %q", got, want)
	}
}

// A channel is an identifier of at most 63 bytes; schemas whose names
// share that many bytes still get channels of their own.
func TestMergeChannelNames(t *testing.T) {
	long := strings.Repeat("s", 70)
	for _, schema := range []string{"", "geocommuns", "Mixed Case", long + "a"} {
		if c := postgres.MergeChannel(schema); len(c) > 63 || !strings.HasPrefix(c, "geocommuns_merge:") {
			t.Errorf("channel of schema %q: %q", schema, c)
		}
	}
	if a, b := postgres.MergeChannel(long+"a"), postgres.MergeChannel(long+"b"); a == b {
		t.Errorf("schemas %q and %q share the channel %q", long+"a", long+"b", a)
	}
}
