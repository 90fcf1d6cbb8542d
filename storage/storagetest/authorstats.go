package storagetest

import (
	"testing"

	"github.com/geocommuns/geocommuns/storage"
)

// testAuthorStats counts merged changesets as the new-contributor
// heuristic needs them: imported changesets are history that was
// accepted, so they count; a submitted one or an open one does not, nor
// do another author's.
func testAuthorStats(t *testing.T, open Opener) {
	s := open(t)
	stats, ok := s.(storage.AuthorStats)
	if !ok {
		t.Skipf("the store (%T) has no storage.AuthorStats", s)
	}
	m, ok := s.(storage.Merger)
	if !ok {
		t.Skipf("the store (%T) does not merge (storage.Merger)", s)
	}
	// One imported changeset each for ana, bo and carla.
	mustImport(t, s, editorsDataset())
	create := func(id int64) []storage.PendingChange {
		return []storage.PendingChange{pendingNode(storage.Create, id, 1, 11, float64(id%90))}
	}
	mustMerge(t, m, submitted(t, s, ana, nil, create(9001)))
	mustMerge(t, m, submitted(t, s, bo, nil, create(9002)))
	submitted(t, s, ana, nil, create(9003))
	mustCreateChangeset(t, s, carla)

	for _, c := range []struct {
		uid  int64
		want int
	}{{ana, 2}, {bo, 2}, {carla, 1}, {424242, 0}} {
		got, err := stats.MergedChangesetCount(t.Context(), c.uid)
		if err != nil {
			t.Errorf("MergedChangesetCount(%d): %v", c.uid, err)
			continue
		}
		if got != c.want {
			t.Errorf("MergedChangesetCount(%d) = %d, want %d", c.uid, got, c.want)
		}
	}
}
