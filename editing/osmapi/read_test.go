package osmapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// elem is what a test checks of each element of a reply.
type elem struct {
	Type    string
	ID      int64
	Version int
	Visible bool
}

func n(id int64, v int) elem        { return elem{"node", id, v, true} }
func w(id int64, v int) elem        { return elem{"way", id, v, true} }
func r(id int64, v int) elem        { return elem{"relation", id, v, true} }
func gone(e elem) elem              { e.Visible = false; return e }
func none() []elem                  { return []elem{} }
func list(es ...elem) []elem        { return es }
func errText(k errorKind) *apiError { return newError(k) }

// readCase is one request and what its reply must be: a document with
// these elements, or a golden error.
type readCase struct {
	path   string
	method string
	header map[string]string
	want   []elem
	bounds bool // the document starts with <bounds>
	err    *apiError
}

// mapBox holds nodes 1 and 6 and the deleted node 3.
const mapBox = "-0.0005,-0.0005,0.0005,0.0005"

var readCases = []readCase{
	// Elements: current, deleted (410), missing and malformed (404, as
	// cgimap's router matches only positive decimal ids).
	{path: "/api/0.6/node/1", want: list(n(1, 1))},
	{path: "/api/0.6/node/2", want: list(n(2, 2))},
	{path: "/api/0.6/node/8589934592", want: list(n(8589934592, 1))},
	{path: "/api/0.6/node/3", err: errText(errGone)},
	{path: "/api/0.6/node/4", err: errText(errNotFound)},
	{path: "/api/0.6/node/five", err: errText(errNotFound)},
	{path: "/api/0.6/node/0", err: errText(errNotFound)},
	{path: "/api/0.6/node/-1", err: errText(errNotFound)},
	{path: "/api/0.6/node/99999999999999999999", err: errText(errNotFound)},
	{path: "/api/0.6/way/1", want: list(w(1, 1))},
	{path: "/api/0.6/way/2", err: errText(errGone)},
	{path: "/api/0.6/way/9", err: errText(errNotFound)},
	{path: "/api/0.6/relation/1", want: list(r(1, 1))},
	{path: "/api/0.6/relation/2", err: errText(errGone)},
	{path: "/api/0.6/relation/3", err: errText(errNotFound)},

	// History: every version, also of deleted elements.
	{path: "/api/0.6/node/2/history", want: list(n(2, 1), n(2, 2))},
	{path: "/api/0.6/node/3/history", want: list(n(3, 1), gone(n(3, 2)))},
	{path: "/api/0.6/node/4/history", err: errText(errNotFound)},
	{path: "/api/0.6/way/2/history", want: list(w(2, 1), gone(w(2, 2)))},
	{path: "/api/0.6/relation/2/history", want: list(r(2, 1), gone(r(2, 2)))},

	// Versions: a deleted version is 200 (node_version_deleted.case).
	{path: "/api/0.6/node/2/1", want: list(n(2, 1))},
	{path: "/api/0.6/node/3/2", want: list(gone(n(3, 2)))},
	{path: "/api/0.6/node/3/3", err: errText(errNotFound)},
	{path: "/api/0.6/node/3/0", err: errText(errNotFound)},
	{path: "/api/0.6/way/2/2", want: list(gone(w(2, 2)))},
	{path: "/api/0.6/relation/1/1", want: list(r(1, 1))},

	// Multi-fetch: deleted elements included, duplicates once, versions
	// by id-v-version, one missing item fails all.
	{path: "/api/0.6/nodes?nodes=1,2,3", want: list(n(1, 1), n(2, 2), gone(n(3, 2)))},
	{path: "/api/0.6/nodes?nodes=3,1,2,2", want: list(n(1, 1), n(2, 2), gone(n(3, 2)))},
	{path: "/api/0.6/nodes?nodes=3v1,3", want: list(n(3, 1), gone(n(3, 2)))},
	{path: "/api/0.6/nodes?nodes=3v2,3", want: list(gone(n(3, 2)))},
	{path: "/api/0.6/nodes?nodes=2v1,1", want: list(n(1, 1), n(2, 1))},
	{path: "/api/0.6/nodes?nodes=1,,2", want: list(n(1, 1), n(2, 2))},
	{path: "/api/0.6/nodes?nodes=1%2C2", want: list(n(1, 1), n(2, 2))}, // decoded before splitting, as cgimap
	{path: "/api/0.6/nodes?nodes=1,2,4", err: errText(errNotFound)},
	{path: "/api/0.6/nodes?nodes=1,two,3", err: errText(errNotFound)},
	{path: "/api/0.6/nodes?nodes=1,-2", err: errText(errNotFound)},
	{path: "/api/0.6/nodes?nodes=2v9", err: errText(errNotFound)},
	{path: "/api/0.6/nodes?nodes=", err: errText(errNodesParam)},
	{path: "/api/0.6/nodes?nodes=,,", err: errText(errNodesParam)},
	{path: "/api/0.6/nodes", err: errText(errNodesParam)},
	{path: "/api/0.6/ways?ways=1,2", want: list(w(1, 1), gone(w(2, 2)))},
	{path: "/api/0.6/ways?ways=", err: errText(errWaysParam)},
	{path: "/api/0.6/relations?relations=7,8,2v1", want: list(r(2, 1), r(7, 1), r(8, 1))},
	{path: "/api/0.6/relations", err: errText(errRelationsParam)},

	// Full: members' current visible versions; relation/full adds the
	// nodes of member ways and member relations without their members.
	{path: "/api/0.6/way/1/full", want: list(n(1, 1), n(2, 2), w(1, 1))},
	{path: "/api/0.6/way/3/full", want: list(n(1, 1), w(3, 1))}, // node 999 missing, node 3 deleted
	{path: "/api/0.6/way/2/full", err: errText(errGone)},
	{path: "/api/0.6/way/9/full", err: errText(errNotFound)},
	{path: "/api/0.6/relation/1/full", want: list(n(1, 1), n(2, 2), w(1, 1), r(1, 1))},
	{path: "/api/0.6/relation/4/full", want: list(r(1, 1), r(4, 1))},
	{path: "/api/0.6/relation/5/full", want: list(r(5, 1))},
	{path: "/api/0.6/relation/6/full", want: list(n(1, 1), n(2, 2), w(1, 1), r(6, 2))},
	{path: "/api/0.6/relation/7/full", want: list(r(7, 1), r(8, 1))},
	{path: "/api/0.6/relation/2/full", err: errText(errGone)},
	{path: "/api/0.6/relation/3/full", err: errText(errNotFound)},

	// Ways and relations using an element; nothing for missing or
	// deleted ones.
	{path: "/api/0.6/node/1/ways", want: list(w(1, 1), w(3, 1))},
	{path: "/api/0.6/node/3/ways", want: none()},
	{path: "/api/0.6/node/4/ways", want: none()},
	{path: "/api/0.6/node/2/relations", want: list(r(1, 1))},
	{path: "/api/0.6/node/6/relations", want: none()},
	{path: "/api/0.6/way/1/relations", want: list(r(1, 1), r(6, 2))},
	{path: "/api/0.6/relation/1/relations", want: list(r(4, 1))},
	{path: "/api/0.6/relation/5/relations", want: list(r(5, 1))},
	{path: "/api/0.6/relation/2/relations", want: none()},

	// The map call: cgimap's steps, bounds first.
	{path: "/api/0.6/map?bbox=" + mapBox, bounds: true,
		want: list(n(1, 1), n(2, 2), n(6, 1), w(1, 1), w(3, 1), r(1, 1), r(4, 1), r(6, 2))},
	{path: "/api/0.6/map?bbox=10,10,10.1,10.1", bounds: true, want: none()},
	{path: "/api/0.6/map", err: errText(errBBoxFormat)},
	{path: "/api/0.6/map?bbox=", err: errText(errBBoxFormat)},
	{path: "/api/0.6/map?bbox=0,0,0", err: errText(errBBoxFormat)},
	{path: "/api/0.6/map?bbox=0,-90.1,asdasd,-89.9", err: errText(errBBoxFormat)},
	{path: "/api/0.6/map?bbox=0.1,0.1,-0.1,-0.1", err: errText(errBBoxRange)},
	{path: "/api/0.6/map?bbox=179.9,0,180.1,0.1", err: errText(errBBoxRange)},
	{path: "/api/0.6/map?bbox=0,89.9,0.1,90.1", err: errText(errBBoxRange)},
	{path: "/api/0.6/map?bbox=0,0,1,1", err: newError(errBBoxTooLarge, 0.25)},

	// Methods: 405 for POST and PUT on read-only paths, 404 for methods
	// cgimap does not know, and for unknown paths. DELETE of an element
	// is the single-element delete, which an anonymous caller may not
	// make.
	{path: "/api/0.6/node/1", method: http.MethodPost, err: errText(errMethodNotAllowed)},
	{path: "/api/0.6/map?bbox=" + mapBox, method: http.MethodPut, err: errText(errMethodNotAllowed)},
	{path: "/api/0.6/node/1/history", method: http.MethodPut, err: errText(errMethodNotAllowed)},
	{path: "/api/0.6/node/1", method: http.MethodOptions, err: errText(errMethodNotAllowed)},
	{path: "/api/0.6/node/1", method: http.MethodPatch, err: errText(errNotFound)},
	{path: "/api/0.6/node/1", method: http.MethodDelete, err: errText(editing.ErrUnauthorized)},
	{path: "/api/0.6/node/1/history", method: http.MethodDelete, err: errText(errNotFound)},
	{path: "/api/0.6/no/such/thing", err: errText(errNotFound)},
	{path: "/api/0.5/map?bbox=" + mapBox, err: errText(errNotFound)},

	// Content negotiation: Accept chooses JSON without a suffix; a
	// suffix the Accept header refuses, or nothing acceptable, is 406.
	{path: "/api/0.6/node/1", header: map[string]string{"Accept": "image/gif"},
		err: newError(errNotAcceptable, "/api/0.6/node/1", "application/xml, application/json")},
	{path: "/api/0.6/node/1.json", header: map[string]string{"Accept": "application/xml"},
		err: newError(errNotAcceptable, "/api/0.6/node/1.json", "application/json")},
	{path: "/api/0.6/node/1", header: map[string]string{"Accept": "*/html"}, err: errText(errAcceptWildcard)},
	{path: "/api/0.6/node/1", header: map[string]string{"Accept": "application"}, err: errText(errAcceptMediaType)},
	{path: "/api/0.6/node/1", header: map[string]string{"Accept": "application/json;q=2"}, err: errText(errAcceptQuality)},
	{path: "/api/0.6/node/1", header: map[string]string{"Accept": "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"},
		want: list(n(1, 1))}, // what JOSM sends: XML
}

