package webapp_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/server/servetest"
)

// What a contributor sends through the OSM API, as an editor would: a
// footpath of three new nodes, and the café (node 101, version 3) moved
// and renamed.

// uploadedChangeset is what the upload created, by the ids the server
// allocated.
type uploadedChangeset struct {
	ID    int64
	Way   int64
	Nodes []int64
	// Modified is the imported node the changeset moved, or 0.
	Modified int64
}

func (c uploadedChangeset) wayKey() string { return fmt.Sprintf("way/%d", c.Way) }

func (c uploadedChangeset) nodeKeys() []string {
	keys := make([]string, len(c.Nodes))
	for i, id := range c.Nodes {
		keys[i] = fmt.Sprintf("node/%d", id)
	}
	return keys
}

func (c uploadedChangeset) modifiedKey() string { return fmt.Sprintf("node/%d", c.Modified) }

// osmRequest sends one OSM API request as user with HTTP Basic and
// returns the body of a 200 answer; any other status fails the test.
func osmRequest(t *testing.T, srv *servetest.Process, user, password, method, path, body string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, srv.Base+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/xml")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read the answer: %v", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s as %q: %d %s", method, path, user, resp.StatusCode, answer)
	}
	return string(answer)
}

// uploadFootpath opens a changeset as user, uploads the footpath (whose
// name and position tell apart the changesets of one test) and, with
// moveCafe, the moved café, and closes it, which submits it for review.
func uploadFootpath(t *testing.T, srv *servetest.Process, user, password, name string, offset float64, moveCafe bool) uploadedChangeset {
	t.Helper()
	created := osmRequest(t, srv, user, password, http.MethodPut, "/api/0.6/changeset/create",
		`<osm><changeset><tag k="comment" v="`+name+` footpath"/><tag k="created_by" v="webapp browser test"/></changeset></osm>`)
	id, err := strconv.ParseInt(strings.TrimSpace(created), 10, 64)
	if err != nil {
		t.Fatalf("changeset/create answered %q: %v", created, err)
	}
	var change strings.Builder
	fmt.Fprintf(&change, `<osmChange version="0.6" generator="webapp browser test"><create>`)
	for i := range 3 {
		fmt.Fprintf(&change, `<node id="-%d" changeset="%d" lat="%.7f" lon="%.7f"/>`, i+1, id, 43.6003+offset, 1.4403+0.0004*float64(i)+offset)
	}
	fmt.Fprintf(&change, `<way id="-1" changeset="%d"><nd ref="-1"/><nd ref="-2"/><nd ref="-3"/><tag k="highway" v="footway"/><tag k="name" v="%s"/></way>`, id, name)
	change.WriteString(`</create>`)
	if moveCafe {
		fmt.Fprintf(&change, `<modify><node id="101" version="3" changeset="%d" lat="43.6001000" lon="1.4401000"><tag k="amenity" v="cafe"/><tag k="name" v="Le Café %s"/></node></modify>`, id, name)
	}
	change.WriteString(`</osmChange>`)
	diff := osmRequest(t, srv, user, password, http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/upload", id), change.String())
	var result struct {
		Entries []struct {
			XMLName xml.Name
			OldID   int64 `xml:"old_id,attr"`
			NewID   int64 `xml:"new_id,attr"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal([]byte(diff), &result); err != nil {
		t.Fatalf("upload to changeset %d answered %q: %v", id, diff, err)
	}
	cs := uploadedChangeset{ID: id, Nodes: make([]int64, 3)}
	for _, e := range result.Entries {
		switch {
		case e.XMLName.Local == "way" && e.OldID == -1:
			cs.Way = e.NewID
		case e.XMLName.Local == "node" && e.OldID < 0 && e.OldID >= -3:
			cs.Nodes[-e.OldID-1] = e.NewID
		case e.XMLName.Local == "node" && e.OldID == 101:
			cs.Modified = e.NewID
		}
	}
	if cs.Way <= 0 || (cs.Modified == 101) != moveCafe || cs.Nodes[0] <= 0 || cs.Nodes[1] <= 0 || cs.Nodes[2] <= 0 {
		t.Fatalf("upload to changeset %d: diffResult %s does not name what was sent (the way, three nodes, node 101: %t)", id, diff, moveCafe)
	}
	osmRequest(t, srv, user, password, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", id), "")
	return cs
}

// apiChangeset is GET /api/0.6/changeset/ID as anybody reads it.
type apiChangeset struct {
	ReviewState string  `xml:"review_state,attr"`
	MinLon      float64 `xml:"min_lon,attr"`
	MinLat      float64 `xml:"min_lat,attr"`
	MaxLon      float64 `xml:"max_lon,attr"`
	MaxLat      float64 `xml:"max_lat,attr"`
}

func readChangeset(t *testing.T, srv *servetest.Process, id int64) apiChangeset {
	t.Helper()
	body := osmRequest(t, srv, "", "", http.MethodGet, fmt.Sprintf("/api/0.6/changeset/%d", id), "")
	var doc struct {
		Changesets []apiChangeset `xml:"changeset"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil || len(doc.Changesets) != 1 {
		t.Fatalf("GET changeset %d: %.300s (%v)", id, body, err)
	}
	return doc.Changesets[0]
}

// waitReviewState polls the changeset anonymously until its review state
// is want; a state in fatal, or the deadline, fails the test.
func waitReviewState(t *testing.T, srv *servetest.Process, id int64, want string, fatal ...string) apiChangeset {
	t.Helper()
	deadline := time.Now().Add(commandTimeout)
	for {
		cs := readChangeset(t, srv, id)
		if cs.ReviewState == want {
			return cs
		}
		for _, f := range fatal {
			if cs.ReviewState == f {
				t.Fatalf("changeset %d went %q, want %q", id, cs.ReviewState, want)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("changeset %d still %q after %s, want %q", id, cs.ReviewState, commandTimeout, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mapWay is a way of an /api/0.6/map answer.
type mapWay struct {
	ID      int64 `xml:"id,attr"`
	Version int   `xml:"version,attr"`
	Nodes   []struct {
		Ref int64 `xml:"ref,attr"`
	} `xml:"nd"`
	Tags []struct {
		K string `xml:"k,attr"`
		V string `xml:"v,attr"`
	} `xml:"tag"`
}

func (w mapWay) tag(key string) string {
	for _, tag := range w.Tags {
		if tag.K == key {
			return tag.V
		}
	}
	return ""
}

// anonymousMapWays reads /api/0.6/map over the changeset's bbox as an
// anonymous reader, who sees the authoritative dataset only.
func anonymousMapWays(t *testing.T, srv *servetest.Process, cs apiChangeset) []mapWay {
	t.Helper()
	body := osmRequest(t, srv, "", "", http.MethodGet,
		fmt.Sprintf("/api/0.6/map?bbox=%.7f,%.7f,%.7f,%.7f", cs.MinLon, cs.MinLat, cs.MaxLon, cs.MaxLat), "")
	var doc struct {
		Ways []mapWay `xml:"way"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("GET /api/0.6/map: %v\n%.500s", err, body)
	}
	return doc.Ways
}
