package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/server/servetest"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// The tests of this file kill the embedded store's process with SIGKILL
// in the middle of its writes (issue 9, "Outages and load") and check
// what the next start finds: each interrupted operation happened entirely
// or not at all, and the SQLite file is sound. Where the kill lands is
// chosen at random within the operation's measured duration; the log
// says where each landed, so that a run that only ever killed between
// operations shows.

// TestImportSurvivesSIGKILL kills `geocommuns import` of the Andorra
// extract at several points. The dataset is then either empty, and a new
// import of the file succeeds, or it holds exactly the whole file: every
// element equal to the source's, metadata included.
func TestImportSurvivesSIGKILL(t *testing.T) {
	file := filepath.Join(testdata(t), "testdata", "andorra-latest.osm.bz2")
	want := readOSMFile(t, file)

	// A first, undisturbed import says how long one takes here; the kills
	// land within that time.
	reference := filepath.Join(t.TempDir(), "reference")
	start := time.Now()
	if r := runBinary(t, nil, "import", "--data", reference, file); r.exit != 0 || !strings.HasPrefix(r.stdout, want.importSummary()) {
		t.Fatalf("import: exit %d, %q; want %q\n%s", r.exit, r.stdout, want.importSummary(), r.stderr)
	}
	took := time.Since(start)

	// Fractions of the import's duration: while the file is read and the
	// rows inserted, while the indexes are built, and around the commit.
	for i, fraction := range []float64{0.3, 0.8, 0.97} {
		t.Run(fmt.Sprintf("kill at %.0f%%", 100*fraction), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			after := time.Duration((fraction + 0.05*(rand.Float64()-0.5)) * float64(took))
			cmd := exec.Command(binary, "import", "--data", dir, file)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				t.Logf("trial %d: the import ended by itself (%v) before the kill at %s", i, err, after)
			case <-time.After(after):
				cmd.Process.Kill()
				<-exited
			}
			checkSQLiteFile(t, dir)
			summary := exportSummaryOf(t, dataset{"sqlite", []string{"--data", dir}}, filepath.Join(t.TempDir(), "after-kill.osm"))
			if strings.HasPrefix(summary, "exported 0 nodes, 0 ways, 0 relations (0 elements)") {
				t.Logf("trial %d: killed after %s of %s: nothing imported", i, after, took)
				r := runBinary(t, nil, "import", "--data", dir, file)
				if r.exit != 0 {
					t.Fatalf("import again after the kill left the dataset empty: exit %d\n%s", r.exit, r.stderr)
				}
				if counts := want.importSummary(); !strings.HasPrefix(r.stdout, counts) {
					t.Fatalf("import again after the kill: %q, want %q", r.stdout, counts)
				}
				return
			}
			t.Logf("trial %d: killed after %s of %s: the whole file imported", i, after, took)
			checkImported(t, dir, want)
		})
	}
}

// osmFile is what a file holds, as osmfile reads it.
type osmFile struct {
	elements []osmdata.Element
	counts   map[osmdata.ElementType]int
}

func readOSMFile(t *testing.T, path string) osmFile {
	t.Helper()
	r, err := osmfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f := osmFile{counts: map[osmdata.ElementType]int{}}
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return f
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		f.elements = append(f.elements, *e)
		f.counts[e.Type]++
	}
}

// importSummary is the start of import's summary line for the file.
func (f osmFile) importSummary() string {
	return fmt.Sprintf("imported %d nodes, %d ways, %d relations (%d elements;",
		f.counts[osmdata.Node], f.counts[osmdata.Way], f.counts[osmdata.Relation], len(f.elements))
}

// checkImported exports the dataset in dir and holds the export to the
// source file element by element, and its summary line to the file's
// counts per type.
func checkImported(t *testing.T, dir string, want osmFile) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "export.osm")
	summary := exportSummaryOf(t, dataset{"sqlite", []string{"--data", dir}}, out)
	counts := fmt.Sprintf("exported %d nodes, %d ways, %d relations (%d elements)",
		want.counts[osmdata.Node], want.counts[osmdata.Way], want.counts[osmdata.Relation], len(want.elements))
	if !strings.HasPrefix(summary, counts) {
		t.Fatalf("the dataset is neither empty nor the whole file: %q, want %q", summary, counts)
	}
	got := readOSMFile(t, out)
	if len(got.elements) != len(want.elements) {
		t.Fatalf("the export holds %d elements, the source %d", len(got.elements), len(want.elements))
	}
	for i := range want.elements {
		if !reflect.DeepEqual(got.elements[i], want.elements[i]) {
			t.Fatalf("element %d differs from the source's:\n got %+v\nwant %+v", i, got.elements[i], want.elements[i])
		}
	}
}

// checkSQLiteFile opens the dataset's file as any SQLite client does
// after a crash (which replays the committed part of the WAL) and
// requires SQLite's own checks to pass.
func checkSQLiteFile(t *testing.T, dir string) {
	t.Helper()
	db := openSQLiteFile(t, dir)
	defer db.Close()
	ctx := context.Background()
	var integrity []string
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		t.Fatalf("integrity_check: %v", err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		integrity = append(integrity, line)
	}
	rows.Close()
	if len(integrity) != 1 || integrity[0] != "ok" {
		t.Errorf("PRAGMA integrity_check after the kill: %q", integrity)
	}
	rows, err = db.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		t.Fatalf("foreign_key_check: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			t.Fatal(err)
		}
		t.Errorf("PRAGMA foreign_key_check after the kill: a row of %s (rowid %v) points to a missing row of %s", table, rowid, parent)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// openSQLiteFile opens the dataset's file with SQL, for the checks that
// the public reads cannot make (gaps, half-written rows).
func openSQLiteFile(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", sqlite.Path(dir)+"?_pragma=busy_timeout(60000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

// waitWriteLock waits until another connection holds the file's write
// lock, for at most patience, and says whether it did: BEGIN IMMEDIATE
// without a busy timeout fails at once while one does. When it succeeds
// the probe lets go at once, so the server's writer waits a moment at
// most.
func waitWriteLock(t *testing.T, dir string, patience time.Duration) bool {
	t.Helper()
	db, err := sql.Open("sqlite", sqlite.Path(dir)+"?_txlock=immediate&_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	deadline := time.Now().Add(patience)
	for time.Now().Before(deadline) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			if strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "database is locked") {
				return true
			}
			t.Fatalf("probe the write lock: %v", err)
		}
		tx.Rollback()
		time.Sleep(time.Millisecond)
	}
	return false
}

// startKillable starts `geocommuns serve` on the SQLite dataset in dir
// through servetest, with what every test of this file needs.
func startKillable(t *testing.T, dir string) *servetest.Process {
	t.Helper()
	return servetest.Start(t, binary, "--data", dir, "--write-rate", "0", "--merge-poll", "200ms")
}