// TestReads runs every case on each backend, in XML and, where the path
// takes a suffix, in JSON.
func TestReads(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store := b.open(t)
			loadDataset(t, store)
			srv := httptest.NewServer(newMux(&API{Reader: store}))
			defer srv.Close()

			for _, c := range readCases {
				name := c.method + " " + c.path
				t.Run(name, func(t *testing.T) {
					checkRead(t, srv, c, c.path)
					if jsonPath, ok := withJSONSuffix(c); ok {
						checkRead(t, srv, c, jsonPath)
					}
				})
			}
		})
	}
}

// newMux serves a's routes with every origin allowed, as cgimap does
// and as `serve --cors-origins '*'` does, which the golden CORS cases
// need.
func newMux(a *API) http.Handler {
	mux := http.NewServeMux()
	a.Register(mux)
	return AnyOrigin.Handler(mux)
}

// withJSONSuffix is the path of the case's JSON variant, for the cases
// that have one.
func withJSONSuffix(c readCase) (string, bool) {
	if c.header != nil || (c.err != nil && c.err.golden().Status != http.StatusNotFound && c.err.golden().Status != http.StatusGone && c.err.golden().Status != http.StatusBadRequest) {
		return "", false
	}
	path, query, _ := strings.Cut(c.path, "?")
	if !strings.HasPrefix(path, "/api/0.6/") || strings.Contains(path, "no/such") {
		return "", false
	}
	path += ".json"
	if query != "" {
		path += "?" + query
	}
	return path, true
}

