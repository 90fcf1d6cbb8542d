package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Ids above 2^32 (OpenStreetMap's node ids passed it in 2021) and above
// 2^31, so a 32-bit column anywhere shows.
const (
	bigNodeID      = 12_000_000_123
	bigWayID       = 2_200_000_001
	bigRelationID  = 17_000_001
	bigChangesetID = 150_000_001
	bigUID         = 22_000_001
	danglingNodeID = 777
)

// importDataset is a small extract as an import sees it: one version per
// element (not necessarily 1), in OSM order, several users (one renamed
// between two of their changesets), changesets with and without nodes,
// and references to elements the extract does not have.
func importDataset() []osmdata.Element {
	at := func(minutes int) time.Time { return baseTime.Add(time.Duration(minutes) * time.Minute) }
	by := func(e osmdata.Element, cs int64, uid int64, user string, ts time.Time) osmdata.Element {
		e.Changeset, e.UID, e.User, e.Timestamp = cs, uid, user, ts
		return e
	}
	els := []osmdata.Element{
		by(newNode(1, 3, deg(38.7223), deg(-9.1393), "name", "Lisboa", "place", "city"), 501, 11, "anna", at(0)),
		by(newNode(2, 1, deg(38.7224), deg(-9.1390)), 501, 11, "anna", at(4)),
		by(newNode(3, 9, deg(38.7100), deg(-9.1500), "amenity", "fountain"), 501, 11, "anna", at(2)),
		by(newNode(4, 1, deg(-22.9068), deg(-43.1729)), 502, 12, "björn 🌲", at(60)),
		by(newNode(5, 2, deg(-22.9000), deg(-43.1800)), 502, 12, "björn 🌲", at(61)),
		by(newNode(6, 1, deg(0), deg(0)), 503, 13, "old-name", at(-600)),
		by(newNode(bigNodeID, 1, deg(64.1466), deg(-21.9426), "name", "Reykjavík"), bigChangesetID, bigUID, "Þórunn", at(30)),
		by(newWay(20, 4, []int64{1, 2, 3, danglingNodeID, 1}, "highway", "primary"), 502, 12, "björn 🌲", at(59)),
		by(newWay(21, 1, []int64{4, 5}), 505, 14, "way-only", at(120)),
		by(newWay(bigWayID, 2, []int64{bigNodeID, 6}), 505, 14, "way-only", at(121)),
		by(newRelation(30, 1, []osmdata.Member{
			member(osmdata.Way, 20, "outer"),
			member(osmdata.Relation, 31, "subarea"), // not in the extract
			member(osmdata.Way, 999, "inner"),       // not in the extract
			member(osmdata.Node, 1, "admin_centre"),
		}, "type", "boundary", "boundary", "administrative"), 504, 13, "new-name", at(300)),
		by(newRelation(bigRelationID, 5, []osmdata.Member{member(osmdata.Relation, 30, "")}), 504, 13, "new-name", at(301)),
	}
	return els
}

// expectedChangesets derives the changeset rows an import records from
// the elements: the user of its elements, earliest and latest timestamp,
// element count, the extent of its nodes, closed, review state merged.
func expectedChangesets(els []osmdata.Element) map[int64]osmdata.Changeset {
	out := map[int64]osmdata.Changeset{}
	for _, e := range els {
		c, ok := out[e.Changeset]
		if !ok {
			c = osmdata.Changeset{ID: e.Changeset, UID: e.UID, User: e.User, CreatedAt: e.Timestamp, ClosedAt: e.Timestamp, ReviewState: osmdata.ReviewMerged}
		}
		c.NumChanges++
		if e.Timestamp.Before(c.CreatedAt) {
			c.CreatedAt = e.Timestamp
		}
		if e.Timestamp.After(c.ClosedAt) {
			c.ClosedAt = e.Timestamp
		}
		if e.Type == osmdata.Node {
			if !c.HasBox {
				c.HasBox = true
				c.Box = osmdata.Box{MinLat: e.Lat, MinLon: e.Lon, MaxLat: e.Lat, MaxLon: e.Lon}
			}
			c.Box.MinLat, c.Box.MaxLat = min(c.Box.MinLat, e.Lat), max(c.Box.MaxLat, e.Lat)
			c.Box.MinLon, c.Box.MaxLon = min(c.Box.MinLon, e.Lon), max(c.Box.MaxLon, e.Lon)
		}
		out[e.Changeset] = c
	}
	return out
}

func distinctUsers(els []osmdata.Element) int64 {
	seen := map[int64]bool{}
	for _, e := range els {
		seen[e.UID] = true
	}
	return int64(len(seen))
}

// gridDataset is a generated extract large enough to cross any batch size
// a backend picks: nodes on a grid, ways of ten consecutive nodes, one
// relation per hundred ways.
func gridDataset(nodes, ways int) []osmdata.Element {
	var els []osmdata.Element
	for i := 1; i <= nodes; i++ {
		n := newNode(int64(i), 1+i%3, deg(45)+int32(i/300)*1000, deg(-73)+int32(i%300)*1000)
		n.Changeset, n.UID, n.User = 10000+int64(i%17), 100+int64(i%17), fmt.Sprintf("grid user %d", i%17)
		if i%7 == 0 {
			n.Tags = tags("grid", fmt.Sprint(i))
		}
		els = append(els, n)
	}
	for i := 1; i <= ways; i++ {
		ns := make([]int64, 10)
		for j := range ns {
			ns[j] = int64((i*10+j)%nodes + 1)
		}
		w := newWay(int64(i), 1, ns, "highway", "footway")
		w.Changeset, w.UID, w.User = 10000+int64(i%17), 100+int64(i%17), fmt.Sprintf("grid user %d", i%17)
		els = append(els, w)
	}
	for i := 1; i <= ways/100; i++ {
		var ms []osmdata.Member
		for j := 0; j < 100; j++ {
			ms = append(ms, member(osmdata.Way, int64((i-1)*100+j+1), ""))
		}
		r := newRelation(int64(i), 1, ms, "type", "route")
		r.Changeset, r.UID, r.User = 10000+int64(i%17), 100+int64(i%17), fmt.Sprintf("grid user %d", i%17)
		els = append(els, r)
	}
	return els
}

// checkImported asserts that the store holds exactly els, as imported.
func checkImported(t *testing.T, s storage.Store, els []osmdata.Element) {
	t.Helper()
	ctx := t.Context()
	for _, typ := range osmdata.ElementTypes {
		want := ofType(els, typ)
		got, err := s.CurrentElements(ctx, typ, idsOf(want))
		if err != nil {
			t.Fatalf("CurrentElements(%s): %v", typ, err)
		}
		checkElements(t, "CurrentElements of the imported "+typ.String()+"s", got, want)
	}
	checkElements(t, "Export after import", mustExport(t, s), els)
	c := mustCounts(t, s)
	want := storage.Counts{
		Nodes: int64(len(ofType(els, osmdata.Node))), Ways: int64(len(ofType(els, osmdata.Way))),
		Relations: int64(len(ofType(els, osmdata.Relation))), Versions: int64(len(els)),
		Changesets: int64(len(expectedChangesets(els))), Users: distinctUsers(els),
	}
	if c != want {
		t.Errorf("Counts after import = %+v, want %+v", c, want)
	}
}

func mustImport(t *testing.T, s storage.Store, els []osmdata.Element) storage.ImportResult {
	t.Helper()
	res, err := s.Import(t.Context(), source(els))
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return res
}

func testImport(t *testing.T, open Opener) {
	t.Run("ContentAndCounts", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		els := importDataset()
		res := mustImport(t, s, els)
		want := storage.ImportResult{Nodes: 7, Ways: 3, Relations: 2, Users: 5, Changesets: 6}
		res.Duration = 0
		if res != want {
			t.Errorf("ImportResult = %+v, want %+v", res, want)
		}
		checkImported(t, s, els)
		for _, e := range els {
			h, err := s.History(t.Context(), e.Type, e.ID)
			if err != nil {
				t.Errorf("History(%s): %v", e.Key(), err)
				continue
			}
			checkElements(t, "History of an imported element", h, []osmdata.Element{e})
			if _, err := s.ElementVersion(t.Context(), e.Type, e.ID, e.Version-1); e.Version > 1 && !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("ElementVersion(%s v%d) = %v; an import has one version only, want ErrNotFound", e.Key(), e.Version-1, err)
			}
		}
	})

	t.Run("Large", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		els := gridDataset(25_000, 2_500)
		res := mustImport(t, s, els)
		if res.Nodes != 25_000 || res.Ways != 2_500 || res.Relations != 25 || res.Users != 17 || res.Changesets != 17 {
			t.Errorf("ImportResult = %+v, want 25000 nodes, 2500 ways, 25 relations, 17 users, 17 changesets", res)
		}
		checkImported(t, s, els)
		// The reverse lookups are filled by the import too.
		ways, err := s.WaysUsingNodes(t.Context(), []int64{11})
		if err != nil {
			t.Fatalf("WaysUsingNodes: %v", err)
		}
		checkIDs(t, "WaysUsingNodes(11)", ways, 1)
		rels, err := s.RelationsWithMembers(t.Context(), osmdata.Way, []int64{250, 2500})
		if err != nil {
			t.Fatalf("RelationsWithMembers: %v", err)
		}
		checkIDs(t, "RelationsWithMembers(way 250, 2500)", rels, 3, 25)
	})

	t.Run("ChangesetsAndUsers", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		els := importDataset()
		mustImport(t, s, els)
		for id, want := range expectedChangesets(els) {
			got, err := s.Changeset(t.Context(), id)
			if err != nil {
				t.Errorf("Changeset(%d): %v", id, err)
				continue
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Changeset(%d) (-want +got):\n%s", id, diff)
			}
			for _, ts := range []time.Time{got.CreatedAt, got.ClosedAt} {
				if _, off := ts.Zone(); off != 0 || ts.Nanosecond() != 0 {
					t.Errorf("Changeset(%d): time %v not UTC whole seconds", id, ts)
				}
			}
		}
		if _, err := s.Changeset(t.Context(), 999); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Changeset(999) = %v, want ErrNotFound", err)
		}
		// Every element keeps the name it was recorded with, also for the
		// user renamed between their two changesets.
		h, err := s.History(t.Context(), osmdata.Node, 6)
		if err != nil || len(h) != 1 || h[0].User != "old-name" || h[0].UID != 13 {
			t.Errorf("History(node 6) = %+v, %v; want one version by uid 13 \"old-name\"", h, err)
		}
		h, err = s.History(t.Context(), osmdata.Relation, 30)
		if err != nil || len(h) != 1 || h[0].User != "new-name" || h[0].UID != 13 {
			t.Errorf("History(relation 30) = %+v, %v; want one version by uid 13 \"new-name\"", h, err)
		}
	})

	t.Run("DanglingReferences", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		els := importDataset()
		mustImport(t, s, els)
		ways, err := s.WaysUsingNodes(t.Context(), []int64{3})
		if err != nil {
			t.Fatalf("WaysUsingNodes: %v", err)
		}
		checkElements(t, "a way with a node the extract lacks", ways, ofType(els, osmdata.Way)[:1])
		rels, err := s.RelationsWithMembers(t.Context(), osmdata.Way, []int64{20})
		if err != nil {
			t.Fatalf("RelationsWithMembers: %v", err)
		}
		checkElements(t, "a relation with members the extract lacks", rels, ofType(els, osmdata.Relation)[:1])
		// The map call around Lisbon serves the way without its missing node.
		box := osmdata.Box{MinLat: deg(38.7), MinLon: deg(-9.2), MaxLat: deg(38.8), MaxLon: deg(-9.1)}
		m, err := storage.Map(t.Context(), s, box, 100)
		if err != nil {
			t.Fatalf("Map over dangling references: %v", err)
		}
		checkIDs(t, "Map nodes", m.Nodes, 1, 2, 3)
		checkIDs(t, "Map ways", m.Ways, 20)
		checkIDs(t, "Map relations", m.Relations, 30, bigRelationID)
	})

	t.Run("NextIDs", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		before := mustNextIDs(t, s)
		if before.Node < 1 || before.Way < 1 || before.Relation < 1 || before.Changeset < 1 || before.User < 1 {
			t.Errorf("NextIDs of an empty store = %+v, want every id positive", before)
		}
		mustImport(t, s, importDataset())
		got := mustNextIDs(t, s)
		for _, c := range []struct {
			name      string
			next, max int64
		}{
			{"node", got.Node, bigNodeID},
			{"way", got.Way, bigWayID},
			{"relation", got.Relation, bigRelationID},
			{"changeset", got.Changeset, bigChangesetID},
			{"user", got.User, bigUID},
		} {
			if c.next <= c.max {
				t.Errorf("next %s id after import = %d, want above the largest imported id %d", c.name, c.next, c.max)
			}
		}
		// Asking does not consume an id.
		if again := mustNextIDs(t, s); again != got {
			t.Errorf("NextIDs changed between two calls: %+v, then %+v", got, again)
		}
	})

	t.Run("IntoNonEmpty", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		first := importDataset()
		mustImport(t, s, first)
		counts, ids := mustCounts(t, s), mustNextIDs(t, s)

		second := gridDataset(100, 10)
		_, err := s.Import(t.Context(), source(second))
		if !errors.Is(err, storage.ErrNotEmpty) {
			t.Fatalf("second Import = %v, want ErrNotEmpty", err)
		}
		if c := mustCounts(t, s); c != counts {
			t.Errorf("Counts after a refused import = %+v, want %+v", c, counts)
		}
		if got := mustNextIDs(t, s); got != ids {
			t.Errorf("NextIDs after a refused import = %+v, want %+v", got, ids)
		}
		checkImported(t, s, first)

		// A dataset whose only content came from Apply is not empty either.
		s2 := open(t)
		mustApply(t, s2, newNode(1, 1, deg(1), deg(1)))
		if _, err := s2.Import(t.Context(), source(second)); !errors.Is(err, storage.ErrNotEmpty) {
			t.Errorf("Import after Apply = %v, want ErrNotEmpty", err)
		}
		if c := mustCounts(t, s2); c.Nodes != 1 || c.Ways != 0 || c.Versions != 1 {
			t.Errorf("Counts after a refused import = %+v, want the one applied node", c)
		}

		// An account made first would collide with the imported users'
		// ids (both start at 1 in an empty dataset) and could take over an
		// imported contributor's history: the import is refused.
		s3 := open(t)
		if _, err := s3.CreateAccount(t.Context(), storage.NewAccount{DisplayName: "early bird", Role: "contributor"}); err != nil {
			t.Fatalf("CreateAccount: %v", err)
		}
		if _, err := s3.Import(t.Context(), source(second)); !errors.Is(err, storage.ErrNotEmpty) {
			t.Errorf("Import after CreateAccount = %v, want ErrNotEmpty", err)
		}
		if c := mustCounts(t, s3); c.Nodes != 0 {
			t.Errorf("Counts after a refused import = %+v, want no element", c)
		}
	})
}
