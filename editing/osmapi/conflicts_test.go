package osmapi

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
)

// conflictElement is one element of the conflict document as an editor
// reads it, with the comment written before it.
type conflictElement struct {
	Type    string
	ID      int64  `xml:"id,attr"`
	Version int    `xml:"version,attr"`
	Action  string `xml:"action,attr"`
	Lat     string `xml:"lat,attr"`
	Nodes   []struct {
		Ref int64 `xml:"ref,attr"`
	} `xml:"nd"`
	Tags []struct {
		K string `xml:"k,attr"`
		V string `xml:"v,attr"`
	} `xml:"tag"`
	Comment string
}

func (e conflictElement) tag(k string) string {
	for _, t := range e.Tags {
		if t.K == k {
			return t.V
		}
	}
	return ""
}

func (e conflictElement) nodeRefs() []int64 {
	var refs []int64
	for _, n := range e.Nodes {
		refs = append(refs, n.Ref)
	}
	return refs
}

// parseConflictDocument reads the document as JOSM's OsmReader does: the
// root must be <osm>, its children elements; comments are kept to check
// what a person reading the file sees.
func parseConflictDocument(t *testing.T, body []byte) []conflictElement {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(body))
	var out []conflictElement
	var comment string
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("conflict document is not well-formed XML: %v\n%s", err, body)
		}
		switch tok := tok.(type) {
		case xml.Comment:
			comment = string(tok)
		case xml.StartElement:
			if depth == 0 {
				if tok.Name.Local != "osm" {
					t.Fatalf("conflict document root <%s>, want <osm>", tok.Name.Local)
				}
				depth++
				continue
			}
			var e conflictElement
			if err := dec.DecodeElement(&e, &tok); err != nil {
				t.Fatalf("decode <%s>: %v", tok.Name.Local, err)
			}
			e.Type, e.Comment, comment = tok.Name.Local, comment, ""
			out = append(out, e)
		}
	}
	return out
}

// wayConflict is way 1 edited by two trusted contributors at once: cleo
// sets highway=service and merges; dan, who set highway=living_street,
// named it and added a node, is conflicted.
type wayConflict struct {
	s             *editServer
	dan           *auth.Identity
	first, second int64 // cleo's changeset, dan's
	added         int64 // the node dan added
	step          func()
}

func newWayConflict(t *testing.T, b backend) *wayConflict {
	s := newEditServer(t, b, func(a *API) {
		store, ok := a.Reader.(review.Store)
		if !ok {
			t.Fatalf("the %s store keeps no review log or decisions", b.name)
		}
		a.Review = review.NewService(store, review.DefaultConfig())
	})
	cleo, dan := s.trustedContributor("cleo"), s.trustedContributor("dan")
	job := review.NewMergeJob(s.store, review.TrustedAuthors{}, time.Hour, nil)
	c := &wayConflict{s: s, dan: dan, step: func() {
		t.Helper()
		if _, err := job.Step(t.Context()); err != nil {
			t.Fatalf("merge job: %v", err)
		}
	}}
	// Both edit way 1 (version 1: nodes 1 and 2, highway=residential)
	// before either merges.
	c.first = s.openChangeset(cleo, "comment", "a service road")
	s.mustUpload(cleo, c.first, `<osmChange version="0.6"><modify>
		<way id="1" version="1" changeset="%d"><nd ref="1"/><nd ref="2"/><tag k="highway" v="service"/></way>
	</modify></osmChange>`)
	c.second = s.openChangeset(dan, "comment", "Rue Neuve, a living street")
	diff := s.mustUpload(dan, c.second, `<osmChange version="0.6"><create>
		<node id="-1" changeset="%d" lat="0.25" lon="0.25"/>
	</create><modify>
		<way id="1" version="1" changeset="%d"><nd ref="1"/><nd ref="-1"/><nd ref="2"/>
			<tag k="highway" v="living_street"/><tag k="name" v="Rue Neuve"/></way>
	</modify></osmChange>`)
	c.added = newID(t, diff[0])
	s.closeChangeset(cleo, c.first)
	c.step()
	s.closeChangeset(dan, c.second)
	c.step()
	return c
}

func changesetPath(id int64, suffix string) string {
	return fmt.Sprintf("/api/0.6/changeset/%d%s", id, suffix)
}

// document reads the conflict document of changeset id and returns its
// way and its nodes by id.
func (c *wayConflict) document(t *testing.T, id int64) (*conflictElement, map[int64]conflictElement, []conflictElement) {
	t.Helper()
	r := c.s.call(c.dan, http.MethodGet, changesetPath(id, "/conflicts"), nil)
	if r.status != http.StatusOK {
		t.Fatalf("conflicts of changeset %d: %s", id, r)
	}
	els := parseConflictDocument(t, r.body)
	var way *conflictElement
	nodes := map[int64]conflictElement{}
	for i, e := range els {
		switch e.Type {
		case "way":
			way = &els[i]
		case "node":
			nodes[e.ID] = e
		}
	}
	return way, nodes, els
}

