package replication_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
	"github.com/geocommuns/geocommuns/sync/replication"
)

// runCutters runs the cutters' jobs until the test ends.
func runCutters(t *testing.T, cutters ...*replication.Cutter) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, c := range cutters {
		wg.Go(func() { c.Run(ctx) })
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// waitCovered waits until the feed's latest file ends at merge last.
func waitCovered(t *testing.T, s storage.Replication, last int64) storage.ReplicationState {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := s.LatestReplicationState(context.Background())
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		if st.LastMergeSeq == last {
			return st
		}
		if st.LastMergeSeq > last || time.Now().After(deadline) {
			t.Fatalf("the feed ends at merge %d (file %d), want %d", st.LastMergeSeq, st.Seq, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkGapless checks files 1..n follow each other from merge 1, and
// returns their states.
func checkGapless(t *testing.T, s storage.Replication, n int64) []storage.ReplicationState {
	t.Helper()
	var out []storage.ReplicationState
	next := int64(1)
	for seq := int64(1); seq <= n; seq++ {
		st, err := s.ReplicationState(context.Background(), seq)
		if err != nil {
			t.Fatalf("file %d: %v", seq, err)
		}
		if st.FirstMergeSeq != next || st.LastMergeSeq < st.FirstMergeSeq {
			t.Errorf("file %d covers merges %d to %d, want from %d", seq, st.FirstMergeSeq, st.LastMergeSeq, next)
		}
		next = st.LastMergeSeq + 1
		out = append(out, st)
	}
	return out
}

// With interval zero the job cuts one file per merge, as each commits.
func TestJobCutsEachMerge(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			w := newWorld(t, b.open(t))
			runCutters(t, replication.NewCutter(w.store, replication.CutterConfig{Interval: 0}, nil))
			merges := 0
			for round := range 8 {
				w.edit(round)
				merges += w.merge()
				waitCovered(t, w.store, int64(merges))
			}
			for _, st := range checkGapless(t, w.store, int64(merges)) {
				if st.FirstMergeSeq != st.Seq || st.LastMergeSeq != st.Seq {
					t.Errorf("file %d covers merges %d to %d, want merge %d alone", st.Seq, st.FirstMergeSeq, st.LastMergeSeq, st.Seq)
				}
			}
		})
	}
}

// Several processes' jobs on one PostgreSQL dataset, some cutting per
// interval, one per merge: whoever leads, the files are gapless and
// cover every merge once.
func TestJobsOfSeveralProcessesShareOneFeed(t *testing.T) {
	cfg := pgtest.Config(t)
	stores := []feedStore{pgtest.Open(t, cfg), pgtest.Open(t, cfg), pgtest.Open(t, cfg)}
	w := newWorld(t, stores[0])
	runCutters(t,
		replication.NewCutter(stores[0], replication.CutterConfig{Interval: 20 * time.Millisecond}, nil),
		replication.NewCutter(stores[1], replication.CutterConfig{Interval: 0}, nil),
		replication.NewCutter(stores[2], replication.CutterConfig{Interval: 50 * time.Millisecond}, nil))
	merges := 0
	for round := range 12 {
		w.edit(round)
		merges += w.merge()
		if round%4 == 3 {
			waitCovered(t, stores[2], int64(merges))
		}
	}
	st := waitCovered(t, stores[1], int64(merges))
	checkGapless(t, stores[0], st.Seq)
}
