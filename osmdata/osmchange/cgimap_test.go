package osmchange

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// cgimapCase is one TEST_CASE of cgimap's
// test/test_parse_osmchange_xml_input.cpp, transcribed: the body it
// sends and what it requires. Message is set where cgimap's test checks
// the text (REQUIRE_THROWS_MATCHES); Kind where it checks only that the
// parser throws http::bad_request (REQUIRE_THROWS_AS), naming the text
// cgimap's source throws for that body.
type cgimapCase struct {
	name    string
	body    string
	ok      bool
	status  int
	kind    Kind
	message string
}

const emoji = "😎"

func cgimapCases() []cgimapCase {
	bad := func(name, body string, kind Kind) cgimapCase {
		return cgimapCase{name: name, body: body, status: http.StatusBadRequest, kind: kind}
	}
	exact := func(name, body string, status int, kind Kind, message string) cgimapCase {
		return cgimapCase{name: name, body: body, status: status, kind: kind, message: message}
	}
	ok := func(name, body string) cgimapCase { return cgimapCase{name: name, body: body, ok: true} }
	create := func(inner string) string { return "<osmChange><create>" + inner + "</create></osmChange>" }
	cases := []cgimapCase{
		bad("Invalid XML <osmChange>", `<osmChange>`, KindBadXML),
		bad("Invalid XML bla", `bla`, KindBadXML),
		ok("XML without any changes", `<osmChange/>`),
		bad("Invalid XML: osmchange end only", `</osmChange>`, KindBadXML),
		bad("Misspelled osmchange xml", `<osmChange2/>`, KindUnknownTopLevel),
		exact("osmchange: Unknown action", `<osmChange><dummy/></osmChange>`, 400, KindUnknownAction,
			"Unknown action dummy, choices are create, modify, delete at line 1, column 18"),
		ok("osmchange: Empty create action", `<osmChange><create/></osmChange>`),
		ok("osmchange: Empty modify action", `<osmChange><modify/></osmChange>`),
		ok("osmchange: Empty delete action", `<osmChange><delete/></osmChange>`),
		exact("osmchange: create invalid object", `<osmChange><create><bla/></create></osmChange>`, 400, KindUnknownElement,
			"Unknown element bla, expecting node, way or relation at line 1, column 24"),

		bad("Create empty node without details", create(`<node/>`), KindIDMissing),
		bad("Create node, details except changeset info missing", create(`<node changeset="123"/>`), KindIDMissing),
		bad("Create node, lat lon missing", create(`<node changeset="123" id="-1"/>`), KindNodeIncomplete),
		bad("Create node, lat missing", create(`<node changeset="858" id="-1" lon="2"/>`), KindNodeIncomplete),
		bad("Create node, lon missing", create(`<node changeset="858" id="-1" lat="2"/>`), KindNodeIncomplete),
		bad("Create node, changeset missing (id only)", create(`<node id="-1" lat="1" lon="2"/>`), KindChangesetMissing),
		exact("Create node, changeset missing", create(`<node id="-1" lat="-90.00" lon="-180.00"/>`), 400, KindChangesetMissing,
			"Changeset id is missing for Node -1 at line 1, column 60"),
		bad("Create node, redefined lat attribute", create(`<node changeset="858" id="-1" lat="-90.00" lon="-180.00" lat="20"/>`), KindBadXML),
		bad("Create node, positive placeholder id", create(`<node changeset="858" id="1234" lat="-90.00" lon="-180.00" lat="20"/>`), KindBadXML),
		ok("Create valid node 90/180", create(`<node changeset="858" id="-1" lat="90.00" lon="180.00"/>`)),
		ok("Create valid node -90/-180", create(`<node changeset="858" id="-1" lat="-90.00" lon="-180.00"/>`)),
		bad("Modify node, missing version", `<osmChange><modify><node changeset="858" id="123" lat="90.00" lon="180.00"/></modify></osmChange>`, KindVersionMissing),
		bad("Modify node, invalid version", `<osmChange><modify><node changeset="858" version="0" id="123"/></modify></osmChange>`, KindVersionInvalid),
		exact("Modify node, invalid, negative version", `<osmChange><modify><node changeset="858" version="-1" id="123"/></modify></osmChange>`, 400,
			KindVersionNegative, "Version may not be negative at line 1, column 63"),
		ok("Delete node", `<osmChange><delete><node changeset="858" version="1" id="123"/></delete></osmChange>`),
		ok("Delete node, if-unused", `<osmChange><delete if-unused="true"><node changeset="858" version="1" id="123"/></delete></osmChange>`),
		bad("Delete node, missing version", `<osmChange><delete><node changeset="858" id="123"/></delete></osmChange>`, KindVersionMissing),
		bad("Delete node, invalid version", `<osmChange><delete><node changeset="858" version="0" id="123"/></modify></osmChange>`, KindVersionInvalid),
		bad("Delete node, missing id", `<osmChange><delete><node changeset="858" version="1"/></modify></osmChange>`, KindIDMissing),
		bad("Create node, extra xml nested inside tag", create(`<node changeset="858" id="-1" lat="-90.00" lon="-180.00">
        <tag k="1" v="2"><blubb/></tag></node>`), KindNestedTooDeep),
		bad("Create node, empty tag key", create(`<node changeset="858" id="-1" lat="-1" lon="2">
        <tag k="" v="value"/></node>`), KindKeyEmpty),
		ok("Create node, empty tag value", create(`<node changeset="858" id="-1" lat="-1" lon="2">
        <tag k="key" v=""/></node>`)),
		exact("Create node, duplicate key dup1", create(`<node changeset="858" id="-1" lat="-1" lon="2">
                       <tag k="key1" v="value1"/>
                       <tag k="dup1" v="value2"/>
                       <tag k="dup1" v="value3"/>
                       <tag k="key3" v="value4"/>
                       </node>`), 400, KindDuplicateTag, "Node -1 has duplicate tags with key dup1 at line 4, column 48"),
		bad("Create node, tag without value", create(`<node changeset="858" id="-1" lat="-1" lon="2">
                       <tag k="key"/></node>`), KindTagVMissing),
		bad("Create node, tag without key", create(`<node changeset="858" id="-1" lat="-1" lon="2">
                       <tag v="value"/></node>`), KindTagKMissing),
		exact("Create node, tag value with > 255 unicode characters", create(`<node changeset="858" id="-1" lat="-1" lon="2">
                           <tag k="key" v="`+strings.Repeat(emoji, 256)+`"/></node>`), 400, KindValueTooLong,
			"Value has more than 255 unicode characters in Node -1 at line 2, column 301"),
		exact("Create node, tag key with > 255 unicode characters", create(`<node changeset="858" id="-1" lat="-1" lon="2">
                           <tag k="`+strings.Repeat(emoji, 256)+`" v="value"/></node>`), 400, KindKeyTooLong,
			"Key has more than 255 unicode characters in Node -1 at line 2, column 303"),
		ok("Create valid node, tag value with ampersand character", `
     <osmChange version="0.6" generator="JOSM">
     <create>
       <node id='-39094' changeset='1135' lat='40.72184689864' lon='-73.99968913726'>
         <tag k='amenity' v='cafe' />
         <tag k='cuisine' v='coffee_shop' />
         <tag k='description' v='&quot;Project Cozy is the latest addition to Nolita serving La Colombe coffee, specialty drinks like the Cozy Mint Coffee and Charcoal Latte, fresh &amp; made to order juices and smoothies, sandwiches, and pastries by Bibble &amp; Sip, a renowned bakery in Midtown&quot;' />
       </node>
     </create>
     </osmChange>
    `),

		bad("Modify node, invalid version number", `<osmChange><modify><node changeset="858" version="a" id="123"/></modify></osmChange>`, KindVersionNotNumeric),
		bad("Modify node, version too large", `<osmChange><modify><node changeset="858" version="999999999999999999999999999999999999" id="123"/></modify></osmChange>`, KindVersionTooLarge),
		bad("Modify node, version negative", `<osmChange><modify><node changeset="858" version="-1" id="123"/></modify></osmChange>`, KindVersionNegative),
		bad("Create node, invalid changeset number", create(`<node changeset="a"/>`), KindChangesetNotNumeric),
		bad("Create node, changeset number too large", create(`<node changeset="999999999999999999999999999999999999" id="-1" lat="1" lon="0"/>`), KindChangesetTooLarge),
		bad("Create node, changeset number zero", create(`<node changeset="0" id="-1" lat="1" lon="0"/>`), KindChangesetNotPos),
		bad("Create node, changeset number negative", create(`<node changeset="-1" id="-1" lat="1" lon="0"/>`), KindChangesetNotPos),
		bad("Create node, longitude not numeric", create(`<node changeset="858" id="-1" lat="90.00" lon="a"/>`), KindLonNotNumeric),
		bad("Create node, latitude not numeric", create(`<node changeset="858" id="-1" lat="a" lon="0"/>`), KindLatNotNumeric),
		bad("Create node, invalid id", create(`<node id="a" changeset="1"/>`), KindIDNotNumeric),
		bad("Create node, id too large", create(`<node changeset="1" id="999999999999999999999999999999999999" lat="1" lon="0"/>`), KindIDTooLarge),
		bad("Create node, id zero", create(`<node changeset="1" id="0" lat="1" lon="0"/>`), KindIDZero),

		bad("Create way, no details", create(`<way/>`), KindIDMissing),
		bad("Create way, only changeset", create(`<way changeset="123"/>`), KindIDMissing),
		exact("Create way, missing changeset", create(`<way id="-1"/>`), 400, KindChangesetMissing,
			"Changeset id is missing for Way -1 at line 1, column 32"),
		exact("Create way, missing node ref", create(`<way changeset="858" id="-1"/>`), http.StatusPreconditionFailed, KindWayWithoutNodes,
			"Precondition failed: Way -1 must have at least one node"),
		ok("Create way, with tags", create(`<way changeset="858" id="-1"><nd ref="-1"/><tag k="key" v="value"/></way>`)),
		bad("Create way, node ref not numeric", create(`<way changeset="858" id="-1"><nd ref="a"/><tag k="key" v="value"/></way>`), KindWayNodeNotNumeric),
		bad("Create way, node ref too large", create(`<way changeset="858" id="-1"><nd ref="999999999999999999999"/><tag k="key" v="value"/></way>`), KindWayNodeTooLarge),
		bad("Create way, invalid zero node ref", create(`<way changeset="858" id="-1"><nd ref="0"/><tag k="key" v="value"/></way>`), KindWayNodeZero),
		bad("Create way, node ref missing", create(`<way changeset="858" id="-1"><nd ref="1"/><nd /><tag k="key" v="value"/></way>`), KindNdRefMissing),
		bad("Create way, positive placeholder id", create(`<way changeset="858" id="1234"><nd ref="-1"/><tag k="key" v="value"/></way>`), KindPlaceholderNotNeg),
		bad("Delete way, no version", `<osmChange><delete><way changeset="858" id="-1"/></delete></osmChange>`, KindVersionMissing),
		exact("Delete way, no id", `<osmChange><delete><way changeset="858" version="1"/></delete></osmChange>`, 400, KindIDMissing,
			"Mandatory field id missing in object at line 1, column 52"),
		exact("Delete way, no changeset", `<osmChange><delete><way id="-1" version="1"/></delete></osmChange>`, 400, KindChangesetMissing,
			"Changeset id is missing for Way -1 at line 1, column 44"),
		ok("Delete way", `<osmChange><delete><way changeset="858" id="-1" version="1"/></delete></osmChange>`),

		bad("Create relation, id missing", create(`<relation changeset="972"><member type="node" ref="1" role="stop"/></relation>`), KindIDMissing),
		bad("Create relation, positive placeholder id", create(`<relation changeset="972" id="1234"><member type="node" ref="1" role="stop"/></relation>`), KindPlaceholderNotNeg),
		bad("Create relation, member ref missing", create(`<relation changeset="972" id="-1"><member type="node" role="stop"/></relation>`), KindMemberRefMissing),
		ok("Create relation, no member role", create(`<relation changeset="972" id="-1"><member type="node" ref="-1"/></relation>`)),
		bad("Create relation, member type missing", create(`<relation changeset="972" id="-1"><member role="stop" ref="-1"/></relation>`), KindMemberTypeMissing),
		bad("Create relation, invalid member type", create(`<relation changeset="972" id="-1"><member type="bla" role="stop" ref="-1"/></relation>`), KindMemberTypeInvalid),
		bad("Create relation, invalid member ref", create(`<relation changeset="972" id="-1"><member type="node" ref="a" role="stop"/></relation>`), KindMemberRefNotNumeric),
		bad("Create relation, invalid member ref zero", create(`<relation changeset="972" id="-1"><member type="way" ref="0" role="stop"/></relation>`), KindMemberRefZero),
		bad("Create relation, member ref too large", create(`<relation changeset="972" id="-1">
           <member type="relation" ref="99999999999999999999999999999999" role="stop"/>
           </relation>`), KindMemberRefTooLarge),
		exact("Create relation, role with > 255 unicode characters", create(`<relation changeset="858" id="-1">
                           <member type="node" role="`+strings.Repeat(emoji, 256)+`" ref="123"/>
                  </relation>`), 400, KindRoleTooLong, "Relation Role has more than 255 unicode characters at line 2, column 321"),
		exact("Delete relation, no version", `<osmChange><delete><relation changeset="972" id="-1"/></delete></osmChange>`, 400, KindVersionMissing,
			"Version is required when updating Relation -1 at line 1, column 53"),
		exact("Delete relation, no id", `<osmChange><delete><relation changeset="972" version="1"/></delete></osmChange>`, 400, KindIDMissing,
			"Mandatory field id missing in object at line 1, column 57"),
		ok("Delete relation", `<osmChange><delete><relation changeset="972" id="123456" version="1"/></delete></osmChange>`),
		bad("Invalid data", "\x3C\x00\x00\x00\x00\x0A\x01\x00", KindBadXML),
	}
	for _, v := range []string{"90.01", "-90.01"} {
		cases = append(cases, bad("Create node, lat outside range "+v, create(`<node changeset="858" id="-1" lat="`+v+`" lon="2"/>`), KindLatRange))
	}
	for _, v := range []string{"180.01", "-180.01"} {
		cases = append(cases, bad("Create node, lon outside range "+v, create(`<node changeset="858" id="-1" lat="90.00" lon="`+v+`"/>`), KindLonRange))
	}
	for _, v := range []string{"9999999999999999999999999999999999999999999999.01", "-9999999999999999999999999999999999999999999999.01"} {
		cases = append(cases,
			bad("Create node, lat float overflow "+v[:2], create(`<node changeset="858" id="-1" lat="`+v+`" lon="2"/>`), KindLatRange),
			bad("Create node, lon float overflow "+v[:2], create(`<node changeset="858" id="-1" lat="90.00" lon="`+v+`"/>`), KindLonRange))
	}
	// cgimap's GENERATE has a typo that makes its list nan, -nan and a
	// literal `Inf), R"(-Inf`; nan is not finite, ±Inf is out of range.
	for _, v := range []string{"nan", "-nan", "NaN"} {
		cases = append(cases,
			bad("Create node, lat non-finite float "+v, create(`<node changeset="858" id="-1" lat="`+v+`" lon="2"/>`), KindLatNotFinite),
			bad("Create node, lon non-finite float "+v, create(`<node changeset="858" id="-1" lat="90.00" lon="`+v+`"/>`), KindLonNotFinite))
	}
	for _, v := range []string{"Inf", "-Inf", "infinity"} {
		cases = append(cases, bad("Create node, lat infinite "+v, create(`<node changeset="858" id="-1" lat="`+v+`" lon="2"/>`), KindLatRange))
	}
	return cases
}

