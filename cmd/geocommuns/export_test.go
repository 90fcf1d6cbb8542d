package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/sync/replication"
)

// TestExportSaysWhereItStands: `geocommuns export` says on stderr the
// merge_seq and replication_seq it matches, the same as the dump's
// headers, before any merge, with merges none of the files hold, and with
// a file cut and merges after it, while serve runs; and the count it says
// is what osmium counts in the file, which equals the dump.
func TestExportSaysWhereItStands(t *testing.T) {
	osmium := requireOsmium(t)
	for _, backend := range backendNames(t) {
		t.Run(backend, func(t *testing.T) {
			ds := newDataset(t, backend)
			dir := t.TempDir()
			importSmallExtract(t, ds, dir)
			checkExport(t, osmium, ds, filepath.Join(dir, "imported.osm"), "", 0, 0)

			clients := trustedMappers(t, ds.flags, 2)
			// An hour between files: the merges stay out of the feed
			// until serve starts again, which cuts what it finds.
			serve := startServe(t, append(ds.flags, "--replication-interval", "1h")...)
			edit := func(rounds int) {
				t.Helper()
				for range rounds {
					for _, c := range clients {
						if _, err := c.edit(serve.base); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			edit(3)
			waitDumpMerge(t, serve.base, 6)
			checkExport(t, osmium, ds, filepath.Join(dir, "uncut.osm"), serve.base, 6, 0)

			if code := serve.stop(t); code != 0 {
				t.Fatalf("serve exited %d after SIGTERM\n%s", code, serve.log())
			}
			serve = startServe(t, append(ds.flags, "--replication-interval", "1h")...)
			if st := waitFeed(t, serve.base, 6); st.Seq != 1 {
				t.Fatalf("serve cut the 6 merges into file %d, want 1", st.Seq)
			}
			edit(2)
			waitDumpMerge(t, serve.base, 10)
			checkExport(t, osmium, ds, filepath.Join(dir, "after-file.osm"), serve.base, 10, 1)
			if code := serve.stop(t); code != 0 {
				t.Errorf("serve exited %d after SIGTERM\n%s", code, serve.log())
			}
		})
	}
}

// checkExport exports to path and checks the position export states is
// mergeSeq and replicationSeq, the element count osmium finds in the
// file, and, with a server, that the dump says the same and holds the
// same data.
func checkExport(t *testing.T, osmium string, ds dataset, path, base string, mergeSeq, replicationSeq int64) {
	t.Helper()
	res := runBinary(t, nil, append(append([]string{"export"}, ds.flags...), path)...)
	if res.exit != 0 {
		t.Fatalf("export: exit %d\n%s", res.exit, res.stderr)
	}
	var elements int64
	for _, kind := range []string{"nodes", "ways", "relations"} {
		out, err := exec.Command(osmium, "fileinfo", "-e", "-g", "data.count."+kind, path).Output()
		if err != nil {
			t.Fatalf("osmium fileinfo %s: %v", path, err)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
		if err != nil {
			t.Fatalf("osmium fileinfo counts %q %s", out, kind)
		}
		elements += n
	}
	want := fmt.Sprintf("exported %d elements at merge_seq %d, replication_seq %d\n", elements, mergeSeq, replicationSeq)
	if res.stderr != want {
		t.Errorf("export says on stderr %q, want %q", res.stderr, want)
	}
	if base == "" {
		return
	}
	dump := filepath.Join(filepath.Dir(path), "dump-"+filepath.Base(path)+".gz")
	dumpMerge, dumpFile := getDump(t, base, dump)
	if dumpMerge != mergeSeq || dumpFile != replicationSeq {
		t.Errorf("the dump says merge_seq %d, replication_seq %d; export %d, %d", dumpMerge, dumpFile, mergeSeq, replicationSeq)
	}
	if diff := osmiumDiff(t, osmium, path, dump); diff != "" {
		t.Errorf("the export differs from the dump taken beside it:\n%s", diff)
	}
}

// getDump saves the server's dump to path and returns its position
// headers.
func getDump(t *testing.T, base, path string) (mergeSeq, replicationSeq int64) {
	t.Helper()
	resp, err := http.Get(base + "/replication/dump/latest.osm.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET the dump: %s %.200s", resp.Status, body)
	}
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	mergeSeq, err1 := strconv.ParseInt(resp.Header.Get(replication.MergeSeqHeader), 10, 64)
	replicationSeq, err2 := strconv.ParseInt(resp.Header.Get(replication.ReplicationSeqHeader), 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("the dump's headers: %s=%q %s=%q", replication.MergeSeqHeader, resp.Header.Get(replication.MergeSeqHeader),
			replication.ReplicationSeqHeader, resp.Header.Get(replication.ReplicationSeqHeader))
	}
	return mergeSeq, replicationSeq
}

// waitDumpMerge waits until the server's merge job has merged up to
// merge_seq last, as the dump's header says.
func waitDumpMerge(t *testing.T, base string, last int64) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Head(base + "/replication/dump/latest.osm.gz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got, _ := strconv.ParseInt(resp.Header.Get(replication.MergeSeqHeader), 10, 64)
		if got == last {
			return
		}
		if got > last || time.Now().After(deadline) {
			t.Fatalf("the server has merged up to %d (%s), want %d", got, resp.Status, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
