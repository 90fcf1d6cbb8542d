package server_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/server/servetest"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
)

// The limits this test configures: small, so that each over-the-limit
// request is cheap to send.
const (
	testMaxBytes          = 1 << 20
	testMaxRatio          = 20
	testMaxXMLElements    = 20000
	testMaxTags           = 5
	testMaxMembers        = 5
	testMaxOpenChangesets = 3
)

// limitsSafetyTimeout only turns a hang into a failure: a server without the
// timeouts under test would keep the connection open for ever.
const limitsSafetyTimeout = time.Minute

// TestEveryLimitAnswersItsStatusAndWritesNothing walks every door of
// issue 9's limits over real HTTP: each row sends a request over one
// limit (or just under it) and checks the status and the message a
// client sees, and that a refused request left the user's changesets and
// their changes as they were.
//
// It runs on both backends: the doors are the server's, but the open
// changesets are counted in the store and a refusal must leave each
// store as it was.
func TestEveryLimitAnswersItsStatusAndWritesNothing(t *testing.T) {
	bin := servetest.Binary(t)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			var store []string
			switch backend {
			case "sqlite":
				store = []string{"--data", filepath.Join(t.TempDir(), "data")}
			case "postgres":
				cfg := pgtest.Config(t)
				store = []string{"--postgres", cfg.URL, "--schema", cfg.Schema}
			}
			checkEveryLimit(t, bin, store)
		})
	}

	// Capabilities announce openstreetmap.org's limits on a server left
	// at its defaults.
	defaults := servetest.Start(t, bin, "--data", filepath.Join(t.TempDir(), "defaults"))
	checkLimitsInCapabilities(t, defaults.Base, 32000)
}