func readAllString(body string, limits Limits) ([]*Operation, error) {
	return ReadAll(NewReader(strings.NewReader(body), limits))
}

func TestCgimapOsmChangeCases(t *testing.T) {
	for _, c := range cgimapCases() {
		t.Run(c.name, func(t *testing.T) {
			_, err := readAllString(c.body, Limits{})
			checkOutcome(t, err, c)
		})
	}
}

func checkOutcome(t *testing.T, err error, c cgimapCase) {
	t.Helper()
	if c.ok {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want a %s error, got %v", c.kind, err)
	}
	if e.Status != c.status || e.Kind != c.kind {
		t.Fatalf("got %d %s %q, want %d %s", e.Status, e.Kind, e.Message, c.status, c.kind)
	}
	if c.message != "" && e.Message != c.message {
		t.Fatalf("message\n got %q\nwant %q", e.Message, c.message)
	}
}

// TestCgimapStringLengths: every length up to 255 characters passes,
// 256 fails (cgimap "Create node, tag value with <= 255 unicode
// characters" and friends).
func TestCgimapStringLengths(t *testing.T) {
	for _, n := range []int{0, 1, 254, 255} {
		v := strings.Repeat(emoji, n)
		key := v
		if n == 0 {
			key = "key"
		}
		body := `<osmChange><create><node changeset="858" id="-1" lat="-1" lon="2"><tag k="` + key + `" v="` + v + `"/></node>` +
			`<relation changeset="858" id="-1"><member type="node" role="` + v + `" ref="123"/></relation></create></osmChange>`
		ops, err := readAllString(body, Limits{})
		if err != nil {
			t.Fatalf("%d characters refused: %v", n, err)
		}
		if got := ops[1].Element.Members[0].Role; got != v {
			t.Fatalf("role of %d characters read as %d bytes", n, len(got))
		}
	}
}