// TestConflictDocument: two trusted contributors edit way 1 concurrently
// on both backends; the second's changeset, conflicted on the highway
// tag, points to its report from GET /api/0.6/changeset/ID (XML and
// JSON), and the report loads in an editor: the way at its current
// version with the contributor's other edits (a name, a node added) and
// the dataset's highway value, marked for upload, with the nodes it
// needs, and a comment giving the tag's three values. A merged changeset
// has an empty report, an unknown one none.
func TestConflictDocument(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			c := newWayConflict(t, b)
			s, first, second := c.s, c.first, c.second
			var cs struct {
				Changeset struct {
					ReviewState string `xml:"review_state,attr"`
					Conflicts   string `xml:"conflicts,attr"`
				} `xml:"changeset"`
			}
			r := s.call(nil, http.MethodGet, changesetPath(second, ""), nil)
			if err := xml.Unmarshal(r.body, &cs); r.status != http.StatusOK || err != nil {
				t.Fatalf("changeset %d: %s (%v)", second, r, err)
			}
			report := changesetPath(second, "/conflicts")
			if cs.Changeset.ReviewState != "conflicted" || cs.Changeset.Conflicts != report {
				t.Fatalf("changeset %d: review_state=%q conflicts=%q, want conflicted pointing to %s",
					second, cs.Changeset.ReviewState, cs.Changeset.Conflicts, report)
			}
			var js struct {
				Changeset struct {
					Conflicts string `json:"conflicts"`
				} `json:"changeset"`
			}
			r = s.call(nil, http.MethodGet, changesetPath(second, ".json"), nil)
			if err := json.Unmarshal(r.body, &js); err != nil || js.Changeset.Conflicts != report {
				t.Errorf("changeset %d in JSON: %s (%v), want conflicts %q", second, r, err, report)
			}
			r = s.call(nil, http.MethodGet, changesetPath(first, ""), nil)
			if bytes.Contains(r.body, []byte("conflicts=")) {
				t.Errorf("merged changeset %d points to a conflict report: %s", first, r)
			}

			way, nodes, els := c.document(t, second)
			if way == nil || len(els) != 4 {
				t.Fatalf("conflict document: %+v, want way 1 and its three nodes", els)
			}
			if way.ID != 1 || way.Version != 2 || way.Action != "modify" || way.tag("highway") != "service" ||
				way.tag("name") != "Rue Neuve" || !slices.Equal(way.nodeRefs(), []int64{1, c.added, 2}) {
				t.Errorf("way in the conflict document: %+v; want way 1 at version 2, action modify, highway=service (current), name=Rue Neuve and nodes 1 %d 2 (pending)",
					*way, c.added)
			}
			if !strings.Contains(way.Comment, `tag highway: base "residential", current "service", pending "living_street"`) {
				t.Errorf("comment before the way: %q, want the highway tag's three values", way.Comment)
			}
			for _, id := range []int64{1, c.added, 2} {
				n, ok := nodes[id]
				if !ok || n.Action != "" || n.Lat == "" {
					t.Errorf("node %d in the conflict document: %+v (present %v), want it unmodified with its position", id, n, ok)
				}
			}

			r = s.call(nil, http.MethodGet, changesetPath(first, "/conflicts"), nil)
			if r.status != http.StatusOK || len(parseConflictDocument(t, r.body)) != 0 {
				t.Errorf("conflicts of merged changeset %d: %s, want an empty <osm>", first, r)
			}
			if r := s.call(nil, http.MethodGet, "/api/0.6/changeset/999999/conflicts", nil); r.status != http.StatusNotFound {
				t.Errorf("conflicts of an unknown changeset: %s, want 404", r)
			}
		})
	}
}

// TestConflictDocumentResolves: the contributor keeps his highway value
// in the document's way, uploads it as the editor would (citing the
// current version) to the reopened changeset and closes it: it merges,
// with his tags and node, and the report is gone.
func TestConflictDocumentResolves(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			c := newWayConflict(t, b)
			way, _, _ := c.document(t, c.second)
			if way == nil {
				t.Fatal("no way in the conflict document")
			}
			var osc strings.Builder
			fmt.Fprintf(&osc, `<osmChange version="0.6"><modify><way id="1" version="%d" changeset="%%d">`, way.Version)
			for _, ref := range way.nodeRefs() {
				fmt.Fprintf(&osc, `<nd ref="%d"/>`, ref)
			}
			for _, tg := range way.Tags {
				if tg.K == "highway" {
					tg.V = "living_street"
				}
				fmt.Fprintf(&osc, `<tag k="%s" v="%s"/>`, tg.K, tg.V)
			}
			osc.WriteString(`</way></modify></osmChange>`)
			c.s.mustUpload(c.dan, c.second, osc.String())
			c.s.closeChangeset(c.dan, c.second)
			c.step()

			r := c.s.call(nil, http.MethodGet, "/api/0.6/way/1", nil)
			var current struct {
				Way conflictElement `xml:"way"`
			}
			if err := xml.Unmarshal(r.body, &current); err != nil || current.Way.Version != 3 ||
				current.Way.tag("highway") != "living_street" || current.Way.tag("name") != "Rue Neuve" ||
				!slices.Equal(current.Way.nodeRefs(), []int64{1, c.added, 2}) {
				t.Errorf("way 1 once the resolution merged: %s (%v), want version 3 with dan's highway, name and node", r, err)
			}
			if way, _, els := c.document(t, c.second); way != nil || len(els) != 0 {
				t.Errorf("conflicts of changeset %d once resolved: %+v, want an empty <osm>", c.second, els)
			}
		})
	}
}

