package osmapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata/osmchange"
)

// wantError is an expected error answer: its status and its text, whole
// or as a prefix (where the text holds the current time or a parser
// position cgimap's tests do not give).
type wantError struct {
	status int
	text   string
	prefix bool
	source string
}

// goldenWant is the answer of an editing golden row.
func goldenWant(kind editing.ErrorKind, args ...any) wantError {
	g := editing.Golden[kind]
	text := g.Text
	if len(args) > 0 {
		text = fmt.Sprintf(g.Text, args...)
	}
	return wantError{status: g.Status, text: text, source: g.Source}
}

// parser is the answer of a parser golden row, with the position cgimap's
// test gives ("" when its test checks the status only: then the text is
// a prefix).
func parser(kind osmchange.Kind, position string, args ...any) wantError {
	g := osmchange.GoldenErrors[kind]
	text := g.Text
	if len(args) > 0 {
		text = fmt.Sprintf(g.Text, args...)
	}
	w := wantError{status: g.Status, text: text, source: g.Source}
	if position != "" {
		w.text += " at " + position
	} else {
		w.prefix = g.Positioned
	}
	return w
}

func (w wantError) check(t *testing.T, r answer) {
	t.Helper()
	if r.status != w.status {
		t.Fatalf("status %d, want %d (%s); body %q", r.status, w.status, w.source, r.body)
	}
	got := string(r.body)
	if w.status == http.StatusNotFound {
		// cgimap answers every not_found as an empty HTML document,
		// whatever its message (src/process_request.cpp respond_404).
		if len(r.body) != 0 || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("404 %q with body %q, want an empty text/html one", r.header.Get("Content-Type"), r.body)
		}
		return
	}
	if w.prefix && !strings.HasPrefix(got, w.text) || !w.prefix && got != w.text {
		t.Errorf("text %q\nwant %q (prefix %v)\nsource: %s", got, w.text, w.prefix, w.source)
	}
	if w.status != http.StatusUnauthorized && r.header.Get("Error") != strings.ReplaceAll(truncate(got, 250), "\n", " ") {
		t.Errorf("Error header %q, want the text", r.header.Get("Error"))
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func emojis(n int) string { return strings.Repeat("😎", n) }

// nodeRefs writes <nd ref="-1"/>… as cgimap's test builds them.
func nodeRefs(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `<nd ref="-%d"/>`, i)
	}
	return b.String()
}

func manyNodeCreates(n int) string {
	var b strings.Builder
	b.WriteString(`<osmChange version="0.6"><create>`)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `<node id="-%d" lat="1" lon="1" changeset="%%d"/>`, i)
	}
	b.WriteString(`</create></osmChange>`)
	return b.String()
}

// uploadErrorCase is one refused upload. prepare runs before it and may
// return values the document and the expectation use.
type uploadErrorCase struct {
	name    string
	who     *auth.Identity // ana when nil and !anonymous
	anon    bool
	osc     string
	prepare func(s *editServer, cs int64) []any
	want    func(cs int64, v []any) wantError
}

func fixedWant(w wantError) func(int64, []any) wantError {
	return func(int64, []any) wantError { return w }
}

