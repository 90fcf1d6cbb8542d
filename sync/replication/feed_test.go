package replication_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
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

	"github.com/paulmach/osm"
	osmreplication "github.com/paulmach/osm/replication"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/replication"
)

// TestFeedReplaysTheMerges: 50 merges (creates, modifies, deletes, ways
// and a relation, stacked changesets) cut into files at four moments,
// and a cut with no merge since the last. The files are gapless and
// cover every merge once, each state says the file's number and the time
// of its last merge, and the feed as OSM tools read it over HTTP rebuilds
// the dataset: osmium apply-changes of every file onto the initial
// extract, and of pyosmium-get-changes' download, equals the server's
// export; paulmach/osm/replication reads the states and the diffs.
func TestFeedReplaysTheMerges(t *testing.T) {
	testFeedReplay(t, 40)
}

// TestFeedReplaysAThousandMerges is the same over 1,134 merges in ten
// files (issue 5's size); -short leaves it out.
func TestFeedReplaysAThousandMerges(t *testing.T) {
	if testing.Short() {
		t.Skip("1,134 merges: not with -short")
	}
	testFeedReplay(t, 900)
}

// testFeedReplay makes rounds edits, a stacked pair of changesets every
// seventh, and cuts a file every tenth of the rounds.
func testFeedReplay(t *testing.T, rounds int) {
	osmium := requireTool(t, "osmium", "osmium-tool")
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, b.open(t))
			cutter := replication.NewCutter(w.store, replication.CutterConfig{Interval: time.Minute, Header: osmdata.DocumentHeader{Generator: "geocommuns test"}}, nil)
			if _, ok, err := cutter.Cut(ctx); err != nil || ok {
				t.Fatalf("cut before any merge: cut %v, %v; want nothing", ok, err)
			}

			merges := 0
			var cuts []storage.ReplicationState
			for round := range rounds {
				w.edit(round)
				merges += w.merge()
				if round%7 == 6 {
					w.stackedPair(round)
					merges += w.merge()
				}
				if round%(rounds/10) == rounds/10-1 || round == rounds-1 {
					st, ok, err := cutter.Cut(ctx)
					if err != nil || !ok {
						t.Fatalf("cut after round %d: %v, %v", round, ok, err)
					}
					cuts = append(cuts, st)
					// An interval without merges writes nothing.
					if _, ok, err := cutter.Cut(ctx); err != nil || ok {
						t.Fatalf("second cut after round %d: cut %v, %v; want nothing", round, ok, err)
					}
				}
			}
			if want := rounds + 2*((rounds+1)/7); merges != want {
				t.Fatalf("%d changesets merged, want %d", merges, want)
			}
			last, err := w.store.LastMergeSeq(ctx)
			if err != nil {
				t.Fatal(err)
			}

			base := w.serve()
			feed := base + "/replication/minute"
			latest := readState(t, feed+"/state.txt")
			if latest.Seq != int64(len(cuts)) || latest.LastMergeSeq != last {
				t.Fatalf("state.txt = %+v; want file %d ending at merge %d", latest, len(cuts), last)
			}
			outbox, err := w.store.Outbox(ctx, 0, int(last))
			if err != nil {
				t.Fatal(err)
			}
			files := []string{w.initial}
			nextMerge := int64(1)
			for seq := int64(1); seq <= latest.Seq; seq++ {
				st := readState(t, feed+"/"+replication.SeqPath(seq)+".state.txt")
				if st != cuts[seq-1] {
					t.Errorf("file %d: state.txt says %+v, the cut returned %+v", seq, st, cuts[seq-1])
				}
				if st.Seq != seq || st.FirstMergeSeq != nextMerge || st.LastMergeSeq < st.FirstMergeSeq {
					t.Errorf("file %d: state %+v does not follow merge %d", seq, st, nextMerge-1)
				}
				if want := outbox[st.LastMergeSeq-1].MergedAt.Truncate(time.Second); !st.Timestamp.Equal(want) {
					t.Errorf("file %d: timestamp %s, want the time of merge %d: %s", seq, st.Timestamp, st.LastMergeSeq, want)
				}
				nextMerge = st.LastMergeSeq + 1
				body := get(t, feed+"/"+replication.SeqPath(seq)+".osc.gz", "application/gzip")
				checkOsmChange(t, body, outbox[st.FirstMergeSeq-1:st.LastMergeSeq])
				path := filepath.Join(w.dir, fmt.Sprintf("%d.osc.gz", seq))
				if err := os.WriteFile(path, body, 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, path)
			}
			if nextMerge != last+1 {
				t.Errorf("the files cover merges up to %d, the dataset has %d", nextMerge-1, last)
			}
			if code := status(t, feed+"/"+replication.SeqPath(latest.Seq+1)+".osc.gz"); code != http.StatusNotFound {
				t.Errorf("file %d, not cut yet: status %d, want 404", latest.Seq+1, code)
			}

			export := w.export("export.osm")
			applied := filepath.Join(w.dir, "applied.osm")
			if out, err := exec.Command(osmium, append([]string{"apply-changes", "-o", applied}, files...)...).CombinedOutput(); err != nil {
				t.Fatalf("osmium apply-changes: %v\n%s", err, out)
			}
			if diff := osmiumDiff(t, osmium, applied, export); diff != "" {
				t.Fatalf("the initial extract with every file applied differs from the export:\n%s", diff)
			}
			// A negative control: without the last file the result differs,
			// so the comparison does see the files.
			partial := filepath.Join(w.dir, "partial.osm")
			if out, err := exec.Command(osmium, append([]string{"apply-changes", "-o", partial}, files[:len(files)-1]...)...).CombinedOutput(); err != nil {
				t.Fatalf("osmium apply-changes: %v\n%s", err, out)
			}
			if osmiumDiff(t, osmium, partial, export) == "" {
				t.Errorf("the extract without the last file equals the export: the comparison proves nothing")
			}

			checkPyosmium(t, osmium, feed, w, export, latest)
			checkPaulmach(t, base, outbox, latest)
		})
	}
}

