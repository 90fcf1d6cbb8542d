package clientstest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/server/servetest"
)

// The café's opening hours as each contributor sets them in
// python/osmapi_rebase_session.py.
const (
	firstHours  = "Mo-Fr 08:00-18:00"
	secondHours = "Mo-Sa 07:30-19:00"
)

// TestPythonOsmapiConflictReported: two trusted contributors set the
// café's opening_hours to different values with python3-osmapi, both
// citing version 3. The first merges; the second is conflicted and
// reopened, its discussion says which tag and values collide, its author
// still sees their pending edit, and anyone sees the first one's (issue
// 7).
func TestPythonOsmapiConflictReported(t *testing.T) {
	runPythonConflict(t, false)
}

// TestPythonOsmapiResolvesConflict goes on from
// TestPythonOsmapiConflictReported: the second contributor uploads to the
// reopened changeset a modify citing the café's current version, closes
// it, and it merges (issue 7).
func TestPythonOsmapiResolvesConflict(t *testing.T) {
	runPythonConflict(t, true)
}

// runPythonConflict runs python/osmapi_rebase_session.py on every
// backend, resolving the conflict or not, and checks what osmapi saw.
func runPythonConflict(t *testing.T, resolve bool) {
	_, err := exec.Command(debianPython, "-c", "import osmapi").CombinedOutput()
	servetest.RequireTool(t, "python3-osmapi for "+debianPython, "scripts/setup installs the Debian package python3-osmapi", err)

	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			// ASCII names: python-requests sends Basic credentials in
			// Latin-1 (TestPythonOsmapi).
			const first, second = "First Mapper", "Second Mapper"
			ds := newDataset(t, backend)
			importFixture(t, ds)
			for _, name := range []string{first, second} {
				runCommand(t, ds, authorPassword+"\n", "user", "add", name, "--role", "contributor", "--trusted", "--password-stdin")
			}
			server := startServe(t, ds)

			ctx, cancel := context.WithTimeout(context.Background(), 2*clientTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, debianPython, filepath.Join("python", "osmapi_rebase_session.py"))
			cmd.Env = append(os.Environ(),
				"OSM_API_URL="+server.Base, "OSM_USER="+first, "OSM_PASSWORD="+authorPassword,
				"OSM_OTHER_USER="+second, "OSM_OTHER_PASSWORD="+authorPassword,
				"OSM_NODE_ID="+strconv.FormatInt(cafe.ID, 10))
			if resolve {
				cmd.Env = append(cmd.Env, "OSM_RESOLVE=1")
			}
			reached, result := runExpectingScript(t, cmd, server)
			var out struct {
				Steps pySession `json:"steps"`
			}
			if err := json.Unmarshal(result, &out); err != nil {
				t.Fatalf("osmapi rebase session result %s: %v", result, err)
			}
			ids := checkPythonConflict(t, out.Steps, reached)
			if resolve {
				checkPythonConflictResolved(t, out.Steps, reached, ids, first, second)
			}
		})
	}
}

// pyDiscussedChangeset is osmapi's ChangesetGet with include_discussion.
type pyDiscussedChangeset struct {
	pyChangeset
	Discussion []struct {
		User string `json:"user"`
		Text string `json:"text"`
	} `json:"discussion"`
}

// reachedState is a changeset the script closed and the state the test
// saw it reach.
type reachedState struct {
	changeset int64
	state     string
}

// conflictChangesets are the two contributors' changesets.
type conflictChangesets struct{ first, second int64 }

// checkPythonConflict checks what osmapi saw up to the conflict.
func checkPythonConflict(t *testing.T, out pySession, reached []reachedState) conflictChangesets {
	t.Helper()
	cs1, ok1 := pyValue[int64](t, out, "first_changeset")
	cs2, ok2 := pyValue[int64](t, out, "second_changeset")
	up1, ok3 := pyValue[pyNode](t, out, "first_update")
	up2, ok4 := pyValue[pyNode](t, out, "second_update")
	if !ok1 || !ok2 || !ok3 || !ok4 {
		t.FailNow()
	}
	// NodeUpdate answers the new (provisional) version: cited 3, so 4.
	if up1.Version != cafe.Version+1 || up2.Version != cafe.Version+1 {
		t.Errorf("NodeUpdate of the café answered versions %d and %d; want %d each", up1.Version, up2.Version, cafe.Version+1)
	}
	if want := []reachedState{{cs1, "merged"}, {cs2, "conflicted"}}; len(reached) < 2 || !slices.Equal(reached[:2], want) {
		t.Fatalf("changesets reached %+v; want %+v first", reached, want)
	}

	if conflicted, ok := pyValue[pyDiscussedChangeset](t, out, "second_conflicted"); ok {
		if conflicted.ReviewState != "conflicted" || !conflicted.Open {
			t.Errorf("ChangesetGet of the conflicted changeset: review_state %q, open %t; want conflicted and reopened", conflicted.ReviewState, conflicted.Open)
		}
		explained := false
		for _, c := range conflicted.Discussion {
			if strings.HasPrefix(c.Text, "Merge conflict: ") && strings.Contains(c.Text, "opening_hours") &&
				strings.Contains(c.Text, firstHours) && strings.Contains(c.Text, secondHours) {
				explained = true
			}
		}
		if !explained {
			t.Errorf("the conflicted changeset's discussion %+v does not name opening_hours with both values", conflicted.Discussion)
		}
	}
	if own, ok := pyValue[pyNode](t, out, "second_own_view"); ok &&
		(own.Version != cafe.Version+1 || own.Changeset != cs2 || own.Tag["opening_hours"] != secondHours) {
		t.Errorf("the café as its second editor sees it: v%d of changeset %d, opening_hours %q; want their pending v%d of %d with %q",
			own.Version, own.Changeset, own.Tag["opening_hours"], cafe.Version+1, cs2, secondHours)
	}
	if now, ok := pyValue[pyNode](t, out, "cafe_current"); ok &&
		(now.Version != cafe.Version+1 || now.Changeset != cs1 || now.Tag["opening_hours"] != firstHours ||
			now.Tag["name"] != cafe.Tags["name"]) {
		t.Errorf("the café read anonymously after the conflict: v%d of changeset %d, tags %v; want v%d of %d with opening_hours %q",
			now.Version, now.Changeset, now.Tag, cafe.Version+1, cs1, firstHours)
	}
	return conflictChangesets{cs1, cs2}
}