// checkEveryLimit walks the rows against a server on store (its --data or
// --postgres flags).
func checkEveryLimit(t *testing.T, bin string, store []string) {
	const user, password = "alice", "correct horse battery"
	servetest.Run(t, bin, password+"\n", append([]string{"user", "add", user, "--role", "contributor", "--password-stdin"}, store...)...)
	srv := servetest.Start(t, bin, append(store,
		"--max-upload-bytes", strconv.Itoa(testMaxBytes),
		"--max-inflate-ratio", strconv.Itoa(testMaxRatio),
		"--max-xml-elements", strconv.Itoa(testMaxXMLElements),
		"--max-tags", strconv.Itoa(testMaxTags),
		"--max-relation-members", strconv.Itoa(testMaxMembers),
		"--max-open-changesets", strconv.Itoa(testMaxOpenChangesets),
		"--read-header-timeout", "1s",
		"--body-read-timeout", "1s")...)
	c := &limitsClient{t: t, base: srv.Base, user: user, password: password}

	cs := c.send(limitsRequest{method: "PUT", path: "/api/0.6/changeset/create", body: limitsChangesetBody("limits")}).wantOK()
	node := c.send(limitsRequest{method: "PUT", path: "/api/0.6/node/create", body: limitsNodeBody(cs, 0)}).wantOK()
	upload := "/api/0.6/changeset/" + cs + "/upload"

	rows := []struct {
		name string
		req  limitsRequest
		// raw, instead of req, talks to the server over a bare TCP
		// connection, for the clients that stall.
		raw        func(t *testing.T, addr string) limitsResponse
		wantStatus int
		// wantText is the message, matched in full.
		wantText *regexp.Regexp
		// writes is a request just under the limit, which succeeds.
		writes bool
	}{
		{
			name:       "body over --max-upload-bytes",
			req:        limitsRequest{method: "POST", path: upload, body: paddedOsmChange(testMaxBytes + 1)},
			wantStatus: http.StatusRequestEntityTooLarge, wantText: exactly(fmt.Sprintf("Payload exceeds limit of %d bytes", testMaxBytes)),
		},
		{
			name:       "gzip body inflating past --max-upload-bytes at a modest ratio",
			req:        limitsRequest{method: "POST", path: upload, body: gzipped(t, randomTagsOsmChange(cs, testMaxBytes+1)), encoding: "gzip"},
			wantStatus: http.StatusRequestEntityTooLarge, wantText: exactly(fmt.Sprintf("Payload exceeds limit of %d bytes", testMaxBytes)),
		},
		{
			// 20 MB of spaces in 20 kB: refused by its ratio after
			// inflating 64 kB, long before the size limit.
			name:       "gzip bomb over --max-inflate-ratio",
			req:        limitsRequest{method: "POST", path: upload, body: gzipped(t, paddedOsmChange(20<<20)), encoding: "gzip"},
			wantStatus: http.StatusRequestEntityTooLarge,
			wantText:   exactly(fmt.Sprintf("Payload exceeds limit of %d times its compressed size after decompression", testMaxRatio)),
		},
		{
			name:       "PUT node/create of a deflate bomb over --max-inflate-ratio",
			req:        limitsRequest{method: "PUT", path: "/api/0.6/node/create", body: deflated(t, padded("<osm>", "</osm>", 20<<20)), encoding: "deflate"},
			wantStatus: http.StatusRequestEntityTooLarge,
			wantText:   exactly(fmt.Sprintf("Payload exceeds limit of %d times its compressed size after decompression", testMaxRatio)),
		},
		{
			name:       "gzip upload inside both limits",
			req:        limitsRequest{method: "POST", path: upload, body: gzipped(t, []byte(limitsOsmChange(cs, limitsNodeXML(-1, 0)))), encoding: "gzip"},
			wantStatus: http.StatusOK, writes: true,
		},
		{
			name:       "upload over --max-xml-elements",
			req:        limitsRequest{method: "POST", path: upload, body: []byte(limitsOsmChange(cs, limitsNodeXML(-1, testMaxXMLElements)))},
			wantStatus: http.StatusRequestEntityTooLarge, wantText: exactly(fmt.Sprintf("Payload exceeds limit of %d XML elements", testMaxXMLElements)),
		},
		{
			name:       "upload nested deeper than osmChange allows",
			req:        limitsRequest{method: "POST", path: upload, body: []byte(limitsOsmChange(cs, `<node id="-1" changeset="`+cs+`" lat="1" lon="1"><tag k="a" v="b"><deeper/></tag></node>`))},
			wantStatus: http.StatusBadRequest, wantText: regexp.MustCompile(`^xml file nested too deep at line 1, column \d+$`),
		},
		{
			name:       "changeset body nested past the parser's depth",
			req:        limitsRequest{method: "PUT", path: "/api/0.6/changeset/create", body: []byte(`<osm><changeset><tag k="a" v="b">` + strings.Repeat("<x>", 40) + strings.Repeat("</x>", 40) + `</tag></changeset></osm>`)},
			wantStatus: http.StatusBadRequest, wantText: regexp.MustCompile(`^xml file nested too deep at line 1, column \d+$`),
		},
		{
			name:       "upload of an element over --max-tags",
			req:        limitsRequest{method: "POST", path: upload, body: []byte(limitsOsmChange(cs, limitsNodeXML(-1, testMaxTags+1)))},
			wantStatus: http.StatusBadRequest, wantText: regexp.MustCompile(fmt.Sprintf(`^OSM element exceeds limit of %d tags at line 1, column \d+$`, testMaxTags)),
		},
		{
			name:       "upload of an element at --max-tags",
			req:        limitsRequest{method: "POST", path: upload, body: []byte(limitsOsmChange(cs, limitsNodeXML(-1, testMaxTags)))},
			wantStatus: http.StatusOK, writes: true,
		},
		{
			name:       "PUT node/create over --max-tags",
			req:        limitsRequest{method: "PUT", path: "/api/0.6/node/create", body: limitsNodeBody(cs, testMaxTags+1)},
			wantStatus: http.StatusBadRequest, wantText: regexp.MustCompile(fmt.Sprintf(`^OSM element exceeds limit of %d tags at line 1, column \d+$`, testMaxTags)),
		},
		{
			name:       "PUT node/create at --max-tags",
			req:        limitsRequest{method: "PUT", path: "/api/0.6/node/create", body: limitsNodeBody(cs, testMaxTags)},
			wantStatus: http.StatusOK, writes: true,
		},
		{
			name:       "upload of a relation over --max-relation-members",
			req:        limitsRequest{method: "POST", path: upload, body: []byte(limitsOsmChange(cs, limitsRelationXML(cs, -1, node, testMaxMembers+1)))},
			wantStatus: http.StatusBadRequest,
			wantText:   exactly(fmt.Sprintf("You tried to add %d members to relation -1, however only %d are allowed", testMaxMembers+1, testMaxMembers)),
		},
		{
			name:       "upload of a relation at --max-relation-members",
			req:        limitsRequest{method: "POST", path: upload, body: []byte(limitsOsmChange(cs, limitsRelationXML(cs, -1, node, testMaxMembers)))},
			wantStatus: http.StatusOK, writes: true,
		},
		{
			name:       "PUT relation/create over --max-relation-members",
			req:        limitsRequest{method: "PUT", path: "/api/0.6/relation/create", body: []byte("<osm>" + limitsRelationXML(cs, 0, node, testMaxMembers+1) + "</osm>")},
			wantStatus: http.StatusBadRequest,
			wantText:   exactly(fmt.Sprintf("You tried to add %d members to relation -1, however only %d are allowed", testMaxMembers+1, testMaxMembers)),
		},
		{
			name:       "PUT relation/create at --max-relation-members",
			req:        limitsRequest{method: "PUT", path: "/api/0.6/relation/create", body: []byte("<osm>" + limitsRelationXML(cs, 0, node, testMaxMembers) + "</osm>")},
			wantStatus: http.StatusOK, writes: true,
		},
		{
			name:       "Connect UploadChanges of an element over --max-tags",
			req:        limitsConnectRequest("UploadChanges", structuredUpload(cs, connectNode(cs, testMaxTags+1))),
			wantStatus: http.StatusBadRequest, wantText: exactly(fmt.Sprintf("invalid_argument: OSM element exceeds limit of %d tags", testMaxTags)),
		},
		{
			name:       "Connect UploadChanges of an element at --max-tags",
			req:        limitsConnectRequest("UploadChanges", structuredUpload(cs, connectNode(cs, testMaxTags))),
			wantStatus: http.StatusOK, writes: true,
		},
		{
			name:       "Connect UploadChanges of a relation over --max-relation-members",
			req:        limitsConnectRequest("UploadChanges", structuredUpload(cs, connectRelation(cs, node, testMaxMembers+1))),
			wantStatus: http.StatusBadRequest,
			wantText:   exactly(fmt.Sprintf("invalid_argument: You tried to add %d members to relation -1, however only %d are allowed", testMaxMembers+1, testMaxMembers)),
		},
		{
			name:       "upload whose body trickles slower than --body-read-timeout",
			raw:        stalledBody(upload, user, password),
			wantStatus: http.StatusRequestTimeout, wantText: exactly("Request body not received in time"),
		},
		{
			name: "request whose headers trickle slower than --read-header-timeout",
			raw:  stalledHeaders,
			// The connection is closed without an answer.
		},
		{
			name:       "Connect message over --max-upload-bytes",
			req:        limitsConnectRequest("UploadChanges", append(append([]byte(`{"changesetId":"`+cs+`","osmChange":"`), bytes.Repeat([]byte("A"), testMaxBytes)...), `"}`...)),
			wantStatus: http.StatusTooManyRequests, wantText: regexp.MustCompile(`^resource_exhausted: .*larger than configured max ` + strconv.Itoa(testMaxBytes) + `$`),
		},
		{
			name:       "second open changeset",
			req:        limitsRequest{method: "PUT", path: "/api/0.6/changeset/create", body: limitsChangesetBody("second")},
			wantStatus: http.StatusOK, writes: true,
		},
		{
			name:       "third open changeset, at --max-open-changesets",
			req:        limitsRequest{method: "PUT", path: "/api/0.6/changeset/create", body: limitsChangesetBody("third")},
			wantStatus: http.StatusOK, writes: true,
		},
		{
			name:       "PUT changeset/create over --max-open-changesets",
			req:        limitsRequest{method: "PUT", path: "/api/0.6/changeset/create", body: limitsChangesetBody("fourth")},
			wantStatus: http.StatusTooManyRequests,
			wantText:   exactly(fmt.Sprintf("You have reached the limit of %d open changesets; close one before opening another", testMaxOpenChangesets)),
		},
		{
			name:       "Connect CreateChangeset over --max-open-changesets",
			req:        limitsConnectRequest("CreateChangeset", []byte(`{"tags":[{"key":"comment","value":"fourth"}]}`)),
			wantStatus: http.StatusTooManyRequests,
			wantText:   exactly(fmt.Sprintf("resource_exhausted: You have reached the limit of %d open changesets; close one before opening another", testMaxOpenChangesets)),
		},
	}
	addr := strings.TrimPrefix(srv.Base, "http://")
	for _, row := range rows {
		before := c.changesets()
		var got limitsResponse
		if row.raw != nil {
			got = row.raw(t, addr)
		} else {
			got = c.send(row.req)
		}
		if got.status != row.wantStatus {
			t.Errorf("%s: status %d (%q), want %d", row.name, got.status, got.text, row.wantStatus)
		} else if row.wantText != nil && !row.wantText.MatchString(got.text) {
			t.Errorf("%s: message %q, want %s", row.name, got.text, row.wantText)
		}
		after := c.changesets()
		switch {
		case row.writes && after == before:
			t.Errorf("%s: the user's changesets are unchanged, want the write seen:\n%s", row.name, after)
		case !row.writes && after != before:
			t.Errorf("%s: refused, yet the user's changesets changed from\n%s\nto\n%s", row.name, before, after)
		}
	}

	// Capabilities announce the limits in force, those configured here.
	checkLimitsInCapabilities(t, srv.Base, testMaxMembers)
}

