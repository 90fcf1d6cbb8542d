package replication_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
	"github.com/geocommuns/geocommuns/sync/replication"
)

// TestOsm2pgsqlReplicationFollowsTheFeed: Debian's osm2pgsql-replication
// keeps a rendering database up to date from our feed while a server cuts
// files at an interval, as it does from planet's. One consumer imports the
// initial extract (file 0) and updates twice while about 300 merges go
// by; another imports the dump taken mid-stream, knowing only the time of
// its newest data, and lets init find where to start in our state files.
// Both end with the same rendered tables as an import of the server's
// final export, holding the last merge's new node and not its deleted one.
//
// init is given the import file (--osm-file): with --server, osm2pgsql
// 1.8 asks www.openstreetmap.org when the newest way was created, which
// says nothing about our dataset. XML files carry no replication header
// for libosmium, so the consumer converts the import file to PBF with
// osmium cat --output-header, as README says.
func TestOsm2pgsqlReplicationFollowsTheFeed(t *testing.T) {
	osm2pgsql := requireTool(t, "osm2pgsql", "osm2pgsql")
	script := requireTool(t, "osm2pgsql-replication", "osm2pgsql")
	osmium := requireTool(t, "osmium", "osmium-tool")
	w := newWorld(t, pgtest.Open(t, pgtest.Config(t)))
	feed := w.serve() + "/replication/minute"
	runCutters(t, replication.NewCutter(w.store, replication.CutterConfig{Interval: 200 * time.Millisecond}, nil))

	// The first consumer starts before any merge, from the extract.
	fromExtract := newRenderingDatabase(t)
	extractPBF := withReplicationHeader(t, osmium, w.initial, filepath.Join(w.dir, "initial.osm.pbf"), feed, "0", "2024-05-01T10:00:00Z")
	fromExtract.importFile(t, osm2pgsql, extractPBF)
	fromExtract.replication(t, script, "init", "--osm-file", extractPBF)
	if seq, _ := fromExtract.replicationState(t); seq != 0 {
		t.Fatalf("init from the extract starts after file %d, want 0 (the header's)", seq)
	}

	// Named nodes the last merge renames and deletes; the default style
	// renders a node with a name, one with only a ref it leaves out.
	who := w.authors[0]
	cs := w.open(who, "named nodes")
	res := w.upload(who, cs, []editing.Operation{
		{Action: storage.Create, Element: node(-1, 42.55, 1.55, osmdata.Tag{Key: "amenity", Value: "bench"}, osmdata.Tag{Key: "name", Value: "doomed bench"})},
		{Action: storage.Create, Element: node(-2, 42.56, 1.56, osmdata.Tag{Key: "amenity", Value: "cafe"}, osmdata.Tag{Key: "name", Value: "old cafe"})},
	})
	w.close(who, cs)
	merges := w.merge()
	doomed, renamed := newID(res, osmdata.Node, -1), newID(res, osmdata.Node, -2)

	round := 0
	mergeRounds := func(n int) {
		t.Helper()
		for range n {
			w.edit(round)
			merges += w.merge()
			if round%7 == 6 {
				w.stackedPair(round)
				merges += w.merge()
			}
			round++
		}
		waitCovered(t, w.store, int64(merges))
	}
	// Whole seconds apart, so that the files before the dump are older
	// than its newest data, and the files after it newer.
	nextSecond := func() {
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
	}

	mergeRounds(80)
	fromExtract.replication(t, script, "update")
	midway := fromExtract.tables(t)
	nextSecond()
	mergeRounds(80)

	// The second consumer starts here, from the dump.
	dump, dumpMerge, dumpFile := getDump(t, strings.TrimSuffix(feed, "/replication/minute"), w.dir, "dump.osm.gz")
	if dumpMerge != int64(merges) {
		t.Fatalf("the dump holds merges up to %d, %d are merged", dumpMerge, merges)
	}
	newest := strings.TrimSpace(run(t, osmium, "fileinfo", "-e", "-g", "data.timestamp.last", dump))
	dumpTime, err := time.Parse(time.RFC3339, newest)
	if err != nil {
		t.Fatalf("osmium fileinfo says the dump's newest data is from %q: %v", newest, err)
	}
	dumpPBF := withReplicationHeader(t, osmium, dump, filepath.Join(w.dir, "dump.osm.pbf"), feed, "", newest)
	fromDump := newRenderingDatabase(t)
	fromDump.importFile(t, osm2pgsql, dumpPBF)

	nextSecond()
	mergeRounds(80)
	cs = w.open(who, "the last merge")
	res = w.upload(who, cs, []editing.Operation{
		{Action: storage.Create, Element: node(-1, 42.57, 1.57, osmdata.Tag{Key: "amenity", Value: "cafe"}, osmdata.Tag{Key: "name", Value: "late cafe"})},
		{Action: storage.Delete, Element: osmdata.Element{Type: osmdata.Node, ID: doomed, Version: 1}},
		{Action: storage.Modify, Element: versioned(node(renamed, 42.561, 1.561, osmdata.Tag{Key: "amenity", Value: "cafe"}, osmdata.Tag{Key: "name", Value: "new cafe"}), 1)},
	})
	late := newID(res, osmdata.Node, -1)
	w.close(who, cs)
	merges += w.merge()
	latest := waitCovered(t, w.store, int64(merges))
	if merges < 300 || latest.Seq < 3 {
		t.Fatalf("%d merges in %d files; the test wants a few hundred over at least 3", merges, latest.Seq)
	}
	t.Logf("%d merges in %d files; the dump holds merges to %d, files to %d, data to %s", merges, latest.Seq, dumpMerge, dumpFile, newest)

	// init reads our state files to find the last file older than the
	// dump's data: the feed's timestamps never go backwards, so that is
	// a file the dump holds whole, and the next one is where to start.
	var want int64
	for seq := int64(1); seq <= latest.Seq; seq++ {
		if readState(t, fmt.Sprintf("%s/%s.state.txt", feed, replication.SeqPath(seq))).Timestamp.Before(dumpTime) {
			want = seq
		}
	}
	if want == 0 || want > dumpFile {
		t.Fatalf("the last file older than the dump's data is %d, the dump follows file %d: the test's timing failed", want, dumpFile)
	}
	fromDump.replication(t, script, "init", "--osm-file", dumpPBF)
	if seq, _ := fromDump.replicationState(t); seq != want {
		t.Errorf("init from the dump's time %s starts after file %d, want %d", newest, seq, want)
	}
	t.Logf("init from the dump's time starts after file %d", want)

	reference := newRenderingDatabase(t)
	reference.importFile(t, osm2pgsql, w.export("export.osm"))
	final := reference.tables(t)
	if midway == final {
		t.Fatalf("the tables after 80 rounds equal the final ones: the comparison proves nothing")
	}
	for _, db := range []*renderingDatabase{fromExtract, fromDump} {
		db.replication(t, script, "update")
		if seq, imported := db.replicationState(t); seq != latest.Seq || !imported.Equal(latest.Timestamp) {
			t.Errorf("%s: after update at file %d of %s, want %d of %s", db.name, seq, imported, latest.Seq, latest.Timestamp)
		}
		// Nothing new: update leaves the state as it is.
		db.replication(t, script, "update")
		if seq, _ := db.replicationState(t); seq != latest.Seq {
			t.Errorf("%s: update with nothing new moved to file %d", db.name, seq)
		}
		var status struct {
			Server struct{ Sequence int64 } `json:"server"`
			Local  struct{ Sequence int64 } `json:"local"`
			Status int                      `json:"status"`
		}
		if err := json.Unmarshal([]byte(db.replication(t, script, "status", "--json")), &status); err != nil {
			t.Fatalf("%s: osm2pgsql-replication status --json: %v", db.name, err)
		}
		if status.Status != 0 || status.Server.Sequence != latest.Seq || status.Local.Sequence != latest.Seq {
			t.Errorf("%s: status %+v, want server and local at file %d", db.name, status, latest.Seq)
		}

		if got := db.pointName(t, late); got != "late cafe" {
			t.Errorf("%s: node %d, created by the last merge, has name %q in planet_osm_point, want \"late cafe\"", db.name, late, got)
		}
		if got := db.pointName(t, renamed); got != "new cafe" {
			t.Errorf("%s: node %d, renamed by the last merge, has name %q in planet_osm_point, want \"new cafe\"", db.name, renamed, got)
		}
		if got := db.pointName(t, doomed); got != "" {
			t.Errorf("%s: node %d, deleted by the last merge, is still in planet_osm_point as %q", db.name, doomed, got)
		}
		if got := db.tables(t); got != final {
			t.Errorf("%s: the rendered tables differ from an import of the export:\n%s", db.name, firstDifference(got, final))
		}
	}
	if midway == fromExtract.tables(t) {
		t.Errorf("the second update changed nothing in the tables")
	}
}

