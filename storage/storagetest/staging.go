package storagetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// pendingOpts compares pending changes as a client of the overlay sees
// them: nil and empty lists are the same.
var pendingOpts = cmp.Options{cmpopts.EquateEmpty()}

func pendingNode(action storage.Action, id int64, v int, lat, lon float64, kv ...string) storage.PendingChange {
	return storage.PendingChange{Action: action, BaseVersion: max(v-1, 0),
		Element: osmdata.Element{Type: osmdata.Node, ID: id, Version: v, Visible: true,
			Lat: deg(lat), Lon: deg(lon), Tags: tags(kv...)}}
}

func pendingWay(action storage.Action, id int64, v int, nodes []int64, kv ...string) storage.PendingChange {
	return storage.PendingChange{Action: action, BaseVersion: max(v-1, 0),
		Element: osmdata.Element{Type: osmdata.Way, ID: id, Version: v, Visible: true, Nodes: nodes, Tags: tags(kv...)}}
}

func pendingRelation(action storage.Action, id int64, v int, members []osmdata.Member, kv ...string) storage.PendingChange {
	return storage.PendingChange{Action: action, BaseVersion: max(v-1, 0),
		Element: osmdata.Element{Type: osmdata.Relation, ID: id, Version: v, Visible: true, Members: members, Tags: tags(kv...)}}
}

func pendingDelete(id int64, t osmdata.ElementType, v int) storage.PendingChange {
	return storage.PendingChange{Action: storage.Delete, BaseVersion: v - 1,
		Element: osmdata.Element{Type: t, ID: id, Version: v}}
}

// mustWritePending stages changes in changeset cs of uid, records them
// on the changeset, and returns them as WritePending completed them.
func mustWritePending(t *testing.T, s storage.Store, cs, uid int64, changes ...storage.PendingChange) []storage.PendingChange {
	t.Helper()
	err := s.Stage(t.Context(), cs, uid, func(ctx context.Context, tx storage.StageTx) error {
		if err := tx.WritePending(ctx, changes); err != nil {
			return err
		}
		_, err := tx.UpdateChangeset(ctx, len(changes), osmdata.Box{}, false)
		return err
	})
	if err != nil {
		t.Fatalf("Stage %d changes to changeset %d by %d: %v", len(changes), cs, uid, err)
	}
	return changes
}

// describe names pending changes as "node 5 v2 in 7", for assertions on
// which rows came back.
func describe(ps []storage.PendingChange) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("%s v%d in %d", p.Element.Key(), p.Element.Version, p.Changeset)
	}
	return out
}

func checkPending(t *testing.T, what string, got []storage.PendingChange, err error, want ...storage.PendingChange) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if diff := cmp.Diff(describe(want), describe(got), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s: rows (-want +got):\n%s", what, diff)
		return
	}
	if diff := cmp.Diff(want, got, pendingOpts); diff != "" {
		t.Errorf("%s: content (-want +got):\n%s", what, diff)
	}
}

func testStaging(t *testing.T, open Opener) {
	t.Run("WriteAndRead", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := editing(t, open)
		c := mustCreateChangeset(t, s, ana)
		var ids []int64
		written := make([]storage.PendingChange, 0)
		err := s.Stage(ctx, c.ID, ana, func(ctx context.Context, tx storage.StageTx) error {
			if got := tx.LockedChangeset(); got.ID != c.ID || got.UID != ana || !got.Open {
				t.Errorf("LockedChangeset: %+v", got)
			}
			// The transaction reads the dataset.
			cur, err := tx.CurrentElements(ctx, osmdata.Node, []int64{1})
			if err != nil || len(cur) != 1 || cur[0].Version != 3 {
				t.Errorf("CurrentElements inside Stage: %v, %v", versionsOf(cur), err)
			}
			var aerr error
			ids, aerr = tx.AllocateIDs(ctx, osmdata.Node, 2)
			if aerr != nil {
				return aerr
			}
			written = []storage.PendingChange{
				pendingNode(storage.Create, ids[0], 1, 38.72, -9.14, "name", "Café", "amenity", "cafe"),
				pendingNode(storage.Create, ids[1], 1, 38.73, -9.13),
				pendingWay(storage.Create, 1_000_000_000_000, 1, []int64{ids[0], ids[1], 1, ids[0]}, "highway", "footway"),
				pendingNode(storage.Modify, 1, 4, 38.7224, -9.1394, "name", "Lisboa", "place", "city"),
				pendingDelete(3, osmdata.Node, 10),
			}
			if err := tx.WritePending(ctx, written); err != nil {
				return err
			}
			// Its own writes are visible inside.
			got, err := tx.Pending().PendingElements(ctx, osmdata.Node, []int64{ids[0], 1, 3, 999})
			checkPending(t, "PendingElements inside Stage", got, err, written[3], written[4], written[0])
			_, err = tx.UpdateChangeset(ctx, len(written), osmdata.Box{MinLat: deg(38.72), MinLon: deg(-9.14), MaxLat: deg(38.73), MaxLon: deg(-9.13)}, true)
			return err
		})
		if err != nil {
			t.Fatalf("Stage: %v", err)
		}
		for i, p := range written {
			e := p.Element
			if p.Changeset != c.ID || e.Changeset != c.ID || p.Author != ana || e.UID != ana || e.User != "ana" {
				t.Errorf("written change %d: changeset %d/%d, author %d/%d %q; want the store to set %d, %d, ana", i, p.Changeset, e.Changeset, p.Author, e.UID, e.User, c.ID, ana)
			}
			if p.Seq == 0 || (i > 0 && p.Seq <= written[i-1].Seq) {
				t.Errorf("written change %d: seq %d, not above the previous one", i, p.Seq)
			}
			checkTimestamps(t, "upload time", []osmdata.Element{e})
		}
		pending := s.Pending(ana)
		got, err := pending.PendingElements(ctx, osmdata.Node, []int64{ids[0], ids[1], 1, 3})
		checkPending(t, "PendingElements", got, err, written[3], written[4], written[0], written[1])
		got, err = pending.PendingElements(ctx, osmdata.Way, []int64{1_000_000_000_000})
		checkPending(t, "PendingElements of a way", got, err, written[2])
		got, err = s.ChangesetChanges(ctx, c.ID)
		checkPending(t, "ChangesetChanges", got, err, written...)
		if got, err := s.Pending(bo).PendingElements(ctx, osmdata.Node, []int64{ids[0], 1}); err != nil || len(got) != 0 {
			t.Errorf("another user reads ana's pending changes: %v, %v", describe(got), err)
		}
		cs := mustChangeset(t, s, c.ID)
		if cs.NumChanges != len(written) || !cs.HasBox || cs.Box.MinLat != deg(38.72) || cs.Box.MaxLon != deg(-9.13) {
			t.Errorf("changeset after the upload: %d changes, box %v %+v", cs.NumChanges, cs.HasBox, cs.Box)
		}
	})
}
