package replication_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
	"github.com/geocommuns/geocommuns/storage/sqlite"
	"github.com/geocommuns/geocommuns/sync/replication"
)

// feedStore is a store with everything the feed needs.
type feedStore interface {
	storage.Store
	replication.Store
}

var backends = []struct {
	name string
	open func(t *testing.T) feedStore
}{
	{"sqlite", func(t *testing.T) feedStore {
		s, err := sqlite.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t *testing.T) feedStore { return pgtest.Open(t, pgtest.Config(t)) }},
}

// initialExtract is the dataset the feed starts from: nodes 1 to 30, two
// ways, a relation, as an extract would have them.
func initialExtract(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<osm version="0.6" generator="test">` + "\n")
	meta := `version="1" timestamp="2024-05-01T10:00:00Z" changeset="7" uid="3" user="importer"`
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&b, `<node id="%d" %s lat="%.7f" lon="%.7f"><tag k="ref" v="%d"/></node>`+"\n", i, meta, 42.5+float64(i)*0.001, 1.5+float64(i)*0.001, i)
	}
	for w, nodes := range [][]int{{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}} {
		fmt.Fprintf(&b, `<way id="%d" %s>`, w+1, meta)
		for _, n := range nodes {
			fmt.Fprintf(&b, `<nd ref="%d"/>`, n)
		}
		b.WriteString(`<tag k="highway" v="residential"/></way>` + "\n")
	}
	fmt.Fprintf(&b, `<relation id="1" %s><member type="way" ref="1" role="outer"/><member type="node" ref="11" role="label"/><tag k="type" v="multipolygon"/></relation>`+"\n", meta)
	b.WriteString("</osm>\n")
	path := filepath.Join(dir, "initial.osm")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// world is a dataset imported from the initial extract, edited by two
// trusted contributors through the editing service, merged by the merge
// job.
type world struct {
	t       *testing.T
	store   feedStore
	svc     *editing.Service
	job     *review.MergeJob
	dir     string
	initial string
	authors []*auth.Identity
	// versions are the current versions of the elements the edits touch,
	// as the authors know them.
	versions map[osmdata.Key]int
	// spare are nodes created for a later changeset to delete.
	spare []int64
}

func newWorld(t *testing.T, store feedStore) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, store: store, dir: t.TempDir(), versions: map[osmdata.Key]int{}}
	w.initial = initialExtract(t, w.dir)
	src, err := osmfile.Open(w.initial)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Import(ctx, src); err != nil {
		t.Fatal(err)
	}
	src.Close()
	w.svc, err = editing.NewService(store, editing.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.job = review.NewMergeJob(store, review.TrustedAuthors{}, time.Hour, nil)
	for _, name := range []string{"ana", "bob"} {
		acc, err := store.CreateAccount(ctx, storage.NewAccount{DisplayName: name, Role: string(auth.RoleContributor), Trusted: true})
		if err != nil {
			t.Fatal(err)
		}
		w.authors = append(w.authors, &auth.Identity{UserID: acc.ID, DisplayName: name, Role: auth.RoleContributor, Trusted: true, Scopes: auth.AllScopes})
	}
	for i := int64(1); i <= 30; i++ {
		w.versions[osmdata.Key{Type: osmdata.Node, ID: i}] = 1
	}
	w.versions[osmdata.Key{Type: osmdata.Way, ID: 1}] = 1
	w.versions[osmdata.Key{Type: osmdata.Way, ID: 2}] = 1
	w.versions[osmdata.Key{Type: osmdata.Relation, ID: 1}] = 1
	return w
}

func node(id int64, lat, lon float64, tags ...osmdata.Tag) osmdata.Element {
	return osmdata.Element{Type: osmdata.Node, ID: id, Lat: osmdata.RoundCoordToFixed(lat), Lon: osmdata.RoundCoordToFixed(lon), Tags: tags}
}

// edit makes changeset k of a deterministic series: new nodes and a way
// on them, a moved and retagged node of the extract, every few rounds a
// delete of a node an earlier round made, a retagged way, a relation
// gaining a member. It returns the changeset, closed (so submitted), not
// merged yet.
func (w *world) edit(k int) int64 {
	w.t.Helper()
	who := w.authors[k%len(w.authors)]
	cs := w.open(who, fmt.Sprintf("round %d", k))
	lat, lon := 42.6+float64(k)*0.0003, 1.6+float64(k)*0.0002
	shared := int64(20 + k%10)
	moved := int64(12 + k%8)
	ops := []editing.Operation{
		{Action: storage.Create, Element: node(-1, lat, lon)},
		{Action: storage.Create, Element: node(-2, lat+0.0001, lon, osmdata.Tag{Key: "name", Value: fmt.Sprintf("n%d", k)})},
		{Action: storage.Create, Element: node(-3, lat, lon+0.0001, osmdata.Tag{Key: "spare", Value: "yes"})},
		{Action: storage.Create, Element: osmdata.Element{Type: osmdata.Way, ID: -1, Nodes: []int64{-1, -2, shared},
			Tags: osmdata.Tags{{Key: "highway", Value: "footway"}}}},
		{Action: storage.Modify, Element: w.versioned(node(moved, 42.5+float64(k)*0.0001, 1.5, osmdata.Tag{Key: "ref", Value: fmt.Sprint(moved)},
			osmdata.Tag{Key: "round", Value: fmt.Sprint(k)}))},
	}
	if k%4 == 3 && len(w.spare) > 0 {
		doomed := w.spare[0]
		w.spare = w.spare[1:]
		ops = append(ops, editing.Operation{Action: storage.Delete, Element: w.versioned(osmdata.Element{Type: osmdata.Node, ID: doomed})})
	}
	if k%5 == 4 {
		ops = append(ops, editing.Operation{Action: storage.Modify, Element: w.versioned(osmdata.Element{Type: osmdata.Way, ID: 1,
			Nodes: []int64{1, 2, 3, 4, 5}, Tags: osmdata.Tags{{Key: "highway", Value: "residential"}, {Key: "round", Value: fmt.Sprint(k)}}})})
	}
	if k%6 == 5 {
		rel := w.current(osmdata.Relation, 1)
		rel.Members = append(rel.Members, osmdata.Member{Type: osmdata.Node, Ref: shared, Role: fmt.Sprint(k)})
		ops = append(ops, editing.Operation{Action: storage.Modify, Element: w.versioned(rel)})
	}
	res := w.upload(who, cs, ops)
	for _, e := range res.Entries {
		if e.Action == storage.Create && e.Type == osmdata.Node && e.OldID == -3 {
			w.spare = append(w.spare, e.NewID)
		}
	}
	w.close(who, cs)
	return cs
}

// stackedPair makes two changesets of one author, the second built on
// the first before it merges: it moves and then deletes a node the first
// creates, and retags the way the first creates.
func (w *world) stackedPair(k int) {
	w.t.Helper()
	who := w.authors[0]
	parent := w.open(who, fmt.Sprintf("parent %d", k))
	lat, lon := 42.7+float64(k)*0.0003, 1.7
	res := w.upload(who, parent, []editing.Operation{
		{Action: storage.Create, Element: node(-1, lat, lon)},
		{Action: storage.Create, Element: node(-2, lat, lon+0.0001)},
		{Action: storage.Create, Element: node(-3, lat, lon+0.0002)},
		{Action: storage.Create, Element: osmdata.Element{Type: osmdata.Way, ID: -1, Nodes: []int64{-1, -2}, Tags: osmdata.Tags{{Key: "barrier", Value: "fence"}}}},
	})
	ids := map[int64]int64{}
	for _, e := range res.Entries {
		ids[int64(e.Type)<<32|-e.OldID] = e.NewID
	}
	n1, n3, way := ids[int64(osmdata.Node)<<32|1], ids[int64(osmdata.Node)<<32|3], ids[int64(osmdata.Way)<<32|1]
	w.close(who, parent)
	child := w.open(who, fmt.Sprintf("child %d", k))
	w.upload(who, child, []editing.Operation{
		{Action: storage.Modify, Element: osmdata.Element{Type: osmdata.Node, ID: n1, Version: 1, Lat: osmdata.RoundCoordToFixed(lat + 0.00005), Lon: osmdata.RoundCoordToFixed(lon)}},
		{Action: storage.Delete, Element: osmdata.Element{Type: osmdata.Node, ID: n3, Version: 1}},
		{Action: storage.Modify, Element: osmdata.Element{Type: osmdata.Way, ID: way, Version: 1, Nodes: []int64{n1, ids[int64(osmdata.Node)<<32|2]},
			Tags: osmdata.Tags{{Key: "barrier", Value: "wall"}}}},
	})
	w.close(who, child)
}

// versioned sets e's version to the current one and counts the change.
func (w *world) versioned(e osmdata.Element) osmdata.Element {
	k := e.Key()
	v, ok := w.versions[k]
	if !ok {
		cur := w.current(e.Type, e.ID)
		v = cur.Version
	}
	e.Version = v
	w.versions[k] = v + 1
	return e
}

func (w *world) current(t osmdata.ElementType, id int64) osmdata.Element {
	w.t.Helper()
	es, err := w.store.CurrentElements(context.Background(), t, []int64{id})
	if err != nil || len(es) != 1 {
		w.t.Fatalf("current %s %d: %v (%d found)", t, id, err, len(es))
	}
	return es[0]
}

func (w *world) open(who *auth.Identity, comment string) int64 {
	w.t.Helper()
	cs, err := w.svc.CreateChangeset(context.Background(), who, osmdata.Tags{{Key: "comment", Value: comment}})
	if err != nil {
		w.t.Fatal(err)
	}
	return cs.ID
}

func (w *world) upload(who *auth.Identity, cs int64, ops []editing.Operation) *editing.DiffResult {
	w.t.Helper()
	for i := range ops {
		ops[i].Element.Changeset = cs
	}
	res, err := w.svc.Upload(context.Background(), who, cs, ops)
	if err != nil {
		w.t.Fatalf("upload to changeset %d: %v", cs, err)
	}
	return res
}

func (w *world) close(who *auth.Identity, cs int64) {
	w.t.Helper()
	if _, err := w.svc.CloseChangeset(context.Background(), who, cs); err != nil {
		w.t.Fatal(err)
	}
}

// merge runs the merge job until every closed changeset is merged, and
// returns how many merged.
func (w *world) merge() int {
	w.t.Helper()
	n, err := w.job.Step(context.Background())
	if err != nil {
		w.t.Fatalf("merge job: %v", err)
	}
	return n
}

// export writes the dataset's visible current elements to an .osm file.
func (w *world) export(name string) string {
	w.t.Helper()
	path := filepath.Join(w.dir, name)
	out, err := osmfile.Create(path, osmdata.DocumentHeader{Generator: "test"})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.store.Export(context.Background(), func(e *osmdata.Element) error { return out.WriteElement(e) }); err != nil {
		w.t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		w.t.Fatal(err)
	}
	return path
}

// serve serves the feed over real HTTP.
func (w *world) serve() string {
	mux := http.NewServeMux()
	(&replication.Handler{Store: w.store, Dataset: w.store, Header: osmdata.DocumentHeader{Generator: "test"}}).Register(mux)
	srv := httptest.NewServer(mux)
	w.t.Cleanup(srv.Close)
	return srv.URL
}

// requireTool finds a program the test drives: without it a test skips,
// except in CI where scripts/setup must have installed it.
func requireTool(t *testing.T, path, debianPackage string) string {
	t.Helper()
	found, err := exec.LookPath(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI (Debian package %s, which scripts/setup installs): %v", path, debianPackage, err)
		}
		t.Skipf("%s is not installed (Debian package %s; scripts/setup installs it): %v", path, debianPackage, err)
	}
	return found
}

// osmiumDiff returns osmium's list of differences, empty when the files
// hold the same objects with the same metadata.
func osmiumDiff(t *testing.T, osmium, a, b string) string {
	t.Helper()
	err := exec.Command(osmium, "diff", "-q", a, b).Run()
	if err == nil {
		return ""
	}
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		out, _ := exec.Command(osmium, "diff", "-s", "-c", a, b).CombinedOutput()
		return string(out)
	}
	t.Fatalf("osmium diff %s %s: %v", a, b, err)
	return ""
}
