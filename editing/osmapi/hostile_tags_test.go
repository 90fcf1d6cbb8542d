package osmapi

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmchange"
	"github.com/geocommuns/geocommuns/review"
)

// Issue 9: tag keys and values a hostile or careless client sends
// round-trip exactly, or are refused with a 400 naming the element or
// the line, and nothing of the upload is staged.

// hostileTags are accepted: each must read back byte for byte, in every
// read and after the merge. Keys are unique across the list, so that one
// node can carry them all.
var hostileTags = []osmdata.Tag{
	{Key: `quote"'key`, Value: `it's "quoted" and 'single'`},
	{Key: `<tag k="x"/>&amp;`, Value: `</osm><osm>&lt;&#0;]]><!-- -->`},
	{Key: "name'); DELETE FROM current_tags; --", Value: "'; DROP TABLE nodes; --"},
	{Key: `C:\dir\"x"\\`, Value: `\x00\u0000\0\n\'`},
	{Key: "format %s %d", Value: "%n %x %v %%"},
	{Key: "tabs\tand\nlines", Value: "line1\nline2\ttab\r\nCRLF\r end"},
	{Key: " padded ", Value: "  two spaces each side  "},
	{Key: "name:ar", Value: "\u200fشارع الملك فهد\u200f"},
	{Key: "name:he", Value: "\u202bרחוב הרצל 12\u202c"},
	{Key: "\u202eoverride\u202c", Value: "\u2067עברית\u2069 and English \u2066mixed\u2069 \u061c"},
	// Precomposed and combining: the same text to a reader, two keys to
	// the API (no normalization).
	{Key: "café", Value: "e\u0301"},
	{Key: "cafe\u0301", Value: "é"},
	{Key: "emoji", Value: "👩\u200d👩\u200d👧\u200d👦 🇫🇷 👍🏽 ❤\ufe0f 𝕏"},
	{Key: "invisible", Value: "\u200b\ufeff\u2028\u2029\u00ad"},
	{Key: "edges of XML", Value: "\U0010FFFF\ufdd0\ue000\ufffd\u007f\u0085"},
	{Key: "empty"},
	{Key: strings.Repeat("k", 255), Value: strings.Repeat("v", 255)},
	{Key: strings.Repeat("ש", 255), Value: strings.Repeat("😎", 255)},
	{Key: "edge", Value: strings.Repeat("a", 254) + "😎"},
}

