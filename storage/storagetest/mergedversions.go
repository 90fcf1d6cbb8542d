package storagetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// testMergedVersions covers PendingReader.MergedVersions, version
// resolution's read of the provisional versions an author's merged
// changesets gave: the versions an editor still cites after a merge.
func testMergedVersions(t *testing.T, open Opener) {
	s, m := merging(t, open)
	ctx := t.Context()
	node1 := osmdata.Key{Type: osmdata.Node, ID: 1}
	node2 := osmdata.Key{Type: osmdata.Node, ID: 2}
	node3 := osmdata.Key{Type: osmdata.Node, ID: 3}
	way10 := osmdata.Key{Type: osmdata.Way, ID: 10}
	// cite says whether the version is current, as an upload does.
	cite := func(k osmdata.Key, v int) storage.CitedVersion {
		t.Helper()
		cur, err := s.CurrentElements(ctx, k.Type, []int64{k.ID})
		if err != nil || len(cur) != 1 {
			t.Fatalf("current %s: %v, %v", k, cur, err)
		}
		return storage.CitedVersion{Element: k, Version: v, Current: cur[0].Version == v}
	}
	line := func(mp storage.MergedProvisional) string {
		return fmt.Sprintf("%s cited v%d: v%d in %d, final v%d", mp.Cited.Element, mp.Cited.Version, mp.Version, mp.Changeset, mp.FinalVersion)
	}
	// check reads the cited versions through r and wants every line of
	// must and no line outside must and may: a current version whose
	// latest merged change has it as its final version may be left out.
	check := func(what string, r storage.PendingReader, cited []storage.CitedVersion, must []string, may ...string) {
		t.Helper()
		got, err := r.MergedVersions(ctx, cited)
		if err != nil {
			t.Fatalf("%s: MergedVersions: %v", what, err)
		}
		var lines []string
		for i, mp := range got {
			lines = append(lines, line(mp))
			if i == 0 {
				continue
			}
			prev := got[i-1].Cited
			if inOrder := prev.Element.Less(mp.Cited.Element) || prev.Element == mp.Cited.Element && prev.Version < mp.Cited.Version; !inOrder {
				t.Errorf("%s: %q after %q: not in element, then version order", what, line(mp), line(got[i-1]))
			}
		}
		for _, mp := range got {
			if !slices.Contains(cited, mp.Cited) {
				t.Errorf("%s: %q answers a version not asked for (%+v)", what, line(mp), mp.Cited)
			}
		}
		for _, l := range must {
			if !slices.Contains(lines, l) {
				t.Errorf("%s: missing %q; got %q", what, l, lines)
			}
		}
		for _, l := range lines {
			if !slices.Contains(must, l) && !slices.Contains(may, l) {
				t.Errorf("%s: unexpected %q", what, l)
			}
		}
	}

	if got, err := s.Pending(ana).MergedVersions(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("MergedVersions of nothing: %v, %v", got, err)
	}

	// ana's first changeset changes node 2 and way 10 in two uploads
	// (v2, then v3 on the same base): the merge makes them v2. A rejected
	// and a submitted changeset are beside it.
	node2v3 := pendingNode(storage.Modify, 2, 3, 10.12, 10.12, "note", "second upload")
	node2v3.BaseVersion = 1
	way10v3 := pendingWay(storage.Modify, 10, 3, []int64{1, 2, 3}, "highway", "footway")
	way10v3.BaseVersion = 1
	first := submitted(t, s, ana, nil,
		[]storage.PendingChange{pendingNode(storage.Modify, 2, 2, 10.11, 10.11), pendingWay(storage.Modify, 10, 2, []int64{1, 2}, "highway", "footway")},
		[]storage.PendingChange{node2v3, way10v3})
	rejected := submitted(t, s, ana, nil, []storage.PendingChange{pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "shelter")})
	if _, err := s.SetReviewState(ctx, rejected, osmdata.ReviewRejected, storage.ReviewNote{}); err != nil {
		t.Fatalf("reject changeset %d: %v", rejected, err)
	}
	submitted(t, s, ana, nil, []storage.PendingChange{pendingNode(storage.Modify, 1, 2, 10.01, 10.01)})
	check("before any merge", s.Pending(ana), []storage.CitedVersion{cite(node2, 3), cite(node2, 2), cite(way10, 2), cite(node1, 2)}, nil)

	mustMerge(t, m, first)
	asked := []storage.CitedVersion{
		cite(way10, 3), cite(node2, 3), cite(node2, 1), cite(way10, 2), cite(node2, 2), cite(node2, 9),
		cite(node3, 2), cite(node1, 2),
	}
	check("after the merge", s.Pending(ana), asked,
		[]string{
			fmt.Sprintf("node 2 cited v3: v3 in %d, final v2", first),
			fmt.Sprintf("way 10 cited v3: v3 in %d, final v2", first),
		},
		// Current, and what their merge made them.
		fmt.Sprintf("node 2 cited v2: v3 in %d, final v2", first),
		fmt.Sprintf("way 10 cited v2: v3 in %d, final v2", first))
	check("another author's", s.Pending(bo), asked, nil)
	check("asked twice", s.Pending(ana), []storage.CitedVersion{cite(way10, 3), cite(way10, 3)},
		[]string{fmt.Sprintf("way 10 cited v3: v3 in %d, final v2", first)})

	// Another user's merge makes way 10 v3: ana's provisional v3 is now
	// also the current version, and must still be found.
	mustMerge(t, m, submitted(t, s, bo, nil, []storage.PendingChange{pendingWay(storage.Modify, 10, 3, []int64{1, 2}, "highway", "path", "surface", "gravel")}))
	check("the current version, someone else's", s.Pending(ana), []storage.CitedVersion{cite(way10, 3)},
		[]string{fmt.Sprintf("way 10 cited v3: v3 in %d, final v2", first)})

	// A later merged changeset of ana's gives node 2 v3 again, as its
	// final version: it is the one v3 resolves to now, also once node 2
	// has moved on.
	again := submitted(t, s, ana, nil, []storage.PendingChange{pendingNode(storage.Modify, 2, 3, 10.13, 10.13, "note", "again")})
	mustMerge(t, m, again)
	check("after a second merge", s.Pending(ana), []storage.CitedVersion{cite(node2, 3), cite(node2, 2)},
		[]string{fmt.Sprintf("node 2 cited v2: v3 in %d, final v2", first)},
		fmt.Sprintf("node 2 cited v3: v3 in %d, final v3", again))
	mustMerge(t, m, submitted(t, s, bo, nil, []storage.PendingChange{pendingNode(storage.Modify, 2, 4, 10.14, 10.14)}))
	check("after node 2 moved on", s.Pending(ana), []storage.CitedVersion{cite(node2, 3)},
		[]string{fmt.Sprintf("node 2 cited v3: v3 in %d, final v3", again)})

	// The same inside an upload's transaction.
	c := mustCreateChangeset(t, s, ana)
	way10v3cited := cite(way10, 3)
	err := s.Stage(ctx, c.ID, ana, func(ctx context.Context, tx storage.StageTx) error {
		check("inside Stage", tx.Pending(), []storage.CitedVersion{way10v3cited},
			[]string{fmt.Sprintf("way 10 cited v3: v3 in %d, final v2", first)})
		return nil
	})
	if err != nil {
		t.Fatalf("Stage: %v", err)
	}
}