func do(t *testing.T, srv *httptest.Server, method, path string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func checkRead(t *testing.T, srv *httptest.Server, c readCase, path string) {
	t.Helper()
	resp, body := do(t, srv, c.method, path, c.header)
	if c.err != nil {
		checkError(t, path, resp, body, c.err)
		return
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d, want 200; body %q", path, resp.StatusCode, body)
	}
	isJSON := strings.Contains(path, ".json")
	wantType := "application/xml; charset=utf-8"
	if isJSON {
		wantType = "application/json; charset=utf-8"
	}
	if got := resp.Header.Get("Content-Type"); got != wantType {
		t.Errorf("%s: Content-Type %q, want %q", path, got, wantType)
	}
	if got := resp.Header.Get("Cache-Control"); got != "private, max-age=0, must-revalidate" {
		t.Errorf("%s: Cache-Control %q", path, got)
	}
	var doc parsedDoc
	if isJSON {
		doc = parseJSONDoc(t, body)
	} else {
		doc = parseXMLDoc(t, body)
	}
	if diff := cmp.Diff(c.want, doc.elements); diff != "" {
		t.Errorf("%s: elements differ (-want +got):\n%s", path, diff)
	}
	if doc.hasBounds != c.bounds {
		t.Errorf("%s: bounds present %v, want %v", path, doc.hasBounds, c.bounds)
	}
	wantDisposition := ""
	if c.bounds {
		wantDisposition = `attachment; filename="map.osm"`
	}
	if got := resp.Header.Get("Content-Disposition"); got != wantDisposition {
		t.Errorf("%s: Content-Disposition %q, want %q", path, got, wantDisposition)
	}
	if doc.header != DefaultHeader {
		t.Errorf("%s: root attributes %+v, want %+v", path, doc.header, DefaultHeader)
	}
}

// checkError compares a reply with the golden row cgimap answers.
func checkError(t *testing.T, path string, resp *http.Response, body []byte, want *apiError) {
	t.Helper()
	g := want.golden()
	if resp.StatusCode != g.Status {
		t.Fatalf("%s: status %d, want %d; body %q", path, resp.StatusCode, g.Status, body)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("%s: Cache-Control %q, want no-cache", path, got)
	}
	switch g.Reply {
	case replyEmpty404:
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" || len(body) != 0 {
			t.Errorf("%s: 404 reply %q with body %q, want an empty text/html; charset=utf-8 one", path, ct, body)
		}
	case replyEmpty405:
		if ct := resp.Header.Get("Content-Type"); ct != "text/html" || len(body) != 0 {
			t.Errorf("%s: 405 reply %q with body %q, want an empty text/html one", path, ct, body)
		}
		if got := resp.Header.Get("Allow"); got != "GET, HEAD, OPTIONS" {
			t.Errorf("%s: Allow %q", path, got)
		}
	case replyText:
		msg := want.message()
		if ct := resp.Header.Get("Content-Type"); ct != "text/plain" {
			t.Errorf("%s: Content-Type %q, want text/plain", path, ct)
		}
		if string(body) != msg {
			t.Errorf("%s: body %q, want %q", path, body, msg)
		}
		if got := resp.Header.Get("Error"); got != msg {
			t.Errorf("%s: Error header %q, want %q", path, got, msg)
		}
	}
}

