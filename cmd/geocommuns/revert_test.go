package main

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// changesetOf reads a changeset's review state and author over the OSM
// API, as a contributor's editor does.
func (s *serveProcess) changesetOf(t *testing.T, id int64) (state string, user string) {
	t.Helper()
	status, body := s.get(t, fmt.Sprintf("/api/0.6/changeset/%d", id))
	var doc struct {
		Changeset struct {
			User        string `xml:"user,attr"`
			ReviewState string `xml:"review_state,attr"`
		} `xml:"changeset"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); status != http.StatusOK || err != nil {
		t.Fatalf("changeset %d: %d %s (%v)", id, status, body, err)
	}
	return doc.Changeset.ReviewState, doc.Changeset.User
}

func (s *serveProcess) waitReviewState(t *testing.T, id int64, want string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		state, _ := s.changesetOf(t, id)
		if state == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("changeset %d is %q after a minute, want %q\n%s", id, state, want, s.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var revertChangesetLine = regexp.MustCompile(`^changeset (\d+)$`)

// TestRevertCommand: mapper0 draws a way with three new nodes (merged),
// mapper1 then tags one of the nodes (merged); with `serve` running on
// the same dataset, `geocommuns revert` as rob undoes mapper0's
// changeset: it prints the revert's id, the way and two nodes it
// deletes, and the node mapper1 edited since, skipped and kept by
// mapper1's changeset. The revert is rob's, waiting for review. Mistakes
// in the command line, an unknown user and a changeset not merged are
// refused. On both backends.
func TestRevertCommand(t *testing.T) {
	for _, backend := range backendNames(t) {
		t.Run(backend, func(t *testing.T) {
			ds := newDataset(t, backend)
			importSmallExtract(t, ds, t.TempDir())
			mappers := trustedMappers(t, ds.flags, 2)
			if r := runBinary(t, nil, append([]string{"user", "add", "rob"}, ds.flags...)...); r.exit != 0 {
				t.Fatalf("user add rob: %d %s", r.exit, r.stderr)
			}
			s := startServe(t, ds.flags...)

			original, err := mappers[0].edit(s.base)
			if err != nil {
				t.Fatalf("mapper0 draws a way: %v", err)
			}
			s.waitReviewState(t, original, "merged")
			nodes, way := mappers[0].order, mappers[0].way
			if len(nodes) != 3 || way == 0 {
				t.Fatalf("mapper0's upload gave nodes %v and way %d", nodes, way)
			}
			tagged := nodes[0]
			later, err := mappers[1].open(s.base)
			if err == nil {
				_, err = mappers[1].upload(s.base, later, fmt.Sprintf(`<osmChange version="0.6"><modify>
					<node id="%d" version="%d" changeset="%d" lat="0.5" lon="0.25"><tag k="barrier" v="gate"/></node>
				</modify></osmChange>`, tagged, mappers[0].nodes[tagged], later))
			}
			if err == nil {
				err = mappers[1].close(s.base, later)
			}
			if err != nil {
				t.Fatalf("mapper1 tags node %d: %v", tagged, err)
			}
			s.waitReviewState(t, later, "merged")

			revert := func(args ...string) result {
				return runBinary(t, nil, append(append([]string{"revert"}, args...), ds.flags...)...)
			}
			id := strconv.FormatInt(original, 10)
			for name, c := range map[string]struct {
				args []string
				exit int
				says string
			}{
				"no user":            {[]string{id}, exitUsage, "usage: geocommuns revert ID --user NAME"},
				"no changeset":       {[]string{"--user", "rob"}, exitUsage, "usage: geocommuns revert ID --user NAME"},
				"not a changeset id": {[]string{"x1", "--user", "rob"}, exitUsage, `changeset id "x1"`},
				"unknown user":       {[]string{id, "--user", "nobody"}, exitFailure, `no user is named "nobody"`},
			} {
				if r := revert(c.args...); r.exit != c.exit || !strings.Contains(r.stderr, c.says) || r.stdout != "" {
					t.Errorf("revert with %s: exit %d, stdout %q, stderr %q; want exit %d saying %q", name, r.exit, r.stdout, r.stderr, c.exit, c.says)
				}
			}

			r := revert(id, "--user", "rob", "--comment", "no such path on the survey")
			if r.exit != 0 {
				t.Fatalf("revert %d: exit %d\n%s", original, r.exit, r.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			m := revertChangesetLine.FindStringSubmatch(lines[0])
			if m == nil {
				t.Fatalf("revert printed %q, want the new changeset first", r.stdout)
			}
			reverted, _ := strconv.ParseInt(m[1], 10, 64)
			var deleted, skipped []string
			for _, l := range lines[1:] {
				switch {
				case strings.HasPrefix(l, "reverted "):
					deleted = append(deleted, strings.TrimPrefix(l, "reverted "))
				case strings.HasPrefix(l, "skipped "):
					skipped = append(skipped, strings.TrimPrefix(l, "skipped "))
				default:
					t.Errorf("revert printed an unexpected line %q", l)
				}
			}
			wantDeleted := []string{fmt.Sprintf("node %d", nodes[1]), fmt.Sprintf("node %d", nodes[2]), fmt.Sprintf("way %d", way)}
			slices.Sort(deleted)
			slices.Sort(wantDeleted)
			if !slices.Equal(deleted, wantDeleted) {
				t.Errorf("revert reverts %q, want %q", deleted, wantDeleted)
			}
			wantSkip := fmt.Sprintf("node %d (kept by changeset %d): ", tagged, later)
			if len(skipped) != 1 || !strings.HasPrefix(skipped[0], wantSkip) || len(skipped[0]) == len(wantSkip) {
				t.Errorf("revert skips %q, want %q with a reason", skipped, wantSkip)
			}
			if state, user := s.changesetOf(t, reverted); state != "submitted" || user != "rob" {
				t.Errorf("the revert, changeset %d: %q by %q, want submitted by rob", reverted, state, user)
			}

			// The revert is not merged: it cannot be reverted.
			if r := revert(strconv.FormatInt(reverted, 10), "--user", "rob"); r.exit != exitFailure || !strings.Contains(r.stderr, fmt.Sprintf("revert changeset %d as rob", reverted)) {
				t.Errorf("revert of the revert, still submitted: exit %d, stderr %q; want a refusal naming it", r.exit, r.stderr)
			}
		})
	}
}