// xmlAttr writes s as a client may: raw UTF-8 with the markup and
// whitespace escaped (literal tabs and newlines would be normalized to
// spaces by any XML parser), or every character outside printable ASCII
// as a character reference, in single quotes.
func xmlAttr(s string, references bool) string {
	var b strings.Builder
	quote := '"'
	if references {
		quote = '\''
	}
	b.WriteRune(quote)
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == quote && references:
			b.WriteString("&apos;")
		case r == quote:
			b.WriteString("&quot;")
		case r == '\t' || r == '\n' || r == '\r':
			fmt.Fprintf(&b, "&#%d;", r)
		case references && (r < 0x20 || r >= 0x7f):
			fmt.Fprintf(&b, "&#x%X;", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteRune(quote)
	return b.String()
}

func tagElements(tags osmdata.Tags, references bool) string {
	var b strings.Builder
	for _, t := range tags {
		fmt.Fprintf(&b, "\n  <tag k=%s v=%s/>", xmlAttr(t.Key, references), xmlAttr(t.Value, references))
	}
	return b.String()
}

// The nodes sit in their own box, away from the test dataset.
const (
	hostileBox     = "19.99,9.99,20.2,10.2"
	hostileLat     = 10.0
	hostileLon     = 20.0
	refusedBox     = "20.9,10.9,21.1,11.1"
	refusedLatLon  = `lat="11" lon="21"`
	hostileNodeGap = 0.001
)

// TestHostileTagsRoundTrip uploads every hostile tag through an
// osmChange upload and PUT /node/create, in both encodings, plus one node
// holding them all; reads each back as its author (pending), merges the
// changeset with the merge job, and reads each back anonymously from
// every call that returns it.
func TestHostileTagsRoundTrip(t *testing.T) {
	keys := map[string]bool{}
	for _, tag := range hostileTags {
		if keys[tag.Key] {
			t.Fatalf("key %q twice in hostileTags", tag.Key)
		}
		keys[tag.Key] = true
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newEditServer(t, b, nil)
			tala := s.trustedContributor("tala")
			cs := s.openChangeset(tala, "comment", "hostile tags")
			want := map[int64]osmdata.Tags{}

			// The upload: one node per tag and encoding, and one with all.
			var doc strings.Builder
			fmt.Fprintf(&doc, `<osmChange version="0.6"><create>`)
			var uploaded []osmdata.Tags
			placeholder := 0
			node := func(tags osmdata.Tags, references bool) {
				placeholder++
				lat := hostileLat + float64(placeholder)*hostileNodeGap
				fmt.Fprintf(&doc, "\n<node id=\"-%d\" changeset=\"%d\" lat=\"%g\" lon=\"%g\">%s\n</node>", placeholder, cs, lat, hostileLon, tagElements(tags, references))
				uploaded = append(uploaded, tags)
			}
			for _, references := range []bool{false, true} {
				for _, tag := range hostileTags {
					node(osmdata.Tags{tag}, references)
				}
			}
			node(hostileTags, false)
			doc.WriteString("\n</create></osmChange>")
			r := s.call(tala, http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/upload", cs), []byte(doc.String()), "Content-Type", "text/xml")
			if r.status != http.StatusOK {
				t.Fatalf("upload of the hostile tags: %s", r)
			}
			diff := parseDiffResult(t, r.body)
			if len(diff) != len(uploaded) {
				t.Fatalf("diffResult has %d lines for %d nodes", len(diff), len(uploaded))
			}
			for i, l := range diff {
				want[newID(t, l)] = uploaded[i]
			}

			// PUT /node/create, one node per tag and encoding.
			for _, references := range []bool{false, true} {
				for i, tag := range hostileTags {
					lat := hostileLat + 0.1 + float64(i)*hostileNodeGap
					if references {
						lat += 0.05
					}
					body := fmt.Sprintf("<osm>\n<node changeset=\"%d\" lat=\"%g\" lon=\"%g\">%s\n</node>\n</osm>", cs, lat, hostileLon, tagElements(osmdata.Tags{tag}, references))
					r := s.call(tala, http.MethodPut, "/api/0.6/node/create", []byte(body), "Content-Type", "text/xml")
					if r.status != http.StatusOK {
						t.Fatalf("PUT /node/create with %q=%q (references %v): %s", tag.Key, tag.Value, references, r)
					}
					id, err := strconv.ParseInt(string(r.body), 10, 64)
					if err != nil {
						t.Fatalf("PUT /node/create answered %q", r.body)
					}
					want[id] = osmdata.Tags{tag}
				}
			}

			// Pending: the author reads them through the overlay.
			s.checkHostileReads(t, tala, want, false)

			// What must be refused leaves the changeset as it was.
			staged := s.changesCount(tala, cs)
			s.checkRefusedTags(t, tala, cs)
			if got := s.changesCount(tala, cs); got != staged {
				t.Errorf("the refused bodies changed the changeset's changes from %d to %d", staged, got)
			}
			if r, d := s.get(tala, "/api/0.6/map?bbox="+refusedBox); r.status != http.StatusOK || len(d.elements) != 0 {
				t.Errorf("the refused bodies' nodes are visible to their author: %s", r)
			}

			// Merged by the merge job, read by anyone.
			s.closeChangeset(tala, cs)
			job := review.NewMergeJob(s.store, review.TrustedAuthors{}, time.Hour, nil)
			if n, err := job.Step(t.Context()); err != nil || n != 1 {
				t.Fatalf("merge job: %d merges, %v; want the changeset merged", n, err)
			}
			s.checkHostileReads(t, nil, want, true)
		})
	}
}

