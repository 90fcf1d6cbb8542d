package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// uploadCreates is how many nodes the large upload creates: thousands,
// so that the kill has a transaction of some length to land in.
const uploadCreates = 4000

// TestUploadSurvivesSIGKILL kills `serve` on the embedded store while a
// large osmChange upload (4,000 creates, a way, a modify of an imported
// node) is in flight. On restart the changeset holds all of the upload's
// pending changes or none, the id counter is above every id handed out,
// and the client's retry of the same upload succeeds with fresh ids and
// the version the cited one implies; the changeset then merges whole.
func TestUploadSurvivesSIGKILL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	ds := dataset{"sqlite", []string{"--data", dir}}
	importSmallExtract(t, ds, t.TempDir())
	m := trustedMappers(t, ds.flags, 1)[0]

	// The first upload runs undisturbed: its duration is where the kills
	// of the next ones land.
	p := startKillable(t, dir)
	took := uploadAndMerge(t, p.Base, m, 0)
	p.Stop(t)

	outcomes := map[string]int{}
	// Fractions of the undisturbed upload's duration, jittered, for the
	// kills that do not wait for the write lock: while the body streams
	// in, and around the answer.
	for trial, fraction := range []float64{0, 0.5, 0, 1.5, 0} {
		trial++
		p := startKillable(t, dir)
		cs, err := m.open(p.Base)
		if err != nil {
			t.Fatal(err)
		}
		version := currentNodeVersion(t, p.Base, 1)
		body := largeUpload(cs, version)
		answered := make(chan error, 1)
		go func() {
			_, err := m.upload(p.Base, cs, body)
			answered <- err
		}()
		// Every other kill waits for the upload's transaction to hold the
		// write lock, so that it lands inside it.
		after := time.Duration((fraction + 0.2*(rand.Float64()-0.5)) * float64(took))
		inTx := false
		if trial%2 == 1 {
			inTx = waitWriteLock(t, dir, 20*took)
			after = 0
		}
		var uploadErr error
		finished := false
		select {
		case uploadErr = <-answered:
			finished = true
		case <-time.After(after):
		}
		p.Kill(t)
		if !finished {
			uploadErr = <-answered
		}
		checkSQLiteFile(t, dir)
		staged, maxID, nextID := stagedState(t, dir, cs)
		outcome := "none staged"
		switch staged {
		case 0:
			if finished && uploadErr == nil {
				t.Fatalf("trial %d: the upload was answered 200, yet nothing of it is staged after the kill", trial)
			}
		case uploadCreates + 2:
			outcome = "all staged"
		default:
			t.Fatalf("trial %d: %d pending changes after the kill; want none or all %d of the upload", trial, staged, uploadCreates+2)
		}
		if finished && uploadErr == nil {
			outcome += ", answered before the kill"
		}
		outcomes[outcome]++
		if inTx {
			t.Logf("trial %d: killed while the write lock was held: %s", trial, outcome)
		} else {
			t.Logf("trial %d: killed after %s (the undisturbed upload took %s): %s", trial, after, took, outcome)
		}
		if nextID <= maxID {
			t.Fatalf("trial %d: the next node id is %d, not above the largest given out (%d)", trial, nextID, maxID)
		}

		// The client did not get its diffResult (or did, then lost the
		// server): it uploads again, as JOSM's retry does.
		p = startKillable(t, dir)
		diff, err := m.upload(p.Base, cs, body)
		if err != nil {
			t.Fatalf("trial %d: the retried upload: %v", trial, err)
		}
		checkDiffResult(t, diff, maxID, version)
		if err := m.close(p.Base, cs); err != nil {
			t.Fatal(err)
		}
		if state := waitDecided(t, p.Base, cs); state != "merged" {
			t.Fatalf("trial %d: changeset %d is %s after the retry, want merged", trial, cs, state)
		}
		if got := currentNodeVersion(t, p.Base, 1); got != version+1 {
			t.Errorf("trial %d: node 1 is at version %d after the merge, want %d", trial, got, version+1)
		}
		p.Stop(t)
	}
	t.Logf("outcomes of the kills: %v", outcomes)
	checkSQLiteFile(t, dir)
	checkVersionsGapless(t, dir)
}

// uploadAndMerge uploads largeUpload in a new changeset, closes it, waits
// for its merge and returns how long the upload took.
func uploadAndMerge(t *testing.T, base string, m *mapper, trial int) time.Duration {
	t.Helper()
	cs, err := m.open(base)
	if err != nil {
		t.Fatal(err)
	}
	version := currentNodeVersion(t, base, 1)
	start := time.Now()
	diff, err := m.upload(base, cs, largeUpload(cs, version))
	if err != nil {
		t.Fatalf("trial %d: upload: %v", trial, err)
	}
	took := time.Since(start)
	checkDiffResult(t, diff, 0, version)
	if err := m.close(base, cs); err != nil {
		t.Fatal(err)
	}
	if state := waitDecided(t, base, cs); state != "merged" {
		t.Fatalf("trial %d: changeset %d is %s, want merged", trial, cs, state)
	}
	return took
}

