package osmchange

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
)

// TestDocumentOrder: interleaved blocks in any order and number come out
// exactly as written, with negative placeholders in ids, way nodes and
// members, and if-unused on its own delete block only.
func TestDocumentOrder(t *testing.T) {
	body := `<?xml version="1.0" encoding="UTF-8"?>
<osmChange version="0.6" generator="JOSM">
<delete if-unused="true"><node id="7" version="3" changeset="9" lat="1" lon="1"/></delete>
<create>
  <node id="-1" changeset="9" lat="51.5288620" lon="-0.1464925"><tag k="name" v="A &amp; B"/><tag k="z" v="1"/><tag k="a" v="2"/></node>
  <way id="-2" changeset="9"><nd ref="-1"/><nd ref="12"/><tag k="highway" v="path"/></way>
</create>
<modify><node id="12" version="4" changeset="9" lat="-90" lon="180"/></modify>
<create><relation id="-3" changeset="9"><member type="Way" ref="-2" role="outer"/><member type="node" ref="-1"/></relation></create>
<delete><way id="-2" version="1" changeset="9"/></delete>
<modify><node id="-1" version="1" changeset="9" lat="0.0000001" lon="-0.0000001"/></modify>
</osmChange>`
	ops, err := readAllString(body, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	node := osmdata.Node
	want := []Operation{
		{Action: Delete, IfUnused: true, Line: 3, Element: osmdata.Element{Type: node, ID: 7, Version: 3, Changeset: 9}},
		{Action: Create, Line: 5, Element: osmdata.Element{Type: node, ID: -1, Visible: true, Changeset: 9, Lat: 515288620, Lon: -1464925,
			Tags: osmdata.Tags{{Key: "name", Value: "A & B"}, {Key: "z", Value: "1"}, {Key: "a", Value: "2"}}}},
		{Action: Create, Line: 6, Element: osmdata.Element{Type: osmdata.Way, ID: -2, Visible: true, Changeset: 9, Nodes: []int64{-1, 12},
			Tags: osmdata.Tags{{Key: "highway", Value: "path"}}}},
		{Action: Modify, Line: 8, Element: osmdata.Element{Type: node, ID: 12, Version: 4, Visible: true, Changeset: 9, Lat: -900000000, Lon: 1800000000}},
		{Action: Create, Line: 9, Element: osmdata.Element{Type: osmdata.Relation, ID: -3, Visible: true, Changeset: 9,
			Members: []osmdata.Member{{Type: osmdata.Way, Ref: -2, Role: "outer"}, {Type: node, Ref: -1}}}},
		{Action: Delete, Line: 10, Element: osmdata.Element{Type: osmdata.Way, ID: -2, Version: 1, Changeset: 9}},
		{Action: Modify, Line: 11, Element: osmdata.Element{Type: node, ID: -1, Version: 1, Visible: true, Changeset: 9, Lat: 1, Lon: -1}},
	}
	if diff := cmp.Diff(want, deref(ops)); diff != "" {
		t.Fatalf("operations (-want +got):\n%s", diff)
	}
}

func deref(ops []*Operation) []Operation {
	out := make([]Operation, len(ops))
	for i, op := range ops {
		out[i] = *op
	}
	return out
}

// TestIfUnusedValues: cgimap sets if-unused when the attribute is there,
// whatever it says, and only for its own block.
func TestIfUnusedValues(t *testing.T) {
	for _, v := range []string{"true", "1", "yes", "false", ""} {
		body := `<osmChange><delete if-unused="` + v + `"><node id="1" version="1" changeset="1"/></delete>` +
			`<delete><node id="2" version="1" changeset="1"/></delete></osmChange>`
		ops, err := readAllString(body, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if !ops[0].IfUnused || ops[1].IfUnused {
			t.Fatalf("if-unused=%q: got %v, %v", v, ops[0].IfUnused, ops[1].IfUnused)
		}
	}
}

// TestAttributeText: references are resolved, literal tabs and newlines
// in attributes become spaces as XML requires, their references stay.
func TestAttributeText(t *testing.T) {
	body := "<osmChange><create><node id=\"-1\" changeset=\"1\" lat=\"1\" lon=\"1\">" +
		"<tag k=\"a\" v=\"&lt;&gt;&amp;&apos;&quot;&#65;&#x1F60E;\"/>" +
		"<tag k=\"b\" v=\"x\ty\r\nz\nw\"/>" +
		"<tag k=\"c\" v=\"x&#9;y&#13;&#10;z\"/>" +
		"<tag k='d' v='say \"hi\"'/>" +
		"</node></create></osmChange>"
	ops, err := readAllString(body, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := osmdata.Tags{{Key: "a", Value: `<>&'"A😎`}, {Key: "b", Value: "x y z w"}, {Key: "c", Value: "x\ty\r\nz"}, {Key: "d", Value: `say "hi"`}}
	if diff := cmp.Diff(want, ops[0].Element.Tags); diff != "" {
		t.Fatal(diff)
	}
}

// TestMalformedXML: what a conforming parser refuses, with libxml2's
// wording and the position of the fault.
func TestMalformedXML(t *testing.T) {
	for _, c := range []struct{ body, message string }{
		{"", "Document is empty at line 1, column 1"},
		{"  \n ", "Document is empty at line 2, column 2"},
		{"<osmChange>\n<create>", "Premature end of data in tag create line 2 at line 2, column 9"},
		{"<osmChange><create></modify></osmChange>", "Opening and ending tag mismatch: create line 1 and modify at line 1, column 29"},
		{"<osmChange/><osmChange/>", "Extra content at the end of the document at line 1, column 13"},
		{"<osmChange/>x", "Extra content at the end of the document at line 1, column 13"},
		{"<osmChange a='1'b='2'/>", "attributes construct error at line 1, column 17"},
		{"<osmChange a/>", "Specification mandates value for attribute a at line 1, column 13"},
		{"<osmChange a='<'/>", "Unescaped '<' not allowed in attributes values at line 1, column 15"},
		{"<osmChange a='&foo;'/>", "Entity 'foo' not defined at line 1, column 15"},
		{"<osmChange a='&#0;'/>", "xmlParseCharRef: invalid xmlChar value 0 at line 1, column 15"},
		{"<osmChange a='\x01'/>", "invalid character in attribute value at line 1, column 15"},
		{"<osmChange a='\xff'/>", "Input is not proper UTF-8, indicate encoding ! at line 1, column 15"},
		{"<osmChange>]]></osmChange>", "Sequence ']]>' not allowed in content at line 1, column 12"},
		{"<osmChange><!-- a -- b --></osmChange>", "Double hyphen within comment at line 1, column 19"},
		{`<!DOCTYPE osmChange [<!ENTITY a "b">]><osmChange/>`, "DOCTYPE is not allowed in OSM API requests at line 1, column 1"},
		{"<osmChange/>\n<?xml version='1.0'?>", "XML declaration allowed only at the start of the document at line 2, column 1"},
		{`<?xml version="1.0" encoding="ISO-8859-1"?><osmChange/>`, "Unsupported encoding ISO-8859-1 at line 1, column 30"},
		{"<osmChange>\r\n<create>\r\n<bla/>", "Unknown element bla, expecting node, way or relation at line 3, column 5"},
	} {
		_, err := readAllString(c.body, Limits{})
		if err == nil || err.Error() != c.message {
			t.Errorf("%q:\n got %v\nwant %s", c.body, err, c.message)
		}
	}
	// Accepted: a BOM, comments, processing instructions, CDATA and text
	// inside elements, whitespace everywhere allowed.
	ok := "\xEF\xBB\xBF<?xml version='1.0' encoding='utf-8' standalone=\"yes\"?>\n<!-- c --><?pi x?>" +
		"<osmChange  version = '0.6' ><![CDATA[<x>]]>text &amp; more<create\n><node id = \"-1\" changeset='1' lat='1' lon='1' /></create ></osmChange>\n<!-- end -->\n"
	if ops, err := readAllString(ok, Limits{}); err != nil || len(ops) != 1 {
		t.Fatalf("well-formed body refused: %v", err)
	}
}

// infiniteChange yields an osmChange that never ends.
type infiniteChange struct {
	started bool
	read    int64
}

func (r *infiniteChange) Read(p []byte) (int, error) {
	chunk := `<create><node id="-1" changeset="1" lat="1" lon="1"><tag k="a" v="b"/></node></create>`
	if !r.started {
		r.started = true
		chunk = "<osmChange>"
	}
	n := copy(p, chunk)
	r.read += int64(n)
	return n, nil
}

// TestLimitsWhileStreaming: a body over a limit is stopped as the
// counters pass it, not after reading it all.
func TestLimitsWhileStreaming(t *testing.T) {
	src := &infiniteChange{}
	r := NewReader(src, Limits{MaxElements: 1000})
	ops, err := ReadAll(r)
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusRequestEntityTooLarge || e.Message != "Payload exceeds limit of 1000 XML elements" {
		t.Fatalf("got %v", err)
	}
	if len(ops) != 333 || src.read > 200_000 {
		t.Fatalf("stopped after %d operations and %d bytes", len(ops), src.read)
	}

	// cgimap ignores elements inside a changeset's tag, at any depth; the
	// depth limit stops them.
	deep := `<osm><changeset><tag k="a" v="b">` + strings.Repeat("<x>", 40)
	_, err = ReadChangeset(strings.NewReader(deep), Limits{MaxDepth: 8})
	if !errors.As(err, &e) || e.Kind != KindNestedTooDeep || e.Message != "xml file nested too deep at line 1, column 51" {
		t.Fatalf("deep nesting: %v", err)
	}

	long := `<osmChange><create><node id="-1" changeset="1" lat="1" lon="1" x="` + strings.Repeat("y", 3000) + `"/></create></osmChange>`
	_, err = readAllString(long, Limits{MaxTokenBytes: 2048})
	if !errors.As(err, &e) || e.Kind != KindTokenTooLong || e.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("long tag: %v", err)
	}
	if _, err := readAllString(long, Limits{}); err != nil {
		t.Fatalf("long tag under the default limit: %v", err)
	}
}

// TestReadErrorsPassThrough: the body's own error (http.MaxBytesReader's
// 413) reaches the caller unchanged.
func TestReadErrorsPassThrough(t *testing.T) {
	body := io.NopCloser(&infiniteChange{})
	limited := http.MaxBytesReader(httptest.NewRecorder(), body, 10_000)
	_, err := ReadAll(NewReader(limited, Limits{}))
	var mb *http.MaxBytesError
	if !errors.As(err, &mb) {
		t.Fatalf("got %v, want *http.MaxBytesError", err)
	}
	broken := iotest.TimeoutReader(strings.NewReader(`<osmChange><create><node id="-1" changeset="1" lat="1" lon="1"/>`))
	if _, err := ReadAll(NewReader(broken, Limits{})); !errors.Is(err, iotest.ErrTimeout) {
		t.Fatalf("got %v", err)
	}
}

// TestChunkBoundaries: reading one byte at a time gives the same
// operations and the same error texts (positions included) as reading
// the body at once, so nothing depends on where reads end.
func TestChunkBoundaries(t *testing.T) {
	bodies := []string{realFiles(t)[0].data}
	for _, c := range cgimapCases() {
		bodies = append(bodies, c.body)
	}
	for _, body := range bodies {
		whole, errWhole := ReadAll(NewDiffReader(strings.NewReader(body), Limits{}))
		bytewise, errBytes := ReadAll(NewDiffReader(iotest.OneByteReader(strings.NewReader(body)), Limits{}))
		if diff := cmp.Diff(deref(whole), deref(bytewise)); diff != "" {
			t.Fatalf("operations differ:\n%s", diff)
		}
		if (errWhole == nil) != (errBytes == nil) || (errWhole != nil && errWhole.Error() != errBytes.Error()) {
			t.Fatalf("%.60q: %v, one byte at a time: %v", body, errWhole, errBytes)
		}
	}
}

func TestNumbersAsCgimapReadsThem(t *testing.T) {
	for _, c := range []struct {
		in  string
		v   int64
		res numResult
	}{
		{"12", 12, numOK}, {"-12", -12, numOK}, {"12abc", 12, numOK}, {"007", 7, numOK},
		{"", 0, numInvalid}, {"-", 0, numInvalid}, {"+1", 0, numInvalid}, {" 1", 0, numInvalid}, {"a", 0, numInvalid},
		{"9223372036854775807", 9223372036854775807, numOK}, {"-9223372036854775808", -9223372036854775808, numOK},
		{"9223372036854775808", 0, numRange}, {"99999999999999999999999", 0, numRange},
	} {
		v, res := parseInt([]byte(c.in))
		if v != c.v || res != c.res {
			t.Errorf("parseInt(%q) = %d, %d; want %d, %d", c.in, v, res, c.v, c.res)
		}
	}
	for _, c := range []struct {
		in  string
		v   float64
		res numResult
	}{
		{"1.5", 1.5, numOK}, {"-0.25e1", -2.5, numOK}, {"1.5abc", 1.5, numOK}, {".5", 0.5, numOK}, {"5.", 5, numOK},
		{"1e", 1, numOK}, {"1e+", 1, numOK}, {"0x10", 0, numOK},
		{"", 0, numInvalid}, {"+1", 0, numInvalid}, {".", 0, numInvalid}, {"e5", 0, numInvalid},
		{"1e400", 0, numRange}, {"1e-400", 0, numRange}, {"0e-400", 0, numOK},
	} {
		v, res := parseFloat([]byte(c.in))
		if v != c.v || res != c.res {
			t.Errorf("parseFloat(%q) = %g, %d; want %g, %d", c.in, v, res, c.v, c.res)
		}
	}
}

// TestCoordinatesExact: seven decimals are kept exactly, as
// osmdata.ParseFixedCoord reads them, at every magnitude.
func TestCoordinatesExact(t *testing.T) {
	for _, s := range []string{"0.1234567", "-0.1234567", "89.9999999", "-179.9999999", "12.3456789", "0.0000001", "-0.0000001", "45"} {
		want, err := osmdata.ParseFixedCoord(s)
		if err != nil {
			t.Fatal(err)
		}
		lat, wantLat := s, want
		if want > 90*osmdata.CoordScale || want < -90*osmdata.CoordScale {
			lat, wantLat = "0", 0
		}
		ops, err := readAllString(`<osmChange><create><node id="-1" changeset="1" lat="`+lat+`" lon="`+s+`"/></create></osmChange>`, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if e := ops[0].Element; e.Lat != wantLat || e.Lon != want || osmdata.FormatFixedCoord(e.Lon) != s {
			t.Fatalf("%s read as %d, %d", s, e.Lat, e.Lon)
		}
	}
}

func TestDeleteCoordinatesDropped(t *testing.T) {
	ops, err := readAllString(`<osmChange><delete><node id="5" version="2" changeset="1" lat="10" lon="20"><tag k="a" v="b"/></node></delete></osmChange>`, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if e := ops[0].Element; e.Lat != 0 || e.Lon != 0 || e.Visible || len(e.Tags) != 1 {
		t.Fatalf("delete read as %+v", e)
	}
	if _, err := readAllString(`<osmChange><delete><node id="5" version="2" changeset="1" lat="x"/></delete></osmChange>`, Limits{}); err == nil {
		t.Fatal("a malformed latitude on a delete passed; cgimap checks it")
	}
}

func TestNextAfterEnd(t *testing.T) {
	r := NewReader(bytes.NewReader([]byte(`<osmChange/>`)), Limits{})
	for i := 0; i < 3; i++ {
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	r = NewReader(bytes.NewReader([]byte(`<osmChange><x/></osmChange>`)), Limits{})
	_, err1 := r.Next()
	_, err2 := r.Next()
	if err1 == nil || err1 != err2 {
		t.Fatalf("errors not sticky: %v, %v", err1, err2)
	}
}

// TestPlainCoordinates: the integer path agrees with the float path
// wherever it answers.
func TestPlainCoordinates(t *testing.T) {
	for _, s := range []string{"0", "-0", "1.", ".5", "-.5", "90", "90.0000000", "-90.0000001", "180", "180.0000001", "12.3456789",
		"0.1234567", "-179.9999999", "123.4567891", "1234", "1e1", "1.5x", "", "-", ".", "45.12345670"} {
		v, ok := plainCoordinate([]byte(s), 180*osmdata.CoordScale)
		if !ok {
			continue
		}
		f, res := parseFloat([]byte(s))
		if res != numOK || osmdata.RoundCoordToFixed(f) != v {
			t.Errorf("%q: plain %d, float %g (%d)", s, v, f, res)
		}
	}
	if _, ok := plainCoordinate([]byte("180.0000001"), 180*osmdata.CoordScale); ok {
		t.Error("out of range accepted")
	}
}
