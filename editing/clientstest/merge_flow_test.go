package clientstest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/server/servetest"
	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmapi"
)

// The editor flow across a merge (issue 4), the same with every client:
// a trusted contributor creates a fountain, a corner node and a square
// (a way through both), modifies the fountain twice in the same
// changeset (provisional version 3) and closes; the merge job approves
// and merges it, so the fountain's final version is 1. The contributor
// then edits again citing the versions the client kept from the
// diffResult — the fountain at 3, the square at 1 — adding a bollard to
// the square and moving the fountain; that merges too. An untrusted
// contributor's changeset, closed before all of it, stays submitted and
// unseen. The client scripts send exactly this content.

var (
	flowFountainV1 = fixtureNode{Lat: 43.6110, Lon: 1.4510,
		Tags: map[string]string{"amenity": "fountain", "drinking_water": "yes"}}
	flowFountainV2 = fixtureNode{Lat: 43.6111, Lon: 1.4511,
		Tags: map[string]string{"amenity": "fountain", "drinking_water": "yes", "name": "Fontaine"}}
	flowCorner    = fixtureNode{Lat: 43.6112, Lon: 1.4514, Tags: map[string]string{}}
	flowBollard   = fixtureNode{Lat: 43.6114, Lon: 1.4518, Tags: map[string]string{"barrier": "bollard"}}
	flowSquareV1  = map[string]string{"highway": "pedestrian"}
	flowSquareV2  = map[string]string{"highway": "pedestrian", "name": "Place des Clients"}
	flowOtherNode = fixtureNode{Lat: 43.6121, Lon: 1.4521, Tags: map[string]string{"amenity": "waste_basket"}}
)

// flowIDs are what the client's uploads created, and its changesets.
type flowIDs struct {
	Fountain, Corner, Bollard, Square int64
	Changeset1, Changeset2            int64
	// Other is the untrusted contributor's changeset, OtherNode its node.
	Other, OtherNode int64
}

// mergeSession is a dataset with the fixture, a trusted contributor (the
// author), an untrusted one, and a running server.
type mergeSession struct {
	*session
	other, otherPassword string
}

// newMergeSession is newSession with the author trusted and a second,
// untrusted contributor.
func newMergeSession(t *testing.T, backend, author, other string, setup ...func(dataset)) *mergeSession {
	t.Helper()
	ds := newDataset(t, backend)
	importFixture(t, ds)
	s := &session{ds: ds, author: author, password: authorPassword}
	s.apiToken = strings.TrimSpace(runCommand(t, ds, authorPassword+"\n",
		"user", "add", author, "--role", "contributor", "--trusted", "--password-stdin"))
	addUser(t, ds, other, authorPassword)
	for _, f := range setup {
		f(ds)
	}
	s.server = startServe(t, ds)
	return &mergeSession{session: s, other: other, otherPassword: authorPassword}
}

// reviewedChangeset is GET /api/0.6/changeset/ID as an anonymous reader
// sees it, with geocommuns' review_state attribute.
type reviewedChangeset struct {
	ID           int64     `xml:"id,attr"`
	Open         bool      `xml:"open,attr"`
	ClosedAt     time.Time `xml:"closed_at,attr"`
	User         string    `xml:"user,attr"`
	ChangesCount int       `xml:"changes_count,attr"`
	ReviewState  string    `xml:"review_state,attr"`
}

