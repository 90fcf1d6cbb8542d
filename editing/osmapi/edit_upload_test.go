package osmapi

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmchange"
	"github.com/geocommuns/geocommuns/storage"
)

// fullElement is an element as a client reads every field of it.
type fullElement struct {
	XMLName   xml.Name
	ID        int64   `xml:"id,attr"`
	Version   int     `xml:"version,attr"`
	Visible   string  `xml:"visible,attr"`
	Changeset int64   `xml:"changeset,attr"`
	User      string  `xml:"user,attr"`
	UID       int64   `xml:"uid,attr"`
	Lat       float64 `xml:"lat,attr"`
	Lon       float64 `xml:"lon,attr"`
	Tags      []struct {
		K string `xml:"k,attr"`
		V string `xml:"v,attr"`
	} `xml:"tag"`
	Nodes []struct {
		Ref int64 `xml:"ref,attr"`
	} `xml:"nd"`
	Members []struct {
		Type string `xml:"type,attr"`
		Ref  int64  `xml:"ref,attr"`
		Role string `xml:"role,attr"`
	} `xml:"member"`
}

func (e fullElement) tags() map[string]string {
	m := map[string]string{}
	for _, t := range e.Tags {
		m[t.K] = t.V
	}
	return m
}

func (e fullElement) nodeRefs() []int64 {
	var ids []int64
	for _, n := range e.Nodes {
		ids = append(ids, n.Ref)
	}
	return ids
}

func (e fullElement) members() []string {
	var ms []string
	for _, m := range e.Members {
		ms = append(ms, fmt.Sprintf("%s %d %s", m.Type, m.Ref, m.Role))
	}
	return ms
}

// element reads one element as who; ok is false for a 404 or 410, whose
// status is returned.
func (s *editServer) element(who *auth.Identity, t osmdata.ElementType, id int64) (fullElement, int) {
	s.t.Helper()
	r := s.call(who, http.MethodGet, fmt.Sprintf("/api/0.6/%s/%d", t, id), nil)
	if r.status != http.StatusOK {
		return fullElement{}, r.status
	}
	var doc struct {
		Elements []fullElement `xml:",any"`
	}
	if err := xml.Unmarshal(r.body, &doc); err != nil || len(doc.Elements) != 1 {
		s.t.Fatalf("read %s %d: %v\n%s", t, id, err, r.body)
	}
	return doc.Elements[0], http.StatusOK
}

// mixedUpload creates, modifies and deletes related elements of every
// type in one document: placeholders -1 of each type naming different
// elements, repeated operations on one element (node 6 twice, the new
// node -2 modified then deleted, the new way -1 modified), interleaved
// blocks, and references to elements created earlier in the document.
const mixedUpload = `<osmChange version="0.6" generator="test">
<create>
  <node id="-1" lat="0.001" lon="0.001" changeset="%d"><tag k="amenity" v="bench"/></node>
  <node id="-2" lat="0.002" lon="0.002" changeset="%d"/>
  <way id="-1" changeset="%d"><nd ref="-1"/><nd ref="-2"/><nd ref="6"/><tag k="highway" v="footway"/></way>
  <relation id="-1" changeset="%d"><member type="way" ref="-1" role="outer"/><member type="node" ref="-1" role=""/><tag k="type" v="route"/></relation>
</create>
<modify>
  <node id="-2" version="1" lat="0.0025" lon="0.0025" changeset="%d"/>
  <node id="6" version="1" lat="0.0003" lon="-0.0003" changeset="%d"><tag k="name" v="moved"/></node>
  <node id="6" version="2" lat="0.0004" lon="-0.0004" changeset="%d"><tag k="name" v="moved twice"/></node>
</modify>
<delete>
  <way id="3" version="1" changeset="%d"/>
  <node id="8589934592" version="1" changeset="%d"/>
</delete>
<create>
  <node id="-3" lat="0.003" lon="0.003" changeset="%d"/>
</create>
<modify>
  <way id="-1" version="1" changeset="%d"><nd ref="-1"/><nd ref="-3"/><tag k="highway" v="path"/></way>
</modify>
<delete>
  <node id="-2" version="2" changeset="%d"/>
</delete>
</osmChange>`