var uploadErrorCases = []uploadErrorCase{
	{name: "version mismatch node",
		osc:  `<osmChange><modify><node id="6" version="5" lat="1" lon="1" changeset="%d"/></modify></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrVersionMismatch, 5, 1, "Node", 6))},
	{name: "version mismatch way",
		osc:  `<osmChange><modify><way id="3" version="7" changeset="%d"><nd ref="1"/></way></modify></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrVersionMismatch, 7, 1, "Way", 3))},
	{name: "closed changeset",
		osc: `<osmChange><create><node id="-1" lat="1" lon="1" changeset="%d"/></create></osmChange>`,
		prepare: func(s *editServer, cs int64) []any {
			if r := s.call(ana, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", cs), nil); r.status != http.StatusOK {
				s.t.Fatalf("close: %s", r)
			}
			c, err := s.store.Changeset(s.t.Context(), cs)
			if err != nil {
				s.t.Fatal(err)
			}
			return []any{c.ClosedAt.UTC().Format("2006-01-02 15:04:05 UTC")}
		},
		want: func(cs int64, v []any) wantError { return goldenWant(editing.ErrChangesetClosed, cs, v[0]) }},
	{name: "not the owner", who: bo,
		osc:  `<osmChange><create><node id="-1" lat="1" lon="1" changeset="%d"/></create></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrChangesetNotOwner))},
	{name: "changeset mismatch",
		osc:  `<osmChange><create><node id="-1" lat="1" lon="1" changeset="999999"/></create></osmChange>`,
		want: func(cs int64, _ []any) wantError { return goldenWant(editing.ErrChangesetMismatch, 999999, cs) }},
	{name: "node still used by ways",
		osc:  `<osmChange><delete><node id="1" version="1" changeset="%d"/></delete></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrNodeUsedByWays, 1, "1,3"))},
	{name: "node still used by a relation of the author's pending changes",
		osc: `<osmChange><delete><node id="%n" version="1" changeset="%d"/></delete></osmChange>`,
		prepare: func(s *editServer, cs int64) []any {
			other := s.openChangeset(ana)
			d := s.mustUpload(ana, other, `<osmChange><create><node id="-1" lat="2" lon="2" changeset="%d"/>
				<relation id="-1" changeset="%d"><member type="node" ref="-1" role=""/></relation></create></osmChange>`)
			return []any{newID(s.t, d[0]), newID(s.t, d[1])}
		},
		want: func(_ int64, v []any) wantError {
			return goldenWant(editing.ErrNodeUsedByRelations, v[0], fmt.Sprint(v[1]))
		}},
	{name: "way still used by relations",
		osc:  `<osmChange><delete><way id="1" version="1" changeset="%d"/></delete></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrWayUsedByRelations, 1, "1,6"))},
	{name: "relation used in relations",
		osc:  `<osmChange><delete><relation id="1" version="1" changeset="%d"/></delete></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrRelationUsedByRelations, 1, "4"))},
	{name: "way node missing or deleted",
		osc:  `<osmChange><create><way id="-1" changeset="%d"><nd ref="424242"/><nd ref="3"/></way></create></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrWayNodesMissing, -1, "3,424242"))},
	{name: "relation member deleted",
		osc:  `<osmChange><create><relation id="-1" changeset="%d"><member type="way" ref="2" role=""/></relation></create></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrRelationMembersMissing, -1, "ways", "2"))},
	{name: "already deleted",
		osc:  `<osmChange><delete><node id="3" version="2" changeset="%d"/></delete></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrAlreadyDeleted, "node", 3))},
	{name: "unknown node",
		osc:  `<osmChange><modify><node id="424242" version="1" lat="1" lon="1" changeset="%d"/></modify></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrNodesNotFound, "424242"))},
	{name: "unknown way",
		osc:  `<osmChange><delete><way id="424242" version="1" changeset="%d"/></delete></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrWaysNotFound, "424242"))},
	{name: "unknown relation",
		osc:  `<osmChange><delete><relation id="424242" version="1" changeset="%d"/></delete></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrRelationsNotFound, "424242"))},
	{name: "unknown placeholder in a way",
		osc:  `<osmChange><create><way id="-1" changeset="%d"><nd ref="-5"/></way></create></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrPlaceholderUnknownRef, "node", -5, "way", -1))},
	{name: "placeholder used before its create",
		osc: `<osmChange><create><way id="-1" changeset="%d"><nd ref="-1"/></way>
			<node id="-1" lat="1" lon="1" changeset="%d"/></create></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrPlaceholderUnknownRef, "node", -1, "way", -1))},
	{name: "relation member placeholder of another type",
		osc: `<osmChange><create><node id="-4" lat="1" lon="1" changeset="%d"/>
			<relation id="-3" changeset="%d"><member type="relation" ref="-4" role=""/></relation></create></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrPlaceholderUnknownRef, "relation", -4, "relation", -3))},
	{name: "unknown placeholder modified",
		osc:  `<osmChange><modify><node id="-7" version="1" lat="1" lon="1" changeset="%d"/></modify></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrPlaceholderUnknownElement, "node", -7))},
	{name: "placeholder created twice",
		osc: `<osmChange><create><node id="-1" lat="1" lon="1" changeset="%d"/>
			<node id="-1" lat="2" lon="2" changeset="%d"/></create></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrPlaceholderDuplicate))},
	{name: "bad XML: unknown action", osc: `<osmChange><dummy/></osmChange>`,
		want: fixedWant(parser(osmchange.KindUnknownAction, "line 1, column 18", "dummy"))},
	{name: "bad XML: unknown element", osc: `<osmChange><create><bla/></create></osmChange>`,
		want: fixedWant(parser(osmchange.KindUnknownElement, "line 1, column 24", "bla"))},
	{name: "bad XML: not well-formed", osc: `<osmChange><create>`,
		want: fixedWant(wantError{status: http.StatusBadRequest, prefix: true, source: "cgimap test_parse_osmchange_xml_input.cpp \"Invalid XML\" (status only)"})},
	{name: "latitude out of range",
		osc:  `<osmChange><create><node changeset="858" id="-1" lat="90.01" lon="2"/></create></osmChange>`,
		want: fixedWant(parser(osmchange.KindLatRange, ""))},
	{name: "longitude out of range",
		osc:  `<osmChange><create><node changeset="858" id="-1" lat="90.00" lon="-180.01"/></create></osmChange>`,
		want: fixedWant(parser(osmchange.KindLonRange, ""))},
	{name: "tag key over 255 characters",
		osc: `<osmChange><create><node changeset="858" id="-1" lat="-1" lon="2">
                           <tag k="` + emojis(256) + `" v="value"/></node></create></osmChange>`,
		want: fixedWant(parser(osmchange.KindKeyTooLong, "line 2, column 303", "Node -1"))},
	{name: "tag value over 255 characters",
		osc: `<osmChange><create><node changeset="858" id="-1" lat="-1" lon="2">
                           <tag k="key" v="` + emojis(256) + `"/></node></create></osmChange>`,
		want: fixedWant(parser(osmchange.KindValueTooLong, "line 2, column 301", "Node -1"))},
	{name: "role over 255 characters",
		osc: `<osmChange><create><relation changeset="858" id="-1">
                           <member type="node" role="` + emojis(256) + `" ref="123"/>
                  </relation></create></osmChange>`,
		want: fixedWant(parser(osmchange.KindRoleTooLong, "line 2, column 321"))},
	{name: "way over 2,000 nodes",
		osc:  `<osmChange><create><way changeset="858" id="-1">` + nodeRefs(2001) + `</way></create></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrTooManyWayNodes, 2001, -1, 2000))},
	{name: "way without nodes",
		osc:  `<osmChange><create><way changeset="858" id="-1"/></create></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrWayWithoutNodes, -1))},
	{name: "more than 10,000 changes", osc: manyNodeCreates(10001),
		want: func(cs int64, _ []any) wantError {
			w := goldenWant(editing.ErrChangesetFull, cs, "")
			w.prefix = true
			return w
		}},
	{name: "anonymous", anon: true,
		osc:  `<osmChange><create><node id="-1" lat="1" lon="1" changeset="%d"/></create></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrUnauthorized))},
	{name: "token without write_api", who: reader,
		osc:  `<osmChange><create><node id="-1" lat="1" lon="1" changeset="%d"/></create></osmChange>`,
		want: fixedWant(goldenWant(editing.ErrNoWritePermission))},
}