// parsedDoc is what the tests read back from a document.
type parsedDoc struct {
	header    osmdata.DocumentHeader
	hasBounds bool
	elements  []elem
}

type xmlRoot struct {
	Version     string       `xml:"version,attr"`
	Generator   string       `xml:"generator,attr"`
	Copyright   string       `xml:"copyright,attr"`
	Attribution string       `xml:"attribution,attr"`
	License     string       `xml:"license,attr"`
	Bounds      *xmlBounds   `xml:"bounds"`
	Elements    []xmlElement `xml:",any"`
}

type xmlBounds struct {
	MinLat string `xml:"minlat,attr"`
	MinLon string `xml:"minlon,attr"`
	MaxLat string `xml:"maxlat,attr"`
	MaxLon string `xml:"maxlon,attr"`
}

type xmlElement struct {
	XMLName   xml.Name
	ID        int64  `xml:"id,attr"`
	Version   int    `xml:"version,attr"`
	Visible   string `xml:"visible,attr"`
	Changeset int64  `xml:"changeset,attr"`
	Timestamp string `xml:"timestamp,attr"`
	User      string `xml:"user,attr"`
	UID       int64  `xml:"uid,attr"`
	Lat       string `xml:"lat,attr"`
	Lon       string `xml:"lon,attr"`
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

func parseXMLDoc(t *testing.T, body []byte) parsedDoc {
	t.Helper()
	var root xmlRoot
	if err := xml.Unmarshal(body, &root); err != nil {
		t.Fatalf("parse XML reply: %v\n%s", err, body)
	}
	if root.Version != "0.6" {
		t.Errorf("osm version %q", root.Version)
	}
	doc := parsedDoc{
		header:    osmdata.DocumentHeader{Generator: root.Generator, Copyright: root.Copyright, Attribution: root.Attribution, License: root.License},
		hasBounds: root.Bounds != nil,
		elements:  []elem{},
	}
	for _, e := range root.Elements {
		doc.elements = append(doc.elements, elem{e.XMLName.Local, e.ID, e.Version, e.Visible != "false"})
	}
	return doc
}

type jsonElement struct {
	Type      string            `json:"type"`
	ID        int64             `json:"id"`
	Version   int               `json:"version"`
	Visible   *bool             `json:"visible"`
	Changeset int64             `json:"changeset"`
	Timestamp string            `json:"timestamp"`
	User      string            `json:"user"`
	UID       int64             `json:"uid"`
	Lat       *float64          `json:"lat"`
	Lon       *float64          `json:"lon"`
	Tags      map[string]string `json:"tags"`
	Nodes     []int64           `json:"nodes"`
	Members   []struct {
		Type string `json:"type"`
		Ref  int64  `json:"ref"`
		Role string `json:"role"`
	} `json:"members"`
}

type jsonDocRoot struct {
	Version     string          `json:"version"`
	Generator   string          `json:"generator"`
	Copyright   string          `json:"copyright"`
	Attribution string          `json:"attribution"`
	License     string          `json:"license"`
	Bounds      json.RawMessage `json:"bounds"`
	Elements    []jsonElement   `json:"elements"`
}

func parseJSONDoc(t *testing.T, body []byte) parsedDoc {
	t.Helper()
	var root jsonDocRoot
	if err := json.Unmarshal(body, &root); err != nil {
		t.Fatalf("parse JSON reply: %v\n%s", err, body)
	}
	if root.Version != "0.6" {
		t.Errorf("osm version %q", root.Version)
	}
	doc := parsedDoc{
		header:    osmdata.DocumentHeader{Generator: root.Generator, Copyright: root.Copyright, Attribution: root.Attribution, License: root.License},
		hasBounds: root.Bounds != nil,
		elements:  []elem{},
	}
	for _, e := range root.Elements {
		doc.elements = append(doc.elements, elem{e.Type, e.ID, e.Version, e.Visible == nil || *e.Visible})
	}
	return doc
}

// TestElementContent checks every field of two elements, in both
// formats: the current version of node 2 (tags in their stored order, a
// renamed user) and a deleted version, which has no coordinates.
func TestElementContent(t *testing.T) {
	store := openSQLite(t)
	loadDataset(t, store)
	srv := httptest.NewServer(newMux(&API{Reader: store}))
	defer srv.Close()

	getXML := func(path string) xmlRoot {
		t.Helper()
		_, body := do(t, srv, "", path, nil)
		var root xmlRoot
		if err := xml.Unmarshal(body, &root); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return root
	}
	n2 := getXML("/api/0.6/node/2").Elements[0]
	got := fmt.Sprintf("%s %d v%d visible=%s cs=%d %s %s/%d %s,%s tags=%v", n2.XMLName.Local, n2.ID, n2.Version, n2.Visible,
		n2.Changeset, n2.Timestamp, n2.User, n2.UID, n2.Lat, n2.Lon, n2.Tags)
	want := "node 2 v2 visible=true cs=3 2012-10-01T00:00:00Z foo_renamed/1 1,1 tags=[{foo bar1} {bar bar2} {baz bar3}]"
	if got != want {
		t.Errorf("node 2 in XML:\n got %s\nwant %s", got, want)
	}

	_, body := do(t, srv, "", "/api/0.6/node/2.json", nil)
	var jroot jsonDocRoot
	if err := json.Unmarshal(body, &jroot); err != nil {
		t.Fatal(err)
	}
	j := jroot.Elements[0]
	if j.Lat == nil || *j.Lat != 1 || j.Lon == nil || *j.Lon != 1 || j.User != "foo_renamed" || j.Changeset != 3 ||
		j.Timestamp != "2012-10-01T00:00:00Z" || !cmp.Equal(j.Tags, map[string]string{"foo": "bar1", "bar": "bar2", "baz": "bar3"}) {
		t.Errorf("node 2 in JSON: %+v", j)
	}
	if i := bytes.Index(body, []byte(`"foo"`)); i < 0 || i > bytes.Index(body, []byte(`"bar"`)) {
		t.Errorf("JSON tags not in stored order: %s", body)
	}

	if d := getXML("/api/0.6/node/3/2").Elements[0]; d.Visible != "false" || d.Lat != "" || d.Lon != "" {
		t.Errorf("deleted node 3 v2: visible=%q lat=%q lon=%q, want visible=false without coordinates", d.Visible, d.Lat, d.Lon)
	}

	r1 := getXML("/api/0.6/relation/1").Elements[0]
	if got := fmt.Sprint(r1.Members, r1.Tags); got != "[{node 2 stop} {way 1 forward}] [{ref W8} {type route}]" {
		t.Errorf("relation 1: %s", got)
	}
	root := getXML("/api/0.6/map?bbox=" + mapBox)
	if b := root.Bounds; b == nil || b.MinLat != "-0.0005" || b.MinLon != "-0.0005" || b.MaxLat != "0.0005" || b.MaxLon != "0.0005" {
		t.Errorf("map bounds %+v, want the requested box", root.Bounds)
	}
}

// TestTooManyNodes lowers the node limit to see the map call refuse a
// box holding more.
func TestTooManyNodes(t *testing.T) {
	store := openSQLite(t)
	loadDataset(t, store)
	srv := httptest.NewServer(newMux(&API{Reader: store, MaxMapNodes: 1}))
	defer srv.Close()
	resp, body := do(t, srv, "", "/api/0.6/map?bbox="+mapBox, nil)
	checkError(t, "map", resp, body, newError(errTooManyNodes, 1))
	if resp.Header.Get("Content-Disposition") != "" {
		t.Errorf("a refused map call is sent as an attachment")
	}
}

// TestProtocolDetails covers what cgimap does beyond status and body:
// X-Error-Format, HEAD, CORS and gzip.
func TestProtocolDetails(t *testing.T) {
	store := openSQLite(t)
	loadDataset(t, store)
	srv := httptest.NewServer(newMux(&API{Reader: store}))
	defer srv.Close()

	t.Run("X-Error-Format xml", func(t *testing.T) {
		resp, body := do(t, srv, "", "/api/0.6/map", map[string]string{"X-Error-Format": "xml"})
		want := "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n<osmError>\r\n<status>400 Bad Request</status>\r\n<message>" +
			editing.Golden[errBBoxFormat].Text + "</message>\r\n</osmError>\r\n"
		if resp.StatusCode != http.StatusOK || string(body) != want {
			t.Errorf("status %d body %q, want 200 %q", resp.StatusCode, body, want)
		}
		// 404s ignore the header (test/message.testcore/node_404_xml.case).
		resp, body = do(t, srv, "", "/api/0.6/node/4", map[string]string{"X-Error-Format": "xml"})
		checkError(t, "node/4", resp, body, newError(errNotFound))
	})

	t.Run("Accept: application/json", func(t *testing.T) {
		resp, body := do(t, srv, "", "/api/0.6/node/1", map[string]string{"Accept": "application/json"})
		if resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("Content-Type %q, want JSON", resp.Header.Get("Content-Type"))
		}
		if got := parseJSONDoc(t, body).elements; !cmp.Equal(got, list(n(1, 1))) {
			t.Errorf("elements %v", got)
		}
		resp, _ = do(t, srv, "", "/api/0.6/node/1", map[string]string{"Accept": "application/json;q=0.5, application/xml"})
		if resp.Header.Get("Content-Type") != "application/xml; charset=utf-8" {
			t.Errorf("XML preferred by quality: Content-Type %q", resp.Header.Get("Content-Type"))
		}
	})

	t.Run("HEAD", func(t *testing.T) {
		resp, body := do(t, srv, http.MethodHead, "/api/0.6/map?bbox="+mapBox, nil)
		if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Type") != "application/xml; charset=utf-8" {
			t.Errorf("HEAD: status %d, %d bytes, Content-Type %q", resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
		}
		resp, _ = do(t, srv, http.MethodHead, "/api/0.6/node/3", nil)
		if resp.StatusCode != http.StatusGone {
			t.Errorf("HEAD of a deleted node: %d, want 410", resp.StatusCode)
		}
	})

	t.Run("CORS", func(t *testing.T) {
		origin := "http://localhost"
		resp, _ := do(t, srv, "", "/api/0.6/node/1", map[string]string{"Origin": origin})
		for k, v := range map[string]string{
			"Access-Control-Allow-Origin":      origin,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "GET, HEAD, OPTIONS",
			"Access-Control-Max-Age":           "1728000",
		} {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("GET with Origin: %s %q, want %q", k, got, v)
			}
		}
		resp, _ = do(t, srv, http.MethodOptions, "/api/0.6/map?bbox=0,0,0,0", map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "GET",
			"Access-Control-Request-Headers": "X-First-Header, X-Second-Header",
		})
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Headers") != "X-First-Header, X-Second-Header" ||
			resp.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("preflight: status %d, headers %v", resp.StatusCode, resp.Header)
		}
	})

	t.Run("gzip", func(t *testing.T) {
		// A transport that leaves the body compressed, to see it.
		client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		get := func(encoding string) (*http.Response, []byte) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/0.6/map?bbox="+mapBox, nil)
			if encoding != "" {
				req.Header.Set("Accept-Encoding", encoding)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp, body
		}
		_, plain := get("")
		resp, compressed := get("gzip, deflate, br")
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(compressed))
		if err != nil {
			t.Fatal(err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(unzipped, plain) {
			t.Errorf("the gzipped reply differs from the plain one")
		}
		resp, _ = get("identity;q=0, *;q=0")
		if resp.StatusCode != http.StatusNotAcceptable {
			t.Errorf("no acceptable encoding: status %d, want 406", resp.StatusCode)
		}
	})
}

