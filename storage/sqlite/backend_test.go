package sqlite_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// These tests cover what is particular to the SQLite backend (its file,
// its JSON columns, its locking); the behaviour both backends share is
// the conformance suite's.

type sliceSource struct {
	els []osmdata.Element
	err error // returned instead of io.EOF at the end, when set
}

func (s *sliceSource) Next() (*osmdata.Element, error) {
	if len(s.els) == 0 {
		if s.err != nil {
			return nil, s.err
		}
		return nil, io.EOF
	}
	e := s.els[0]
	s.els = s.els[1:]
	return &e, nil
}

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func node(id int64, v int, lat, lon float64, kv ...string) osmdata.Element {
	return osmdata.Element{Type: osmdata.Node, ID: id, Version: v, Visible: true, Changeset: 100 + int64(v),
		Timestamp: t0.Add(time.Duration(v) * time.Hour), UID: 7, User: "ana",
		Lat: osmdata.RoundCoordToFixed(lat), Lon: osmdata.RoundCoordToFixed(lon), Tags: tagList(kv...)}
}

func way(id int64, v int, nodes []int64, kv ...string) osmdata.Element {
	return osmdata.Element{Type: osmdata.Way, ID: id, Version: v, Visible: true, Changeset: 100 + int64(v),
		Timestamp: t0.Add(time.Duration(v) * time.Hour), UID: 8, User: "bo", Nodes: nodes, Tags: tagList(kv...)}
}

func relation(id int64, v int, members []osmdata.Member, kv ...string) osmdata.Element {
	return osmdata.Element{Type: osmdata.Relation, ID: id, Version: v, Visible: true, Changeset: 100 + int64(v),
		Timestamp: t0.Add(time.Duration(v) * time.Hour), UID: 8, User: "bo", Members: members, Tags: tagList(kv...)}
}