// newID is the id an upload gave the element it called placeholder.
func newID(res *editing.DiffResult, typ osmdata.ElementType, placeholder int64) int64 {
	for _, e := range res.Entries {
		if e.Type == typ && e.OldID == placeholder {
			return e.NewID
		}
	}
	return 0
}

func versioned(e osmdata.Element, version int) osmdata.Element {
	e.Version = version
	return e
}

// renderingDatabase is a PostGIS database of its own, for osm2pgsql,
// dropped when the test ends: osm2pgsql 1.8 and osm2pgsql-replication
// have no schema option for the rendered tables.
type renderingDatabase struct {
	name, url string
}

func newRenderingDatabase(t *testing.T) *renderingDatabase {
	t.Helper()
	ctx := context.Background()
	server := pgtest.URL(t)
	suffix := make([]byte, 6)
	rand.Read(suffix)
	db := &renderingDatabase{name: "osm2pgsql_test_" + hex.EncodeToString(suffix)}
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s: %v", pgtest.URLVariable, err)
	}
	u.Path = "/" + db.name
	db.url = u.String()

	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db.name+" TEMPLATE template0"); err != nil {
		t.Fatalf("create the database osm2pgsql writes: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), server)
		if err != nil {
			t.Errorf("drop database %s: %v", db.name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db.name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", db.name, err)
		}
	})
	conn := db.connect(t)
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE EXTENSION postgis"); err != nil {
		t.Fatalf("osm2pgsql needs PostGIS (Debian package postgresql-15-postgis-3, which scripts/setup installs): %v", err)
	}
	return db
}