// trustedContributor adds a trusted account, whose changesets the
// TrustedAuthors policy approves, and lets the server's calls use its
// token.
func (s *editServer) trustedContributor(name string) *auth.Identity {
	s.t.Helper()
	acc, token, err := auth.AddUser(s.t.Context(), s.store, auth.NewUser{Name: name, Role: auth.RoleContributor, Trusted: true})
	if err != nil {
		s.t.Fatalf("add user %s: %v", name, err)
	}
	s.tokens[name] = token
	return &auth.Identity{UserID: acc.ID, DisplayName: name, Role: auth.RoleContributor, Scopes: auth.AllScopes}
}

// closeChangeset closes changeset id as who, which submits it.
func (s *editServer) closeChangeset(who *auth.Identity, id int64) {
	s.t.Helper()
	if r := s.call(who, http.MethodPut, "/api/0.6/changeset/"+strconv.FormatInt(id, 10)+"/close", nil); r.status != http.StatusOK {
		s.t.Fatalf("close changeset %d: %s", id, r)
	}
}

// The document stays well-formed whatever the values in conflict hold
// (dashes that would end a comment, quotes, newlines, invalid UTF-8),
// and a side that deleted the element leaves the other side's content to
// start from, at the current version.
func TestConflictDocumentOfAwkwardValues(t *testing.T) {
	hostile := "a--b -->\"<&>'\n\xff-"
	node := func(version int, visible bool, value string) *osmdata.Element {
		return &osmdata.Element{Type: osmdata.Node, ID: 7, Version: version, Visible: visible, Lat: 10, Lon: 20,
			Tags: osmdata.Tags{{Key: "note", Value: value}}}
	}
	report := []storage.MergeConflict{
		{Element: osmdata.Key{Type: osmdata.Node, ID: 7}, Kind: storage.ConflictEdited, BaseVersion: 1, CurrentVersion: 2,
			Fields: []storage.ConflictField{{Kind: "tag", Key: "note", Base: "x", Current: hostile, Pending: "y--"}},
			Base:   node(1, true, "x"), Current: node(2, true, hostile), Pending: node(2, true, "y--")},
		// Deleted since by someone else: the contributor's content, to
		// restore or to delete in the editor.
		{Element: osmdata.Key{Type: osmdata.Node, ID: 8}, Kind: storage.ConflictEdited, BaseVersion: 1, CurrentVersion: 3,
			Fields:  []storage.ConflictField{{Kind: "deleted", Base: "n", Pending: "n2", AbsentInCurrent: true}},
			Base:    &osmdata.Element{Type: osmdata.Node, ID: 8, Version: 1, Visible: true, Tags: osmdata.Tags{{Key: "n", Value: "1"}}},
			Pending: &osmdata.Element{Type: osmdata.Node, ID: 8, Version: 2, Visible: true, Tags: osmdata.Tags{{Key: "n", Value: "2"}}}},
		{Element: osmdata.Key{Type: osmdata.Way, ID: 9}, Kind: storage.ConflictMissingReference, Message: "node 5 -- gone"},
	}
	doc := conflictsDocument{elements: map[osmdata.Key]*documentElement{}}
	if needed := doc.addReport(report); len(needed) != 0 {
		t.Errorf("nodes needed %v, want none: no way has content", needed)
	}
	var buf bytes.Buffer
	if err := doc.write(&buf, DefaultHeader); err != nil {
		t.Fatal(err)
	}
	els := parseConflictDocument(t, buf.Bytes())
	if len(els) != 2 {
		t.Fatalf("document %s: %d elements, want nodes 7 and 8", &buf, len(els))
	}
	if n := els[0]; n.ID != 7 || n.Version != 2 || n.Action != "modify" || n.tag("note") != strings.ToValidUTF8(hostile, "\uFFFD") ||
		!strings.Contains(n.Comment, "tag note") || !strings.Contains(n.Comment, `pending "y- -"`) {
		t.Errorf("node 7: %+v, want version 2 keeping the current note, its comment naming the tag", n)
	}
	if n := els[1]; n.ID != 8 || n.Version != 3 || n.Action != "modify" || n.tag("n") != "2" || !strings.Contains(n.Comment, "deleted since") {
		t.Errorf("node 8: %+v, want the contributor's content at version 3, its comment saying it was deleted", n)
	}
	if !strings.Contains(buf.String(), "node 5 - - gone") {
		t.Errorf("the missing reference is not noted:\n%s", &buf)
	}
}
