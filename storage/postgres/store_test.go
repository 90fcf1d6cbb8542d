package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// sample is a small dataset with what extracts contain: tags out of
// alphabetical order, a renamed user, a deleted version, dangling
// references, nodes on the world's edges.
func sample() []osmdata.Element {
	node := func(id int64, v int, cs int64, uid int64, user, when string, lat, lon int32, tags ...string) osmdata.Element {
		e := osmdata.Element{Type: osmdata.Node, ID: id, Version: v, Visible: true, Changeset: cs, UID: uid, User: user, Timestamp: ts(when), Lat: lat, Lon: lon}
		for i := 0; i < len(tags); i += 2 {
			e.Tags = append(e.Tags, osmdata.Tag{Key: tags[i], Value: tags[i+1]})
		}
		return e
	}
	deleted := node(4, 3, 12, 100, "alice_renamed", "2022-03-01T00:00:00Z", 0, 0)
	deleted.Visible = false
	return []osmdata.Element{
		node(1, 2, 10, 100, "alice", "2020-01-01T10:00:00Z", 10000000, 20000000, "name", "Foo", "amenity", "cafe"),
		node(2, 1, 10, 100, "alice", "2020-01-01T09:00:00Z", 10500000, 20500000),
		node(3, 1, 11, 101, "bob", "2021-06-01T00:00:00Z", -10000000, -1800000000, "natural", "tree"),
		deleted,
		node(5, 1, 13, 101, "bob", "2021-06-02T00:00:00Z", 900000000, 1800000000),
		{Type: osmdata.Way, ID: 10, Version: 1, Visible: true, Changeset: 11, UID: 101, User: "bob", Timestamp: ts("2021-06-01T00:00:01Z"),
			Tags: osmdata.Tags{{Key: "highway", Value: "residential"}, {Key: "access", Value: "private"}}, Nodes: []int64{1, 2, 3}},
		{Type: osmdata.Way, ID: 11, Version: 4, Visible: true, Changeset: 12, UID: 100, User: "alice_renamed", Timestamp: ts("2022-03-01T00:00:00Z"),
			Nodes: []int64{2, 999}},
		{Type: osmdata.Way, ID: 12, Version: 2, Visible: false, Changeset: 12, UID: 100, User: "alice_renamed", Timestamp: ts("2022-03-01T00:00:00Z")},
		{Type: osmdata.Relation, ID: 20, Version: 1, Visible: true, Changeset: 12, UID: 100, User: "alice_renamed", Timestamp: ts("2022-03-01T00:00:00Z"),
			Tags:    osmdata.Tags{{Key: "type", Value: "route"}},
			Members: []osmdata.Member{{Type: osmdata.Node, Ref: 1, Role: "stop"}, {Type: osmdata.Way, Ref: 10}, {Type: osmdata.Relation, Ref: 21, Role: "sub"}}},
		{Type: osmdata.Relation, ID: 21, Version: 1, Visible: true, Changeset: 12, UID: 100, User: "alice_renamed", Timestamp: ts("2022-03-01T00:00:00Z"),
			Members: []osmdata.Member{{Type: osmdata.Way, Ref: 11, Role: "outer"}, {Type: osmdata.Way, Ref: 11, Role: "outer"}}},
		{Type: osmdata.Relation, ID: 22, Version: 1, Visible: true, Changeset: 12, UID: 100, User: "alice_renamed", Timestamp: ts("2022-03-01T00:00:00Z"),
			Members: []osmdata.Member{{Type: osmdata.Node, Ref: 4}}},
	}
}