// checkPythonConflictResolved checks the resolution and what it merged.
func checkPythonConflictResolved(t *testing.T, out pySession, reached []reachedState, ids conflictChangesets, first, second string) {
	t.Helper()
	if want := (reachedState{ids.second, "merged"}); len(reached) != 3 || reached[2] != want {
		t.Fatalf("changesets reached %+v; want %+v last", reached, want)
	}
	if n, ok := pyValue[pyNode](t, out, "second_resolve"); ok && n.Version != cafe.Version+2 {
		t.Errorf("the resolving NodeUpdate answered version %d; want %d (cited the current %d)", n.Version, cafe.Version+2, cafe.Version+1)
	}
	if cs, ok := pyValue[pyChangeset](t, out, "second_merged"); ok && (cs.ReviewState != "merged" || cs.Open || cs.User != second) {
		t.Errorf("ChangesetGet of the resolved changeset: %+v; want merged, closed, by %s", cs, second)
	}

	history, ok := pyValue[map[string]pyNode](t, out, "cafe_history")
	if !ok {
		return
	}
	var got []string
	for _, v := range slices.Sorted(maps.Keys(history)) {
		n := history[v]
		got = append(got, fmt.Sprintf("v%d c%d %s %q", n.Version, n.Changeset, n.User, n.Tag["opening_hours"]))
	}
	wantHistory := []string{
		fmt.Sprintf("v%d c11 importer %q", cafe.Version, ""),
		fmt.Sprintf("v%d c%d %s %q", cafe.Version+1, ids.first, first, firstHours),
		fmt.Sprintf("v%d c%d %s %q", cafe.Version+2, ids.second, second, secondHours),
	}
	if !slices.Equal(got, wantHistory) {
		t.Errorf("the café's history: %q; want %q", got, wantHistory)
	}
	if last := history[strconv.Itoa(cafe.Version+2)]; last.Tag["name"] != cafe.Tags["name"] || last.Tag["amenity"] != cafe.Tags["amenity"] {
		t.Errorf("the café's last version has tags %v; want the fixture's too", last.Tag)
	}
}

// runExpectingScript runs a client script that announces each close as
// {"event":"closed","changeset":ID,"expect":STATE} and waits for a line
// on stdin: the test answers once the changeset reached STATE (merged,
// or conflicted and open again). It returns the states reached, in order,
// and the script's last line, {"event":"result",…}.
func runExpectingScript(t *testing.T, cmd *exec.Cmd, s *servetest.Process) ([]reachedState, []byte) {
	t.Helper()
	var reached []reachedState
	result := runClosingScript(t, cmd, s, func(id int64, expect string) string {
		reached = append(reached, reachedState{id, waitReviewState(t, s, id, expect)})
		return expect
	})
	return reached, result
}

// waitReviewState polls the changeset anonymously until it leaves the
// queue (submitted, approved), and fails unless it then is want: merged,
// or conflicted and open again for its author.
func waitReviewState(t *testing.T, s *servetest.Process, id int64, want string) string {
	t.Helper()
	deadline := time.Now().Add(clientTimeout)
	tick := time.NewTicker(mergePoll)
	defer tick.Stop()
	for {
		cs := getChangeset(t, s.Base, id)
		if cs.ReviewState != "submitted" && cs.ReviewState != "approved" {
			if cs.ReviewState != want || (want == "conflicted") != cs.Open {
				t.Fatalf("changeset %d went %q (open=%t); want %q\nserver log:\n%s", id, cs.ReviewState, cs.Open, want, s.Log())
			}
			return cs.ReviewState
		}
		if time.Now().After(deadline) {
			t.Fatalf("changeset %d still %q %s after closing\nserver log:\n%s", id, cs.ReviewState, clientTimeout, s.Log())
		}
		<-tick.C
	}
}