// mixedIDs are the ids the mixed upload's creates got.
type mixedIDs struct{ n1, n2, n3, w1, r1 int64 }

func uploadMixed(t *testing.T, s *editServer, cs int64) mixedIDs {
	t.Helper()
	d := s.mustUpload(ana, cs, mixedUpload)
	ids := mixedIDs{n1: newID(t, d[0]), n2: newID(t, d[1]), w1: newID(t, d[2]), r1: newID(t, d[3]), n3: newID(t, d[9])}
	str := func(v int64) string { return fmt.Sprint(v) }
	want := []diffLine{
		{"node", -1, str(ids.n1), "1"},
		{"node", -2, str(ids.n2), "1"},
		{"way", -1, str(ids.w1), "1"},
		{"relation", -1, str(ids.r1), "1"},
		{"node", -2, str(ids.n2), "2"},
		{"node", 6, "6", "2"},
		{"node", 6, "6", "3"},
		{"way", 3, "", ""},
		{"node", 8589934592, "", ""},
		{"node", -3, str(ids.n3), "1"},
		{"way", -1, str(ids.w1), "2"},
		{"node", -2, "", ""},
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Fatalf("diffResult (-want +got):\n%s", diff)
	}
	return ids
}

// TestUploadMixed stages the mixed upload and checks the diffResult, what
// the author reads back, what everyone else reads, the net pending rows
// and the changeset's counters and box.
func TestUploadMixed(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newEditServer(t, b, nil)
			cs := s.openChangeset(ana, "comment", "mixed")
			ids := uploadMixed(t, s, cs)

			// The author reads the pending content.
			n1, _ := s.element(ana, osmdata.Node, ids.n1)
			if n1.Version != 1 || n1.Changeset != cs || n1.User != "ana" || n1.UID != ana.UserID ||
				n1.Lat != 0.001 || !cmp.Equal(n1.tags(), map[string]string{"amenity": "bench"}) {
				t.Errorf("new node as its author reads it: %+v", n1)
			}
			n6, _ := s.element(ana, osmdata.Node, 6)
			if n6.Version != 3 || n6.Lat != 0.0004 || n6.Lon != -0.0004 || n6.tags()["name"] != "moved twice" {
				t.Errorf("node 6 as its author reads it: %+v", n6)
			}
			w1, _ := s.element(ana, osmdata.Way, ids.w1)
			if w1.Version != 2 || !slices.Equal(w1.nodeRefs(), []int64{ids.n1, ids.n3}) || w1.tags()["highway"] != "path" {
				t.Errorf("new way as its author reads it: %+v", w1)
			}
			r1, _ := s.element(ana, osmdata.Relation, ids.r1)
			if want := []string{fmt.Sprintf("way %d outer", ids.w1), fmt.Sprintf("node %d ", ids.n1)}; !slices.Equal(r1.members(), want) {
				t.Errorf("new relation's members %q, want %q", r1.members(), want)
			}
			for _, gone := range []struct {
				t  osmdata.ElementType
				id int64
			}{{osmdata.Node, ids.n2}, {osmdata.Way, 3}, {osmdata.Node, 8589934592}} {
				if _, status := s.element(ana, gone.t, gone.id); status != http.StatusGone {
					t.Errorf("%s %d deleted by the author: status %d, want 410", gone.t, gone.id, status)
				}
			}

			// Everyone else reads the authoritative dataset.
			for _, who := range []*auth.Identity{nil, bo} {
				if _, status := s.element(who, osmdata.Node, ids.n1); status != http.StatusNotFound {
					t.Errorf("%v reads the pending node: status %d, want 404", who, status)
				}
				if n6, _ := s.element(who, osmdata.Node, 6); n6.Version != 1 {
					t.Errorf("%v reads node 6 v%d, want v1", who, n6.Version)
				}
				if w3, _ := s.element(who, osmdata.Way, 3); w3.Version != 1 {
					t.Errorf("%v reads way 3 v%d, want v1", who, w3.Version)
				}
			}

			// One net pending row per element.
			changes, err := s.store.ChangesetChanges(t.Context(), cs)
			if err != nil {
				t.Fatal(err)
			}
			type row struct {
				Action  storage.Action
				Key     osmdata.Key
				Version int
				Visible bool
				Base    int
			}
			var got []row
			for _, c := range changes {
				got = append(got, row{c.Action, c.Element.Key(), c.Element.Version, c.Element.Visible, c.BaseVersion})
				if c.Author != ana.UserID || c.Element.Changeset != cs || c.BaseChangeset != 0 {
					t.Errorf("pending row %+v: author, changeset or base changeset wrong", c)
				}
			}
			key := func(t osmdata.ElementType, id int64) osmdata.Key { return osmdata.Key{Type: t, ID: id} }
			want := []row{
				{storage.Create, key(osmdata.Node, ids.n1), 1, true, 0},
				{storage.Delete, key(osmdata.Node, ids.n2), 3, false, 0},
				{storage.Create, key(osmdata.Way, ids.w1), 2, true, 0},
				{storage.Create, key(osmdata.Relation, ids.r1), 1, true, 0},
				{storage.Modify, key(osmdata.Node, 6), 3, true, 1},
				{storage.Delete, key(osmdata.Way, 3), 2, false, 1},
				{storage.Delete, key(osmdata.Node, 8589934592), 2, false, 1},
				{storage.Create, key(osmdata.Node, ids.n3), 1, true, 0},
			}
			sortRows := func(rs []row) {
				slices.SortFunc(rs, func(a, b row) int {
					if a.Key.Less(b.Key) {
						return -1
					}
					if b.Key.Less(a.Key) {
						return 1
					}
					return 0
				})
			}
			sortRows(got)
			sortRows(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("pending rows (-want +got):\n%s", diff)
			}

			// The changeset counts every operation; its box covers the
			// nodes' old and new positions and the nodes of the ways.
			c, err := s.store.Changeset(t.Context(), cs)
			if err != nil {
				t.Fatal(err)
			}
			wantBox := osmdata.Box{MinLat: 0, MinLon: fixed(-0.0004), MaxLat: fixed(3), MaxLon: fixed(3)}
			if c.NumChanges != 12 || !c.HasBox || c.Box != wantBox {
				t.Errorf("changeset after the upload: %d changes, box %v %+v; want 12, %+v", c.NumChanges, c.HasBox, c.Box, wantBox)
			}

			// The download shows each element once, with its net change.
			r := s.call(nil, http.MethodGet, fmt.Sprintf("/api/0.6/changeset/%d/download", cs), nil)
			if r.status != http.StatusOK {
				t.Fatalf("download: %s", r)
			}
			var osc struct {
				Blocks []struct {
					XMLName  xml.Name
					Elements []fullElement `xml:",any"`
				} `xml:",any"`
			}
			if err := xml.Unmarshal(r.body, &osc); err != nil {
				t.Fatalf("parse the download: %v\n%s", err, r.body)
			}
			var downloaded []row
			for _, blk := range osc.Blocks {
				for _, e := range blk.Elements {
					typ, _ := osmdata.ParseElementType(e.XMLName.Local)
					a := map[string]storage.Action{"create": storage.Create, "modify": storage.Modify, "delete": storage.Delete}[blk.XMLName.Local]
					downloaded = append(downloaded, row{a, key(typ, e.ID), e.Version, blk.XMLName.Local != "delete", 0})
				}
			}
			for i := range want {
				want[i].Base = 0
			}
			sortRows(downloaded)
			if diff := cmp.Diff(want, downloaded); diff != "" {
				t.Errorf("download (-want +got):\n%s", diff)
			}
		})
	}
}

