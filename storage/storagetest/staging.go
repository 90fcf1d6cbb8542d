package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	testStagingMore(t, open)
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

func testStagingMore(t *testing.T, open Opener) {
	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := editing(t, open)
		c := mustCreateChangeset(t, s, ana)
		ran := false
		fn := func(ctx context.Context, tx storage.StageTx) error { ran = true; return nil }
		wantErr(t, "upload to an unknown changeset", s.Stage(ctx, c.ID+1000, ana, fn), storage.ErrNotFound)
		wantErr(t, "upload to another user's changeset", s.Stage(ctx, c.ID, bo, fn), storage.ErrNotOwner)
		if ran {
			t.Errorf("Stage ran fn for a refused upload")
		}
	})

	t.Run("IDs", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := editing(t, open)
		imported := map[osmdata.ElementType]int64{osmdata.Node: bigNodeID, osmdata.Way: bigWayID, osmdata.Relation: bigRelationID}
		// Every author uploads in parallel (their locks differ), several
		// rounds, every type.
		authors := []int64{ana, bo, carla, 10, 11, 12, 13, 14}
		changesets := make([]int64, len(authors))
		for i, uid := range authors {
			changesets[i] = mustCreateChangeset(t, s, uid).ID
		}
		got := make([]map[osmdata.ElementType][]int64, len(authors))
		errs := race(len(authors), func(i int) error {
			got[i] = map[osmdata.ElementType][]int64{}
			for round := range 5 {
				err := s.Stage(ctx, changesets[i], authors[i], func(ctx context.Context, tx storage.StageTx) error {
					for _, typ := range osmdata.ElementTypes {
						ids, err := tx.AllocateIDs(ctx, typ, 1+round*7)
						if err != nil {
							return err
						}
						if len(ids) != 1+round*7 {
							return fmt.Errorf("%d %s ids asked, %d given", 1+round*7, typ, len(ids))
						}
						got[i][typ] = append(got[i][typ], ids...)
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("uploader %d: %v", i, err)
			}
		}
		for _, typ := range osmdata.ElementTypes {
			seen := map[int64]int{}
			for i := range got {
				for _, id := range got[i][typ] {
					if id <= imported[typ] {
						t.Errorf("%s id %d allocated, not above the imported %d", typ, id, imported[typ])
					}
					if j, dup := seen[id]; dup {
						t.Errorf("%s id %d allocated to uploaders %d and %d", typ, id, j, i)
					}
					seen[id] = i
				}
			}
			if want := len(authors) * (1 + 8 + 15 + 22 + 29); len(seen) != want {
				t.Errorf("%d distinct %s ids, want %d", len(seen), typ, want)
			}
		}
		next := mustNextIDs(t, s)
		if next.Node <= bigNodeID || next.Way <= bigWayID || next.Relation <= bigRelationID {
			t.Errorf("NextIDs after allocation: %+v", next)
		}
	})

	t.Run("Replace", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := editing(t, open)
		c := mustCreateChangeset(t, s, ana)
		first := mustWritePending(t, s, c.ID, ana,
			pendingNode(storage.Modify, 1, 4, 38.7223, -9.1393, "name", "Lisboa"),
			pendingNode(storage.Create, bigNodeID+1, 1, 1, 1),
			pendingWay(storage.Modify, 20, 5, []int64{1, 2, 3}))
		// The second upload replaces the node's row: one row per element
		// and changeset, the latest content, a later seq; the base stays
		// what the caller says it is.
		second := pendingNode(storage.Modify, 1, 5, 38.7, -9.1, "name", "Lisbon")
		second.BaseVersion = 3
		// Repeated within one call, the last occurrence wins.
		repeatedA := pendingNode(storage.Create, bigNodeID+2, 1, 2, 2)
		repeatedB := pendingNode(storage.Create, bigNodeID+2, 2, 2.5, 2.5, "fixme", "moved")
		way := pendingWay(storage.Modify, 20, 6, []int64{2, 3, 6})
		w := mustWritePending(t, s, c.ID, ana, second, repeatedA, repeatedB, way)
		got, err := s.ChangesetChanges(ctx, c.ID)
		checkPending(t, "ChangesetChanges after a re-upload", got, err, first[1], w[0], w[2], w[3])
		// The way's references are its new content's.
		got, err = s.Pending(ana).PendingReferencing(ctx, osmdata.Node, []int64{1})
		checkPending(t, "PendingReferencing a node the re-upload dropped", got, err)
		got, err = s.Pending(ana).PendingReferencing(ctx, osmdata.Node, []int64{6})
		checkPending(t, "PendingReferencing a node the re-upload added", got, err, w[3])
		if w[0].Seq <= first[1].Seq {
			t.Errorf("re-uploaded row seq %d, not above the first upload's %d", w[0].Seq, first[1].Seq)
		}
		got, err = s.Pending(ana).PendingElements(ctx, osmdata.Node, []int64{1, bigNodeID + 2})
		checkPending(t, "PendingElements after a re-upload", got, err, w[0], w[2])
		// Every provisional version given stays citable and resolves to
		// the changeset's current row.
		for _, v := range []int{4, 5} {
			p, err := s.Pending(ana).PendingVersion(ctx, osmdata.Key{Type: osmdata.Node, ID: 1}, v)
			checkPending(t, fmt.Sprintf("PendingVersion v%d", v), []storage.PendingChange{p}, err, w[0])
		}
		for _, v := range []int{1, 2} {
			p, err := s.Pending(ana).PendingVersion(ctx, osmdata.Key{Type: osmdata.Node, ID: bigNodeID + 2}, v)
			checkPending(t, fmt.Sprintf("PendingVersion v%d of a node repeated in one upload", v), []storage.PendingChange{p}, err, w[2])
		}
		_, err = s.Pending(ana).PendingVersion(ctx, osmdata.Key{Type: osmdata.Node, ID: 1}, 3)
		wantErr(t, "PendingVersion of an authoritative version", err, storage.ErrNotFound)
		_, err = s.Pending(bo).PendingVersion(ctx, osmdata.Key{Type: osmdata.Node, ID: 1}, 5)
		wantErr(t, "PendingVersion of another user's version", err, storage.ErrNotFound)
	})

	t.Run("Overlay", func(t *testing.T) { t.Parallel(); testPendingOverlay(t, open) })

	t.Run("Rollback", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := editing(t, open)
		parent := mustCreateChangeset(t, s, ana)
		c := mustCreateChangeset(t, s, ana)
		before := mustChangeset(t, s, c.ID)
		errBoom := errors.New("storagetest: the upload fails after writing")
		var allocated []int64
		err := s.Stage(ctx, c.ID, ana, func(ctx context.Context, tx storage.StageTx) error {
			ids, err := tx.AllocateIDs(ctx, osmdata.Node, 3)
			if err != nil {
				return err
			}
			allocated = ids
			if err := tx.WritePending(ctx, []storage.PendingChange{
				pendingNode(storage.Create, ids[0], 1, 1, 1),
				pendingWay(storage.Create, bigWayID+5, 1, []int64{ids[0], 1}),
				pendingNode(storage.Modify, 1, 4, 38, -9),
			}); err != nil {
				return err
			}
			if err := tx.AddParents(ctx, []int64{parent.ID}); err != nil {
				return err
			}
			if _, err := tx.UpdateChangeset(ctx, 3, osmdata.Box{MinLat: 1, MinLon: 1, MaxLat: 2, MaxLon: 2}, true); err != nil {
				return err
			}
			return fmt.Errorf("wrapped: %w", errBoom)
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Stage returned %v, want fn's error", err)
		}
		if got, err := s.ChangesetChanges(ctx, c.ID); err != nil || len(got) != 0 {
			t.Errorf("changes kept after a rollback: %v, %v", describe(got), err)
		}
		if got, err := s.Pending(ana).PendingElements(ctx, osmdata.Node, []int64{allocated[0], 1}); err != nil || len(got) != 0 {
			t.Errorf("pending rows kept after a rollback: %v, %v", describe(got), err)
		}
		if got, err := s.Pending(ana).PendingReferencing(ctx, osmdata.Node, []int64{1}); err != nil || len(got) != 0 {
			t.Errorf("pending references kept after a rollback: %v, %v", describe(got), err)
		}
		if _, err := s.Pending(ana).PendingVersion(ctx, osmdata.Key{Type: osmdata.Node, ID: 1}, 4); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("provisional version kept after a rollback: %v", err)
		}
		if got, err := s.ChangesetParents(ctx, c.ID); err != nil || len(got) != 0 {
			t.Errorf("parents kept after a rollback: %v, %v", got, err)
		}
		if diff := cmp.Diff(before, mustChangeset(t, s, c.ID), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("changeset changed by a rolled back upload (-before +after):\n%s", diff)
		}
		// Ids may be consumed (a PostgreSQL sequence is not rolled back)
		// or handed out again (SQLite's next_ids row is): nothing kept
		// refers to them and the client never saw them. Either way the
		// next upload gets ids above the imported ones.
		err = s.Stage(ctx, c.ID, ana, func(ctx context.Context, tx storage.StageTx) error {
			ids, err := tx.AllocateIDs(ctx, osmdata.Node, 3)
			if err == nil && (len(ids) != 3 || ids[0] < allocated[0]) {
				t.Errorf("node ids after a rollback: %v, the rolled back upload had %v", ids, allocated)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("Parents", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := editing(t, open)
		p1, p2 := mustCreateChangeset(t, s, ana), mustCreateChangeset(t, s, ana)
		foreign := mustCreateChangeset(t, s, bo)
		c := mustCreateChangeset(t, s, ana)
		add := func(parents ...int64) error {
			return s.Stage(ctx, c.ID, ana, func(ctx context.Context, tx storage.StageTx) error {
				return tx.AddParents(ctx, parents)
			})
		}
		if err := add(p2.ID, p1.ID, p2.ID, c.ID); err != nil {
			t.Fatalf("AddParents: %v", err)
		}
		if err := add(p1.ID); err != nil {
			t.Fatalf("AddParents again: %v", err)
		}
		if err := add(foreign.ID); err == nil {
			t.Errorf("AddParents accepted another user's changeset")
		}
		if err := add(foreign.ID + 1000); err == nil {
			t.Errorf("AddParents accepted an unknown changeset")
		}
		got, err := s.ChangesetParents(ctx, c.ID)
		if diff := cmp.Diff([]int64{p1.ID, p2.ID}, got); err != nil || diff != "" {
			t.Errorf("ChangesetParents: %v (-want +got):\n%s", err, diff)
		}
		if got, err := s.ChangesetParents(ctx, p1.ID); err != nil || len(got) != 0 {
			t.Errorf("parents of a changeset without any: %v, %v", got, err)
		}
	})

	t.Run("OneAuthorAtATime", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := editing(t, open)
		// Each upload reads the author's latest version of node 1 and
		// stages the next one, in its own changeset: unless Stage
		// serializes the author, two read the same version and both
		// stage its successor.
		changesets := make([]int64, writers)
		for i := range changesets {
			changesets[i] = mustCreateChangeset(t, s, ana).ID
		}
		other := mustCreateChangeset(t, s, bo).ID
		errs := race(writers+1, func(i int) error {
			if i == writers {
				// Another author at the same time is not held up by ana's
				// lock, nor sees her rows.
				return s.Stage(ctx, other, bo, func(ctx context.Context, tx storage.StageTx) error {
					got, err := tx.Pending().PendingElements(ctx, osmdata.Node, []int64{1})
					if err == nil && len(got) > 0 {
						err = fmt.Errorf("bo reads ana's pending node: %v", describe(got))
					}
					return err
				})
			}
			for round := range 3 {
				err := s.Stage(ctx, changesets[i], ana, func(ctx context.Context, tx storage.StageTx) error {
					got, err := tx.Pending().PendingElements(ctx, osmdata.Node, []int64{1})
					if err != nil {
						return err
					}
					v := 3
					if len(got) > 0 {
						v = got[0].Element.Version
					}
					return tx.WritePending(ctx, []storage.PendingChange{
						pendingNode(storage.Modify, 1, v+1, 38, -9, "writer", fmt.Sprint(i), "round", fmt.Sprint(round))})
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("uploader %d: %v", i, err)
			}
		}
		var versions []int
		for _, id := range changesets {
			got, err := s.ChangesetChanges(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range got {
				versions = append(versions, p.Element.Version)
			}
		}
		// Each changeset keeps its last row only, so the versions seen are
		// one per changeset, all distinct, the highest 3 + 3 × writers.
		slices.Sort(versions)
		if len(slices.Compact(slices.Clone(versions))) != len(versions) {
			t.Errorf("two uploads of one author staged the same version of node 1: %v", versions)
		}
		if versions[len(versions)-1] != 3+3*writers {
			t.Errorf("latest staged version %d, want %d after %d serialized uploads", versions[len(versions)-1], 3+3*writers, 3*writers)
		}
		latest, err := s.Pending(ana).PendingElements(ctx, osmdata.Node, []int64{1})
		if err != nil || len(latest) != 1 || latest[0].Element.Version != 3+3*writers {
			t.Errorf("the overlay shows %v, %v; want node 1 v%d", describe(latest), err, 3+3*writers)
		}
	})
}

// testPendingOverlay stacks two changesets of ana over a third of bo's
// and checks what each read of the overlay returns as the changesets are
// rejected and merged.
func testPendingOverlay(t *testing.T, open Opener) {
	ctx := t.Context()
	s := editing(t, open)
	box := osmdata.Box{MinLat: deg(38), MinLon: deg(-10), MaxLat: deg(39), MaxLon: deg(-9)}
	const (
		n1 = bigNodeID + 1 // created inside the box
		n2 = bigNodeID + 2 // created on its south-west corner
		n3 = bigNodeID + 3 // created outside
		w  = bigWayID + 1
		r  = bigRelationID + 1
	)
	first := mustCreateChangeset(t, s, ana)
	a := mustWritePending(t, s, first.ID, ana,
		pendingNode(storage.Create, n1, 1, 38.5, -9.5, "name", "inside"),
		pendingNode(storage.Create, n2, 1, 38, -10),
		pendingNode(storage.Create, n3, 1, 40, -9.5),
		pendingNode(storage.Modify, 2, 2, 39, -9), // authoritative node, now on the north-east corner
		pendingWay(storage.Create, w, 1, []int64{n1, n2, 2, n1}),
		pendingRelation(storage.Create, r, 1, []osmdata.Member{member(osmdata.Way, w, "outer"), member(osmdata.Node, n3, "label")}),
		pendingDelete(3, osmdata.Node, 10), // inside the box: a delete is not in it
	)
	// bo's pending rows, in the same box and on the same elements, are
	// his only.
	bos := mustCreateChangeset(t, s, bo)
	mustWritePending(t, s, bos.ID, bo,
		pendingNode(storage.Create, bigNodeID+50, 1, 38.5, -9.5),
		pendingWay(storage.Modify, 20, 5, []int64{1, 2}),
		pendingNode(storage.Modify, 2, 2, 38.1, -9.9))

	read := func(label string, wantBox, wantNodeRefs, wantN3Refs, wantWayRefs, wantElems []storage.PendingChange) {
		t.Helper()
		p := s.Pending(ana)
		got, err := p.PendingNodesInBox(ctx, box)
		checkPending(t, label+": PendingNodesInBox", got, err, wantBox...)
		got, err = p.PendingReferencing(ctx, osmdata.Node, []int64{n1, 2})
		checkPending(t, label+": PendingReferencing nodes", got, err, wantNodeRefs...)
		got, err = p.PendingReferencing(ctx, osmdata.Node, []int64{n3})
		checkPending(t, label+": PendingReferencing node n3", got, err, wantN3Refs...)
		got, err = p.PendingReferencing(ctx, osmdata.Way, []int64{w})
		checkPending(t, label+": PendingReferencing way", got, err, wantWayRefs...)
		got, err = p.PendingElements(ctx, osmdata.Node, []int64{n1, n2, n3, 2, 3, bigNodeID + 50})
		checkPending(t, label+": PendingElements", got, err, wantElems...)
	}
	read("one changeset",
		[]storage.PendingChange{a[3], a[0], a[1]}, // by id: 2, n1, n2
		[]storage.PendingChange{a[4]}, []storage.PendingChange{a[5]}, []storage.PendingChange{a[5]},
		[]storage.PendingChange{a[3], a[6], a[0], a[1], a[2]})

	// The second changeset stacks on the first: n1 moves out of the box
	// and gains a tag, the way drops n1 and node 2, the relation drops
	// n3, n2 is deleted.
	second := mustCreateChangeset(t, s, ana)
	b := []storage.PendingChange{
		pendingNode(storage.Modify, n1, 2, 45, 5, "name", "moved"),
		pendingWay(storage.Modify, w, 2, []int64{n2, n3}),
		pendingRelation(storage.Modify, r, 2, []osmdata.Member{member(osmdata.Way, w, "outer")}),
		pendingDelete(n2, osmdata.Node, 2),
	}
	for i := range b {
		b[i].BaseChangeset = first.ID
	}
	b = mustWritePending(t, s, second.ID, ana, b...)
	read("stacked",
		[]storage.PendingChange{a[3]},
		nil, []storage.PendingChange{b[1]}, []storage.PendingChange{b[2]},
		[]storage.PendingChange{a[3], a[6], b[0], b[3], a[2]})

	// Rejected, the second changeset's rows no longer count: the first's
	// show again, and its provisional versions are not citable.
	if _, err := s.CloseChangeset(ctx, second.ID, ana); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetReviewState(ctx, second.ID, osmdata.ReviewRejected, storage.ReviewNote{}); err != nil {
		t.Fatal(err)
	}
	read("second rejected",
		[]storage.PendingChange{a[3], a[0], a[1]},
		[]storage.PendingChange{a[4]}, []storage.PendingChange{a[5]}, []storage.PendingChange{a[5]},
		[]storage.PendingChange{a[3], a[6], a[0], a[1], a[2]})
	_, err := s.Pending(ana).PendingVersion(ctx, osmdata.Key{Type: osmdata.Node, ID: n1}, 2)
	wantErr(t, "PendingVersion in a rejected changeset", err, storage.ErrNotFound)

	// Merged, the first changeset leaves the overlay (the dataset has its
	// content now) but its provisional versions stay citable.
	if _, err := s.CloseChangeset(ctx, first.ID, ana); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetReviewState(ctx, first.ID, osmdata.ReviewMerged, storage.ReviewNote{}); err != nil {
		t.Fatal(err)
	}
	read("first merged", nil, nil, nil, nil, nil)
	p, err := s.Pending(ana).PendingVersion(ctx, osmdata.Key{Type: osmdata.Node, ID: n1}, 1)
	checkPending(t, "PendingVersion in a merged changeset", []storage.PendingChange{p}, err, a[0])
	// bo's rows were never ana's, and are still his.
	got, err := s.Pending(bo).PendingNodesInBox(ctx, box)
	if err != nil || len(got) != 2 {
		t.Errorf("bo's pending nodes in the box: %v, %v; want node 2 and his new node", describe(got), err)
	}
}
