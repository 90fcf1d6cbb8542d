package osmchange

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/geocommuns/geocommuns/osmdata"
)

// TestTagStringsRoundTrip is the property of issue 9 for tag strings,
// without a fuzzer: random keys and values, drawn from every class of
// character a hostile client sends (XML specials, quotes, SQL, controls,
// bidi marks, combining characters, emoji, non-characters, invalid
// UTF-8, lengths around 255), are
//   - sent by a client (as raw UTF-8 bytes, and as character
//     references): accepted exactly when the OSM API allows them, and
//     then read back unchanged;
//   - written by our writers (API XML, osmChange, JSON) and read again:
//     unchanged when the API allows them. What the API refuses and a
//     format cannot carry (invalid UTF-8; in XML also controls, U+FFFE
//     and U+FFFF) the writers replace with U+FFFD, so that their
//     documents stay well-formed: that only ever happens to strings a
//     client cannot get in (the first point, for the same string), and
//     nothing else of such a string changes.
func TestTagStringsRoundTrip(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 9))
	t.Logf("seed %d", seed)
	const count = 2000
	accepted := 0
	for i := 0; i < count; i++ {
		s := randomTagString(rng)
		for _, asKey := range []bool{true, false} {
			tag := osmdata.Tag{Key: "k", Value: s}
			if asKey {
				tag = osmdata.Tag{Key: s, Value: "v"}
			}
			allowed := allowedTagString(s, asKey)
			if allowed {
				accepted++
			}
			checkClientEncodings(t, tag, allowed)
			checkWriters(t, tag, allowed)
		}
	}
	// The generator must reach both sides of the rule, or the property
	// says nothing.
	if accepted < count/4 || accepted > 2*count-count/4 {
		t.Fatalf("%d of %d strings allowed: the generator misses one side", accepted, 2*count)
	}
}

// allowedTagString is the OSM API's rule, written from the XML 1.0
// specification (§2.2 Char) and cgimap's limits rather than from the
// parser: valid UTF-8, XML characters only, at most 255 characters, a
// key not empty.
func allowedTagString(s string, key bool) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 255 || (key && s == "") {
		return false
	}
	for _, r := range s {
		ok := r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
			(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
		if !ok {
			return false
		}
	}
	return true
}

// The classes of what a hostile tag string is made of; each entry is
// one unit, a few of them several characters or bytes.
var tagStringClasses = [][]string{
	// Printable ASCII is drawn separately; these are its dangerous ones.
	{`"`, `'`, `<`, `>`, `&`, `;`, `#`, `\`, `%`, `=`, "&amp;", "&#0;", "]]>", "--", "'; DROP TABLE nodes; --", `\"`, `\\`, `\u0000`, "%s"},
	{"\t", "\n", "\r", "\r\n", " "},
	{"\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\u0080", "\u0085", "\u009f"},
	{"\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u061c"},
	{"ش", "ا", "ر", "ع", "ל", "ה", "ר", "צ", "ש"},
	{"\u0301", "\u0300", "\u0327", "\u20d0", "e\u0301", "é", "\u200d", "\ufe0f"},
	{"😎", "👩\u200d👩\u200d👧", "🇫🇷", "👍🏽", "𝕏", "\U0001F600", "❤\ufe0f"},
	{"\ufeff", "\ufffd", "\ufdd0", "\ue000", "\U0010FFFF", "\u2028", "\u2029", "\U000EFFFF", "\uffef"},
	// Not UTF-8, or characters XML 1.0 excludes: a lone byte, an
	// overlong '/', a surrogate, a truncated sequence, past U+10FFFF,
	// U+FFFE and U+FFFF.
	{"\xff", "\xfe", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80", "\x80", "\xef\xbf\xbe", "\xef\xbf\xbf"},
}

// randomTagString draws a length (often at the 255 edge) and fills it,
// mostly from one or two classes so that whole strings stay valid often
// enough.
func randomTagString(rng *rand.Rand) string {
	lengths := []int{0, 1, 2, 3, 8, 40, 254, 255, 255, 256, 300}
	n := lengths[rng.IntN(len(lengths))]
	invalidClass := len(tagStringClasses) - 1
	controls := 2
	dirty := rng.IntN(4) == 0
	var b strings.Builder
	for runes := 0; runes < n; {
		var unit string
		switch c := rng.IntN(len(tagStringClasses) + 3); {
		case c >= len(tagStringClasses):
			unit = string(rune(' ' + rng.IntN('~'-' '+1)))
		case (c == invalidClass || c == controls) && !dirty:
			unit = string(rune('a' + rng.IntN(26)))
		default:
			class := tagStringClasses[c]
			unit = class[rng.IntN(len(class))]
		}
		b.WriteString(unit)
		runes += max(1, utf8.RuneCountInString(unit))
	}
	return b.String()
}

// clientDocument is an upload holding tag once, its strings escaped as
// a client may: raw UTF-8 bytes with only the XML specials escaped, or
// every character outside printable ASCII as a character reference.
func clientDocument(tag osmdata.Tag, references bool) []byte {
	escape := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == '"':
				b.WriteString("&quot;")
			case r == '&':
				b.WriteString("&amp;")
			case r == '<':
				b.WriteString("&lt;")
			case r == '\t' || r == '\n' || r == '\r':
				fmt.Fprintf(&b, "&#%d;", r)
			case references && (r < 0x20 || r >= 0x7f) && !(r == utf8.RuneError && n == 1):
				fmt.Fprintf(&b, "&#x%X;", r)
			default:
				// Raw, invalid bytes included: that is the attack.
				b.WriteString(s[i : i+n])
			}
			i += n
		}
		return b.String()
	}
	return []byte(`<osmChange version="0.6"><create><node id="-1" changeset="1" lat="1" lon="2">` +
		`<tag k="` + escape(tag.Key) + `" v="` + escape(tag.Value) + `"/></node></create></osmChange>`)
}

