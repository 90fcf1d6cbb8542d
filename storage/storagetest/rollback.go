package storagetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

func testRollback(t *testing.T, open Opener) {
	t.Run("ImportSourceFails", func(t *testing.T) {
		t.Parallel()
		els := gridDataset(25_000, 2_500)
		for _, c := range []struct {
			name      string
			failAfter int
		}{
			{"AtStart", 0},
			{"AfterThreeNodes", 3},
			{"AmongWays", 25_000 + 1_234}, // every node read, some ways
			{"BeforeLastRelation", len(els) - 1},
		} {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				s := open(t)
				idsBefore := mustNextIDs(t, s)
				_, err := s.Import(ctx, &sliceSource{els: els, failAfter: c.failAfter, err: errSourceBroken})
				if !errors.Is(err, errSourceBroken) {
					t.Fatalf("Import from a source failing after %d elements = %v, want an error wrapping the source's", c.failAfter, err)
				}
				if got := mustCounts(t, s); got != (storage.Counts{}) {
					t.Errorf("Counts after a failed import = %+v, want all zero", got)
				}
				if got := mustNextIDs(t, s); got != idsBefore {
					t.Errorf("NextIDs after a failed import = %+v, want %+v as before it", got, idsBefore)
				}
				if _, err := s.History(ctx, osmdata.Node, 1); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("History(node 1) after a failed import = %v, want ErrNotFound", err)
				}
				if _, err := s.Changeset(ctx, els[0].Changeset); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("Changeset(%d) after a failed import = %v, want ErrNotFound", els[0].Changeset, err)
				}
				if got := mustExport(t, s); len(got) != 0 {
					t.Errorf("Export after a failed import = %d elements, want none", len(got))
				}
				// The failed import left nothing in the way of a good one.
				small := importDataset()
				mustImport(t, s, small)
				checkImported(t, s, small)
			})
		}
	})

	t.Run("ImportCanceled", func(t *testing.T) {
		t.Parallel()
		// An operator stopping an import midway (the CLI cancels its
		// context on Ctrl-C) must leave the dataset as it was.
		s := open(t)
		idsBefore := mustNextIDs(t, s)
		els := gridDataset(25_000, 2_500)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		src := &cancelingSource{sliceSource: sliceSource{els: els}, after: 10_000, cancel: cancel}
		if _, err := s.Import(ctx, src); err == nil {
			t.Fatalf("Import whose context was canceled after %d elements succeeded", src.after)
		}
		if got := mustCounts(t, s); got != (storage.Counts{}) {
			t.Errorf("Counts after a canceled import = %+v, want all zero", got)
		}
		if got := mustNextIDs(t, s); got != idsBefore {
			t.Errorf("NextIDs after a canceled import = %+v, want %+v as before it", got, idsBefore)
		}
		small := importDataset()
		mustImport(t, s, small)
		checkImported(t, s, small)
	})

	t.Run("ApplyVersionConflict", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := open(t)
		n1 := newNode(1, 1, deg(50), deg(-1))
		w1 := newWay(10, 1, []int64{1})
		mustApply(t, s, n1, w1)
		counts, history := mustCounts(t, s), []osmdata.Element{n1}

		n1b := nextVersion(n1)
		n1b.Lat = deg(51)
		w1b := nextVersion(w1)
		w1b.Nodes = []int64{1, 2}
		n2 := newNode(2, 1, deg(50.5), deg(-1.5))
		r1 := newRelation(20, 1, []osmdata.Member{member(osmdata.Way, 10, "")})
		bad := nextVersion(n1) // version 2 again: the batch already made node 1 v2
		for _, c := range []struct {
			name  string
			batch []osmdata.Element
			key   osmdata.Key
		}{
			{"LastRepeatsAVersion", []osmdata.Element{n2, n1b, w1b, r1, bad}, n1.Key()},
			{"LastSkipsAVersion", []osmdata.Element{n2, w1b, r1, withVersion(n1, 3)}, n1.Key()},
			{"NewElementNotVersion1", []osmdata.Element{n2, n1b, withVersion(newNode(3, 1, 0, 0), 2)}, osmdata.Key{Type: osmdata.Node, ID: 3}},
			{"CurrentVersionAgain", []osmdata.Element{n2, n1b, w1}, w1.Key()},
			{"SameIDOtherType", []osmdata.Element{n2, withVersion(newRelation(10, 1, nil), 2)}, osmdata.Key{Type: osmdata.Relation, ID: 10}},
		} {
			t.Run(c.name, func(t *testing.T) {
				err := s.Apply(ctx, c.batch)
				if !errors.Is(err, storage.ErrVersionConflict) {
					t.Fatalf("Apply %v = %v, want an error wrapping ErrVersionConflict", versionsOf(c.batch), err)
				}
				if !strings.Contains(strings.ToLower(err.Error()), c.key.String()) {
					t.Errorf("Apply error %q does not name %s", err, c.key)
				}
				if got := mustCounts(t, s); got != counts {
					t.Errorf("Counts after a refused Apply = %+v, want %+v", got, counts)
				}
				h, err := s.History(ctx, osmdata.Node, 1)
				if err != nil {
					t.Fatalf("History(node 1): %v", err)
				}
				checkElements(t, "History(node 1) after a refused Apply", h, history)
				if _, err := s.History(ctx, osmdata.Node, 2); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("node 2, first in the refused batch, was written: History = %v", err)
				}
				if rels, err := s.RelationsWithMembers(ctx, osmdata.Way, []int64{10}); err != nil || len(rels) != 0 {
					t.Errorf("relation 20 of the refused batch is visible: %v, %v", idsOf(rels), err)
				}
				if ways, err := s.WaysUsingNodes(ctx, []int64{2}); err != nil || len(ways) != 0 {
					t.Errorf("way 10 v2 of the refused batch is visible: %v, %v", idsOf(ways), err)
				}
				box := osmdata.Box{MinLat: deg(51), MinLon: deg(-1), MaxLat: deg(51), MaxLon: deg(-1)}
				if got, err := s.NodesInBox(ctx, box, 10); err != nil || len(got) != 0 {
					t.Errorf("node 1 v2's position of the refused batch is visible: %v, %v", idsOf(got), err)
				}
			})
		}

		t.Run("VersionsFollowWithinABatch", func(t *testing.T) {
			n1c := nextVersion(n1b)
			n1c.Tags = tags("step", "3")
			mustApply(t, s, n2, n1b, w1b, n1c, r1)
			h, err := s.History(ctx, osmdata.Node, 1)
			if err != nil {
				t.Fatalf("History(node 1): %v", err)
			}
			checkElements(t, "History(node 1) after versions 2 and 3 in one batch", h, []osmdata.Element{n1, n1b, n1c})
			ways, err := s.WaysUsingNodes(ctx, []int64{2})
			if err != nil {
				t.Fatalf("WaysUsingNodes: %v", err)
			}
			checkElements(t, "WaysUsingNodes(2)", ways, []osmdata.Element{w1b})
		})
	})
}

func withVersion(e osmdata.Element, v int) osmdata.Element {
	e.Version = v
	return e
}

// cancelingSource cancels the import's context once it has handed out
// after elements, and goes on handing them out.
type cancelingSource struct {
	sliceSource
	after  int
	cancel context.CancelFunc
}

func (s *cancelingSource) Next() (*osmdata.Element, error) {
	if s.next == s.after {
		s.cancel()
	}
	return s.sliceSource.Next()
}
