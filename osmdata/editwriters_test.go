package osmdata

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/osm"
)

var editHeader = DocumentHeader{Generator: "geocommuns test", Copyright: "c", Attribution: "a", License: "l"}

// TestDiffResultAsClientsReadIt: only node, way and relation children
// (JOSM throws on others), in input order (python osmapi maps them by
// position), a delete with old_id alone.
func TestDiffResultAsClientsReadIt(t *testing.T) {
	entries := []DiffResultEntry{
		{Type: Node, OldID: -1, NewID: 1001, NewVersion: 1},
		{Type: Way, OldID: -1, NewID: 2001, NewVersion: 1},
		{Type: Node, OldID: 55, NewID: 55, NewVersion: 4},
		{Type: Relation, OldID: 7, NewID: 7, NewVersion: 3, OldIDOnly: true},
		{Type: Node, OldID: -2, NewID: 1002, NewVersion: 2},
	}
	var buf bytes.Buffer
	if err := WriteDiffResult(&buf, editHeader, entries); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name
		Version  string `xml:"version,attr"`
		Children []struct {
			XMLName    xml.Name
			Attrs      []xml.Attr `xml:",any,attr"`
			InnerItems []byte     `xml:",innerxml"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.XMLName.Local != "diffResult" || doc.Version != "0.6" || len(doc.Children) != len(entries) {
		t.Fatalf("document %s version %s with %d children", doc.XMLName.Local, doc.Version, len(doc.Children))
	}
	for i, c := range doc.Children {
		var got []string
		for _, a := range c.Attrs {
			got = append(got, a.Name.Local+"="+a.Value)
		}
		want := []string{"old_id=" + itoa(entries[i].OldID), "new_id=" + itoa(entries[i].NewID), "new_version=" + itoa(int64(entries[i].NewVersion))}
		if entries[i].OldIDOnly {
			want = want[:1]
		}
		if c.XMLName.Local != entries[i].Type.String() || !cmp.Equal(got, want) || len(c.InnerItems) != 0 {
			t.Errorf("child %d: <%s %v>, want <%s %v>", i, c.XMLName.Local, got, entries[i].Type, want)
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func testChangesets() (time.Time, []Changeset) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return now, []Changeset{
		{ID: 10, UID: 3, User: "Zoë & co", CreatedAt: now.Add(-2 * time.Hour), ClosedAt: now.Add(-time.Hour), NumChanges: 12,
			HasBox: true, Box: Box{MinLat: 425288620, MinLon: -14652420, MaxLat: 425288621, MaxLon: 15300000},
			Tags: Tags{{Key: "created_by", Value: "JOSM/1.5"}, {Key: "comment", Value: `benches "and" tables`}}, ReviewState: ReviewSubmitted},
		// Flagged open but past its closing time: closed to readers, as
		// cgimap's is_open_at decides.
		{ID: 11, UID: 3, User: "Zoë & co", CreatedAt: now.Add(-3 * time.Hour), ClosedAt: now.Add(-time.Minute), Open: true},
		{ID: 12, UID: 4, User: "b", CreatedAt: now.Add(-time.Minute), ClosedAt: now.Add(59 * time.Minute), Open: true},
	}
}

// TestChangesetXML: cgimap's attribute order, closed_at only once
// closed, the box with seven decimals, review_state an attribute and
// never a tag or a child; paulmach/osm decodes it.
func TestChangesetXML(t *testing.T) {
	now, cs := testChangesets()
	var buf bytes.Buffer
	if err := WriteChangesetsXML(&buf, editHeader, now, cs...); err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="geocommuns test" copyright="c" attribution="a" license="l">
 <changeset id="10" created_at="2026-03-01T10:00:00Z" closed_at="2026-03-01T11:00:00Z" open="false" user="Zoë &amp; co" uid="3" min_lat="42.5288620" min_lon="-1.4652420" max_lat="42.5288621" max_lon="1.5300000" comments_count="0" changes_count="12" review_state="submitted">
  <tag k="created_by" v="JOSM/1.5"/>
  <tag k="comment" v="benches &quot;and&quot; tables"/>
 </changeset>
 <changeset id="11" created_at="2026-03-01T09:00:00Z" closed_at="2026-03-01T11:59:00Z" open="false" user="Zoë &amp; co" uid="3" comments_count="0" changes_count="0"/>
 <changeset id="12" created_at="2026-03-01T11:59:00Z" open="true" user="b" uid="4" comments_count="0" changes_count="0"/>
</osm>
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	var o osm.OSM
	if err := xml.Unmarshal(buf.Bytes(), &o); err != nil {
		t.Fatal(err)
	}
	c := o.Changesets[0]
	if len(o.Changesets) != 3 || c.ID != 10 || c.User != "Zoë & co" || c.UserID != 3 || c.Open || !c.ClosedAt.Equal(now.Add(-time.Hour)) ||
		c.MinLat != 42.528862 || c.MaxLon != 1.53 || c.Tags.Find("comment") != `benches "and" tables` || c.Tags.Find("review_state") != "" {
		t.Fatalf("paulmach/osm reads %+v", c)
	}
	if !o.Changesets[2].Open || !o.Changesets[2].ClosedAt.IsZero() {
		t.Fatalf("open changeset read as %+v", o.Changesets[2])
	}
}

// TestChangesetJSON: openstreetmap-website's keys and order, which
// osm-api reads ("changeset" for one, "changesets" for many).
func TestChangesetJSON(t *testing.T) {
	now, cs := testChangesets()
	var one, many bytes.Buffer
	if err := WriteChangesetJSON(&one, editHeader, now, cs[0]); err != nil {
		t.Fatal(err)
	}
	if err := WriteChangesetsJSON(&many, editHeader, now, cs); err != nil {
		t.Fatal(err)
	}
	want := `{"version":"0.6","generator":"geocommuns test","copyright":"c","attribution":"a","license":"l","changeset":` +
		`{"id":10,"created_at":"2026-03-01T10:00:00Z","open":false,"comments_count":0,"changes_count":12,"closed_at":"2026-03-01T11:00:00Z",` +
		`"min_lat":42.5288620,"min_lon":-1.4652420,"max_lat":42.5288621,"max_lon":1.5300000,"uid":3,"user":"Zoë & co",` +
		`"tags":{"created_by":"JOSM/1.5","comment":"benches \"and\" tables"},"review_state":"submitted"}}` + "\n"
	if diff := cmp.Diff(want, one.String()); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	type changeset struct {
		ID          int64             `json:"id"`
		Open        bool              `json:"open"`
		ClosedAt    *string           `json:"closed_at"`
		MinLat      *float64          `json:"min_lat"`
		UID         int64             `json:"uid"`
		Tags        map[string]string `json:"tags"`
		ReviewState string            `json:"review_state"`
	}
	var list struct {
		Changesets []changeset `json:"changesets"`
	}
	if err := json.Unmarshal(many.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	got := list.Changesets
	if len(got) != 3 || got[0].ReviewState != "submitted" || *got[0].MinLat != 42.528862 || got[1].Open || got[1].ClosedAt == nil ||
		!got[2].Open || got[2].ClosedAt != nil || got[2].MinLat != nil || got[2].Tags != nil || got[2].UID != 4 {
		t.Fatalf("read back %+v", got)
	}
}

func changeElements() (time.Time, []Action, []Element) {
	ts := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return ts, []Action{ActionCreate, ActionCreate, ActionModify, ActionDelete, ActionCreate}, []Element{
		{Type: Node, ID: 1001, Version: 1, Visible: true, Changeset: 9, Timestamp: ts, UID: 3, User: "u & v", Lat: 425000001, Lon: 15000000,
			Tags: Tags{{Key: "name", Value: "a\tb\nc \"d\""}}},
		{Type: Way, ID: 2001, Version: 1, Visible: true, Changeset: 9, Timestamp: ts, UID: 3, User: "u & v", Nodes: []int64{1001, 5},
			Tags: Tags{{Key: "highway", Value: "path"}}},
		{Type: Node, ID: 5, Version: 3, Visible: true, Changeset: 9, Timestamp: ts, UID: 3, User: "u & v", Lat: -10, Lon: -1800000000},
		{Type: Node, ID: 6, Version: 2, Visible: false, Changeset: 9, Timestamp: ts, UID: 3, User: "u & v", Lat: 123, Lon: 456},
		{Type: Relation, ID: 3001, Version: 1, Visible: true, Changeset: 9, Timestamp: ts, UID: 3, User: "u & v",
			Members: []Member{{Type: Way, Ref: 2001, Role: "outer"}, {Type: Node, Ref: 6}}},
	}
}

// TestChangeWriterAsPaulmachReadsIt: blocks per action in order, whole
// seconds, no coordinates on a deleted node.
func TestChangeWriterAsPaulmachReadsIt(t *testing.T) {
	ts, actions, elems := changeElements()
	var buf bytes.Buffer
	w := NewChangeWriter(&buf, editHeader)
	for i := range elems {
		if err := w.WriteChange(actions[i], &elems[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteChange(ActionCreate, &elems[0]); err != ErrDocumentClosed {
		t.Fatalf("write after close: %v", err)
	}
	out := buf.String()
	if strings.Count(out, "<create>") != 2 || strings.Count(out, "<modify>") != 1 || strings.Count(out, "<delete>") != 1 {
		t.Fatalf("blocks:\n%s", out)
	}
	if strings.Contains(out, `lat="0.0000123"`) || strings.Contains(out, ".000Z") {
		t.Fatalf("a deleted node's position or a fractional time:\n%s", out)
	}
	var change osm.Change
	if err := xml.Unmarshal(buf.Bytes(), &change); err != nil {
		t.Fatal(err)
	}
	n := change.Create.Nodes[0]
	if n.ID != 1001 || n.Lat != 42.5000001 || n.Tags.Find("name") != "a\tb\nc \"d\"" || !n.Timestamp.Equal(ts) || n.User != "u & v" {
		t.Fatalf("created node read as %+v", n)
	}
	if d := change.Delete.Nodes[0]; d.ID != 6 || d.Visible || d.Lat != 0 || d.Version != 2 {
		t.Fatalf("deleted node read as %+v", d)
	}
	if r := change.Create.Relations[0]; len(r.Members) != 2 || r.Members[0].Role != "outer" || r.Members[1].Type != osm.TypeNode {
		t.Fatalf("relation read as %+v", r)
	}
}

// TestChangeWriterAsOsmiumReadsIt: libosmium, which refuses fractional
// times, reads the document, the deleted node as deleted without a
// position.
func TestChangeWriterAsOsmiumReadsIt(t *testing.T) {
	if _, err := exec.LookPath("osmium"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("osmium-tool is not installed (scripts/setup installs it)")
		}
		t.Skip("osmium-tool is not installed (apt-get install osmium-tool)")
	}
	_, actions, elems := changeElements()
	path := filepath.Join(t.TempDir(), "change.osc")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := NewChangeWriter(f, editHeader)
	for i := range elems {
		w.WriteChange(actions[i], &elems[i])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command("osmium", "cat", "--no-progress", "-f", "opl", path).CombinedOutput()
	if err != nil {
		t.Fatalf("osmium: %v\n%s", err, out)
	}
	want := "n1001 v1 dV c9 t2026-03-01T12:00:00Z i3 uu%20%&%20%v Tname=a%09%b%0a%c%20%\"d\" x1.5 y42.5000001\n" +
		"w2001 v1 dV c9 t2026-03-01T12:00:00Z i3 uu%20%&%20%v Thighway=path Nn1001,n5\n" +
		"n5 v3 dV c9 t2026-03-01T12:00:00Z i3 uu%20%&%20%v T x-180 y-0.000001\n" +
		"n6 v2 dD c9 t2026-03-01T12:00:00Z i3 uu%20%&%20%v T x y\n" +
		"r3001 v1 dV c9 t2026-03-01T12:00:00Z i3 uu%20%&%20%v T Mw2001@outer,n6@\n"
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Fatalf("osmium reads (-want +got):\n%s", diff)
	}
}