// checkLimitsInCapabilities checks the members per relation that the XML and
// JSON capabilities announce, and openstreetmap.org's other limits.
func checkLimitsInCapabilities(t *testing.T, base string, members int) {
	t.Helper()
	xmlDoc := limitsGet(t, base+"/api/0.6/capabilities")
	for _, want := range []string{
		fmt.Sprintf(`<relationmembers maximum="%d"/>`, members),
		`<waynodes maximum="2000"/>`,
		`<changesets maximum_elements="10000" `,
	} {
		if !strings.Contains(xmlDoc, want) {
			t.Errorf("%s capabilities: no %s in\n%s", base, want, xmlDoc)
		}
	}
	var doc struct {
		API struct {
			Waynodes        struct{ Maximum int } `json:"waynodes"`
			RelationMembers struct{ Maximum int } `json:"relationmembers"`
			Changesets      struct {
				MaximumElements int `json:"maximum_elements"`
			} `json:"changesets"`
		} `json:"api"`
	}
	if err := json.Unmarshal([]byte(limitsGet(t, base+"/api/0.6/capabilities.json")), &doc); err != nil {
		t.Fatalf("%s capabilities.json: %v", base, err)
	}
	if got := doc.API.RelationMembers.Maximum; got != members {
		t.Errorf("%s capabilities.json: relationmembers %d, want %d", base, got, members)
	}
	if doc.API.Waynodes.Maximum != 2000 || doc.API.Changesets.MaximumElements != 10000 {
		t.Errorf("%s capabilities.json: waynodes %d, changesets %d, want 2000 and 10000", base,
			doc.API.Waynodes.Maximum, doc.API.Changesets.MaximumElements)
	}
}