func ofType(els []osmdata.Element, t osmdata.ElementType) []osmdata.Element {
	var out []osmdata.Element
	for _, e := range els {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

func ids(els []osmdata.Element) []int64 {
	out := []int64{}
	for _, e := range els {
		out = append(out, e.ID)
	}
	return out
}

func importSample(t *testing.T, s *Store) []osmdata.Element {
	t.Helper()
	els := sample()
	if _, err := s.Import(context.Background(), &sliceSource{elements: els}); err != nil {
		t.Fatal(err)
	}
	return els
}

func TestImportKeepsElementsAsGiven(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	els := sample()
	res, err := s.Import(ctx, &sliceSource{elements: els})
	if err != nil {
		t.Fatal(err)
	}
	wantRes := storage.ImportResult{Nodes: 5, Ways: 3, Relations: 3, Users: 2, Changesets: 4}
	res.Duration = 0
	if res != wantRes {
		t.Errorf("import result %+v, want %+v", res, wantRes)
	}
	for _, typ := range osmdata.ElementTypes {
		want := ofType(els, typ)
		got, err := s.CurrentElements(ctx, typ, append(ids(want), 777))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("current %ss differ from the imported ones (-want +got):\n%s", typ, d)
		}
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (storage.Counts{Nodes: 4, Ways: 2, Relations: 3, Versions: 11, Changesets: 4, Users: 2}); counts != want {
		t.Errorf("counts %+v, want %+v", counts, want)
	}
	next, err := s.NextIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (storage.IDs{Node: 6, Way: 13, Relation: 23, Changeset: 14, User: 102}); next != want {
		t.Errorf("next ids %+v, want %+v", next, want)
	}
	// NextIDs does not consume.
	if again, _ := s.NextIDs(ctx); again != next {
		t.Errorf("second NextIDs %+v, first %+v", again, next)
	}
}

func TestImportRecordsUsersAndChangesets(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	importSample(t, s)

	cs, err := s.Changeset(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := osmdata.Changeset{ID: 10, UID: 100, User: "alice",
		CreatedAt: ts("2020-01-01T09:00:00Z"), ClosedAt: ts("2020-01-01T10:00:00Z"), NumChanges: 2,
		HasBox: true, Box: osmdata.Box{MinLat: 10000000, MinLon: 20000000, MaxLat: 10500000, MaxLon: 20500000},
		ReviewState: osmdata.ReviewMerged}
	if d := cmp.Diff(want, cs); d != "" {
		t.Errorf("changeset 10 (-want +got):\n%s", d)
	}
	if cs.CreatedAt.Location() != time.UTC {
		t.Errorf("changeset created_at in %v, want UTC", cs.CreatedAt.Location())
	}
	// Changeset 12 has a deleted node and ways and relations only: no box.
	cs, err = s.Changeset(ctx, 12)
	if err != nil {
		t.Fatal(err)
	}
	if cs.HasBox || cs.NumChanges != 6 || cs.User != "alice_renamed" {
		t.Errorf("changeset 12: box %v, %d changes, user %q; want no box, 6 changes, alice_renamed", cs.HasBox, cs.NumChanges, cs.User)
	}
	if _, err := s.Changeset(ctx, 99); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("changeset 99: %v, want ErrNotFound", err)
	}

	// The last name seen wins; created_at is the earliest edit.
	var name string
	var created time.Time
	if err := s.pool.QueryRow(ctx, "SELECT display_name, created_at FROM users WHERE id = 100").Scan(&name, &created); err != nil {
		t.Fatal(err)
	}
	if name != "alice_renamed" || !created.Equal(ts("2020-01-01T09:00:00Z")) {
		t.Errorf("user 100 is %q created %v, want alice_renamed created 2020-01-01T09:00:00Z", name, created)
	}
}

func TestImportRefusesNonEmptyDataset(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	importSample(t, s)
	_, err := s.Import(ctx, &sliceSource{elements: []osmdata.Element{{Type: osmdata.Node, ID: 100, Version: 1, Visible: true}}})
	if !errors.Is(err, storage.ErrNotEmpty) {
		t.Fatalf("second import: %v, want ErrNotEmpty", err)
	}
	if got, _ := s.CurrentElements(ctx, osmdata.Node, []int64{100}); len(got) != 0 {
		t.Errorf("the refused import wrote node 100")
	}
}

func TestConcurrentImportsLoadOnce(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.Import(ctx, &sliceSource{elements: sample()})
		})
	}
	wg.Wait()
	var ok, refused int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, storage.ErrNotEmpty):
			refused++
		default:
			t.Errorf("import: %v", err)
		}
	}
	if ok != 1 || refused != 1 {
		t.Errorf("%d imports succeeded and %d were refused, want 1 and 1", ok, refused)
	}
	if c, _ := s.Counts(ctx); c.Versions != 11 {
		t.Errorf("%d versions after two concurrent imports, want 11", c.Versions)
	}
}

// manyNodes spans several COPY batches, so a failure lands mid-stream.
func manyNodes(n int) []osmdata.Element {
	els := make([]osmdata.Element, n)
	for i := range els {
		els[i] = osmdata.Element{Type: osmdata.Node, ID: int64(i + 1), Version: 1, Visible: true, Changeset: int64(i/100 + 1),
			UID: int64(i%7 + 1), User: fmt.Sprint("user", i%7), Timestamp: ts("2020-01-01T00:00:00Z"), Lat: int32(i), Lon: int32(-i)}
	}
	return els
}

func TestImportSourceErrorLeavesNothing(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	broken := errors.New("truncated file")
	_, err := s.Import(ctx, &sliceSource{elements: manyNodes(5000), failAt: 4000, fail: broken})
	if !errors.Is(err, broken) {
		t.Fatalf("import: %v, want the source's error", err)
	}
	assertEmpty(t, s)
	// The dataset is still empty, so a correct import goes through.
	if _, err := s.Import(ctx, &sliceSource{elements: manyNodes(5000)}); err != nil {
		t.Fatalf("import after the failed one: %v", err)
	}
	if c, _ := s.Counts(ctx); c.Nodes != 5000 {
		t.Errorf("%d nodes, want 5000", c.Nodes)
	}
}