func tagList(kv ...string) osmdata.Tags {
	var tags osmdata.Tags
	for i := 0; i+1 < len(kv); i += 2 {
		tags = append(tags, osmdata.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return tags
}

// awkward holds strings that JSON must escape, in an order that is not
// sorted, so that a lost escape or a reordering shows.
var awkward = []string{
	"zeta", `quote " and backslash \`,
	"name", "line\nbreak\ttab\r\x01",
	"alpha", "Zürich 東京 🗺",
	"", "empty key",
	"empty value", "",
}

func fixture() []osmdata.Element {
	return []osmdata.Element{
		node(1, 1, 50.0, 4.0, awkward...),
		node(2, 1, 50.0001, -4.0),
		node(3, 1, -33.5, -70.25, "amenity", "cafe"),
		way(10, 1, []int64{1, 2, 1, 99}, "highway", "residential", "name", "Rue"),
		way(11, 1, []int64{3}),
		relation(20, 1, []osmdata.Member{
			{Type: osmdata.Way, Ref: 10, Role: "outer"},
			{Type: osmdata.Node, Ref: 2, Role: `la "place"`},
			{Type: osmdata.Relation, Ref: 21, Role: ""},
			{Type: osmdata.Way, Ref: 10, Role: "outer"},
		}, "type", "multipolygon"),
		relation(21, 1, nil, "type", "site"),
	}
}

func importFixture(t *testing.T, s storage.Store) {
	t.Helper()
	if _, err := s.Import(context.Background(), &sliceSource{els: fixture()}); err != nil {
		t.Fatalf("import: %v", err)
	}
}

func TestImportedElementsReadBackUnchanged(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	res, err := s.Import(ctx, &sliceSource{els: fixture()})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if res.Nodes != 3 || res.Ways != 2 || res.Relations != 2 || res.Users != 2 || res.Changesets != 1 {
		t.Errorf("import result = %+v, want 3 nodes, 2 ways, 2 relations, 2 users, 1 changeset", res)
	}
	var exported []osmdata.Element
	if err := s.Export(ctx, func(e *osmdata.Element) error {
		exported = append(exported, *e)
		return nil
	}); err != nil {
		t.Fatalf("export: %v", err)
	}
	if diff := cmp.Diff(fixture(), exported); diff != "" {
		t.Errorf("export differs from the import (-imported +exported):\n%s", diff)
	}
	for _, e := range exported {
		if e.Timestamp.Location() != time.UTC {
			t.Errorf("%s: timestamp in %v, want UTC", e.Key(), e.Timestamp.Location())
		}
	}
}

func TestReverseLookupsFollowJSONLists(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	importFixture(t, s)

	ways, err := s.WaysUsingNodes(ctx, []int64{1, 99})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(ways); !cmp.Equal(got, []int64{10}) {
		t.Errorf("ways using nodes 1 and 99 (dangling) = %v, want [10]", got)
	}
	rels, err := s.RelationsWithMembers(ctx, osmdata.Node, []int64{2, 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(rels); !cmp.Equal(got, []int64{20}) {
		t.Errorf("relations with node members 2, 10 = %v, want [20] (way 10 is no node)", got)
	}
	rels, err = s.RelationsWithMembers(ctx, osmdata.Relation, []int64{21})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(rels); !cmp.Equal(got, []int64{20}) {
		t.Errorf("parents of relation 21 = %v, want [20]", got)
	}
}

func TestNodesInBoxOnEdgesAndWestOfGreenwich(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	importFixture(t, s)
	// Node 2 sits exactly on the north-west corner.
	box := osmdata.BoxDegrees{MinLon: -4.0, MinLat: 49.9, MaxLon: 4.0, MaxLat: 50.0001}.Fixed()
	nodes, err := s.NodesInBox(ctx, box, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(nodes); !cmp.Equal(got, []int64{1, 2}) {
		t.Errorf("nodes in %v = %v, want [1 2]", box, got)
	}
	nodes, err = s.NodesInBox(ctx, box, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 1 {
		t.Errorf("nodes in box with limit 0 = %d, want limit+1 = 1", len(nodes))
	}
	south := osmdata.BoxDegrees{MinLon: -70.25, MinLat: -33.5, MaxLon: -70.25, MaxLat: -33.5}.Fixed()
	nodes, err = s.NodesInBox(ctx, south, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(nodes); !cmp.Equal(got, []int64{3}) {
		t.Errorf("nodes in the point box %v = %v, want [3]", south, got)
	}
}

func TestApplyChecksVersionsAndMaintainsLookups(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	importFixture(t, s)

	stale := way(10, 3, []int64{2})
	err := s.Apply(ctx, []osmdata.Element{node(4, 1, 1, 1), stale})
	if !errors.Is(err, storage.ErrVersionConflict) || !strings.Contains(err.Error(), "way 10: version 3 given, current is 1") {
		t.Fatalf("apply of way 10 v3 over v1 = %v, want a version conflict naming it", err)
	}
	if c, _ := s.Counts(ctx); c.Nodes != 3 {
		t.Errorf("a refused apply left %d nodes, want the 3 imported", c.Nodes)
	}

	// Way 10 drops node 1, is then deleted in a second version of the same
	// apply; node 2 moves away; way 11 takes node 2.
	moved := node(2, 2, 10, 10)
	w10v2 := way(10, 2, []int64{2})
	w10v3 := way(10, 3, nil)
	w10v3.Visible = false
	w11v2 := way(11, 2, []int64{3, 2})
	if err := s.Apply(ctx, []osmdata.Element{moved, w10v2, w10v3, w11v2}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	ways, err := s.WaysUsingNodes(ctx, []int64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(ways); !cmp.Equal(got, []int64{11}) {
		t.Errorf("ways using nodes 1, 2 after the apply = %v, want [11]", got)
	}
	rels, err := s.RelationsWithMembers(ctx, osmdata.Way, []int64{10})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(rels); !cmp.Equal(got, []int64{20}) {
		t.Errorf("relations with way 10 = %v, want [20]: relation 20 was not changed", got)
	}
	old := osmdata.BoxDegrees{MinLon: -4.1, MinLat: 49.9, MaxLon: -3.9, MaxLat: 50.1}.Fixed()
	if nodes, _ := s.NodesInBox(ctx, old, 10); len(nodes) != 0 {
		t.Errorf("the old place of node 2 still has %v", ids(nodes))
	}
	now := osmdata.BoxDegrees{MinLon: 9.9, MinLat: 9.9, MaxLon: 10.1, MaxLat: 10.1}.Fixed()
	if nodes, _ := s.NodesInBox(ctx, now, 10); !cmp.Equal(ids(nodes), []int64{2}) {
		t.Errorf("the new place of node 2 has %v, want [2]", ids(nodes))
	}
	hist, err := s.History(ctx, osmdata.Way, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[2].Visible || hist[1].Nodes[0] != 2 {
		t.Errorf("history of way 10 = %+v, want v1, v2 with node 2, deleted v3", hist)
	}
	next, err := s.NextIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if next.Node != 4 || next.Way != 12 || next.Relation != 22 || next.Changeset != 102 || next.User != 9 {
		t.Errorf("next ids = %+v, want node 4, way 12, relation 22, changeset 102, user 9", next)
	}
}

func TestImportRefusesAndRollsBack(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	broken := errors.New("disk on fire")
	_, err := s.Import(ctx, &sliceSource{els: fixture(), err: broken})
	if !errors.Is(err, broken) {
		t.Fatalf("import of a failing source = %v, want its error", err)
	}
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c != (storage.Counts{}) {
		t.Errorf("after a failed import the dataset counts %+v, want nothing", c)
	}
	next, _ := s.NextIDs(ctx)
	if next != (storage.IDs{Node: 1, Way: 1, Relation: 1, Changeset: 1, User: 1}) {
		t.Errorf("after a failed import next ids = %+v, want all 1", next)
	}
	// The indexes dropped for the load came back with the rollback: an
	// import, then the refusal of a second one, both work.
	importFixture(t, s)
	if _, err := s.Import(ctx, &sliceSource{els: fixture()}); !errors.Is(err, storage.ErrNotEmpty) {
		t.Errorf("second import = %v, want ErrNotEmpty", err)
	}
}

// TestSecondProcessWhileServing opens the same file twice, as a CLI
// command does while `serve` runs: reads answer at once, writes queue on
// the busy timeout.
func TestSecondProcessWhileServing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	serve, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer serve.Close()
	importFixture(t, serve)
	if err := sqlite.Migrate(ctx, dir); err != nil {
		t.Fatalf("migrate while open: %v", err)
	}
	cli, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatalf("second open: %v", err)
	}
	defer cli.Close()
	if _, err := os.Stat(filepath.Join(dir, sqlite.FileName)); err != nil {
		t.Errorf("database file: %v", err)
	}
	// A long export on one side holds a snapshot while the other writes.
	done := make(chan error, 1)
	var exported []int64
	err = serve.Export(ctx, func(e *osmdata.Element) error {
		if e.Type == osmdata.Node && e.ID == 1 {
			go func() { done <- cli.Apply(ctx, []osmdata.Element{node(5, 1, 1, 1), node(1, 2, 0, 0)}) }()
			if err := <-done; err != nil {
				return err
			}
		}
		if e.Type == osmdata.Node {
			exported = append(exported, e.ID)
			if e.ID == 1 && e.Version != 1 {
				t.Errorf("export read node 1 v%d, want v1 of its snapshot", e.Version)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("export with a concurrent apply: %v", err)
	}
	if !cmp.Equal(exported, []int64{1, 2, 3}) {
		t.Errorf("exported nodes %v, want the snapshot's [1 2 3]", exported)
	}
	got, err := serve.CurrentElements(ctx, osmdata.Node, []int64{1, 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Version != 2 {
		t.Errorf("after the other process's apply: %+v, want node 1 v2 and node 5", got)
	}
}

func TestCopyBaselineLeavesNothing(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	d, err := s.CopyBaseline(ctx, fixture())
	if err != nil {
		t.Fatalf("copy baseline: %v", err)
	}
	if d <= 0 {
		t.Errorf("copy baseline took %v", d)
	}
	if c, _ := s.Counts(ctx); c != (storage.Counts{}) {
		t.Errorf("copy baseline kept %+v", c)
	}
}

func ids(els []osmdata.Element) []int64 {
	out := []int64{}
	for _, e := range els {
		out = append(out, e.ID)
	}
	return out
}

// blockingSource holds an import's transaction open until released.
type blockingSource struct {
	sliceSource
	inside  chan struct{}
	release chan struct{}
	started bool
}

func (s *blockingSource) Next() (*osmdata.Element, error) {
	if !s.started {
		s.started = true
		close(s.inside)
		<-s.release
	}
	return s.sliceSource.Next()
}

const childDirEnv = "GEOCOMMUNS_SQLITE_CHILD_DIR"

// TestWriterInAnotherProcessWaitsForImport runs a CLI-like writer in a
// separate process while an import holds the write lock: it must wait
// (busy_timeout) and then succeed, not fail with SQLITE_BUSY.
func TestWriterInAnotherProcessWaitsForImport(t *testing.T) {
	ctx := context.Background()
	if dir := os.Getenv(childDirEnv); dir != "" {
		s, err := sqlite.Open(ctx, dir)
		if err != nil {
			t.Fatalf("child: open: %v", err)
		}
		defer s.Close()
		fmt.Println("opened")
		if err := s.Apply(ctx, []osmdata.Element{node(1000, 1, 5, 5)}); err != nil {
			t.Fatalf("child: apply: %v", err)
		}
		return
	}

	dir := t.TempDir()
	s, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	src := &blockingSource{sliceSource: sliceSource{els: fixture()},
		inside: make(chan struct{}), release: make(chan struct{})}
	imported := make(chan error, 1)
	go func() {
		_, err := s.Import(ctx, src)
		imported <- err
	}()
	<-src.inside

	child := exec.Command(os.Args[0], "-test.run=^TestWriterInAnotherProcessWaitsForImport$", "-test.count=1")
	child.Env = append(os.Environ(), childDirEnv+"="+dir)
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	child.Stderr = &stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	if err != nil || line != "opened\n" {
		child.Wait()
		t.Fatalf("child did not open the store: %q, %v; stderr: %s", line, err, stderr.String())
	}
	// The child is now in Apply, waiting for the lock the import holds.
	time.Sleep(300 * time.Millisecond)
	close(src.release)
	if err := <-imported; err != nil {
		t.Fatalf("import: %v", err)
	}
	rest, _ := io.ReadAll(out)
	if err := child.Wait(); err != nil {
		t.Fatalf("the other process's apply during the import: %v; its output: %s%s", err, rest, stderr.String())
	}
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Nodes != 4 {
		t.Errorf("after the import and the other process's apply: %d nodes, want 3 imported + 1", c.Nodes)
	}
}
