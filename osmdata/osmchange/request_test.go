package osmchange

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
)

// TestCgimapChangesetBodies transcribes cgimap's
// test/test_parse_changeset_input.cpp.
func TestCgimapChangesetBodies(t *testing.T) {
	for _, c := range []struct {
		name, body string
		kind       Kind
		message    string
	}{
		{"Invalid XML <osm>", `<osm>`, KindBadXML, ""},
		{"Invalid XML <invalid>", `<invalid>`, KindOsmRootExpected, ""},
		{"Invalid XML bla", `bla`, KindBadXML, ""},
		{"Invalid XML osm/invalid", `<osm><invalid/></osm>`, KindChangesetExpected, "Unknown element, expecting changeset at line 1, column 14"},
		{"Invalid XML changeset/invalid", `<osm><changeset><invalid/></changeset></osm>`, KindTagExpected, ""},
		{"Invalid XML tag without k", `<osm><changeset><tag/></changeset></osm>`, KindChangesetKMissing, ""},
		{"Invalid XML empty", ``, KindBadXML, ""},
		{"Invalid XML - empty key", `<osm><changeset><tag k="" v="val"/></changeset></osm>`, KindChangesetKeyEmpty, ""},
		{"Missing changeset tag", `<osm/>`, KindNoChangeset,
			"Cannot parse valid changeset from xml string. XML doesn't contain an osm/changeset element at line 1, column 7"},
		{"Tag: Key without value", `<osm><changeset><tag k="key"/></changeset></osm>`, KindChangesetVMissing, ""},
		{"Tag: Value without key", `<osm><changeset><tag v="value"/></changeset></osm>`, KindChangesetKMissing, ""},
		{"Tag: Key with max 255 unicode characters, > 255", `<osm><changeset><tag k="` + strings.Repeat(emoji, 256) + `" v="value"/></changeset></osm>`,
			KindChangesetKeyLong, "Key has more than 255 unicode characters at line 1, column 292"},
		{"Tag: Value with max 255 unicode characters, > 255", `<osm><changeset><tag k="key" v="` + strings.Repeat(emoji, 256) + `"/></changeset></osm>`,
			KindChangesetValueLong, "Value has more than 255 unicode characters at line 1, column 290"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadChangeset(strings.NewReader(c.body), Limits{})
			checkOutcome(t, err, cgimapCase{status: http.StatusBadRequest, kind: c.kind, message: c.message})
		})
	}

	for _, c := range []struct {
		name, body string
		want       osmdata.Tags
	}{
		{"Changeset without tags", `<osm><changeset/></osm>`, nil},
		{"Changeset with multiple identical tags", `<osm>
                     <changeset>
                          <tag k="key1" v="val1"/>
                          <tag k="key2" v="val2"/>
                          <tag k="key1" v="val1NEW"/>
                      </changeset>
                 </osm>`, osmdata.Tags{{Key: "key1", Value: "val1NEW"}, {Key: "key2", Value: "val2"}}},
		{"Changeset with multiple changeset tags and identical tags", `<osm>
                    <changeset>
                         <tag k="key1" v="val1"/>
                         <tag k="key2" v="val2"/>
                    </changeset>
                    <changeset>
                         <tag k="key1" v="val1NEW"/>
                     </changeset>
                  </osm>`, osmdata.Tags{{Key: "key1", Value: "val1NEW"}, {Key: "key2", Value: "val2"}}},
		{"Tag: 255 characters", `<osm><changeset><tag k="` + strings.Repeat(emoji, 255) + `" v="` + strings.Repeat(emoji, 255) + `"/></changeset></osm>`,
			osmdata.Tags{{Key: strings.Repeat(emoji, 255), Value: strings.Repeat(emoji, 255)}}},
		{"JOSM's body", `<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="JOSM">
  <changeset>
    <tag k="comment" v="Fix &quot;name&quot; &amp; ref"/>
    <tag k="created_by" v="JOSM/1.5 (19253 en)"/>
  </changeset>
</osm>`, osmdata.Tags{{Key: "comment", Value: `Fix "name" & ref`}, {Key: "created_by", Value: "JOSM/1.5 (19253 en)"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ReadChangeset(strings.NewReader(c.body), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Fatal(diff)
			}
		})
	}
}

