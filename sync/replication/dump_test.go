package replication_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/replication"
)

// A consumer that starts mid-stream, from the dump taken while merges
// after the latest file were not cut yet, applies the files after the
// one the dump names and ends equal to the export: the file that repeats
// merges the dump holds does no harm.
func TestDumpStartsMidStream(t *testing.T) {
	osmium := requireTool(t, "osmium", "osmium-tool")
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, b.open(t))
			cutter := replication.NewCutter(w.store, replication.CutterConfig{Interval: time.Minute, Header: osmdata.DocumentHeader{Generator: "test"}}, nil)
			base := w.serve()
			cut := func() {
				t.Helper()
				if _, ok, err := cutter.Cut(ctx); err != nil || !ok {
					t.Fatalf("cut: %v, %v", ok, err)
				}
			}
			round := 0
			edit := func(n int) {
				t.Helper()
				for range n {
					w.edit(round)
					w.merge()
					round++
				}
			}

			// Before any file: the dump follows file 0, the extract's.
			dump, mergeSeq, replicationSeq := getDump(t, base, w.dir, "dump0.osm.gz")
			if mergeSeq != 0 || replicationSeq != 0 {
				t.Errorf("dump before any merge: merge %d, file %d; want 0, 0", mergeSeq, replicationSeq)
			}
			if diff := osmiumDiff(t, osmium, dump, w.initial); diff != "" {
				t.Errorf("the dump before any merge differs from the extract:\n%s", diff)
			}

			edit(6)
			cut()
			edit(4) // merged, not cut yet
			dump, mergeSeq, replicationSeq = getDump(t, base, w.dir, "dump.osm.gz")
			last, err := w.store.LastMergeSeq(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if mergeSeq != last || replicationSeq != 1 {
				t.Errorf("dump: merge %d, file %d; want merge %d, file 1", mergeSeq, replicationSeq, last)
			}
			if diff := osmiumDiff(t, osmium, dump, w.export("at-dump.osm")); diff != "" {
				t.Errorf("the dump differs from the export made beside it:\n%s", diff)
			}
			edit(5)
			cut() // holds 4 merges the dump has, 5 it has not
			edit(3)
			cut()

			files := []string{dump}
			for seq := replicationSeq + 1; seq <= 3; seq++ {
				path := filepath.Join(w.dir, fmt.Sprintf("%d.osc.gz", seq))
				if err := os.WriteFile(path, get(t, base+"/replication/minute/"+replication.SeqPath(seq)+".osc.gz", "application/gzip"), 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, path)
			}
			applied := filepath.Join(w.dir, "applied.osm")
			if out, err := exec.Command(osmium, append([]string{"apply-changes", "-o", applied}, files...)...).CombinedOutput(); err != nil {
				t.Fatalf("osmium apply-changes: %v\n%s", err, out)
			}
			if diff := osmiumDiff(t, osmium, applied, w.export("export.osm")); diff != "" {
				t.Fatalf("the dump with the files after it applied differs from the export:\n%s", diff)
			}
		})
	}
}

// getDump downloads the dump and returns its file and headers.
func getDump(t *testing.T, base, dir, name string) (string, int64, int64) {
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
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/gzip" {
		t.Fatalf("GET the dump: %s, Content-Type %q: %.200s", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	mergeSeq, err1 := strconv.ParseInt(resp.Header.Get(replication.MergeSeqHeader), 10, 64)
	replicationSeq, err2 := strconv.ParseInt(resp.Header.Get(replication.ReplicationSeqHeader), 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("dump headers %s=%q %s=%q", replication.MergeSeqHeader, resp.Header.Get(replication.MergeSeqHeader),
			replication.ReplicationSeqHeader, resp.Header.Get(replication.ReplicationSeqHeader))
	}
	return path, mergeSeq, replicationSeq
}

// mergeDuringExport is the world's store with a merge committing during
// each of the first exports, as merges from other clients do.
type mergeDuringExport struct {
	feedStore
	pending []int64 // closed changesets, one merged per export
}

func (m *mergeDuringExport) Export(ctx context.Context, fn func(*osmdata.Element) error) error {
	if len(m.pending) > 0 {
		id := m.pending[0]
		m.pending = m.pending[1:]
		if _, err := m.feedStore.Merge(ctx, id); err != nil {
			return fmt.Errorf("the merge during the export: %w", err)
		}
	}
	return m.feedStore.Export(ctx, fn)
}

// A merge committing while the dump is written makes it start again, so
// that its merge_seq is never wrong; merges that never stop get a 503 to
// retry later rather than a dump that matches no merge_seq.
func TestDumpOvertakenByMerges(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			w := newWorld(t, b.open(t))
			source := &mergeDuringExport{feedStore: w.store}
			for k := range 6 {
				who := w.authors[k%2]
				cs := w.open(who, fmt.Sprintf("pending %d", k))
				w.upload(who, cs, []editing.Operation{{Action: storage.Create, Element: node(-1, 43, 1+float64(k)*0.01)}})
				w.close(who, cs)
				source.pending = append(source.pending, cs)
			}
			mux := http.NewServeMux()
			(&replication.Handler{Store: w.store, Dataset: source}).Register(mux)
			srv := httptest.NewServer(mux)
			defer srv.Close()

			// Five merges, one per attempt: every attempt is overtaken.
			rest := source.pending[5:]
			source.pending = source.pending[:5]
			if code := status(t, srv.URL+"/replication/dump/latest.osm.gz"); code != http.StatusServiceUnavailable {
				t.Errorf("dump overtaken at every attempt: status %d, want 503", code)
			}
			// One merge during the first attempt: the second one holds it.
			source.pending = rest
			_, mergeSeq, _ := getDump(t, srv.URL, w.dir, "dump.osm.gz")
			if mergeSeq != 6 {
				t.Errorf("dump after a merge overtook its first attempt says merge %d, want 6", mergeSeq)
			}
		})
	}
}