func TestImportRefusesUnsortedSource(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	els := sample()
	els[5], els[8] = els[8], els[5] // a relation before a way
	_, err := s.Import(ctx, &sliceSource{elements: els})
	if err == nil {
		t.Fatal("import of an unsorted source succeeded")
	}
	assertEmpty(t, s)

	dup := manyNodes(3)
	dup[2].ID = 2
	if _, err := s.Import(ctx, &sliceSource{elements: dup}); err == nil {
		t.Fatal("import of a source with node 2 twice succeeded")
	}
	assertEmpty(t, s)
}

func assertEmpty(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c != (storage.Counts{}) {
		t.Errorf("counts %+v after a failed import, want all zero", c)
	}
	next, err := s.NextIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (storage.IDs{Node: 1, Way: 1, Relation: 1, Changeset: 1, User: 1}); next != want {
		t.Errorf("next ids %+v after a failed import, want %+v", next, want)
	}
}

func TestReverseLookups(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	importSample(t, s)
	check := func(what string, got []osmdata.Element, err error, want ...int64) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if want == nil {
			want = []int64{}
		}
		if d := cmp.Diff(want, ids(got)); d != "" {
			t.Errorf("%s (-want +got):\n%s", what, d)
		}
	}
	got, err := s.WaysUsingNodes(ctx, []int64{2})
	check("ways using node 2", got, err, 10, 11)
	got, err = s.WaysUsingNodes(ctx, []int64{999})
	check("ways using the missing node 999", got, err, 11)
	got, err = s.RelationsWithMembers(ctx, osmdata.Way, []int64{10, 11})
	check("relations with ways 10, 11", got, err, 20, 21)
	got, err = s.RelationsWithMembers(ctx, osmdata.Relation, []int64{21})
	check("relations with relation 21", got, err, 20)
	got, err = s.RelationsWithMembers(ctx, osmdata.Node, []int64{4})
	check("relations with deleted node 4", got, err, 22)
	got, err = s.RelationsWithMembers(ctx, osmdata.Node, []int64{10})
	check("relations with node 10 (a way's id)", got, err)
}

func TestNodesInBoxEdges(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	importSample(t, s)
	for _, c := range []struct {
		name  string
		box   osmdata.Box
		limit int
		want  []int64
	}{
		{"edges through nodes 1 and 2", osmdata.Box{MinLat: 10000000, MinLon: 20000000, MaxLat: 10500000, MaxLon: 20500000}, 10, []int64{1, 2}},
		{"one unit short of node 2", osmdata.Box{MinLat: 10000000, MinLon: 20000000, MaxLat: 10499999, MaxLon: 20500000}, 10, []int64{1}},
		{"limit 1 returns 2", osmdata.Box{MinLat: 10000000, MinLon: 20000000, MaxLat: 10500000, MaxLon: 20500000}, 1, []int64{1, 2}},
		{"limit 0 returns 1", osmdata.Box{MinLat: 10000000, MinLon: 20000000, MaxLat: 10500000, MaxLon: 20500000}, 0, []int64{1}},
		{"lon -180", osmdata.Box{MinLat: -10000000, MinLon: -1800000000, MaxLat: -9999999, MaxLon: -1799999999}, 10, []int64{3}},
		{"corner 90,180", osmdata.Box{MinLat: 899999999, MinLon: 1799999999, MaxLat: 900000000, MaxLon: 1800000000}, 10, []int64{5}},
		{"deleted node 4 at 0,0 is not found", osmdata.Box{MinLat: -1, MinLon: -1, MaxLat: 1, MaxLon: 1}, 10, []int64{}},
	} {
		got, err := s.NodesInBox(ctx, c.box, c.limit)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if d := cmp.Diff(c.want, ids(got)); d != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, d)
		}
	}
}

func TestExportVisibleCurrentInOrder(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	els := importSample(t, s)
	var want []osmdata.Element
	for _, e := range els {
		if e.Visible {
			want = append(want, e)
		}
	}
	var got []osmdata.Element
	if err := s.Export(ctx, func(e *osmdata.Element) error {
		got = append(got, *e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("export (-want +got):\n%s", d)
	}
	stop := errors.New("stop")
	n := 0
	err := s.Export(ctx, func(*osmdata.Element) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("export stopped by its callback: %v after %d elements, want the callback's error after 1", err, n)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	importSample(t, s)
	s.Close()
	if err := Migrate(ctx, cfg); err != nil {
		t.Fatalf("migrate an up-to-date schema: %v", err)
	}
	s, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c, _ := s.Counts(ctx); c.Versions != 11 {
		t.Errorf("%d versions after reopening, want 11", c.Versions)
	}
}