// checkHostileReads reads every node of want as who, from the element,
// multi-fetch and map calls in XML and JSON, and once merged from
// history, the version call and the changeset's download too.
func (s *editServer) checkHostileReads(t *testing.T, who *auth.Identity, want map[int64]osmdata.Tags, merged bool) {
	t.Helper()
	ids := make([]int64, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var idList []string
	for _, id := range ids {
		idList = append(idList, strconv.FormatInt(id, 10))
	}
	check := func(path string, only []int64) {
		t.Helper()
		r := s.call(who, http.MethodGet, path, nil)
		if r.status != http.StatusOK {
			t.Errorf("GET %s as %q: %s", path, nameOf(who), r)
			return
		}
		var got map[int64]osmdata.Tags
		if strings.Contains(path, ".json") {
			got = jsonNodeTags(t, r.body)
		} else {
			got = xmlNodeTags(t, r.body)
		}
		for _, id := range only {
			g, ok := got[id]
			switch {
			case !ok:
				t.Errorf("GET %s as %q: node %d missing", path, nameOf(who), id)
			case !sameTags(g, want[id], !strings.Contains(path, ".json")):
				t.Errorf("GET %s as %q: node %d has tags\n%q\nwant\n%q", path, nameOf(who), id, g, want[id])
			}
		}
	}
	for _, id := range ids {
		for _, suffix := range []string{"", ".json"} {
			check(fmt.Sprintf("/api/0.6/node/%d%s", id, suffix), []int64{id})
			if merged {
				check(fmt.Sprintf("/api/0.6/node/%d/history%s", id, suffix), []int64{id})
				check(fmt.Sprintf("/api/0.6/node/%d/1%s", id, suffix), []int64{id})
			}
		}
	}
	for _, suffix := range []string{"", ".json"} {
		check("/api/0.6/nodes"+suffix+"?nodes="+strings.Join(idList, ","), ids)
		check("/api/0.6/map"+suffix+"?bbox="+hostileBox, ids)
	}
	if merged {
		var cs int64
		if r := s.call(nil, http.MethodGet, fmt.Sprintf("/api/0.6/node/%d", ids[0]), nil); r.status == http.StatusOK {
			var doc struct {
				Nodes []struct {
					Changeset int64 `xml:"changeset,attr"`
				} `xml:"node"`
			}
			if err := xml.Unmarshal(r.body, &doc); err != nil || len(doc.Nodes) != 1 {
				t.Fatalf("node %d: %v\n%s", ids[0], err, r.body)
			}
			cs = doc.Nodes[0].Changeset
		}
		check(fmt.Sprintf("/api/0.6/changeset/%d/download", cs), ids)
	}
}

// sameTags compares exactly; in XML the order is the uploaded one too.
func sameTags(got, want osmdata.Tags, ordered bool) bool {
	if !ordered {
		got, want = slices.Clone(got), slices.Clone(want)
		byKey := func(a, b osmdata.Tag) int { return strings.Compare(a.Key, b.Key) }
		slices.SortFunc(got, byKey)
		slices.SortFunc(want, byKey)
	}
	return slices.Equal(got, want)
}

type xmlTaggedElement struct {
	XMLName xml.Name
	ID      int64    `xml:"id,attr"`
	Tags    []xmlTag `xml:"tag"`
}

type xmlTag struct {
	K string `xml:"k,attr"`
	V string `xml:"v,attr"`
}

// literalWhitespace finds attribute values holding a literal tab,
// newline or carriage return, which a conforming XML parser reads as a
// space (encoding/xml does not normalize, so it alone would not tell).
var literalWhitespace = regexp.MustCompile(`="[^"]*[\t\n\r][^"]*"`)

// xmlNodeTags reads the nodes of an <osm> document, or of an osmChange
// document's blocks.
func xmlNodeTags(t *testing.T, body []byte) map[int64]osmdata.Tags {
	t.Helper()
	if m := literalWhitespace.Find(body); m != nil {
		t.Errorf("an attribute value holds literal whitespace, which XML parsers normalize: %q", m)
	}
	var doc struct {
		XMLName  xml.Name
		Children []struct {
			XMLName  xml.Name
			ID       int64              `xml:"id,attr"`
			Tags     []xmlTag           `xml:"tag"`
			Elements []xmlTaggedElement `xml:",any"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("parse XML reply: %v\n%s", err, body)
	}
	var elements []xmlTaggedElement
	for _, c := range doc.Children {
		if doc.XMLName.Local == "osmChange" {
			elements = append(elements, c.Elements...)
		} else {
			elements = append(elements, xmlTaggedElement{XMLName: c.XMLName, ID: c.ID, Tags: c.Tags})
		}
	}
	got := map[int64]osmdata.Tags{}
	for _, e := range elements {
		if e.XMLName.Local != "node" {
			continue
		}
		if _, twice := got[e.ID]; twice {
			t.Errorf("node %d twice in the reply", e.ID)
		}
		tags := osmdata.Tags{}
		for _, tag := range e.Tags {
			tags = append(tags, osmdata.Tag{Key: tag.K, Value: tag.V})
		}
		got[e.ID] = tags
	}
	return got
}

func jsonNodeTags(t *testing.T, body []byte) map[int64]osmdata.Tags {
	t.Helper()
	if !utf8.Valid(body) {
		t.Errorf("JSON reply is not UTF-8")
	}
	var doc struct {
		Elements []struct {
			Type string            `json:"type"`
			ID   int64             `json:"id"`
			Tags map[string]string `json:"tags"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("parse JSON reply: %v\n%s", err, body)
	}
	got := map[int64]osmdata.Tags{}
	for _, e := range doc.Elements {
		if e.Type != "node" {
			continue
		}
		tags := osmdata.Tags{}
		for k, v := range e.Tags {
			tags = append(tags, osmdata.Tag{Key: k, Value: v})
		}
		got[e.ID] = tags
	}
	return got
}

// changesCount is the changeset's changes_count as its author reads it.
func (s *editServer) changesCount(who *auth.Identity, cs int64) int {
	s.t.Helper()
	r := s.call(who, http.MethodGet, fmt.Sprintf("/api/0.6/changeset/%d.json", cs), nil)
	if r.status != http.StatusOK {
		s.t.Fatalf("changeset %d: %s", cs, r)
	}
	var doc jsonChangesetDoc
	decodeJSON(s.t, r.body, &doc)
	return doc.Changeset.ChangesCount
}

// refusedTag is a <tag> a client must not get in: its attributes as
// sent, and the refusal as a golden row (args holding %s for the
// element's name, "Node -2" in the upload and "Node -1" in PUT).
type refusedTag struct {
	name  string
	attrs string
	kind  osmchange.Kind
	args  []string
}

var refusedTags = []refusedTag{
	{"NUL as a reference", `k="nul" v="a&#0;b"`, osmchange.KindBadXML, []string{"xmlParseCharRef: invalid xmlChar value 0"}},
	{"NUL in hex", `k="a&#x0;" v="b"`, osmchange.KindBadXML, []string{"xmlParseCharRef: invalid xmlChar value 0"}},
	{"NUL byte", "k=\"nul\" v=\"a\x00b\"", osmchange.KindBadXML, []string{"invalid character in attribute value"}},
	{"control as a reference", `k="bell" v="&#7;"`, osmchange.KindBadXML, []string{"xmlParseCharRef: invalid xmlChar value 7"}},
	{"control byte", "k=\"esc\" v=\"\x1b[31m\"", osmchange.KindBadXML, []string{"invalid character in attribute value"}},
	{"surrogate as a reference", `k="half" v="&#xD83D;"`, osmchange.KindBadXML, []string{"xmlParseCharRef: invalid xmlChar value 55357"}},
	{"U+FFFE as a reference", `k="bom" v="&#xFFFE;"`, osmchange.KindBadXML, []string{"xmlParseCharRef: invalid xmlChar value 65534"}},
	{"U+FFFF as UTF-8", "k=\"nonchar\" v=\"\xef\xbf\xbf\"", osmchange.KindBadXML, []string{"invalid character in attribute value"}},
	{"invalid UTF-8 byte", "k=\"latin1\" v=\"caf\xe9\"", osmchange.KindBadXML, []string{"Input is not proper UTF-8, indicate encoding !"}},
	{"invalid UTF-8 in the key", "k=\"\xff\xfe\" v=\"x\"", osmchange.KindBadXML, []string{"Input is not proper UTF-8, indicate encoding !"}},
	{"overlong UTF-8", "k=\"slash\" v=\"\xc0\xaf\"", osmchange.KindBadXML, []string{"Input is not proper UTF-8, indicate encoding !"}},
	{"surrogate as UTF-8", "k=\"half\" v=\"\xed\xa0\xbd\"", osmchange.KindBadXML, []string{"Input is not proper UTF-8, indicate encoding !"}},
	{"truncated UTF-8", "k=\"cut\" v=\"\xe2\x82\"", osmchange.KindBadXML, []string{"Input is not proper UTF-8, indicate encoding !"}},
	{"empty key", `k="" v="x"`, osmchange.KindKeyEmpty, []string{"%s"}},
	{"256-character key", `k="` + strings.Repeat("k", 256) + `" v="x"`, osmchange.KindKeyTooLong, []string{"%s"}},
	{"256-character key, 2 bytes each", `k="` + strings.Repeat("ש", 256) + `" v="x"`, osmchange.KindKeyTooLong, []string{"%s"}},
	{"256-character value", `k="long" v="` + strings.Repeat("v", 256) + `"`, osmchange.KindValueTooLong, []string{"%s"}},
	{"256 emoji", `k="long" v="` + strings.Repeat("😎", 256) + `"`, osmchange.KindValueTooLong, []string{"%s"}},
	{"256 characters as references", `k="long" v="` + strings.Repeat("&#x1F60E;", 255) + `a"`, osmchange.KindValueTooLong, []string{"%s"}},
	{"duplicate once decoded", `k="a&amp;b" v="1"/><tag k="a&#38;b" v="2"`, osmchange.KindDuplicateTag, []string{"%s", "a&b"}},
	{"k missing", `v="x"`, osmchange.KindTagKMissing, []string{"%s"}},
	{"v missing", `k="x"`, osmchange.KindTagVMissing, []string{"%s"}},
}

// checkRefusedTags sends each refused tag in an upload, after a node
// that alone would be accepted, and in PUT /node/create: each answer is
// a 400 with the golden text, naming the element where the text does,
// and the line of the tag.
func (s *editServer) checkRefusedTags(t *testing.T, who *auth.Identity, cs int64) {
	t.Helper()
	for _, c := range refusedTags {
		upload := fmt.Sprintf("<osmChange version=\"0.6\"><create>\n<node id=\"-1\" changeset=\"%d\" %s/>\n"+
			"<node id=\"-2\" changeset=\"%d\" %s>\n<tag %s/>\n</node></create></osmChange>", cs, refusedLatLon, cs, refusedLatLon, c.attrs)
		r := s.call(who, http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/upload", cs), []byte(upload), "Content-Type", "text/xml")
		c.check(t, "upload", r, "Node -2", 4)

		single := fmt.Sprintf("<osm>\n<node changeset=\"%d\" %s>\n<tag %s/>\n</node>\n</osm>", cs, refusedLatLon, c.attrs)
		r = s.call(who, http.MethodPut, "/api/0.6/node/create", []byte(single), "Content-Type", "text/xml")
		c.check(t, "PUT /node/create", r, "Node -1", 3)
	}
}

func (c refusedTag) check(t *testing.T, how string, r answer, element string, line int) {
	t.Helper()
	args := make([]any, len(c.args))
	for i, a := range c.args {
		args[i] = a
		if a == "%s" {
			args[i] = element
		}
	}
	t.Run(how+" "+c.name, func(t *testing.T) {
		parser(c.kind, "", args...).check(t, r)
		if at := fmt.Sprintf(" at line %d, column ", line); !strings.Contains(string(r.body), at) {
			t.Errorf("%q does not name line %d", r.body, line)
		}
	})
}