// TestIfUnused: deletes under if-unused are skipped when the element is
// used (in the dataset, by an earlier operation of the document, or by
// the author's pending changes) or already deleted; the diffResult still
// lists them, with the version they keep, as cgimap answers.
func TestIfUnused(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newEditServer(t, b, nil)
			cs := s.openChangeset(ana)
			d := s.mustUpload(ana, cs, `<osmChange><delete if-unused="true">
				<node id="1" version="1" changeset="%d"/>
				<node id="3" version="2" changeset="%d"/>
				<way id="1" version="1" changeset="%d"/>
				<node id="8589934592" version="1" changeset="%d"/>
				</delete></osmChange>`)
			want := []diffLine{
				{"node", 1, "1", "1"},
				{"node", 3, "3", "2"},
				{"way", 1, "1", "1"},
				{"node", 8589934592, "", ""},
			}
			if diff := cmp.Diff(want, d); diff != "" {
				t.Errorf("diffResult (-want +got):\n%s", diff)
			}
			if c, _ := s.store.Changeset(t.Context(), cs); c.NumChanges != 1 {
				t.Errorf("changeset counts %d changes, want 1: skipped deletes are no change", c.NumChanges)
			}
			if _, status := s.element(ana, osmdata.Node, 1); status != http.StatusOK {
				t.Errorf("skipped node 1: status %d", status)
			}

			// A way created earlier in the document uses node 6.
			d = s.mustUpload(ana, cs, `<osmChange>
				<create><way id="-1" changeset="%d"><nd ref="6"/><nd ref="1"/></way></create>
				<delete if-unused="true"><node id="6" version="1" changeset="%d"/></delete></osmChange>`)
			if d[1] != (diffLine{"node", 6, "6", "1"}) {
				t.Errorf("node 6 used by the document's way: %+v, want skipped at v1", d[1])
			}

			// In another changeset, the author's pending way still uses it.
			other := s.openChangeset(ana)
			d = s.mustUpload(ana, other, `<osmChange><delete if-unused="true"><node id="6" version="1" changeset="%d"/></delete></osmChange>`)
			if d[0] != (diffLine{"node", 6, "6", "1"}) {
				t.Errorf("node 6 used by the author's pending way: %+v, want skipped at v1", d[0])
			}
			r := s.upload(ana, other, `<osmChange><delete><node id="6" version="1" changeset="%d"/></delete></osmChange>`)
			if r.status != http.StatusPreconditionFailed || !strings.HasPrefix(string(r.body), "Precondition failed: Node 6 is still used by ways ") {
				t.Errorf("delete of node 6 used by the author's pending way: %s", r)
			}

			// Another contributor does not see ana's pending way.
			theirs := s.openChangeset(bo)
			if d := s.mustUpload(bo, theirs, `<osmChange><delete><node id="6" version="1" changeset="%d"/></delete></osmChange>`); d[0] != (diffLine{"node", 6, "", ""}) {
				t.Errorf("bo deleting node 6: %+v", d[0])
			}
		})
	}
}

