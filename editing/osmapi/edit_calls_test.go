package osmapi

import (
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
)

// xmlChangesets is a changeset document as JOSM reads it.
type xmlChangesets struct {
	Changesets []struct {
		ID          int64  `xml:"id,attr"`
		Open        string `xml:"open,attr"`
		User        string `xml:"user,attr"`
		UID         int64  `xml:"uid,attr"`
		ClosedAt    string `xml:"closed_at,attr"`
		Changes     int    `xml:"changes_count,attr"`
		ReviewState string `xml:"review_state,attr"`
		Tags        []struct {
			K string `xml:"k,attr"`
			V string `xml:"v,attr"`
		} `xml:"tag"`
	} `xml:"changeset"`
}

func (s *editServer) changesets(path string) xmlChangesets {
	s.t.Helper()
	r := s.call(nil, http.MethodGet, path, nil)
	if r.status != http.StatusOK {
		s.t.Fatalf("%s: %s", path, r)
	}
	var doc xmlChangesets
	if err := xml.Unmarshal(r.body, &doc); err != nil {
		s.t.Fatalf("%s: %v\n%s", path, err, r.body)
	}
	return doc
}

func (doc xmlChangesets) ids() []int64 {
	ids := []int64{}
	for _, c := range doc.Changesets {
		ids = append(ids, c.ID)
	}
	return ids
}

