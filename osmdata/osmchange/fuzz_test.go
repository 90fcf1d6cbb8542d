package osmchange

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
)

// fuzzLimits are small enough that mutated seeds cross them.
var fuzzLimits = Limits{MaxElements: 5000, MaxDepth: 12, MaxTokenBytes: 8192, MaxTags: 50, MaxWayNodes: 500, MaxRelationMembers: 500}

// addSeeds adds cgimap's test bodies; testdata/fuzz/FuzzOsmChange holds
// openstreetmap.org's .osc files (from paulmach/osm's testdata) and
// small hand-written uploads.
func addSeeds(f *testing.F) {
	for _, c := range cgimapCases() {
		f.Add([]byte(c.body))
	}
	f.Add([]byte(`<osmChange><delete if-unused="1"><way id="5" version="2" changeset="1"/></delete><create><node id="-1" changeset="1" lat="1.5" lon="-2"><tag k="a" v="&#10;&lt;"/></node></create></osmChange>`))
	f.Add([]byte("\xEF\xBB\xBF<?xml version='1.0'?><!--c--><osmChange><modify><relation id='3' version='1' changeset='2'><member type='way' ref='-1' role='r'/></relation></modify></osmChange>"))
}

// FuzzOsmChange checks, for any body, in both reading modes: no panic;
// the same result read whole or a byte at a time; every error an *Error
// with a client status; every operation within the limits and cgimap's
// rules; a body accepted is well-formed XML to encoding/xml too, within
// the element and depth limits; and what was read, written by the
// osmChange writer and read again, reads the same.
func FuzzOsmChange(f *testing.F) {
	addSeeds(f)
	f.Fuzz(checkOsmChange)
}

func checkOsmChange(t *testing.T, data []byte) {
	for _, diff := range []bool{false, true} {
		ops, err := readMode(bytes.NewReader(data), diff)
		bytewise, errBytes := readMode(iotest.OneByteReader(bytes.NewReader(data)), diff)
		if fmt.Sprint(err) != fmt.Sprint(errBytes) {
			t.Fatalf("diff=%v: error %v, one byte at a time %v", diff, err, errBytes)
		}
		if d := cmp.Diff(deref(ops), deref(bytewise)); d != "" {
			t.Fatalf("diff=%v: one byte at a time reads differently:\n%s", diff, d)
		}
		if err != nil {
			checkError(t, err)
		}
		for _, op := range ops {
			checkOperation(t, op, diff)
		}
		if err != nil {
			continue
		}
		checkWellFormed(t, data)
		again, err := readMode(bytes.NewReader(encode(t, ops)), diff)
		if err != nil {
			t.Fatalf("diff=%v: written back, refused: %v", diff, err)
		}
		if d := cmp.Diff(withoutLines(ops), withoutLines(again)); d != "" {
			t.Fatalf("diff=%v: written back, reads differently (-read +again):\n%s", diff, d)
		}
	}
}

func readMode(r io.Reader, diff bool) ([]*Operation, error) {
	if diff {
		return ReadAll(NewDiffReader(r, fuzzLimits))
	}
	return ReadAll(NewReader(r, fuzzLimits))
}

func checkError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error of type %T: %v", err, err)
	}
	if g, ok := GoldenErrors[e.Kind]; !ok || g.Status != e.Status || e.Message == "" {
		t.Fatalf("error %+v does not match its golden row", e)
	}
}

func checkOperation(t *testing.T, op *Operation, diff bool) {
	t.Helper()
	e := &op.Element
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s %s %d: %s", op.Action, e.Type, e.ID, fmt.Sprintf(format, args...))
	}
	if op.Action < Create || op.Action > Delete || e.ID == 0 || e.Changeset <= 0 {
		fail("action, id or changeset out of range")
	}
	if op.IfUnused && op.Action != Delete {
		fail("if-unused outside a delete")
	}
	switch {
	case op.Action == Create && !diff:
		if e.ID > 0 || e.Version != 0 {
			fail("create with id %d version %d", e.ID, e.Version)
		}
	case op.Action != Create && e.Version < 1:
		fail("version %d", e.Version)
	}
	if !diff && e.Visible != (op.Action != Delete) {
		fail("visible %v", e.Visible)
	}
	if e.Type == osmdata.Node && op.Action != Delete {
		if e.Lat < -900000000 || e.Lat > 900000000 || e.Lon < -1800000000 || e.Lon > 1800000000 {
			fail("position %d, %d", e.Lat, e.Lon)
		}
	}
	if op.Action == Delete && (e.Lat != 0 || e.Lon != 0) {
		fail("a delete kept coordinates")
	}
	if len(e.Tags) > fuzzLimits.MaxTags {
		fail("%d tags", len(e.Tags))
	}
	keys := map[string]bool{}
	for _, tag := range e.Tags {
		if tag.Key == "" || keys[tag.Key] || !validString(tag.Key) || !validString(tag.Value) {
			fail("tag %q=%q", tag.Key, tag.Value)
		}
		keys[tag.Key] = true
	}
	if e.Type == osmdata.Way && op.Action != Delete && (len(e.Nodes) == 0 || len(e.Nodes) > fuzzLimits.MaxWayNodes) {
		fail("%d nodes", len(e.Nodes))
	}
	for _, n := range e.Nodes {
		if n == 0 {
			fail("node ref 0")
		}
	}
	if e.Type == osmdata.Relation && op.Action != Delete && len(e.Members) > fuzzLimits.MaxRelationMembers {
		fail("%d members", len(e.Members))
	}
	for _, m := range e.Members {
		if m.Ref == 0 || m.Type < osmdata.Node || m.Type > osmdata.Relation || !validString(m.Role) {
			fail("member %+v", m)
		}
	}
	if (e.Type != osmdata.Way && len(e.Nodes) > 0) || (e.Type != osmdata.Relation && len(e.Members) > 0) {
		fail("children of another type")
	}
}