func TestElementBodies(t *testing.T) {
	// python3-osmapi's NodeCreate body: no id, no version.
	osmapiCreate := `<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="osmapi/4.0.0">
  <node lat="47.2" lon="8.1" changeset="12">
    <tag k="amenity" v="bench"/>
  </node>
</osm>
`
	op, err := ReadElement(strings.NewReader(osmapiCreate), osmdata.Node, Create, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := Operation{Action: Create, Line: 3, Element: osmdata.Element{Type: osmdata.Node, ID: -1, Visible: true, Changeset: 12,
		Lat: 472000000, Lon: 81000000, Tags: osmdata.Tags{{Key: "amenity", Value: "bench"}}}}
	if diff := cmp.Diff(want, *op); diff != "" {
		t.Fatal(diff)
	}
	// A create's id is ignored, as openstreetmap-website ignores it.
	op, err = ReadElement(strings.NewReader(`<osm><way id="77" changeset="1"><nd ref="5"/><nd ref="6"/></way></osm>`), osmdata.Way, Create, Limits{})
	if err != nil || op.Element.ID != -1 || len(op.Element.Nodes) != 2 {
		t.Fatalf("way create: %+v, %v", op, err)
	}
	op, err = ReadElement(strings.NewReader(`<osm><relation id="4" version="3" changeset="1"><member type="way" ref="5" role="outer"/><tag k="type" v="multipolygon"/></relation></osm>`),
		osmdata.Relation, Modify, Limits{})
	if err != nil || op.Element.ID != 4 || op.Element.Version != 3 || len(op.Element.Members) != 1 || len(op.Element.Tags) != 1 {
		t.Fatalf("relation modify: %+v, %v", op, err)
	}
	op, err = ReadElement(strings.NewReader(`<osm><node id="4" version="3" changeset="1" lat="1" lon="2"/></osm>`), osmdata.Node, Delete, Limits{})
	if err != nil || op.Element.ID != 4 || op.Element.Visible || op.Action != Delete {
		t.Fatalf("node delete: %+v, %v", op, err)
	}

	for _, c := range []struct {
		name   string
		body   string
		t      osmdata.ElementType
		action Action
		kind   Kind
		msg    string
		status int
	}{
		{"root", `<node/>`, osmdata.Node, Create, KindOsmRootExpected, "Unknown top-level element, expecting osm at line 1, column 6", 400},
		{"other type", `<osm><way id="1"/></osm>`, osmdata.Node, Modify, KindElementExpected, "Unknown element, expecting node at line 1, column 17", 400},
		{"empty", `<osm/>`, osmdata.Way, Modify, KindNoElement,
			"Cannot parse valid way from xml string. XML doesn't contain an osm/way element at line 1, column 7", 400},
		{"no version", `<osm><node id="5" changeset="1" lat="1" lon="1"/></osm>`, osmdata.Node, Modify, KindVersionMissing,
			"Version is required when updating Node 5 at line 1, column 48", 400},
		{"no id", `<osm><node version="1" changeset="1" lat="1" lon="1"/></osm>`, osmdata.Node, Delete, KindIDMissing, "", 400},
		{"no changeset", `<osm><node lat="1" lon="1"/></osm>`, osmdata.Node, Create, KindChangesetMissing, "", 400},
		{"no position", `<osm><node changeset="1"/></osm>`, osmdata.Node, Create, KindNodeIncomplete, "", 400},
		{"no nodes", `<osm><way changeset="1"/></osm>`, osmdata.Way, Create, KindWayWithoutNodes,
			"Precondition failed: Way -1 must have at least one node", http.StatusPreconditionFailed},
		{"long value", `<osm><node changeset="1" lat="1" lon="1"><tag k="a" v="` + strings.Repeat("x", 256) + `"/></node></osm>`,
			osmdata.Node, Create, KindValueTooLong, "", 400},
		{"nested", `<osm><node changeset="1" lat="1" lon="1"><tag k="a" v="b"><x/></tag></node></osm>`, osmdata.Node, Create, KindNestedTooDeep, "", 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadElement(strings.NewReader(c.body), c.t, c.action, Limits{})
			checkOutcome(t, err, cgimapCase{status: c.status, kind: c.kind, message: c.msg})
		})
	}
}

// TestGoldenTable: every kind has a status, a text and a source, and
// positioned kinds say where.
func TestGoldenTable(t *testing.T) {
	for kind, g := range GoldenErrors {
		if g.Status < 400 || g.Text == "" || g.Source == "" {
			t.Errorf("%s: incomplete row %+v", kind, g)
		}
	}
	e := newError(KindUnknownAction, 3, 7, "x")
	if e.Message != "Unknown action x, choices are create, modify, delete at line 3, column 7" || e.Line != 3 || e.Column != 7 {
		t.Fatalf("%+v", e)
	}
	var target *Error
	if !errors.As(error(e), &target) || target.Status != 400 {
		t.Fatal("not an *Error")
	}
}