// TestChangesetCalls: create (both routes), read in XML and JSON, replace
// tags, close (which submits), query, and the refusals of each.
func TestChangesetCalls(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newEditServer(t, b, nil)
			first := s.openChangeset(ana, "comment", "first", "created_by", "test")
			r := s.call(ana, http.MethodPost, "/api/0.6/changesets", []byte(`<osm><changeset><tag k="comment" v="second"/></changeset></osm>`))
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Fatalf("POST /changesets: %s %q", r, r.header.Get("Content-Type"))
			}
			second, _ := strconv.ParseInt(string(r.body), 10, 64)
			theirs := s.openChangeset(bo)
			// HTTP Basic, as python's osmapi signs in.
			r = s.call(nil, http.MethodPut, "/api/0.6/changeset/create", []byte(`<osm><changeset/></osm>`),
				"Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("ana:"+anaPassword)))
			basic, err := strconv.ParseInt(string(r.body), 10, 64)
			if r.status != http.StatusOK || err != nil {
				t.Fatalf("create with HTTP Basic: %s", r)
			}

			doc := s.changesets(fmt.Sprintf("/api/0.6/changeset/%d", first))
			c := doc.Changesets[0]
			if c.ID != first || c.Open != "true" || c.User != "ana" || c.UID != ana.UserID || c.ReviewState != "" || len(c.Tags) != 2 {
				t.Errorf("new changeset: %+v", c)
			}

			// Replacing the tags answers the changeset.
			r = s.call(ana, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d", first), []byte(`<osm><changeset><tag k="comment" v="renamed"/></changeset></osm>`))
			var updated xmlChangesets
			if r.status != http.StatusOK || xml.Unmarshal(r.body, &updated) != nil || len(updated.Changesets[0].Tags) != 1 || updated.Changesets[0].Tags[0].V != "renamed" {
				t.Errorf("replace tags: %s", r)
			}
			goldenWant(editing.ErrChangesetNotOwner).check(t,
				s.call(bo, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d", first), []byte(`<osm><changeset/></osm>`)))
			goldenWant(editing.ErrUnauthorized).check(t, s.call(nil, http.MethodPut, "/api/0.6/changeset/create", []byte(`<osm><changeset/></osm>`)))

			// Closing submits it for review.
			if r := s.call(ana, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", first), nil); r.status != http.StatusOK || len(r.body) != 0 {
				t.Errorf("close: %s", r)
			}
			c = s.changesets(fmt.Sprintf("/api/0.6/changeset/%d", first)).Changesets[0]
			if c.Open != "false" || c.ClosedAt == "" || c.ReviewState != string(osmdata.ReviewSubmitted) {
				t.Errorf("closed changeset: %+v", c)
			}
			closed, err := s.store.Changeset(t.Context(), first)
			if err != nil {
				t.Fatal(err)
			}
			closedText := goldenWant(editing.ErrChangesetClosed, first, closed.ClosedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
			closedText.check(t, s.call(ana, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", first), nil))
			closedText.check(t, s.call(ana, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d", first), []byte(`<osm><changeset/></osm>`)))
			goldenWant(editing.ErrChangesetNotOwner).check(t, s.call(bo, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", second), nil))
			goldenWant(editing.ErrChangesetNotFound).check(t, s.call(nil, http.MethodGet, "/api/0.6/changeset/999999", nil))

			// JSON, as osm-api reads it.
			r = s.call(nil, http.MethodGet, fmt.Sprintf("/api/0.6/changeset/%d.json", first), nil)
			var j jsonChangesetDoc
			decodeJSON(t, r.body, &j)
			if j.Changeset.ID != first || j.Changeset.Open || j.Changeset.ReviewState != "submitted" || j.Changeset.Tags["comment"] != "renamed" {
				t.Errorf("changeset in JSON: %+v", j.Changeset)
			}

			// Queries, newest first.
			for _, q := range []struct {
				query string
				want  []int64
			}{
				{fmt.Sprintf("user=%d", ana.UserID), []int64{basic, second, first}},
				{"display_name=bob", []int64{theirs}},
				{"open=true", []int64{basic, theirs, second}},
				{fmt.Sprintf("closed=true&user=%d", ana.UserID), []int64{first}},
				{fmt.Sprintf("changesets=%d,%d", first, theirs), []int64{theirs, first}},
				{"review_state=submitted", []int64{first}},
			} {
				if got := s.changesets("/api/0.6/changesets?" + q.query).ids(); !slices.Equal(got, q.want) {
					t.Errorf("changesets?%s: %v, want %v", q.query, got, q.want)
				}
			}
			for _, q := range []struct {
				query string
				want  wantError
			}{
				{"user=1&display_name=ana", goldenWant(editing.ErrQueryUserAndName)},
				{"user=abc", goldenWant(editing.ErrQueryInvalidUser)},
				{"time=a,b,c", goldenWant(editing.ErrQueryTimeRange)},
				{"time=yesterday", goldenWant(editing.ErrQueryTime, "yesterday")},
				{"changesets=", goldenWant(editing.ErrQueryNoChangesets)},
				{"bbox=1,2,3", goldenWant(errBBoxFormat)},
			} {
				q.want.check(t, s.call(nil, http.MethodGet, "/api/0.6/changesets?"+q.query, nil))
			}
		})
	}
}

// TestSingleElementCalls: PUT /{type}/create, PUT /{type}/ID and DELETE
// /{type}/ID answer the new id or version as text and stage like an
// upload of one operation.
func TestSingleElementCalls(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newEditServer(t, b, nil)
			cs := s.openChangeset(ana)
			text := func(r answer) string {
				t.Helper()
				if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
					t.Fatalf("%s %q", r, r.header.Get("Content-Type"))
				}
				return string(r.body)
			}
			body := func(format string, args ...any) []byte { return []byte(fmt.Sprintf(format, args...)) }

			idText := text(s.call(ana, http.MethodPut, "/api/0.6/node/create",
				body(`<osm><node changeset="%d" lat="0.01" lon="0.02"><tag k="amenity" v="cafe"/></node></osm>`, cs)))
			id, err := strconv.ParseInt(idText, 10, 64)
			if err != nil {
				t.Fatalf("create answered %q", idText)
			}
			if v := text(s.call(ana, http.MethodPut, fmt.Sprintf("/api/0.6/node/%d", id),
				body(`<osm><node id="%d" version="1" changeset="%d" lat="0.011" lon="0.02"/></osm>`, id, cs))); v != "2" {
				t.Errorf("modify answered %q, want 2", v)
			}
			wayText := text(s.call(ana, http.MethodPut, "/api/0.6/way/create",
				body(`<osm><way changeset="%d"><nd ref="%d"/><nd ref="1"/></way></osm>`, cs, id)))
			if n, _ := s.element(ana, osmdata.Node, id); n.Version != 2 || n.Lat != 0.011 || len(n.Tags) != 0 {
				t.Errorf("the author reads %+v", n)
			}
			goldenWant(editing.ErrNodeUsedByWays, id, wayText).check(t, s.call(ana, http.MethodDelete, fmt.Sprintf("/api/0.6/node/%d", id),
				body(`<osm><node id="%d" version="2" changeset="%d"/></osm>`, id, cs)))
			if v := text(s.call(ana, http.MethodDelete, "/api/0.6/way/"+wayText,
				body(`<osm><way id="%s" version="1" changeset="%d"/></osm>`, wayText, cs))); v != "2" {
				t.Errorf("delete of the way answered %q, want 2", v)
			}
			if v := text(s.call(ana, http.MethodDelete, fmt.Sprintf("/api/0.6/node/%d", id),
				body(`<osm><node id="%d" version="2" changeset="%d"/></osm>`, id, cs))); v != "3" {
				t.Errorf("delete answered %q, want 3", v)
			}
			goldenWant(editing.ErrURLIDMismatch, 6, 1).check(t, s.call(ana, http.MethodPut, "/api/0.6/node/6",
				body(`<osm><node id="1" version="1" changeset="%d" lat="0" lon="0"/></osm>`, cs)))
			goldenWant(editing.ErrVersionMismatch, 4, 1, "Node", 6).check(t, s.call(ana, http.MethodPut, "/api/0.6/node/6",
				body(`<osm><node id="6" version="4" changeset="%d" lat="0" lon="0"/></osm>`, cs)))
			goldenWant(editing.ErrUnauthorized).check(t, s.call(nil, http.MethodPut, "/api/0.6/node/create",
				body(`<osm><node changeset="%d" lat="0" lon="0"/></osm>`, cs)))

			changes, err := s.store.ChangesetChanges(t.Context(), cs)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range changes {
				got = append(got, fmt.Sprintf("%s %s v%d", c.Action, c.Element.Key(), c.Element.Version))
			}
			slices.Sort(got)
			want := []string{fmt.Sprintf("delete node %d v3", id), "delete way " + wayText + " v2"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("staged (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWriteCORS: iD writes from another origin, so the write routes
// answer preflights with their own methods, and every reply carries the
// CORS headers.
func TestWriteCORS(t *testing.T) {
	s := newEditServer(t, backends[0], nil)
	cs := s.openChangeset(ana)
	for path, methods := range map[string]string{
		fmt.Sprintf("/api/0.6/changeset/%d/upload", cs): "POST, OPTIONS",
		"/api/0.6/changeset/create":                     "PUT, OPTIONS",
		"/api/0.6/node/6":                               "GET, HEAD, PUT, DELETE, OPTIONS",
		fmt.Sprintf("/api/0.6/changeset/%d", cs):        "GET, HEAD, PUT, OPTIONS",
	} {
		r := s.call(nil, http.MethodOptions, path, nil, "Origin", "https://id.example", "Access-Control-Request-Method", "PUT",
			"Access-Control-Request-Headers", "authorization,content-type")
		if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Methods") != methods ||
			r.header.Get("Access-Control-Allow-Origin") != "https://id.example" ||
			r.header.Get("Access-Control-Allow-Headers") != "authorization,content-type" {
			t.Errorf("preflight of %s: %s %v, want methods %q", path, r, r.header, methods)
		}
	}
	r := s.upload(ana, cs, `<osmChange><create><node id="-1" lat="1" lon="1" changeset="%d"/></create></osmChange>`, "Origin", "https://id.example")
	if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "https://id.example" {
		t.Errorf("upload from another origin: %s %v", r, r.header)
	}
}
