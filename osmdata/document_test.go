package osmdata_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/osm"
)

var cgimapHeader = osmdata.DocumentHeader{
	Generator:   "geocommuns test",
	Copyright:   "OpenStreetMap and contributors",
	Attribution: "http://www.openstreetmap.org/copyright",
	License:     "http://opendatacommons.org/licenses/odbl/1-0/",
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// sampleElements covers what the writers must get right: tags in a given
// order, a deleted node that still has stored coordinates, an anonymous
// edit, negative and whole coordinates, way nodes, members with roles.
func sampleElements() []*osmdata.Element {
	return []*osmdata.Element{
		{Type: osmdata.Node, ID: 1, Version: 2, Visible: true, Changeset: 10, Timestamp: at("2020-01-02T03:04:05Z"),
			UID: 7, User: "Ann", Lat: 378263696, Lon: -1222524513,
			Tags: osmdata.Tags{{Key: "name", Value: "Café \"Ô\" <&>"}, {Key: "amenity", Value: "cafe"}}},
		{Type: osmdata.Node, ID: 2, Version: 1, Visible: true, Changeset: 11, Timestamp: at("2020-01-02T03:04:06Z"),
			Lat: -900000000, Lon: 1800000000},
		{Type: osmdata.Node, ID: 3, Version: 3, Visible: false, Changeset: 12, Timestamp: at("2021-05-06T07:08:09Z"),
			UID: 8, User: "Bob", Lat: 10, Lon: -10},
		{Type: osmdata.Way, ID: 4, Version: 1, Visible: true, Changeset: 10, Timestamp: at("2020-01-02T03:04:05Z"),
			UID: 7, User: "Ann", Nodes: []int64{1, 2, 1}, Tags: osmdata.Tags{{Key: "highway", Value: "path"}}},
		{Type: osmdata.Relation, ID: 5, Version: 1, Visible: true, Changeset: 10, Timestamp: at("2020-01-02T03:04:05Z"),
			UID: 7, User: "Ann", Members: []osmdata.Member{{Type: osmdata.Way, Ref: 4, Role: "outer"}, {Type: osmdata.Node, Ref: 1, Role: ""}},
			Tags: osmdata.Tags{{Key: "type", Value: "multipolygon"}}},
		{Type: osmdata.Relation, ID: 6, Version: 2, Visible: false, Changeset: 13, Timestamp: at("2021-05-06T07:08:09Z"),
			UID: 8, User: "Bob"},
	}
}

var sampleBounds = osmdata.Box{MinLat: 378228020, MinLon: -1222558590, MaxLat: 378271410, MaxLon: -1222503660}

func writeDoc(t testing.TB, newWriter func(*bytes.Buffer) osmdata.DocumentWriter, bounds *osmdata.Box, elems []*osmdata.Element) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := newWriter(&buf)
	if bounds != nil {
		if err := w.WriteBounds(*bounds); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range elems {
		if err := w.WriteElement(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func xmlDoc(t testing.TB, bounds *osmdata.Box, elems []*osmdata.Element) []byte {
	return writeDoc(t, func(b *bytes.Buffer) osmdata.DocumentWriter { return osmdata.NewXMLWriter(b, cgimapHeader) }, bounds, elems)
}

func jsonDoc(t testing.TB, bounds *osmdata.Box, elems []*osmdata.Element) []byte {
	return writeDoc(t, func(b *bytes.Buffer) osmdata.DocumentWriter { return osmdata.NewJSONWriter(b, cgimapHeader) }, bounds, elems)
}

// The layout of cgimap's map reply (see paulmach/osm's
// osmgeojson/testdata/benchmark.osm), with coordinates as osmium writes
// them (no trailing zeros).
func TestXMLWriterWritesCgimapLayout(t *testing.T) {
	got := string(xmlDoc(t, &sampleBounds, sampleElements()))
	want := `<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="geocommuns test" copyright="OpenStreetMap and contributors" attribution="http://www.openstreetmap.org/copyright" license="http://opendatacommons.org/licenses/odbl/1-0/">
 <bounds minlat="37.822802" minlon="-122.255859" maxlat="37.827141" maxlon="-122.250366"/>
 <node id="1" visible="true" version="2" changeset="10" timestamp="2020-01-02T03:04:05Z" user="Ann" uid="7" lat="37.8263696" lon="-122.2524513">
  <tag k="name" v="Café &quot;Ô&quot; &lt;&amp;&gt;"/>
  <tag k="amenity" v="cafe"/>
 </node>
 <node id="2" visible="true" version="1" changeset="11" timestamp="2020-01-02T03:04:06Z" lat="-90" lon="180"/>
 <node id="3" visible="false" version="3" changeset="12" timestamp="2021-05-06T07:08:09Z" user="Bob" uid="8"/>
 <way id="4" visible="true" version="1" changeset="10" timestamp="2020-01-02T03:04:05Z" user="Ann" uid="7">
  <nd ref="1"/>
  <nd ref="2"/>
  <nd ref="1"/>
  <tag k="highway" v="path"/>
 </way>
 <relation id="5" visible="true" version="1" changeset="10" timestamp="2020-01-02T03:04:05Z" user="Ann" uid="7">
  <member type="way" ref="4" role="outer"/>
  <member type="node" ref="1" role=""/>
  <tag k="type" v="multipolygon"/>
 </relation>
 <relation id="6" visible="false" version="2" changeset="13" timestamp="2021-05-06T07:08:09Z" user="Bob" uid="8"/>
</osm>
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("XML (-want +got):\n%s", diff)
	}
}

// Key order and omissions follow cgimap's json_formatter.cpp: lat/lon only
// for visible nodes, "visible" only when false, no empty nodes, members
// or tags.
func TestJSONWriterWritesCgimapLayout(t *testing.T) {
	got := string(jsonDoc(t, &sampleBounds, sampleElements()))
	want := `{"version":"0.6","generator":"geocommuns test","copyright":"OpenStreetMap and contributors","attribution":"http://www.openstreetmap.org/copyright","license":"http://opendatacommons.org/licenses/odbl/1-0/",` +
		`"bounds":{"minlat":37.822802,"minlon":-122.255859,"maxlat":37.827141,"maxlon":-122.250366},"elements":[` +
		`{"type":"node","id":1,"lat":37.8263696,"lon":-122.2524513,"timestamp":"2020-01-02T03:04:05Z","version":2,"changeset":10,"user":"Ann","uid":7,"tags":{"name":"Café \"Ô\" <&>","amenity":"cafe"}},` +
		`{"type":"node","id":2,"lat":-90,"lon":180,"timestamp":"2020-01-02T03:04:06Z","version":1,"changeset":11},` +
		`{"type":"node","id":3,"timestamp":"2021-05-06T07:08:09Z","version":3,"changeset":12,"user":"Bob","uid":8,"visible":false},` +
		`{"type":"way","id":4,"timestamp":"2020-01-02T03:04:05Z","version":1,"changeset":10,"user":"Ann","uid":7,"nodes":[1,2,1],"tags":{"highway":"path"}},` +
		`{"type":"relation","id":5,"timestamp":"2020-01-02T03:04:05Z","version":1,"changeset":10,"user":"Ann","uid":7,"members":[{"type":"way","ref":4,"role":"outer"},{"type":"node","ref":1,"role":""}],"tags":{"type":"multipolygon"}},` +
		`{"type":"relation","id":6,"timestamp":"2021-05-06T07:08:09Z","version":2,"changeset":13,"user":"Bob","uid":8,"visible":false}` +
		"]}\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
	if !json.Valid([]byte(got)) {
		t.Error("not valid JSON")
	}
}

func TestEmptyDocuments(t *testing.T) {
	x := string(xmlDoc(t, nil, nil))
	if want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<osm version="0.6" generator="geocommuns test" copyright="OpenStreetMap and contributors" attribution="http://www.openstreetmap.org/copyright" license="http://opendatacommons.org/licenses/odbl/1-0/">` + "\n</osm>\n"; x != want {
		t.Errorf("empty XML document:\n%s", x)
	}
	var o osm.OSM
	if err := xml.Unmarshal([]byte(x), &o); err != nil {
		t.Errorf("empty XML document does not parse: %v", err)
	}
	j := jsonDoc(t, &sampleBounds, nil)
	var doc struct {
		Bounds   map[string]float64 `json:"bounds"`
		Elements []any              `json:"elements"`
	}
	if err := json.Unmarshal(j, &doc); err != nil {
		t.Fatalf("empty JSON document %s: %v", j, err)
	}
	if doc.Elements == nil || len(doc.Elements) != 0 || doc.Bounds["maxlon"] != -122.250366 {
		t.Errorf("empty JSON document %s", j)
	}
}

func TestWriterRefusesMisuse(t *testing.T) {
	for name, w := range map[string]osmdata.DocumentWriter{
		"xml":  osmdata.NewXMLWriter(new(bytes.Buffer), cgimapHeader),
		"json": osmdata.NewJSONWriter(new(bytes.Buffer), cgimapHeader),
	} {
		if err := w.WriteElement(sampleElements()[0]); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteBounds(sampleBounds); !errors.Is(err, osmdata.ErrBoundsAfterElements) {
			t.Errorf("%s: bounds after an element: %v", name, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteElement(sampleElements()[0]); !errors.Is(err, osmdata.ErrDocumentClosed) {
			t.Errorf("%s: element after Close: %v", name, err)
		}
	}
}

// trickyStrings are values real data and hostile input carry.
var trickyStrings = []string{
	`quote " apostrophe ' amp & lt < gt >`,
	"tab\there newline\nthere cr\rthere",
	"  leading and trailing spaces  ",
	"unicode: Ærøskøbing 北京 😀",
	"RTL: שלום עליכם مرحبا",
	"backslash \\ slash / percent % equals = comma , at @",
	"]]> and <!-- and &amp;",
	"",
}

func trickyElements() []*osmdata.Element {
	var tags osmdata.Tags
	for i, s := range trickyStrings {
		tags = append(tags, osmdata.Tag{Key: "k" + string(rune('a'+i)) + s, Value: s})
	}
	return []*osmdata.Element{
		{Type: osmdata.Node, ID: 1, Version: 1, Visible: true, Changeset: 1, Timestamp: at("2020-01-01T00:00:00Z"),
			UID: 1, User: trickyStrings[0], Lat: 1, Lon: -1, Tags: tags},
		{Type: osmdata.Relation, ID: 2, Version: 1, Visible: true, Changeset: 1, Timestamp: at("2020-01-01T00:00:00Z"),
			UID: 2, User: trickyStrings[4], Members: []osmdata.Member{{Type: osmdata.Node, Ref: 1, Role: trickyStrings[1]}}},
	}
}

// fromOSM converts what paulmach/osm parsed back to our elements.
func fromOSM(o *osm.OSM, visible func(osmdata.ElementType, int64, bool) bool) []*osmdata.Element {
	var out []*osmdata.Element
	tags := func(ts osm.Tags) osmdata.Tags {
		var r osmdata.Tags
		for _, t := range ts {
			r = append(r, osmdata.Tag{Key: t.Key, Value: t.Value})
		}
		return r
	}
	for _, n := range o.Nodes {
		out = append(out, &osmdata.Element{Type: osmdata.Node, ID: int64(n.ID), Version: n.Version,
			Visible: visible(osmdata.Node, int64(n.ID), n.Visible), Changeset: int64(n.ChangesetID), Timestamp: n.Timestamp.UTC(),
			UID: int64(n.UserID), User: n.User, Lat: osmdata.RoundCoordToFixed(n.Lat), Lon: osmdata.RoundCoordToFixed(n.Lon), Tags: tags(n.Tags)})
	}
	for _, w := range o.Ways {
		e := &osmdata.Element{Type: osmdata.Way, ID: int64(w.ID), Version: w.Version,
			Visible: visible(osmdata.Way, int64(w.ID), w.Visible), Changeset: int64(w.ChangesetID), Timestamp: w.Timestamp.UTC(),
			UID: int64(w.UserID), User: w.User, Tags: tags(w.Tags)}
		for _, n := range w.Nodes {
			e.Nodes = append(e.Nodes, int64(n.ID))
		}
		out = append(out, e)
	}
	for _, r := range o.Relations {
		e := &osmdata.Element{Type: osmdata.Relation, ID: int64(r.ID), Version: r.Version,
			Visible: visible(osmdata.Relation, int64(r.ID), r.Visible), Changeset: int64(r.ChangesetID), Timestamp: r.Timestamp.UTC(),
			UID: int64(r.UserID), User: r.User, Tags: tags(r.Tags)}
		for _, m := range r.Members {
			t, _ := osmdata.ParseElementType(string(m.Type))
			e.Members = append(e.Members, osmdata.Member{Type: t, Ref: m.Ref, Role: m.Role})
		}
		out = append(out, e)
	}
	return out
}

// asWritten is what a reader can get back: deleted nodes lose their
// coordinates.
func asWritten(elems []*osmdata.Element) []*osmdata.Element {
	var out []*osmdata.Element
	for _, e := range elems {
		c := *e
		if !c.Visible {
			c.Lat, c.Lon = 0, 0
		}
		out = append(out, &c)
	}
	return out
}

func TestXMLWriterRoundTripsThroughPaulmachOSM(t *testing.T) {
	in := append(sampleElements(), trickyElements()...)
	// paulmach/osm groups by type; keep the input grouped the same way.
	slices.SortStableFunc(in, func(a, b *osmdata.Element) int { return int(a.Type) - int(b.Type) })
	doc := xmlDoc(t, &sampleBounds, in)
	var o osm.OSM
	if err := xml.Unmarshal(doc, &o); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	got := fromOSM(&o, func(_ osmdata.ElementType, _ int64, v bool) bool { return v })
	if diff := cmp.Diff(asWritten(in), got); diff != "" {
		t.Errorf("parsed back (-written +parsed):\n%s", diff)
	}
	if o.Bounds == nil || osmdata.RoundCoordToFixed(o.Bounds.MinLon) != sampleBounds.MinLon {
		t.Errorf("bounds parsed back as %+v", o.Bounds)
	}
	if o.Version != "0.6" || o.Generator != cgimapHeader.Generator || o.License != cgimapHeader.License {
		t.Errorf("header parsed back as %q %q %q", o.Version, o.Generator, o.License)
	}
}

func TestJSONWriterRoundTripsThroughPaulmachOSM(t *testing.T) {
	in := append(sampleElements(), trickyElements()...)
	slices.SortStableFunc(in, func(a, b *osmdata.Element) int { return int(a.Type) - int(b.Type) })
	doc := jsonDoc(t, &sampleBounds, in)
	var o osm.OSM
	if err := json.Unmarshal(doc, &o); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	// paulmach/osm reads a missing "visible" as false; cgimap leaves it
	// out for visible elements, so read it from the document itself.
	var raw struct {
		Elements []struct {
			Type    string `json:"type"`
			ID      int64  `json:"id"`
			Visible *bool  `json:"visible"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		t.Fatal(err)
	}
	hidden := map[osmdata.Key]bool{}
	for _, e := range raw.Elements {
		typ, _ := osmdata.ParseElementType(e.Type)
		if e.Visible != nil {
			if *e.Visible {
				t.Errorf("%s %d: visible written as true", e.Type, e.ID)
			}
			hidden[osmdata.Key{Type: typ, ID: e.ID}] = true
		}
	}
	got := fromOSM(&o, func(typ osmdata.ElementType, id int64, _ bool) bool { return !hidden[osmdata.Key{Type: typ, ID: id}] })
	// JSON tags are an object: paulmach/osm reads them through a map.
	want := asWritten(in)
	for _, list := range [][]*osmdata.Element{want, got} {
		for _, e := range list {
			slices.SortFunc(e.Tags, func(a, b osmdata.Tag) int { return strings.Compare(a.Key, b.Key) })
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parsed back (-written +parsed):\n%s", diff)
	}
}

// Characters XML 1.0 cannot carry become U+FFFD; everything else comes
// back exactly through a conforming parser.
func TestXMLEscapingKeepsDocumentsWellFormed(t *testing.T) {
	values := append([]string{"nul\x00 bell\x07 esc\x1b", "bad utf8 \xff\xfe end", "nonchar \uFFFE\uFFFF"}, trickyStrings...)
	want := append([]string{"nul\uFFFD bell\uFFFD esc\uFFFD", "bad utf8 \uFFFD\uFFFD end", "nonchar \uFFFD\uFFFD"}, trickyStrings...)
	var tags osmdata.Tags
	for i, v := range values {
		tags = append(tags, osmdata.Tag{Key: string(rune('a' + i)), Value: v})
	}
	doc := xmlDoc(t, nil, []*osmdata.Element{{Type: osmdata.Node, ID: 1, Visible: true, Tags: tags}})
	var o osm.OSM
	if err := xml.Unmarshal(doc, &o); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	for i, tag := range o.Nodes[0].Tags {
		if tag.Value != want[i] {
			t.Errorf("tag %d: %q came back as %q", i, values[i], tag.Value)
		}
	}
	jdoc := jsonDoc(t, nil, []*osmdata.Element{{Type: osmdata.Node, ID: 1, Visible: true, Tags: tags}})
	if !json.Valid(jdoc) {
		t.Fatalf("invalid JSON: %s", jdoc)
	}
	var jo struct {
		Elements []struct {
			Tags map[string]string `json:"tags"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(jdoc, &jo); err != nil {
		t.Fatal(err)
	}
	jsonWant := append([]string{values[0], "bad utf8 \uFFFD\uFFFD end", values[2]}, trickyStrings...)
	for i := range values {
		if got := jo.Elements[0].Tags[string(rune('a'+i))]; got != jsonWant[i] {
			t.Errorf("JSON tag %d: %q came back as %q", i, values[i], got)
		}
	}
}

func TestWritersAgreeWithFormatFixedCoord(t *testing.T) {
	values := []int32{0, 1, -1, 10, -10, 1234567, -1234567, 10000000, -10000000, 12345678, 900000000, -900000000,
		1800000000, -1800000000, 1799999999, -1799999999, 378228020, 2147483647, -2147483648}
	for _, v := range values {
		doc := string(xmlDoc(t, nil, []*osmdata.Element{{Type: osmdata.Node, ID: 1, Visible: true, Lat: v, Lon: v}}))
		want := `lat="` + osmdata.FormatFixedCoord(v) + `" lon="` + osmdata.FormatFixedCoord(v) + `"`
		if !strings.Contains(doc, want) {
			t.Errorf("%d: want %s in\n%s", v, want, doc)
		}
	}
}

func TestTimestampsAreUTCWholeSeconds(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2020, 1, 2, 3, 4, 5, 999999999, time.UTC), "2020-01-02T03:04:05Z"},
		{time.Date(2020, 1, 2, 0, 4, 5, 0, paris), "2020-01-01T23:04:05Z"},
		{time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC), "1999-12-31T23:59:59Z"},
		{time.Date(2005, 7, 9, 10, 9, 8, 0, time.UTC), "2005-07-09T10:09:08Z"},
	} {
		e := &osmdata.Element{Type: osmdata.Way, ID: 1, Visible: true, Timestamp: tc.in}
		if x := string(xmlDoc(t, nil, []*osmdata.Element{e})); !strings.Contains(x, `timestamp="`+tc.want+`"`) {
			t.Errorf("%v: XML %s", tc.in, x)
		}
		if j := string(jsonDoc(t, nil, []*osmdata.Element{e})); !strings.Contains(j, `"timestamp":"`+tc.want+`"`) {
			t.Errorf("%v: JSON %s", tc.in, j)
		}
	}
}