// TestStacking: a second changeset of the author cites the provisional
// versions the first gave, refers to an element the first created, and
// records the first as its parent; others see the authoritative
// versions in their messages.
func TestStacking(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newEditServer(t, b, nil)
			first := s.openChangeset(ana)
			d := s.mustUpload(ana, first, `<osmChange>
				<create><node id="-1" lat="0.01" lon="0.01" changeset="%d"/></create>
				<modify><node id="6" version="1" lat="0.0002" lon="0.0002" changeset="%d"/></modify></osmChange>`)
			created := newID(t, d[0])
			if d[1].NewVersion != "2" {
				t.Fatalf("first changeset gave node 6 v%s", d[1].NewVersion)
			}
			// iD closes the changeset and saves the next edit in a new one.
			if r := s.call(ana, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", first), nil); r.status != http.StatusOK {
				t.Fatalf("close: %s", r)
			}

			second := s.openChangeset(ana)
			d = s.mustUpload(ana, second, fmt.Sprintf(`<osmChange>
				<modify><node id="6" version="2" lat="0.0003" lon="0.0003" changeset="%%d"/></modify>
				<create><way id="-1" changeset="%%d"><nd ref="%d"/><nd ref="1"/></way></create></osmChange>`, created))
			if d[0] != (diffLine{"node", 6, "6", "3"}) {
				t.Errorf("second changeset's node 6: %+v, want v3", d[0])
			}
			parents, err := s.store.ChangesetParents(t.Context(), second)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(parents, []int64{first}) {
				t.Errorf("parents of the second changeset %v, want [%d]", parents, first)
			}
			for _, cs := range []int64{first, second} {
				changes, err := s.store.ChangesetChanges(t.Context(), cs)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range changes {
					if c.Element.ID != 6 || c.Element.Type != osmdata.Node {
						continue
					}
					wantBase, wantBaseCS := 1, int64(0)
					if cs == second {
						wantBase, wantBaseCS = 2, first
					}
					if c.BaseVersion != wantBase || c.BaseChangeset != wantBaseCS {
						t.Errorf("changeset %d: node 6 rests on v%d of changeset %d, want v%d of %d", cs, c.BaseVersion, c.BaseChangeset, wantBase, wantBaseCS)
					}
				}
			}

			// A wrong version is refused with what the author's overlay
			// shows; another contributor's overlay shows the dataset.
			third := s.openChangeset(ana)
			goldenVersion := func(who *auth.Identity, cs int64, provided, server int) {
				t.Helper()
				r := s.upload(who, cs, fmt.Sprintf(`<osmChange><modify><node id="6" version="%d" lat="1" lon="1" changeset="%%d"/></modify></osmChange>`, provided))
				want := fmt.Sprintf("Version mismatch: Provided %d, server had: %d of Node 6", provided, server)
				if r.status != http.StatusConflict || string(r.body) != want {
					t.Errorf("%s citing v%d: %s, want 409 %q", who.DisplayName, provided, r, want)
				}
			}
			goldenVersion(ana, third, 5, 3)
			goldenVersion(bo, s.openChangeset(bo), 2, 1)
		})
	}
}

