package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres"
)

// backupBoxes cover the imported extract, the way a mapper draws and the
// nodes they add in bulk.
var backupBoxes = []string{"1.4,42.4,1.7,42.7", "0.2,0.4,0.3,0.6", "19.99,9.99,20.1,10.01"}

// mapsOf answers the map call of each of backupBoxes.
func (s *serveProcess) mapsOf(t *testing.T) []string {
	t.Helper()
	var maps []string
	for _, box := range backupBoxes {
		status, body := s.get(t, "/api/0.6/map?bbox="+box)
		if status != http.StatusOK {
			t.Fatalf("map %s: %d %s", box, status, body)
		}
		maps = append(maps, body)
	}
	return maps
}

// TestBackupWhileServing: with `serve` running on a dataset that a
// mapper edited through it, `geocommuns backup` copies it to a new
// directory and says what it holds; `serve --data BACKUP` answers the map
// call there as the source did at the backup, and a merge made after the
// backup is only in the source. A second backup to the same place, and a
// backup of a directory without a dataset, are refused.
func TestBackupWhileServing(t *testing.T) {
	ds := newDataset(t, "sqlite")
	data := ds.flags[1]
	importSmallExtract(t, ds, t.TempDir())
	m := trustedMappers(t, ds.flags, 1)[0]
	s := startServe(t, ds.flags...)
	drawn, err := m.edit(s.base)
	if err != nil {
		t.Fatalf("draw a way: %v", err)
	}
	s.waitReviewState(t, drawn, "merged")
	const bulk = 300
	added, _, err := m.createMany(s.base, bulk)
	if err != nil {
		t.Fatalf("add nodes: %v", err)
	}
	s.waitReviewState(t, added, "merged")

	dest := filepath.Join(t.TempDir(), "backup")
	r := runBinary(t, nil, "backup", "--data", data, dest)
	if r.exit != 0 {
		t.Fatalf("backup while serving: exit %d\n%s", r.exit, r.stderr)
	}
	// The extract's 2 nodes and a way, the mapper's 3 nodes and a way,
	// then their bulk nodes: two merges.
	wantSays := fmt.Sprintf("to %s at merge_seq 2: %d nodes, 2 ways, 0 relations", dest, 2+3+bulk)
	if !strings.Contains(r.stdout, wantSays) {
		t.Errorf("backup says %q; want %q", r.stdout, wantSays)
	}
	want := s.mapsOf(t)

	moved, err := m.edit(s.base)
	if err != nil {
		t.Fatalf("move a node after the backup: %v", err)
	}
	s.waitReviewState(t, moved, "merged")

	b := startServe(t, "--data", dest)
	got := b.mapsOf(t)
	for i, box := range backupBoxes {
		if !strings.Contains(want[i], "<node") {
			t.Errorf("map %s of the source holds no node:\n%s", box, want[i])
		}
		if diff := cmp.Diff(want[i], got[i]); diff != "" {
			t.Errorf("map %s: the backup answers otherwise than the source at the backup (-source +backup):\n%s", box, diff)
		}
	}
	if after := s.mapsOf(t); after[1] == got[1] {
		t.Errorf("map %s: the merge after the backup (changeset %d) shows in the backup too", backupBoxes[1], moved)
	}
	if code := b.stop(t); code != 0 {
		t.Errorf("serve on the backup: exit status %d after SIGTERM\n%s", code, b.log())
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("serve: exit status %d after SIGTERM\n%s", code, s.log())
	}

	if r := runBinary(t, nil, "backup", "--data", data, dest); r.exit != exitFailure || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("a second backup to %s: exit %d, stderr %q; want it refused", dest, r.exit, r.stderr)
	}
	empty := filepath.Join(t.TempDir(), "nothing")
	r = runBinary(t, nil, "backup", "--data", empty, filepath.Join(t.TempDir(), "b"))
	if r.exit != exitFailure || !strings.Contains(r.stderr, "no dataset to back up in "+empty) {
		t.Errorf("backup of %s, holding no dataset: exit %d, stderr %q; want it refused", empty, r.exit, r.stderr)
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Errorf("backup of a missing dataset made %s: %v", empty, err)
	}
}

// TestBackupPostgresPrintsPgDump: with --postgres the command copies
// nothing and prints the pg_dump and pg_restore commands, without the
// URL's password.
func TestBackupPostgresPrintsPgDump(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "backup")
	r := runBinary(t, nil, "backup", "--postgres", "postgres://geo:s3cret@db.example:5432/osm", "--schema", "country", dest)
	if r.exit != exitFailure {
		t.Errorf("backup --postgres: exit %d, want %d", r.exit, exitFailure)
	}
	for _, want := range []string{
		"pg_dump --format=custom --schema=country postgres://geo:xxxxx@db.example:5432/osm > FILE",
		"pg_restore --dbname postgres://geo:xxxxx@db.example:5432/osm FILE",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("backup --postgres says:\n%s\nwant %q", r.stderr, want)
		}
	}
	if strings.Contains(r.stderr+r.stdout, "s3cret") {
		t.Errorf("backup --postgres shows the password:\n%s", r.stderr)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("backup --postgres made %s: %v", dest, err)
	}
}

