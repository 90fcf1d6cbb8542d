package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	osmreplication "github.com/paulmach/osm/replication"

	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/replication"
)

// TestServeCutsTheReplicationFeed: trusted contributors edit through the
// OSM API of `geocommuns serve`; the replication feed it serves, read by
// Debian's pyosmium-get-changes and applied by osmium onto the imported
// extract, equals `geocommuns export`. On SQLite one process cuts a file
// per merge (--replication-interval 0); on PostgreSQL two processes, one
// per merge and one every 100 ms, share one gapless feed.
func TestServeCutsTheReplicationFeed(t *testing.T) {
	osmium := requireOsmium(t)
	pyosmium, err := exec.LookPath("pyosmium-get-changes")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pyosmium-get-changes is required in CI (Debian package pyosmium): %v", err)
		}
		t.Skipf("pyosmium-get-changes is not installed (Debian package pyosmium; scripts/setup installs it): %v", err)
	}
	for _, backend := range backendNames(t) {
		t.Run(backend, func(t *testing.T) {
			ds := newDataset(t, backend)
			dir := t.TempDir()
			initial := importSmallExtract(t, ds, dir)
			clients := trustedMappers(t, ds.flags, 2)
			procs := []*serveProcess{startServe(t, append(ds.flags, "--replication-interval", "0")...)}
			if backend == "postgres" {
				procs = append(procs, startServe(t, append(ds.flags, "--replication-interval", "100ms")...))
			}

			const rounds = 10
			for r := range rounds {
				for i, c := range clients {
					if _, err := c.edit(procs[(r+i)%len(procs)].base); err != nil {
						t.Fatal(err)
					}
				}
			}
			merges := int64(rounds * len(clients))
			latest := waitFeed(t, procs[0].base, merges)
			if backend == "sqlite" && latest.Seq != merges {
				t.Errorf("%d files for %d merges cut one per merge", latest.Seq, merges)
			}
			for _, p := range procs[1:] {
				if st := waitFeed(t, p.base, merges); st != latest {
					t.Errorf("%s serves state %+v, %s %+v", p.base, st, procs[0].base, latest)
				}
			}

			export := filepath.Join(dir, "export.osm")
			if r := runBinary(t, nil, append([]string{"export"}, append(ds.flags, export)...)...); r.exit != 0 {
				t.Fatalf("export: %d %s", r.exit, r.stderr)
			}
			changes := filepath.Join(dir, "feed.osc.gz")
			feed := procs[len(procs)-1].base + "/replication/minute"
			if out, err := exec.Command("/usr/bin/python3", pyosmium, "--server", feed, "-I", "0", "-o", changes).CombinedOutput(); err != nil {
				t.Fatalf("pyosmium-get-changes: %v\n%s", err, out)
			}
			applied := filepath.Join(dir, "applied.osm")
			if out, err := exec.Command(osmium, "apply-changes", "-o", applied, initial, changes).CombinedOutput(); err != nil {
				t.Fatalf("osmium apply-changes: %v\n%s", err, out)
			}
			if diff := osmiumDiff(t, osmium, applied, export); diff != "" {
				t.Fatalf("the extract with the feed applied differs from the export:\n%s", diff)
			}

			source := &osmreplication.Datasource{BaseURL: procs[0].base, Client: http.DefaultClient}
			n, state, err := source.CurrentMinuteState(context.Background())
			if err != nil || int64(n) != latest.Seq || !state.Timestamp.Equal(latest.Timestamp) {
				t.Errorf("paulmach/osm/replication reads state %d at %v (%v), want %d at %s", n, state, err, latest.Seq, latest.Timestamp)
			}
			if _, err := source.Minute(context.Background(), n); err != nil {
				t.Errorf("paulmach/osm/replication reads file %d: %v", n, err)
			}
			for _, p := range procs {
				if code := p.stop(t); code != 0 {
					t.Errorf("exit status %d after SIGTERM\n%s", code, p.log())
				}
			}
		})
	}
}

// waitFeed waits until the feed served at base covers merge last.
func waitFeed(t *testing.T, base string, last int64) storage.ReplicationState {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(base + "/replication/minute/state.txt")
		if err != nil {
			t.Fatal(err)
		}
		var body strings.Builder
		_, err = io.Copy(&body, resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusOK {
			st, err := replication.ParseStateText(body.String())
			if err != nil {
				t.Fatal(err)
			}
			if st.LastMergeSeq == last {
				return st
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the feed at %s has not covered merge %d: %d %s", base, last, resp.StatusCode, body.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