func limitsGet(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s %v", u, resp.StatusCode, body, err)
	}
	return string(body)
}

type limitsRequest struct {
	method, path string
	body         []byte
	encoding     string
	contentType  string
}

// limitsConnectRequest is a unary call of ChangesetService in the Connect
// protocol's JSON.
func limitsConnectRequest(procedure string, body []byte) limitsRequest {
	return limitsRequest{method: "POST", path: "/geocommuns.v1.ChangesetService/" + procedure, body: body, contentType: "application/json"}
}

type limitsResponse struct {
	t      *testing.T
	status int
	// text is the message: an OSM API error's body, or a Connect error's
	// "code: message".
	text string
}

func (r limitsResponse) wantOK() string {
	r.t.Helper()
	if r.status != http.StatusOK {
		r.t.Fatalf("status %d: %s", r.status, r.text)
	}
	return r.text
}

type limitsClient struct {
	t                    *testing.T
	base, user, password string
}

func (c *limitsClient) send(req limitsRequest) limitsResponse {
	c.t.Helper()
	hr, err := http.NewRequest(req.method, c.base+req.path, bytes.NewReader(req.body))
	if err != nil {
		c.t.Fatal(err)
	}
	hr.SetBasicAuth(c.user, c.password)
	hr.Header.Set("Content-Type", "text/xml")
	if req.contentType != "" {
		hr.Header.Set("Content-Type", req.contentType)
	}
	if req.encoding != "" {
		hr.Header.Set("Content-Encoding", req.encoding)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.method, req.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read the answer: %v", req.method, req.path, err)
	}
	text := string(body)
	if strings.HasPrefix(req.path, "/geocommuns.") && resp.StatusCode != http.StatusOK {
		var e struct{ Code, Message string }
		if err := json.Unmarshal(body, &e); err != nil {
			c.t.Fatalf("%s: Connect error %q: %v", req.path, body, err)
		}
		text = e.Code + ": " + e.Message
	}
	return limitsResponse{t: c.t, status: resp.StatusCode, text: text}
}

