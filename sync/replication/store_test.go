package replication_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

var replicationBackends = []struct {
	name string
	open func(t *testing.T) storage.Replication
}{
	{"sqlite", func(t *testing.T) storage.Replication {
		s, err := sqlite.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t *testing.T) storage.Replication { return pgtest.Open(t, pgtest.Config(t)) }},
}

func file(seq, first, last int64, at string, content string) storage.ReplicationFile {
	ts, err := time.Parse(time.RFC3339, at)
	if err != nil {
		panic(err)
	}
	return storage.ReplicationFile{ReplicationState: storage.ReplicationState{Seq: seq, FirstMergeSeq: first, LastMergeSeq: last, Timestamp: ts},
		OsmChangeGzip: []byte(content)}
}

// The store keeps the feed gapless: a file is numbered one more than the
// latest and starts at the merge after the latest's last; anything else
// is refused and leaves the feed as it was. What it stores reads back the
// same.
func TestStoreKeepsTheFeedGapless(t *testing.T) {
	for _, b := range replicationBackends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if _, err := s.LatestReplicationState(ctx); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("latest state of an empty feed: %v, want ErrNotFound", err)
			}
			refused := []storage.ReplicationFile{
				file(2, 1, 3, "2026-11-29T12:00:00Z", "x"), // not 1
				file(0, 1, 3, "2026-11-29T12:00:00Z", "x"),
				file(1, 2, 3, "2026-11-29T12:00:00Z", "x"), // merge 1 skipped
				file(1, 1, 0, "2026-11-29T12:00:00Z", "x"), // no merge
			}
			for _, f := range refused {
				if err := s.AddReplicationFile(ctx, f); !errors.Is(err, storage.ErrReplicationSeq) {
					t.Errorf("add %+v to an empty feed: %v, want ErrReplicationSeq", f.ReplicationState, err)
				}
			}
			first := file(1, 1, 3, "2026-11-29T12:00:00Z", "\x1f\x8b first")
			second := file(2, 4, 4, "2026-11-29T12:01:07Z", "\x1f\x8b second\x00")
			for _, f := range []storage.ReplicationFile{first, second} {
				if err := s.AddReplicationFile(ctx, f); err != nil {
					t.Fatalf("add file %d: %v", f.Seq, err)
				}
			}
			for _, f := range []storage.ReplicationFile{
				file(2, 4, 4, "2026-11-29T12:02:00Z", "again"),
				file(3, 4, 5, "2026-11-29T12:02:00Z", "overlap"),
				file(3, 6, 6, "2026-11-29T12:02:00Z", "gap"),
				file(4, 5, 5, "2026-11-29T12:02:00Z", "skips 3"),
			} {
				if err := s.AddReplicationFile(ctx, f); !errors.Is(err, storage.ErrReplicationSeq) {
					t.Errorf("add %+v after file 2: %v, want ErrReplicationSeq", f.ReplicationState, err)
				}
			}
			latest, err := s.LatestReplicationState(ctx)
			if err != nil || latest != second.ReplicationState {
				t.Errorf("latest = %+v, %v; want %+v", latest, err, second.ReplicationState)
			}
			for _, f := range []storage.ReplicationFile{first, second} {
				got, err := s.ReplicationFile(ctx, f.Seq)
				if err != nil || got.ReplicationState != f.ReplicationState || string(got.OsmChangeGzip) != string(f.OsmChangeGzip) {
					t.Errorf("file %d = %+v %q, %v; want %+v %q", f.Seq, got.ReplicationState, got.OsmChangeGzip, err, f.ReplicationState, f.OsmChangeGzip)
				}
				st, err := s.ReplicationState(ctx, f.Seq)
				if err != nil || st != f.ReplicationState {
					t.Errorf("state %d = %+v, %v; want %+v", f.Seq, st, err, f.ReplicationState)
				}
			}
			if _, err := s.ReplicationFile(ctx, 3); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("file 3: %v, want ErrNotFound", err)
			}
			if _, err := s.ReplicationState(ctx, 3); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("state 3: %v, want ErrNotFound", err)
			}
		})
	}
}

// Cutters racing for the same numbers on one dataset (processes sharing
// PostgreSQL): each number is stored once, and every winner's file
// follows the one before.
func TestRacingAddsStoreEachNumberOnce(t *testing.T) {
	for _, b := range replicationBackends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			const racers, files = 4, 20
			var mu sync.Mutex
			won := map[int64]int{}
			var wg sync.WaitGroup
			for r := range racers {
				wg.Go(func() {
					for {
						latest, err := s.LatestReplicationState(ctx)
						if err != nil && !errors.Is(err, storage.ErrNotFound) {
							t.Error(err)
							return
						}
						if latest.Seq >= files {
							return
						}
						f := file(latest.Seq+1, latest.LastMergeSeq+1, latest.LastMergeSeq+1, "2026-11-29T12:00:00Z", "racer")
						f.OsmChangeGzip = []byte{byte(r)}
						err = s.AddReplicationFile(ctx, f)
						if errors.Is(err, storage.ErrReplicationSeq) {
							continue
						}
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						won[f.Seq]++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			for seq := int64(1); seq <= files; seq++ {
				if won[seq] != 1 {
					t.Errorf("file %d stored by %d racers, want 1", seq, won[seq])
				}
				st, err := s.ReplicationState(ctx, seq)
				if err != nil || st.FirstMergeSeq != seq || st.LastMergeSeq != seq {
					t.Errorf("file %d: %+v, %v", seq, st, err)
				}
			}
		})
	}
}

// On PostgreSQL one process at a time leads: a second LeadReplication
// waits on the advisory lock until the first lease is released, and a
// dataset in another schema has a lock of its own.
func TestOneLeaderAtATime(t *testing.T) {
	ctx := context.Background()
	cfg := pgtest.Config(t)
	// The second store's connections carry a name, so that the test can
	// tell its wait from other tests' in pg_stat_activity.
	second := cfg
	u, err := url.Parse(cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", cfg.Schema)
	u.RawQuery = q.Encode()
	second.URL = u.String()
	a, b := pgtest.Open(t, cfg), pgtest.Open(t, second)
	other := pgtest.Open(t, pgtest.Config(t))

	first, err := a.LeadReplication(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Check(ctx); err != nil {
		t.Fatalf("check the held lease: %v", err)
	}
	// Another dataset's cutter is not held back.
	elsewhere, err := other.LeadReplication(ctx)
	if err != nil {
		t.Fatal(err)
	}
	elsewhere.Release()

	led := make(chan error, 1)
	go func() {
		lease, err := b.LeadReplication(ctx)
		if err == nil {
			lease.Release()
		}
		led <- err
	}()
	// The second leader waits while the first holds the lock; it tries
	// every second, so three seconds cover several tries.
	select {
	case err := <-led:
		t.Fatalf("a second leader got the lease while the first held it (%v)", err)
	case <-time.After(3 * time.Second):
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	if err := <-led; err != nil {
		t.Fatalf("the second leader after the first released: %v", err)
	}

	// A cancelled wait returns.
	held, err := a.LeadReplication(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { _, err := b.LeadReplication(cctx); done <- err }()
	cancel()
	if err := <-done; err == nil {
		t.Fatal("LeadReplication with a cancelled context returned a lease while another was held")
	}
}