// checkOsmChange reads a file as an osmChange and checks it holds the new
// version of every element of its merges, in order.
func checkOsmChange(t *testing.T, body []byte, merges []storage.OutboxEntry) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the file is not gzip: %v", err)
	}
	var change osm.Change
	if err := xml.NewDecoder(zr).Decode(&change); err != nil {
		t.Fatalf("the file is not an osmChange: %v", err)
	}
	got := map[string]int{}
	for _, part := range []*osm.OSM{change.Create, change.Modify, change.Delete} {
		if part == nil {
			continue
		}
		for _, o := range part.Objects() {
			got[fmt.Sprintf("%s/%d", o.ObjectID().Type(), o.ObjectID().Ref())] = o.ObjectID().Version()
		}
	}
	want := map[string]int{}
	for _, m := range merges {
		for _, v := range m.Versions {
			want[fmt.Sprintf("%s/%d", v.Element.Type, v.Element.ID)] = v.NewVersion
		}
	}
	if len(got) != len(want) {
		t.Errorf("the file holds %d elements, its merges %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("the file has %s at version %d, its merges end at %d", k, got[k], v)
		}
	}
}

// checkPyosmium downloads the whole feed with Debian's
// pyosmium-get-changes, starting after file 0 (the initial extract), and
// applies its output onto the extract.
func checkPyosmium(t *testing.T, osmium, feed string, w *world, export string, latest storage.ReplicationState) {
	t.Helper()
	// Debian's script, run by Debian's python, whose packages it imports
	// (another python3 first in PATH would not have them).
	script := requireTool(t, "pyosmium-get-changes", "pyosmium")
	seqFile := filepath.Join(w.dir, "sequence.state")
	out := filepath.Join(w.dir, "pyosmium.osc.gz")
	cmd := exec.Command("/usr/bin/python3", script, "--server", feed, "-I", "0", "-f", seqFile, "-o", out)
	if res, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pyosmium-get-changes: %v\n%s", err, res)
	}
	seq, err := os.ReadFile(seqFile)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(seq)); got != strconv.FormatInt(latest.Seq, 10) {
		t.Errorf("pyosmium-get-changes stopped at %s, want %d", got, latest.Seq)
	}
	applied := filepath.Join(w.dir, "pyosmium-applied.osm")
	if res, err := exec.Command(osmium, "apply-changes", "-o", applied, w.initial, out).CombinedOutput(); err != nil {
		t.Fatalf("osmium apply-changes: %v\n%s", err, res)
	}
	if diff := osmiumDiff(t, osmium, applied, export); diff != "" {
		t.Fatalf("the extract with pyosmium-get-changes' download applied differs from the export:\n%s", diff)
	}
	// Run again from where it stopped: nothing new, the same sequence.
	again := filepath.Join(w.dir, "pyosmium-again.osc.gz")
	res, err := exec.Command("/usr/bin/python3", script, "--server", feed, "-f", seqFile, "-o", again).CombinedOutput()
	if err != nil {
		// With nothing to download pyosmium-get-changes reports an error
		// and leaves the sequence file as it was; that is its contract.
		t.Logf("pyosmium-get-changes with nothing new: %v %s", err, res)
	}
	if seq2, _ := os.ReadFile(seqFile); string(seq2) != string(seq) {
		t.Errorf("pyosmium-get-changes with nothing new moved its sequence from %s to %s", seq, seq2)
	}
}

// checkPaulmach reads the feed with github.com/paulmach/osm/replication
// pointed at the server.
func checkPaulmach(t *testing.T, base string, outbox []storage.OutboxEntry, latest storage.ReplicationState) {
	t.Helper()
	ctx := context.Background()
	ds := &osmreplication.Datasource{BaseURL: base, Client: http.DefaultClient}
	n, state, err := ds.CurrentMinuteState(ctx)
	if err != nil {
		t.Fatalf("paulmach CurrentMinuteState: %v", err)
	}
	if int64(n) != latest.Seq || !state.Timestamp.Equal(latest.Timestamp) {
		t.Errorf("paulmach reads state %d at %s, want %d at %s", n, state.Timestamp, latest.Seq, latest.Timestamp)
	}
	for seq := osmreplication.MinuteSeqNum(1); int64(seq) <= latest.Seq; seq++ {
		st, err := ds.MinuteState(ctx, seq)
		if err != nil || st.SeqNum != uint64(seq) {
			t.Fatalf("paulmach MinuteState(%d) = %+v, %v", seq, st, err)
		}
		change, err := ds.Minute(ctx, seq)
		if err != nil {
			t.Fatalf("paulmach Minute(%d): %v", seq, err)
		}
		if change.Create == nil || len(change.Create.Nodes) == 0 {
			t.Errorf("paulmach Minute(%d) has no created node; every file has some", seq)
		}
	}
}

func readState(t *testing.T, url string) storage.ReplicationState {
	t.Helper()
	st, err := replication.ParseStateText(string(get(t, url, "text/plain; charset=utf-8")))
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return st
}

func get(t *testing.T, url, contentType string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", url, resp.Status, body)
	}
	if got := resp.Header.Get("Content-Type"); got != contentType {
		t.Errorf("GET %s: Content-Type %q, want %q", url, got, contentType)
	}
	if got := resp.Header.Get("Content-Encoding"); got != "" {
		t.Errorf("GET %s: Content-Encoding %q; clients would unpack the file", url, got)
	}
	return body
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