// TestCgimapWayNodeLimit: cgimap "Create way, node refs < max way nodes"
// and "… >= max way nodes", with the count of every node in the text.
func TestCgimapWayNodeLimit(t *testing.T) {
	var refs strings.Builder
	body := func() string {
		return `<osmChange><create><way changeset="858" id="-1">` + refs.String() + `</way></create></osmChange>`
	}
	for i := 1; i <= DefaultMaxWayNodes; i++ {
		fmt.Fprintf(&refs, `<nd ref="-%d"/>`, i)
	}
	ops, err := readAllString(body(), Limits{})
	if err != nil || len(ops[0].Element.Nodes) != DefaultMaxWayNodes || ops[0].Element.Nodes[1999] != -2000 {
		t.Fatalf("a way of 2000 nodes: %v", err)
	}
	for j := DefaultMaxWayNodes + 1; j < DefaultMaxWayNodes+10; j++ {
		fmt.Fprintf(&refs, `<nd ref="-%d"/>`, j)
		_, err := readAllString(body(), Limits{})
		checkOutcome(t, err, cgimapCase{status: 400, kind: KindTooManyWayNodes,
			message: fmt.Sprintf("You tried to add %d nodes to way -1, however only 2000 are allowed", j)})
	}
	// A deleted way's nodes are not counted (cgimap Way::is_valid).
	deleted := strings.Replace(strings.Replace(body(), "create", "delete", 2), `id="-1"`, `id="5" version="1"`, 1)
	if _, err := readAllString(deleted, Limits{}); err != nil {
		t.Fatalf("delete of a long way: %v", err)
	}
}