func getChangeset(t *testing.T, base string, id int64) reviewedChangeset {
	t.Helper()
	status, body := plainGet(t, base, fmt.Sprintf("/api/0.6/changeset/%d", id))
	var doc struct {
		Changesets []reviewedChangeset `xml:"changeset"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); status != http.StatusOK || err != nil || len(doc.Changesets) != 1 {
		t.Fatalf("GET changeset %d: %d %.300s (%v)", id, status, body, err)
	}
	return doc.Changesets[0]
}

// observedMerge is a changeset seen merged, and when: its final versions
// carry the merge time, which lies between its closing and that moment.
type observedMerge struct {
	changeset reviewedChangeset
	seen      time.Time
}

// mergePoll is how often waitMerged asks; the merge follows the close
// within milliseconds, the deadline is for a server that never merges.
const mergePoll = 20 * time.Millisecond

// waitMerged polls the changeset anonymously until its review state is
// merged, failing at once if it becomes anything a trusted contributor's
// changeset must not (conflicted, rejected, open again) and at the
// deadline if it stays submitted.
func waitMerged(t *testing.T, s *servetest.Process, id int64) observedMerge {
	t.Helper()
	deadline := time.Now().Add(clientTimeout)
	tick := time.NewTicker(mergePoll)
	defer tick.Stop()
	for {
		cs := getChangeset(t, s.Base, id)
		switch cs.ReviewState {
		case "merged":
			return observedMerge{changeset: cs, seen: time.Now()}
		case "submitted", "approved":
		default:
			t.Fatalf("changeset %d of a trusted contributor went %q (open=%t), not merged\nserver log:\n%s", id, cs.ReviewState, cs.Open, s.Log())
		}
		if time.Now().After(deadline) {
			t.Fatalf("changeset %d of a trusted contributor still %q %s after closing\nserver log:\n%s", id, cs.ReviewState, clientTimeout, s.Log())
		}
		<-tick.C
	}
}

// runFlowScript runs a client script that announces each close as
// {"event":"closed","changeset":ID} and waits for a line on stdin: the
// test answers once the changeset merged. It returns the merges in order
// and the script's last line, {"event":"result",…}.
func runFlowScript(t *testing.T, cmd *exec.Cmd, s *servetest.Process) ([]observedMerge, []byte) {
	t.Helper()
	var merges []observedMerge
	result := runClosingScript(t, cmd, s, func(id int64, _ string) string {
		merges = append(merges, waitMerged(t, s, id))
		return "merged"
	})
	return merges, result
}

// runClosingScript runs a client script that announces each close as
// {"event":"closed","changeset":ID[,"expect":STATE]} and waits for a line
// on stdin: closed's answer, written once it returns. It returns the
// script's last line, {"event":"result",…}.
func runClosingScript(t *testing.T, cmd *exec.Cmd, s *servetest.Process, closed func(id int64, expect string) string) []byte {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	defer func() {
		// A test that fails mid-way closes stdin: the script reads its
		// end instead of a go-ahead, reports and exits.
		if !waited {
			stdin.Close()
			cmd.Wait()
		}
	}()
	var result []byte
	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 16<<20)
	for lines.Scan() {
		var ev struct {
			Event     string `json:"event"`
			Changeset int64  `json:"changeset"`
			Expect    string `json:"expect"`
		}
		if err := json.Unmarshal(lines.Bytes(), &ev); err != nil {
			t.Fatalf("%s printed %q: %v\nstderr: %s", cmd.Args[0], lines.Text(), err, stderr.String())
		}
		switch ev.Event {
		case "closed":
			answer := closed(ev.Changeset, ev.Expect)
			if _, err := io.WriteString(stdin, answer+"\n"); err != nil {
				t.Fatalf("tell the script changeset %d is %s: %v", ev.Changeset, answer, err)
			}
		case "result":
			result = slices.Clone(lines.Bytes())
		}
	}
	stdin.Close()
	waited = true
	if err := cmd.Wait(); err != nil || result == nil {
		t.Fatalf("%s: %v, result %v\nstderr: %s\nserver log:\n%s", strings.Join(cmd.Args, " "), err, result != nil, stderr.String(), s.Log())
	}
	return result
}

// checkFlowMerged checks, as an anonymous reader, what the two merges
// made authoritative: each element's content and gapless history, one
// version per changeset, the square's nodes, and the merge time as every
// version's timestamp; and that the untrusted contributor's changeset is
// still submitted, its node unseen.
func checkFlowMerged(t *testing.T, s *mergeSession, ids flowIDs, merges []observedMerge) {
	t.Helper()
	if len(merges) != 2 {
		t.Fatalf("saw %d merges, want the two changesets' (the client stopped early)", len(merges))
	}
	for i, want := range []int64{ids.Changeset1, ids.Changeset2} {
		if cs := merges[i].changeset; cs.ID != want || cs.Open || cs.User != s.author {
			t.Errorf("merge %d: changeset %d open=%t by %q; want changeset %d closed, by %s", i+1, cs.ID, cs.Open, cs.User, want, s.author)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	anon := anonymous(s.server.Base)
	stamps := [2]map[time.Time]bool{{}, {}}
	version := func(what string, cs int64, v int, user string, ts time.Time) {
		i := slices.Index([]int64{ids.Changeset1, ids.Changeset2}, cs)
		if i < 0 {
			t.Errorf("%s v%d is in changeset %d, neither of the author's (%d, %d)", what, v, cs, ids.Changeset1, ids.Changeset2)
			return
		}
		if user != s.author {
			t.Errorf("%s v%d by %q, want %q", what, v, user, s.author)
		}
		stamps[i][ts] = true
	}

	nodeHistory := func(name string, id int64, want []fixtureNode, changesets []int64) {
		t.Helper()
		what := fmt.Sprintf("the %s (node %d)", name, id)
		h, err := anon.NodeHistory(ctx, osm.NodeID(id))
		if err != nil {
			t.Errorf("history of %s: %v", what, err)
			return
		}
		var got []string
		for _, n := range h {
			got = append(got, fmt.Sprintf("v%d c%d %v,%v %v", n.Version, n.ChangesetID, n.Lat, n.Lon, tagMap(n.Tags)))
			version(what, int64(n.ChangesetID), n.Version, n.User, n.Timestamp)
		}
		var wantLines []string
		for i, w := range want {
			wantLines = append(wantLines, fmt.Sprintf("v%d c%d %v,%v %v", i+1, changesets[i], w.Lat, w.Lon, w.Tags))
		}
		if !slices.Equal(got, wantLines) {
			t.Errorf("history of %s: %q; want one version per changeset, gapless: %q", what, got, wantLines)
		}
	}
	nodeHistory("fountain", ids.Fountain, []fixtureNode{flowFountainV1, flowFountainV2}, []int64{ids.Changeset1, ids.Changeset2})
	nodeHistory("corner", ids.Corner, []fixtureNode{flowCorner}, []int64{ids.Changeset1})
	nodeHistory("bollard", ids.Bollard, []fixtureNode{flowBollard}, []int64{ids.Changeset2})

	what := fmt.Sprintf("the square (way %d)", ids.Square)
	if h, err := anon.WayHistory(ctx, osm.WayID(ids.Square)); err != nil {
		t.Errorf("history of %s: %v", what, err)
	} else {
		var got []string
		for _, w := range h {
			got = append(got, fmt.Sprintf("v%d c%d %v %v", w.Version, w.ChangesetID, wayNodeIDs(w), tagMap(w.Tags)))
			version(what, int64(w.ChangesetID), w.Version, w.User, w.Timestamp)
		}
		want := []string{
			fmt.Sprintf("v1 c%d %v %v", ids.Changeset1, []int64{ids.Fountain, ids.Corner}, flowSquareV1),
			fmt.Sprintf("v2 c%d %v %v", ids.Changeset2, []int64{ids.Fountain, ids.Corner, ids.Bollard}, flowSquareV2),
		}
		if !slices.Equal(got, want) {
			t.Errorf("history of %s: %q; want %q", what, got, want)
		}
	}
	if full, err := anon.WayFull(ctx, osm.WayID(ids.Square)); err != nil {
		t.Errorf("%s/full: %v", what, err)
	} else {
		var got []string
		for _, n := range full.Nodes {
			got = append(got, fmt.Sprintf("n%d v%d", n.ID, n.Version))
		}
		for _, w := range full.Ways {
			got = append(got, fmt.Sprintf("w%d v%d %v", w.ID, w.Version, wayNodeIDs(w)))
		}
		want := []string{
			fmt.Sprintf("n%d v2", ids.Fountain), fmt.Sprintf("n%d v1", ids.Corner), fmt.Sprintf("n%d v1", ids.Bollard),
			fmt.Sprintf("w%d v2 %v", ids.Square, []int64{ids.Fountain, ids.Corner, ids.Bollard}),
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s/full: %v; want %v", what, got, want)
		}
	}
	// The JSON an osm-api or iD reads, of the element cited at a
	// provisional version.
	if status, body := plainGet(t, s.server.Base, fmt.Sprintf("/api/0.6/node/%d.json", ids.Fountain)); status != http.StatusOK {
		t.Errorf("node %d.json: %d %.300s", ids.Fountain, status, body)
	} else {
		var doc struct {
			Elements []jsElement `json:"elements"`
		}
		if err := json.Unmarshal([]byte(body), &doc); err != nil || len(doc.Elements) != 1 || doc.Elements[0].Version != 2 ||
			doc.Elements[0].Changeset != ids.Changeset2 || !maps.Equal(doc.Elements[0].Tags, flowFountainV2.Tags) {
			t.Errorf("node %d.json: %.400s (%v); want version 2 of changeset %d, %v", ids.Fountain, body, err, ids.Changeset2, flowFountainV2.Tags)
		}
	}

	// Each changeset's download: one version per element, its net change.
	download := func(cs int64, want []string) {
		t.Helper()
		ch, err := anon.ChangesetDownload(ctx, osm.ChangesetID(cs))
		if err != nil {
			t.Errorf("download changeset %d: %v", cs, err)
			return
		}
		var got []string
		for action, o := range map[string]*osm.OSM{"create": ch.Create, "modify": ch.Modify, "delete": ch.Delete} {
			if o == nil {
				continue
			}
			for _, n := range o.Nodes {
				got = append(got, fmt.Sprintf("%s n%d v%d", action, n.ID, n.Version))
			}
			for _, w := range o.Ways {
				got = append(got, fmt.Sprintf("%s w%d v%d", action, w.ID, w.Version))
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("download changeset %d: %v; want %v", cs, got, want)
		}
	}
	download(ids.Changeset1, []string{
		fmt.Sprintf("create n%d v1", ids.Fountain), fmt.Sprintf("create n%d v1", ids.Corner), fmt.Sprintf("create w%d v1", ids.Square),
	})
	download(ids.Changeset2, []string{
		fmt.Sprintf("create n%d v1", ids.Bollard), fmt.Sprintf("modify n%d v2", ids.Fountain), fmt.Sprintf("modify w%d v2", ids.Square),
	})

	// A merge gives every version of the changeset one timestamp: the
	// merge time, in whole seconds, after the close and before the test
	// saw it merged.
	var mergeTimes [2]time.Time
	for i, m := range merges {
		if len(stamps[i]) != 1 {
			t.Errorf("the versions of changeset %d carry timestamps %v; want one, the merge time", m.changeset.ID, slices.Collect(maps.Keys(stamps[i])))
			continue
		}
		for ts := range stamps[i] {
			mergeTimes[i] = ts
		}
		ts := mergeTimes[i]
		if ts.Nanosecond() != 0 || ts.Before(m.changeset.ClosedAt.Truncate(time.Second)) || ts.After(m.seen) {
			t.Errorf("changeset %d merged at %s; want whole seconds between its closing (%s) and when it was seen merged (%s)",
				m.changeset.ID, ts.Format(time.RFC3339Nano), m.changeset.ClosedAt.Format(time.RFC3339), m.seen.Format(time.RFC3339Nano))
		}
	}
	if mergeTimes[1].Before(mergeTimes[0]) {
		t.Errorf("the second merge's time %s is before the first's %s", mergeTimes[1], mergeTimes[0])
	}

	checkUntrustedUnmerged(t, s, ids)
}

// checkUntrustedUnmerged asserts that the untrusted contributor's
// changeset is closed and still submitted, and its node unseen. It was
// closed before the author's changesets, so the merge job, which decides
// on every submission it lists before merging, has passed its judgement
// on it before the author's first merge: what it is now, it stays.
func checkUntrustedUnmerged(t *testing.T, s *mergeSession, ids flowIDs) {
	t.Helper()
	if cs := getChangeset(t, s.server.Base, ids.Other); cs.ReviewState != "submitted" || cs.Open || cs.User != s.other {
		t.Errorf("the untrusted contributor's changeset %d: review_state %q open=%t by %q; want closed and submitted, by %s",
			ids.Other, cs.ReviewState, cs.Open, cs.User, s.other)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	_, err := anonymous(s.server.Base).Node(ctx, osm.NodeID(ids.OtherNode))
	if nf := (*osmapi.NotFoundError)(nil); !errors.As(err, &nf) {
		t.Errorf("an anonymous reader: node %d of the untrusted contributor's submitted changeset: %v; want 404", ids.OtherNode, err)
	}
	if status, body := plainGet(t, s.server.Base, fmt.Sprintf("/api/0.6/node/%d.json", ids.OtherNode)); status != http.StatusNotFound {
		t.Errorf("an anonymous reader: node %d.json of the untrusted contributor: %d %.300s; want 404", ids.OtherNode, status, body)
	}
}