// changesets is what the user's changesets look like to anyone: their
// ids, open state and changes_count, which every write changes.
func (c *limitsClient) changesets() string {
	c.t.Helper()
	return limitsGet(c.t, c.base+"/api/0.6/changesets?display_name="+url.QueryEscape(c.user))
}

// stalledBody announces a body and sends part of it, then nothing.
func stalledBody(path, user, password string) func(t *testing.T, addr string) limitsResponse {
	return func(t *testing.T, addr string) limitsResponse {
		conn := limitsDial(t, addr)
		body := `<osmChange version="0.6"><create>`
		req := "POST " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: text/xml\r\n" +
			"Authorization: Basic " + limitsBasicAuth(user, password) + "\r\nContent-Length: 1000\r\n\r\n" + body
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("stalled body: no answer: %v", err)
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(resp.Body)
		return limitsResponse{t: t, status: resp.StatusCode, text: string(text)}
	}
}

// stalledHeaders sends the start of a request, then nothing; the server
// must close the connection (status 0 here) rather than wait.
func stalledHeaders(t *testing.T, addr string) limitsResponse {
	conn := limitsDial(t, addr)
	if _, err := io.WriteString(conn, "GET /api/0.6/capabilities HTTP/1.1\r\nHost: "+addr+"\r\n"); err != nil {
		t.Fatal(err)
	}
	n, err := conn.Read(make([]byte, 512))
	var timeout net.Error
	if errors.As(err, &timeout) && timeout.Timeout() {
		t.Fatalf("stalled headers: the connection was still open after %s", limitsSafetyTimeout)
	}
	if n > 0 || err != io.EOF {
		t.Errorf("stalled headers: read %d bytes, %v; want the connection closed", n, err)
	}
	return limitsResponse{t: t}
}

func limitsDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(limitsSafetyTimeout)); err != nil {
		t.Fatal(err)
	}
	return conn
}

