package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Three stores on one schema stand for three server processes, each with
// its own pool: every one of them tries to merge every changeset at once.
// Only the replication_state row lock, shared through the database,
// keeps merge_seq gapless and each changeset merged once.
func TestMergeAcrossStores(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	var stores []*Store
	for range 3 {
		s, err := Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	s := stores[0]
	importSample(t, s)

	const n = 30
	var ids []int64
	for i := range n {
		c, err := s.CreateChangeset(ctx, storage.NewChangeset{UID: 77, User: "merger"})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Stage(ctx, c.ID, 77, func(ctx context.Context, tx storage.StageTx) error {
			return tx.WritePending(ctx, []storage.PendingChange{{Action: storage.Create, Element: osmdata.Element{
				Type: osmdata.Node, ID: int64(1_000_000 + i), Version: 1, Visible: true, Lat: int32(i), Lon: int32(i)}}})
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CloseChangeset(ctx, c.ID, 77); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}

	var wg sync.WaitGroup
	for _, st := range stores {
		for _, id := range ids {
			wg.Go(func() {
				if _, err := st.Merge(ctx, id); err != nil && !errors.Is(err, storage.ErrNotMergeable) {
					t.Errorf("merge %d: %v", id, err)
				}
			})
		}
	}
	wg.Wait()

	outbox, err := stores[2].Outbox(ctx, 0, 2*n)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]int{}
	for i, e := range outbox {
		if e.Seq != int64(i+1) {
			t.Errorf("outbox row %d has merge_seq %d", i, e.Seq)
		}
		if i > 0 && e.MergedAt.Before(outbox[i-1].MergedAt) {
			t.Errorf("merge %d at %v is before merge %d at %v", e.Seq, e.MergedAt, e.Seq-1, outbox[i-1].MergedAt)
		}
		seen[e.Changeset]++
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("changeset %d merged %d times", id, seen[id])
		}
	}
	if last, err := stores[1].LastMergeSeq(ctx); err != nil || last != n {
		t.Errorf("LastMergeSeq = %d, %v; want %d", last, err, n)
	}
}