// TestSplitUpload: JOSM splits an upload of more than 10,000 changes
// over several changesets, the later ones referring to elements the
// earlier ones created. The upload that fills the first one closes and
// submits it; both stage; the second depends on the first.
func TestSplitUpload(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newEditServer(t, b, nil)
			first := s.openChangeset(ana, "comment", "part 1/2")
			d := s.mustUpload(ana, first, manyNodeCreates(10000))
			if len(d) != 10000 {
				t.Fatalf("diffResult of %d lines, want 10000", len(d))
			}
			// A full changeset is closed for OSM, so the editor cannot
			// close it: the upload that filled it submitted it.
			if c, _ := s.store.Changeset(t.Context(), first); c.Open || c.ReviewState != osmdata.ReviewSubmitted {
				t.Errorf("the full changeset: open %v, review state %q; want closed and submitted", c.Open, c.ReviewState)
			}
			full := goldenWant(editing.ErrChangesetClosed, first, "")
			full.prefix = true // then the closing time
			full.check(t, s.upload(ana, first, manyNodeCreates(1)))
			full.check(t, s.call(ana, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", first), nil))

			var osc strings.Builder
			osc.WriteString(`<osmChange version="0.6"><create><way id="-1" changeset="%d">`)
			for _, l := range d[:2000] {
				fmt.Fprintf(&osc, `<nd ref="%s"/>`, l.NewID)
			}
			osc.WriteString(`<tag k="building" v="yes"/></way><node id="-10001" lat="2" lon="2" changeset="%d"/></create>`)
			fmt.Fprintf(&osc, `<modify><node id="%s" version="1" lat="1.5" lon="1.5" changeset="%%d"/></modify></osmChange>`, d[0].NewID)
			second := s.openChangeset(ana, "comment", "part 2/2")
			d2 := s.mustUpload(ana, second, osc.String())
			if len(d2) != 3 || d2[2].NewVersion != "2" {
				t.Fatalf("second part's diffResult %+v", d2)
			}
			parents, err := s.store.ChangesetParents(t.Context(), second)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(parents, []int64{first}) {
				t.Errorf("parents of the second part %v, want [%d]", parents, first)
			}
			for cs, want := range map[int64]int{first: 10000, second: 3} {
				changes, err := s.store.ChangesetChanges(t.Context(), cs)
				if err != nil {
					t.Fatal(err)
				}
				if len(changes) != want {
					t.Errorf("changeset %d stages %d changes, want %d", cs, len(changes), want)
				}
			}
			w, _ := s.element(ana, osmdata.Way, newID(t, d2[0]))
			if len(w.Nodes) != 2000 {
				t.Errorf("the author reads a way of %d nodes, want 2000", len(w.Nodes))
			}
		})
	}
}