// TestUploadErrors sends every refused upload of the issue and checks
// status and text against the golden rows, then that nothing of it was
// staged: the changeset is still empty.
func TestUploadErrors(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newEditServer(t, b, nil)
			for _, c := range uploadErrorCases {
				t.Run(c.name, func(t *testing.T) {
					s.t = t
					cs := s.openChangeset(ana)
					var v []any
					if c.prepare != nil {
						v = c.prepare(s, cs)
					}
					who := c.who
					if who == nil && !c.anon {
						who = ana
					}
					osc := c.osc
					if len(v) > 0 {
						osc = strings.ReplaceAll(osc, "%n", fmt.Sprint(v[0]))
					}
					c.want(cs, v).check(t, s.upload(who, cs, osc))
					changes, err := s.store.ChangesetChanges(t.Context(), cs)
					if err != nil {
						t.Fatal(err)
					}
					if len(changes) != 0 {
						t.Errorf("a refused upload staged %d changes", len(changes))
					}
				})
			}
			t.Run("unknown changeset", func(t *testing.T) {
				s.t = t
				goldenWant(editing.ErrChangesetNotFound).check(t, s.upload(ana, 999999,
					`<osmChange><create><node id="-1" lat="1" lon="1" changeset="999999"/></create></osmChange>`))
			})
		})
	}
}