// TestCgimapTagAndMemberLimits: "Create node, tags < max tags" / ">= max
// tags" with element_max_tags 50, and "Create relation, members <
// max members" / ">= max members" with 32000.
func TestCgimapTagAndMemberLimits(t *testing.T) {
	limits := Limits{MaxTags: 50}
	var tags strings.Builder
	for i := 1; i <= 50; i++ {
		fmt.Fprintf(&tags, "<tag k='amenity_%d' v='cafe' />", i)
	}
	node := func() string {
		return `<osmChange><create><node changeset="858" id="-1" lat="-1" lon="2">` + tags.String() + `</node></create></osmChange>`
	}
	if _, err := readAllString(node(), limits); err != nil {
		t.Fatalf("50 tags: %v", err)
	}
	for j := 51; j < 60; j++ {
		fmt.Fprintf(&tags, "<tag k='amenity_%d' v='cafe' />", j)
		_, err := readAllString(node(), limits)
		checkOutcome(t, err, cgimapCase{status: 400, kind: KindTooManyTags})
		if !strings.HasPrefix(err.Error(), "OSM element exceeds limit of 50 tags at line 1, column ") {
			t.Fatalf("text %q", err)
		}
	}
	members := strings.Repeat(`<member type="node" role="demo" ref="123"/>`, DefaultMaxRelationMembers)
	relation := func() string {
		return `<osmChange><create><relation changeset="858" id="-1">` + members + `"</relation></create></osmChange>`
	}
	ops, err := readAllString(relation(), Limits{})
	if err != nil || len(ops[0].Element.Members) != DefaultMaxRelationMembers {
		t.Fatalf("32000 members: %v", err)
	}
	members += `<member type="node" role="demo" ref="123"/>`
	_, err = readAllString(relation(), Limits{})
	checkOutcome(t, err, cgimapCase{status: 400, kind: KindTooManyMembers,
		message: "You tried to add 32001 members to relation -1, however only 32000 are allowed"})
}