// TestGoldenTextsAgree checks the copies of cgimap's texts kept outside
// this package against the golden table.
func TestGoldenTextsAgree(t *testing.T) {
	checks := []struct {
		what, got string
		kind      errorKind
		args      []any
	}{
		{"osmdata.ErrBoxFormat", osmdata.ErrBoxFormat.Error(), errBBoxFormat, nil},
		{"osmdata.ErrBoxRange", osmdata.ErrBoxRange.Error(), errBBoxRange, nil},
		{"storage.TooManyNodesError", (&storage.TooManyNodesError{Limit: storage.MaxMapNodes}).Error(), errTooManyNodes, []any{storage.MaxMapNodes}},
	}
	for _, c := range checks {
		if want := newError(c.kind, c.args...).message(); c.got != want {
			t.Errorf("%s says %q; the golden table says %q", c.what, c.got, want)
		}
	}
	if got := newError(errBBoxTooLarge, storage.MaxMapArea).message(); !strings.HasPrefix(got, "The maximum bbox size is 0.250000, ") {
		t.Errorf("area limit written as %q, want cgimap's {:f} format, 0.250000", got)
	}
	for k, g := range editing.Golden {
		if g.Source == "" || g.Status == 0 {
			t.Errorf("golden row %d has no source or status", k)
		}
	}
	for k, g := range editing.ParserGolden {
		if g.Source == "" || g.Status == 0 {
			t.Errorf("parser golden row %s has no source or status", k)
		}
	}
}