func validString(s string) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxStringLength {
		return false
	}
	for _, r := range s {
		if !isXMLChar(r) {
			return false
		}
	}
	return true
}

// checkWellFormed: what the reader accepted, encoding/xml (whose name
// tables differ only beyond ASCII) accepts too, within the limits.
func checkWellFormed(t *testing.T, data []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf8", "us-ascii", "ascii":
			return r, nil
		}
		return nil, fmt.Errorf("charset %s", label)
	}
	elements, depth, maxDepth := 0, 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !isASCII(data) {
				return
			}
			t.Fatalf("accepted, but encoding/xml says: %v", err)
		}
		switch tok.(type) {
		case xml.StartElement:
			elements++
			depth++
			maxDepth = max(maxDepth, depth)
		case xml.EndElement:
			depth--
		}
	}
	if elements > fuzzLimits.MaxElements || maxDepth > 4 {
		t.Fatalf("accepted %d elements nested %d deep", elements, maxDepth)
	}
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// FuzzRequestBodies checks the changeset and single-element bodies: no
// panic, the same result a byte at a time, errors from the golden table,
// and what is accepted within the rules.
func FuzzRequestBodies(f *testing.F) {
	for _, s := range []string{
		`<osm><changeset><tag k="comment" v="x &amp; y"/><tag k="created_by" v="JOSM"/></changeset></osm>`,
		`<osm><changeset/><changeset><tag k="a" v="1"/><tag k="a" v="2"/></changeset></osm>`,
		`<osm><node id="5" version="2" changeset="1" lat="1" lon="2"><tag k="a" v="b"/></node></osm>`,
		`<osm><way id="5" version="2" changeset="1"><nd ref="1"/><nd ref="-2"/></way></osm>`,
		`<osm><relation id="5" version="2" changeset="1"><member type="node" ref="1" role="x"/></relation></osm>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tags, err := ReadChangeset(bytes.NewReader(data), fuzzLimits)
		tags2, err2 := ReadChangeset(iotest.OneByteReader(bytes.NewReader(data)), fuzzLimits)
		if fmt.Sprint(err) != fmt.Sprint(err2) || !cmp.Equal(tags, tags2) {
			t.Fatalf("changeset: %v / %v", err, err2)
		}
		if err != nil {
			checkError(t, err)
		}
		keys := map[string]bool{}
		for _, tag := range tags {
			if tag.Key == "" || keys[tag.Key] || !validString(tag.Key) || !validString(tag.Value) {
				t.Fatalf("changeset tag %q=%q", tag.Key, tag.Value)
			}
			keys[tag.Key] = true
		}
		for _, typ := range osmdata.ElementTypes {
			for _, action := range []Action{Create, Modify, Delete} {
				op, err := ReadElement(bytes.NewReader(data), typ, action, fuzzLimits)
				op2, err2 := ReadElement(iotest.OneByteReader(bytes.NewReader(data)), typ, action, fuzzLimits)
				if fmt.Sprint(err) != fmt.Sprint(err2) || !cmp.Equal(op, op2) {
					t.Fatalf("%s %s: %v / %v", action, typ, err, err2)
				}
				if err != nil {
					checkError(t, err)
					continue
				}
				if op.Element.Type != typ || op.Action != action || (action == Create && op.Element.ID != -1) {
					t.Fatalf("%s %s read as %+v", action, typ, op)
				}
				checkOperation(t, op, false)
			}
		}
	})
}