// TestOverlayReads: every read that design.md overlays shows the
// author's pending work, in XML and JSON, marked private; an anonymous
// reader and another contributor see none of it; history stays
// authoritative.
func TestOverlayReads(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newEditServer(t, b, nil)
			cs := s.openChangeset(ana)
			ids := uploadMixed(t, s, cs)
			box := "-0.0005,-0.0005,0.005,0.005"
			cases := []struct {
				path        string
				author, all []elem
			}{
				{"/api/0.6/map?bbox=" + box,
					list(n(1, 1), n(2, 2), n(6, 3), n(ids.n1, 1), n(ids.n3, 1), w(1, 1), w(ids.w1, 2), r(1, 1), r(4, 1), r(6, 2), r(ids.r1, 1)),
					list(n(1, 1), n(2, 2), n(6, 1), w(1, 1), w(3, 1), r(1, 1), r(4, 1), r(6, 2))},
				{fmt.Sprintf("/api/0.6/node/%d", ids.n1), list(n(ids.n1, 1)), nil},
				{fmt.Sprintf("/api/0.6/nodes?nodes=%d,6", ids.n1), list(n(6, 3), n(ids.n1, 1)), nil},
				{"/api/0.6/nodes?nodes=6", list(n(6, 3)), list(n(6, 1))},
				{fmt.Sprintf("/api/0.6/nodes?nodes=%d", ids.n2), list(gone(n(ids.n2, 3))), nil},
				{fmt.Sprintf("/api/0.6/way/%d/full", ids.w1), list(n(ids.n1, 1), n(ids.n3, 1), w(ids.w1, 2)), nil},
				{"/api/0.6/way/3/full", nil, list(n(1, 1), w(3, 1))},
				{fmt.Sprintf("/api/0.6/relation/%d/full", ids.r1), list(n(ids.n1, 1), n(ids.n3, 1), w(ids.w1, 2), r(ids.r1, 1)), nil},
				{fmt.Sprintf("/api/0.6/node/%d/ways", ids.n1), list(w(ids.w1, 2)), none()},
				{"/api/0.6/node/1/ways", list(w(1, 1)), list(w(1, 1), w(3, 1))},
				{fmt.Sprintf("/api/0.6/node/%d/relations", ids.n1), list(r(ids.r1, 1)), none()},
				{fmt.Sprintf("/api/0.6/way/%d/relations", ids.w1), list(r(ids.r1, 1)), none()},
				{"/api/0.6/node/6/history", list(n(6, 1)), list(n(6, 1))},
			}
			for _, c := range cases {
				for _, path := range []string{c.path, jsonPath(c.path)} {
					check := func(who *auth.Identity, want []elem) {
						t.Helper()
						r, doc := s.get(who, path)
						if want == nil {
							if r.status != http.StatusNotFound && r.status != http.StatusGone {
								t.Errorf("%s as %v: status %d, want 404 or 410", path, who, r.status)
							}
							return
						}
						if r.status != http.StatusOK {
							t.Errorf("%s as %v: %s", path, who, r)
							return
						}
						if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "private") {
							t.Errorf("%s: Cache-Control %q, want private", path, cc)
						}
						if diff := cmp.Diff(want, doc.elements); diff != "" {
							t.Errorf("%s as %v (-want +got):\n%s", path, who, diff)
						}
					}
					check(ana, c.author)
					check(nil, c.all)
					check(bo, c.all)
				}
			}
		})
	}
}