func (db *renderingDatabase) connect(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), db.url)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// importFile imports an OSM file in slim mode, which replication needs.
func (db *renderingDatabase) importFile(t *testing.T, osm2pgsql, path string) {
	t.Helper()
	run(t, osm2pgsql, "--create", "--slim", "--cache", "100", "--log-level", "warn", "-d", db.url, path)
}

// replication runs Debian's osm2pgsql-replication with Debian's python,
// whose packages it imports, and returns its standard output.
func (db *renderingDatabase) replication(t *testing.T, script string, command string, args ...string) string {
	t.Helper()
	return run(t, "/usr/bin/python3", append([]string{script, command, "-d", db.url}, args...)...)
}

// replicationState is what osm2pgsql-replication recorded: the last file
// applied and the time it says the data is from.
func (db *renderingDatabase) replicationState(t *testing.T) (int64, time.Time) {
	t.Helper()
	conn := db.connect(t)
	defer conn.Close(context.Background())
	var seq int64
	var imported *time.Time
	if err := conn.QueryRow(context.Background(), "SELECT sequence, importdate FROM planet_osm_replication_status").Scan(&seq, &imported); err != nil {
		t.Fatalf("%s: read osm2pgsql-replication's state: %v", db.name, err)
	}
	if imported == nil {
		return seq, time.Time{}
	}
	return seq, *imported
}

// pointName is the name of a node in planet_osm_point, empty when the
// node is not there.
func (db *renderingDatabase) pointName(t *testing.T, id int64) string {
	t.Helper()
	conn := db.connect(t)
	defer conn.Close(context.Background())
	var name string
	err := conn.QueryRow(context.Background(), "SELECT coalesce(string_agg(name, '|'), '') FROM planet_osm_point WHERE osm_id = $1", id).Scan(&name)
	if err != nil {
		t.Fatalf("%s: %v", db.name, err)
	}
	return name
}

// tables is the content of the rendered tables, a line per row in a
// fixed order: every column, the geometry as text.
func (db *renderingDatabase) tables(t *testing.T) string {
	t.Helper()
	conn := db.connect(t)
	defer conn.Close(context.Background())
	var b strings.Builder
	for _, table := range []string{"planet_osm_point", "planet_osm_line", "planet_osm_polygon", "planet_osm_roads"} {
		var rows string
		var n int
		err := conn.QueryRow(context.Background(), `SELECT count(*), coalesce(string_agg(r, E'\n' ORDER BY r), '') FROM (
			SELECT (to_jsonb(t) - 'way')::text || ' ' || ST_AsText(way) AS r FROM `+table+` t) s`).Scan(&n, &rows)
		if err != nil {
			t.Fatalf("%s: read %s: %v", db.name, table, err)
		}
		fmt.Fprintf(&b, "%s: %d rows\n%s\n", table, n, rows)
	}
	return b.String()
}

// withReplicationHeader writes src as PBF with the Osmosis replication
// header osm2pgsql-replication init reads (an empty sequence is left out).
func withReplicationHeader(t *testing.T, osmium, src, dst, feed, seq, timestamp string) string {
	t.Helper()
	args := []string{"cat", "-O", "-o", dst, src,
		"--output-header", "osmosis_replication_base_url=" + feed,
		"--output-header", "osmosis_replication_timestamp=" + timestamp}
	if seq != "" {
		args = append(args, "--output-header", "osmosis_replication_sequence_number="+seq)
	}
	run(t, osmium, args...)
	return dst
}

// run runs a program and returns its standard output, failing the test
// with its output when it fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// firstDifference shows the first line where two texts differ.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got  %s\n want %s", i+1, gl, wl)
		}
	}
	return ""
}