// TestCgimapVeryLargeMessage: cgimap "Very large XML message", 99,999
// operations in alternating blocks, read in document order.
func TestCgimapVeryLargeMessage(t *testing.T) {
	var s strings.Builder
	s.WriteString("<osmChange>")
	for i := 1; i < 100000; i++ {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&s, `<create><node changeset="123" lat="1" lon="2" id="-%d"><tag k="some key" v="some value"/></node></create>`, i)
		case 1:
			fmt.Fprintf(&s, `<modify><node changeset="234" version="1" lat="1" lon="2" id="%d"><tag k="some key" v="some value"/></node></modify>`, i)
		case 2:
			fmt.Fprintf(&s, `<delete><node changeset="456" version="1" id="%d"></node></delete>`, i)
		}
	}
	s.WriteString("</osmChange>")
	r := NewReader(strings.NewReader(s.String()), Limits{})
	for i := 1; i < 100000; i++ {
		op, err := r.Next()
		if err != nil {
			t.Fatalf("operation %d: %v", i, err)
		}
		want := [...]Action{Create, Modify, Delete}[i%3]
		id := int64(i)
		if want == Create {
			id = -id
		}
		if op.Action != want || op.Element.ID != id {
			t.Fatalf("operation %d is %s %d, want %s %d", i, op.Action, op.Element.ID, want, id)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last operation: %v", err)
	}
}