// jsonPath is path with .json before its query.
func jsonPath(path string) string {
	p, q, hasQuery := strings.Cut(path, "?")
	p += ".json"
	if hasQuery {
		p += "?" + q
	}
	return p
}

// TestGzipAndLimits: compressed bodies are accepted; bodies over the
// limit, before or after decompression, get cgimap's 413; a corrupt
// stream is a 400; XML nested too deep is stopped while streaming.
func TestGzipAndLimits(t *testing.T) {
	const limit = 4000
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newEditServer(t, b, func(a *API) { a.MaxUploadBytes = limit })
			cs := s.openChangeset(ana)
			doc := strings.ReplaceAll(`<osmChange><create><node id="-1" lat="1" lon="1" changeset="%d"/></create></osmChange>`, "%d", fmt.Sprint(cs))
			path := fmt.Sprintf("/api/0.6/changeset/%d/upload", cs)
			if r := s.call(ana, http.MethodPost, path, gzipped(t, doc), "Content-Encoding", "gzip", "Content-Type", "application/xml; charset=utf-8"); r.status != http.StatusOK {
				t.Errorf("gzip upload: %s", r)
			}
			if r := s.call(ana, http.MethodPost, path, []byte(doc)); r.status != http.StatusOK {
				t.Errorf("upload without Content-Type: %s", r)
			}
			tooLarge := goldenWant(editing.ErrPayloadTooLarge, limit)
			big := doc[:len(doc)-len("</osmChange>")] + "<!--" + strings.Repeat("x", limit) + "--></osmChange>"
			tooLarge.check(t, s.call(ana, http.MethodPost, path, []byte(big)))
			bomb := gzipped(t, big+strings.Repeat(" ", 100*limit))
			if len(bomb) >= limit {
				t.Fatalf("the gzip bomb is %d bytes compressed, not under the limit", len(bomb))
			}
			tooLarge.check(t, s.call(ana, http.MethodPost, path, bomb, "Content-Encoding", "gzip"))
			goldenWant(editing.ErrBadContentEncoding).check(t, s.call(ana, http.MethodPost, path, []byte("not gzip at all"), "Content-Encoding", "gzip"))
			// Elements inside a tag are skipped, not refused: only the
			// depth counter stops this body.
			deep := `<osmChange><create><node id="-1" lat="1" lon="1" changeset="1"><tag k="a" v="b">` +
				strings.Repeat("<x>", 100) + strings.Repeat("</x>", 100) + `</tag></node></create></osmChange>`
			parser(osmchange.KindNestedTooDeep, "").check(t, s.call(ana, http.MethodPost, path, []byte(deep)))
			if c, _ := s.store.Changeset(t.Context(), cs); c.NumChanges != 2 {
				t.Errorf("%d changes staged, want the 2 accepted uploads' ones", c.NumChanges)
			}
		})
	}
}

// TestErrorFormatXML: X-Error-Format: xml answers 200 with an osmError
// document (cgimap test_osmchange_end_to_end).
func TestErrorFormatXML(t *testing.T) {
	s := newEditServer(t, backends[0], nil)
	cs := s.openChangeset(ana)
	r := s.upload(ana, cs, `<osmChange><modify><node id="6" version="9" lat="1" lon="1" changeset="%d"/></modify></osmChange>`, "X-Error-Format", "xml")
	want := "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n<osmError>\r\n<status>409 Conflict</status>\r\n" +
		"<message>Version mismatch: Provided 9, server had: 1 of Node 6</message>\r\n</osmError>\r\n"
	if r.status != http.StatusOK || string(r.body) != want {
		t.Errorf("X-Error-Format: xml: %s\nwant 200 %q", r, want)
	}
}