func checkClientEncodings(t *testing.T, tag osmdata.Tag, allowed bool) {
	t.Helper()
	for _, references := range []bool{false, true} {
		body := clientDocument(tag, references)
		ops, err := ReadAll(NewReader(bytes.NewReader(body), Limits{}))
		switch {
		case err != nil && allowed:
			t.Fatalf("tag %q=%q sent (references %v) refused: %v", tag.Key, tag.Value, references, err)
		case err == nil && !allowed:
			t.Fatalf("tag %q=%q sent (references %v) accepted as %q, want refused", tag.Key, tag.Value, references, ops[0].Element.Tags)
		case err != nil:
			checkRefusal(t, tag, err)
		default:
			checkSameTag(t, "sent by a client", tag, ops[0].Element.Tags)
		}
	}
}

// checkRefusal: a refusal is a 400 from the golden table, positioned.
func checkRefusal(t *testing.T, tag osmdata.Tag, err error) {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("tag %q=%q refused with %T %v, want an *Error", tag.Key, tag.Value, err, err)
	}
	if e.Status != 400 || e.Line == 0 {
		t.Fatalf("tag %q=%q refused with %d %q, want a 400 naming the line", tag.Key, tag.Value, e.Status, e.Message)
	}
}

func checkSameTag(t *testing.T, how string, want osmdata.Tag, got osmdata.Tags) {
	t.Helper()
	if len(got) != 1 || got[0].Key != want.Key || got[0].Value != want.Value {
		t.Fatalf("tag %q=%q %s, read back as %q", want.Key, want.Value, how, got)
	}
}

// checkWriters writes a node holding tag with each of our writers and
// reads it back: the two XML documents with our parser (as a PUT body
// and as an upload), the JSON with encoding/json.
func checkWriters(t *testing.T, tag osmdata.Tag, allowed bool) {
	t.Helper()
	node := osmdata.Element{Type: osmdata.Node, ID: 5, Version: 1, Changeset: 1, Visible: true, Lat: 10, Lon: 20,
		Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), UID: 1, User: "ana", Tags: osmdata.Tags{tag}}

	var apiXML bytes.Buffer
	w := osmdata.NewXMLWriter(&apiXML, osmdata.DocumentHeader{Generator: "test"})
	if err := w.WriteElement(&node); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	inXML := osmdata.Tag{Key: substituted(tag.Key, true), Value: substituted(tag.Value, true)}
	op, err := ReadElement(bytes.NewReader(apiXML.Bytes()), osmdata.Node, Modify, Limits{})
	checkWritten(t, "API XML", tag, inXML, err, func() osmdata.Tags { return op.Element.Tags })

	var osc bytes.Buffer
	cw := osmdata.NewChangeWriter(&osc, osmdata.DocumentHeader{Generator: "test"})
	if err := cw.WriteChange(osmdata.ActionModify, &node); err != nil {
		t.Fatal(err)
	}
	if err := cw.Close(); err != nil {
		t.Fatal(err)
	}
	ops, err := ReadAll(NewReader(bytes.NewReader(osc.Bytes()), Limits{}))
	checkWritten(t, "osmChange", tag, inXML, err, func() osmdata.Tags { return ops[0].Element.Tags })

	var js bytes.Buffer
	jw := osmdata.NewJSONWriter(&js, osmdata.DocumentHeader{Generator: "test"})
	if err := jw.WriteElement(&node); err != nil {
		t.Fatal(err)
	}
	if err := jw.Close(); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Elements []struct {
			Tags map[string]string `json:"tags"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil || len(doc.Elements) != 1 {
		t.Fatalf("tag %q=%q: the JSON writer wrote what encoding/json refuses (%v):\n%s", tag.Key, tag.Value, err, js.Bytes())
	}
	inJSON := osmdata.Tag{Key: substituted(tag.Key, false), Value: substituted(tag.Value, false)}
	if allowed && inJSON != tag {
		t.Fatalf("tag %q=%q is allowed but not what JSON carries", tag.Key, tag.Value)
	}
	if got := doc.Elements[0].Tags; len(got) != 1 || got[inJSON.Key] != inJSON.Value {
		t.Fatalf("tag %q=%q written as JSON, read back as %q, want %q", tag.Key, tag.Value, got, inJSON)
	}
}

// substituted is s as a format carries it: each byte that is not UTF-8
// and, in XML, each character XML 1.0 excludes, replaced by U+FFFD.
func substituted(s string, xmlChars bool) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || (xmlChars && !allowedTagString(string(r), false)) {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// checkWritten: a document of our writers is always well-formed; it
// reads back as carried (the tag itself when the API allows it), or is
// refused by the API's rules (empty key, over 255 characters).
func checkWritten(t *testing.T, how string, tag, carried osmdata.Tag, err error, tags func() osmdata.Tags) {
	t.Helper()
	readable := allowedTagString(carried.Key, true) && allowedTagString(carried.Value, false)
	if err != nil {
		e, ok := err.(*Error)
		if readable || !ok || e.Kind == KindBadXML {
			t.Fatalf("tag %q=%q written as %s, read back: %v", tag.Key, tag.Value, how, err)
		}
		return
	}
	if !readable {
		t.Fatalf("tag %q=%q written as %s is accepted back as %q, past the API's rules", tag.Key, tag.Value, how, tags())
	}
	checkSameTag(t, "written as "+how, carried, tags())
}