func limitsBasicAuth(user, password string) string {
	r, _ := http.NewRequest("GET", "http://x", nil)
	r.SetBasicAuth(user, password)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func exactly(s string) *regexp.Regexp { return regexp.MustCompile("^" + regexp.QuoteMeta(s) + "$") }

func limitsChangesetBody(comment string) []byte {
	return []byte(`<osm><changeset><tag k="comment" v="` + comment + `"/></changeset></osm>`)
}

func limitsOsmChange(cs string, elements ...string) string {
	for i := range elements {
		elements[i] = strings.ReplaceAll(elements[i], "CS", cs)
	}
	return `<osmChange version="0.6"><create>` + strings.Join(elements, "") + `</create></osmChange>`
}

// limitsNodeXML is a node with tags tags, all on one line.
func limitsNodeXML(id, tags int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<node id="%d" changeset="CS" lat="1" lon="1">`, id)
	for i := range tags {
		fmt.Fprintf(&b, `<tag k="k%d" v=""/>`, i)
	}
	b.WriteString(`</node>`)
	return b.String()
}

// limitsNodeBody is the body of PUT /api/0.6/node/create.
func limitsNodeBody(cs string, tags int) []byte {
	return []byte("<osm>" + strings.ReplaceAll(limitsNodeXML(-1, tags), "CS", cs) + "</osm>")
}

// limitsRelationXML is a relation of members members, each the node given.
func limitsRelationXML(cs string, id int, node string, members int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<relation id="%d" changeset="%s">`, id, cs)
	for range members {
		fmt.Fprintf(&b, `<member type="node" ref="%s" role="stop"/>`, node)
	}
	b.WriteString(`<tag k="type" v="route"/></relation>`)
	return b.String()
}

// structuredUpload is an UploadChangesRequest in the Connect protocol's
// JSON creating element.
func structuredUpload(cs string, element map[string]any) []byte {
	id, _ := strconv.ParseInt(cs, 10, 64)
	b, _ := json.Marshal(map[string]any{"changesetId": id, "structured": map[string]any{
		"changes": []any{map[string]any{"action": "ACTION_CREATE", "element": element}}}})
	return b
}

// connectNode is a node to create with tags tags.
func connectNode(cs string, tags int) map[string]any {
	list := []any{}
	for i := range tags {
		list = append(list, map[string]any{"key": fmt.Sprintf("k%d", i), "value": ""})
	}
	return map[string]any{"type": "ELEMENT_TYPE_NODE", "id": -1, "changeset": cs, "latE7": 10000000, "lonE7": 10000000, "tags": list}
}

// connectRelation is a relation to create of members members, each the
// node given.
func connectRelation(cs, node string, members int) map[string]any {
	list := []any{}
	for range members {
		list = append(list, map[string]any{"type": "ELEMENT_TYPE_NODE", "ref": node, "role": "stop"})
	}
	return map[string]any{"type": "ELEMENT_TYPE_RELATION", "id": -1, "changeset": cs, "members": list,
		"tags": []any{map[string]any{"key": "type", "value": "route"}}}
}

// paddedOsmChange is an osmChange document of size bytes, almost all of
// them spaces between its elements.
func paddedOsmChange(size int) []byte {
	return padded(`<osmChange version="0.6"><create>`, `</create></osmChange>`, size)
}

// padded is start and end with spaces between, size bytes in all.
func padded(start, end string, size int) []byte {
	return []byte(start + strings.Repeat(" ", size-len(start)-len(end)) + end)
}

// randomTagsOsmChange is an osmChange document of at least size bytes of
// nodes with random tag values, which gzip compresses only about twice.
func randomTagsOsmChange(cs string, size int) []byte {
	var b bytes.Buffer
	b.WriteString(`<osmChange version="0.6"><create>`)
	value := make([]byte, 100)
	for id := 1; b.Len() < size; id++ {
		rand.Read(value)
		fmt.Fprintf(&b, `<node id="-%d" changeset="%s" lat="1" lon="1"><tag k="note" v="%s"/></node>`, id, cs, hex.EncodeToString(value))
	}
	b.WriteString(`</create></osmChange>`)
	return b.Bytes()
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	return compressed(t, &out, gzip.NewWriter(&out), b)
}

// deflated is b as Content-Encoding: deflate has it (zlib's format).
func deflated(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	return compressed(t, &out, zlib.NewWriter(&out), b)
}

func compressed(t *testing.T, out *bytes.Buffer, zw io.WriteCloser, b []byte) []byte {
	t.Helper()
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