// largeUpload creates uploadCreates nodes and a way over ten of them, and
// retags imported node 1 citing version.
func largeUpload(cs int64, version int) string {
	var b strings.Builder
	b.WriteString(`<osmChange version="0.6"><create>`)
	for i := range uploadCreates {
		fmt.Fprintf(&b, `<node id="-%d" changeset="%d" lat="%.5f" lon="%.5f"><tag k="survey:point" v="%d"/></node>`,
			i+1, cs, 42+float64(i/100)*0.0001, 1+float64(i%100)*0.0001, i)
	}
	fmt.Fprintf(&b, `<way id="-1" changeset="%d">`, cs)
	for i := range 10 {
		fmt.Fprintf(&b, `<nd ref="-%d"/>`, i+1)
	}
	b.WriteString(`<tag k="highway" v="footway"/></way></create>`)
	fmt.Fprintf(&b, `<modify><node id="1" changeset="%d" version="%d" lat="42.5" lon="1.5"><tag k="amenity" v="bench"/><tag k="note" v="changeset %d"/></node></modify>`,
		cs, version, cs)
	b.WriteString(`</osmChange>`)
	return b.String()
}

// checkDiffResult: one entry per element of largeUpload, in document
// order; the created ids distinct and above every id given out before
// (above), node 1 at the version after the cited one.
func checkDiffResult(t *testing.T, diff []diffEntry, above int64, cited int) {
	t.Helper()
	if len(diff) != uploadCreates+2 {
		t.Fatalf("diffResult has %d entries, want %d", len(diff), uploadCreates+2)
	}
	seen := map[int64]bool{}
	for i, d := range diff[:uploadCreates] {
		if d.kind != "node" || d.NewVersion != 1 || d.NewID <= above || seen[d.NewID] {
			t.Fatalf("diffResult entry %d: %s %d version %d; want a fresh node id above %d at version 1", i, d.kind, d.NewID, d.NewVersion, above)
		}
		seen[d.NewID] = true
	}
	if w := diff[uploadCreates]; w.kind != "way" || w.NewVersion != 1 {
		t.Fatalf("diffResult's way: %s %d version %d", w.kind, w.NewID, w.NewVersion)
	}
	if n := diff[uploadCreates+1]; n.kind != "node" || n.NewID != 1 || n.NewVersion != cited+1 {
		t.Fatalf("diffResult's modified node: %s %d version %d, want node 1 version %d", n.kind, n.NewID, n.NewVersion, cited+1)
	}
}

// stagedState reads, from the file, the changeset's pending changes, the
// largest node id anything holds and the node id counter.
func stagedState(t *testing.T, dir string, cs int64) (staged int, maxID, nextID int64) {
	t.Helper()
	db := openSQLiteFile(t, dir)
	defer db.Close()
	ctx := context.Background()
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pending_changes WHERE changeset_id = ?`, cs).Scan(&staged); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT max(coalesce((SELECT max(id) FROM nodes), 0),
		coalesce((SELECT max(elem_id) FROM pending_changes WHERE elem_type = 1), 0))`).Scan(&maxID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT next_id FROM next_ids WHERE name = 'node'`).Scan(&nextID); err != nil {
		t.Fatal(err)
	}
	return staged, maxID, nextID
}

// currentNodeVersion reads a node's current version as anyone does.
func currentNodeVersion(t *testing.T, base string, id int64) int {
	t.Helper()
	status, body := httpGet(t, fmt.Sprintf("%s/api/0.6/node/%d", base, id))
	if status != http.StatusOK {
		t.Fatalf("GET node %d: %d %s", id, status, body)
	}
	var doc struct {
		Node struct {
			Version int `xml:"version,attr"`
		} `xml:"node"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Node.Version
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// waitDecided waits until the changeset has left the merge queue (its
// review state is neither submitted nor approved) and returns the state.
func waitDecided(t *testing.T, base string, cs int64) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		state := reviewState(t, base, cs)
		if state != "submitted" && state != "approved" {
			return state
		}
		if time.Now().After(deadline) {
			t.Fatalf("changeset %d is still %s after two minutes", cs, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func reviewState(t *testing.T, base string, cs int64) string {
	t.Helper()
	status, body := httpGet(t, fmt.Sprintf("%s/api/0.6/changeset/%d", base, cs))
	if status != http.StatusOK {
		t.Fatalf("GET changeset %d: %d %s", cs, status, body)
	}
	var doc struct {
		Changeset struct {
			ReviewState string `xml:"review_state,attr"`
		} `xml:"changeset"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Changeset.ReviewState
}

// checkVersionsGapless: in the file, every element's versions are 1..n
// with exactly one current version, the last.
func checkVersionsGapless(t *testing.T, dir string) {
	t.Helper()
	db := openSQLiteFile(t, dir)
	defer db.Close()
	for _, table := range []string{"nodes", "ways", "relations"} {
		var bad int
		if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM (SELECT id FROM `+table+`
			GROUP BY id HAVING min(version) <> 1 OR max(version) <> count(*) OR sum(is_current) <> 1
				OR max(CASE WHEN is_current THEN version END) <> max(version))`).Scan(&bad); err != nil {
			t.Fatal(err)
		}
		if bad != 0 {
			t.Errorf("%s: %d elements whose versions have gaps or whose current version is not the last", table, bad)
		}
	}
}