// TestPostgresRestore runs the pg_dump and pg_restore commands that
// `geocommuns backup --postgres` prints on a dataset a mapper edited
// through serve, restoring into a database of its own: the restored
// dataset counts the same, exports the same elements, stands at the same
// merge_seq and goes on allocating ids after the source's.
func TestPostgresRestore(t *testing.T) {
	if os.Getenv(postgresVariable) == "" {
		t.Skipf("PostgreSQL not tested: set %s", postgresVariable)
	}
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required in CI: %v", tool, err)
			}
			t.Skipf("%s is not installed (Debian package postgresql-client): %v", tool, err)
		}
	}
	ds := newDataset(t, "postgres")
	sourceURL, schema := ds.flags[1], ds.flags[3]
	importSmallExtract(t, ds, t.TempDir())
	m := trustedMappers(t, ds.flags, 1)[0]
	s := startServe(t, ds.flags...)
	for range 2 {
		cs, err := m.edit(s.base)
		if err != nil {
			t.Fatalf("edit: %v", err)
		}
		s.waitReviewState(t, cs, "merged")
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("serve: exit status %d after SIGTERM\n%s", code, s.log())
	}

	r := runBinary(t, nil, "backup", "--postgres", sourceURL, "--schema", schema, filepath.Join(t.TempDir(), "unused"))
	dump, restore := printedCommand(t, r.stderr, "pg_dump "), printedCommand(t, r.stderr, "pg_restore ")
	file := filepath.Join(t.TempDir(), "dataset.dump")
	targetURL := scratchDatabase(t, sourceURL)
	dump = strings.Replace(dump, "> FILE", "> "+shellQuote(file), 1)
	restore = strings.Replace(restore, shellQuote(sourceURL), shellQuote(targetURL), 1)
	restore = strings.TrimSuffix(restore, " FILE") + " " + shellQuote(file)
	for _, command := range []string{dump, restore} {
		if out, err := exec.Command("sh", "-c", command).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", command, err, out)
		}
	}

	ctx := t.Context()
	source, err := postgres.Open(ctx, postgres.Config{URL: sourceURL, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer source.Close()
	restored, err := postgres.Open(ctx, postgres.Config{URL: targetURL, Schema: schema})
	if err != nil {
		t.Fatalf("open the restored dataset: %v", err)
	}
	defer restored.Close()
	wantCounts, err := source.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := restored.Counts(ctx); err != nil || got != wantCounts {
		t.Errorf("the restored dataset counts %+v (%v); want the source's %+v", got, err, wantCounts)
	}
	if wantCounts.Nodes != 5 {
		t.Errorf("the source holds %d nodes; want the extract's 2 and the mapper's 3", wantCounts.Nodes)
	}
	wantSeq, err := source.LastMergeSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := restored.LastMergeSeq(ctx); err != nil || got != wantSeq || got != 2 {
		t.Errorf("the restored dataset is at merge_seq %d (%v); want the source's %d, after the mapper's two merges", got, err, wantSeq)
	}
	if diff := cmp.Diff(exportOf(t, source), exportOf(t, restored)); diff != "" {
		t.Errorf("the restored dataset exports otherwise (-source +restored):\n%s", diff)
	}

	// The id sequences come back too: a changeset opened on the restored
	// dataset gets the id the source would give next, not one it used.
	var last int64
	if err := pgxQueryRow(t, sourceURL, "SELECT max(id) FROM "+pgx.Identifier{schema, "changesets"}.Sanitize(), &last); err != nil {
		t.Fatal(err)
	}
	c, err := restored.CreateChangeset(ctx, storage.NewChangeset{UID: 1, User: "after restore"})
	if err != nil {
		t.Fatalf("open a changeset on the restored dataset: %v", err)
	}
	if c.ID <= last {
		t.Errorf("the restored dataset's new changeset is %d; want one after the source's last, %d", c.ID, last)
	}
}

// printedCommand is the line of the command's advice starting with
// prefix, without its indentation.
func printedCommand(t *testing.T, advice, prefix string) string {
	t.Helper()
	for line := range strings.Lines(advice) {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, prefix) {
			return line
		}
	}
	t.Fatalf("backup --postgres prints no %q command:\n%s", prefix, advice)
	return ""
}

// scratchDatabase creates a database on the server of serverURL, dropped
// when the test ends, and returns its URL.
func scratchDatabase(t *testing.T, serverURL string) string {
	t.Helper()
	suffix := make([]byte, 4)
	rand.Read(suffix)
	name := "geocommuns_restore_" + hex.EncodeToString(suffix)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, serverURL)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func pgxQueryRow(t *testing.T, serverURL, query string, dest ...any) error {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.QueryRow(ctx, query).Scan(dest...)
}

func exportOf(t *testing.T, s storage.Store) []osmdata.Element {
	t.Helper()
	var els []osmdata.Element
	if err := s.Export(t.Context(), func(el *osmdata.Element) error {
		els = append(els, *el)
		return nil
	}); err != nil {
		t.Fatalf("export: %v", err)
	}
	return els
}