// jsonChangesetDoc is a changeset in JSON as osm-api reads it.
type jsonChangesetDoc struct {
	Changeset struct {
		ID           int64             `json:"id"`
		Open         bool              `json:"open"`
		ChangesCount int               `json:"changes_count"`
		ReviewState  string            `json:"review_state"`
		Tags         map[string]string `json:"tags"`
	} `json:"changeset"`
}

func decodeJSON(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, body)
	}
}

// TestOverlayNodeLimit: the map call's node limit counts the nodes the
// author sees, pending ones included and pending deletes left out.
func TestOverlayNodeLimit(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			// The box holds nodes 1 and 6 (and the deleted node 3).
			path := "/api/0.6/map?bbox=" + mapBox
			tooMany := wantError{status: http.StatusBadRequest,
				text: fmt.Sprintf(editing.Golden[errTooManyNodes].Text, 2), source: editing.Golden[errTooManyNodes].Source}

			s := newEditServer(t, b, func(a *API) { a.MaxMapNodes = 2 })
			cs := s.openChangeset(ana)
			s.mustUpload(ana, cs, `<osmChange><create><node id="-1" lat="0.0002" lon="0.0002" changeset="%d"/></create></osmChange>`)
			tooMany.check(t, s.call(ana, http.MethodGet, path, nil))
			if r, doc := s.get(nil, path); r.status != http.StatusOK || len(doc.elements) == 0 {
				t.Errorf("anonymous map under the limit: %s", r)
			}

			s = newEditServer(t, b, func(a *API) { a.MaxMapNodes = 1 })
			cs = s.openChangeset(ana)
			s.mustUpload(ana, cs, `<osmChange><delete><node id="6" version="1" changeset="%d"/></delete></osmChange>`)
			tooMany.text = fmt.Sprintf(editing.Golden[errTooManyNodes].Text, 1)
			tooMany.check(t, s.call(nil, http.MethodGet, path, nil))
			got, doc := s.get(ana, path)
			if got.status != http.StatusOK {
				t.Fatalf("the author's map without the node deleted: %s", got)
			}
			if want := list(n(1, 1), n(2, 2), w(1, 1), w(3, 1), r(1, 1), r(4, 1), r(6, 2)); !cmp.Equal(want, doc.elements) {
				t.Errorf("the author's map: %v, want %v", doc.elements, want)
			}
		})
	}
}

// TestDeleteRelationRun: cgimap deletes a run of consecutive relation
// deletes together, so a relation may be deleted before its parent in the
// same run (test_apidb_backend_changeset_uploads.cpp "Delete two
// relations with references to each other"); a parent deleted in a later
// block does not help.
func TestDeleteRelationRun(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newEditServer(t, b, nil)
			cs := s.openChangeset(ana)
			d := s.mustUpload(ana, cs, `<osmChange><delete>
				<relation id="7" version="1" changeset="%d"/>
				<relation id="8" version="1" changeset="%d"/>
				</delete></osmChange>`)
			if len(d) != 2 || d[0].NewID != "" || d[1].NewID != "" {
				t.Errorf("mutual relations deleted in one run: %+v", d)
			}
			goldenWant(editing.ErrRelationUsedByRelations, 1, "4").check(t, s.upload(ana, cs, `<osmChange>
				<delete><relation id="1" version="1" changeset="%d"/></delete>
				<delete><node id="8589934592" version="1" changeset="%d"/></delete>
				<delete><relation id="4" version="1" changeset="%d"/></delete></osmChange>`))
		})
	}
}
