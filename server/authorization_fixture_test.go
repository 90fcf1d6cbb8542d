package server_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/server/servetest"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
)

// The world of the authorization table: a built `geocommuns serve` on a
// small imported dataset, its accounts made with the CLI as an operator
// makes them, and a review configuration with one scope.

// A caller is who calls an endpoint.
type caller int

const (
	anonymous    caller = iota
	contributor         // carla: owns the changesets under test
	otherContrib        // colin: another contributor
	reviewer            // rita: reviews the scope and what no scope covers
	scopedReview        // sam: reviews the scope only
	admin               // adam
	revokedToken        // a token of carla's, revoked with `token revoke`
	expiredToken        // a token of carla's created with `token create --expires`, past it
	callerCount
)

var callerNames = [callerCount]string{"anonymous", "contributor", "another contributor", "reviewer",
	"scoped reviewer", "admin", "revoked token", "expired token"}

func (c caller) String() string { return callerNames[c] }

// accountOf is the account behind each caller that has one.
var accountOf = map[caller]string{contributor: "carla", otherContrib: "colin", reviewer: "rita", scopedReview: "sam", admin: "adam"}

// The dataset's box: the scope's area is its west half, where node 1
// lies; node 2 lies in the east half, which only the fallback reviewers
// review.
const (
	scopeName  = "west"
	westLon    = "1.1"
	eastLon    = "1.9"
	fixtureOSM = `<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="authorization test">
  <node id="1" version="1" changeset="1" uid="1" user="mapper" timestamp="2024-01-01T00:00:00Z" visible="true" lat="42.5" lon="1.1"><tag k="amenity" v="bench"/></node>
  <node id="2" version="1" changeset="1" uid="1" user="mapper" timestamp="2024-01-01T00:00:00Z" visible="true" lat="42.5" lon="1.9"/>
  <node id="3" version="1" changeset="1" uid="1" user="mapper" timestamp="2024-01-01T00:00:00Z" visible="true" lat="42.6" lon="1.2"/>
  <node id="4" version="1" changeset="1" uid="1" user="mapper" timestamp="2024-01-01T00:00:00Z" visible="true" lat="42.6" lon="1.3"/>
  <way id="10" version="1" changeset="1" uid="1" user="mapper" timestamp="2024-01-01T00:00:00Z" visible="true"><nd ref="3"/><nd ref="4"/><tag k="highway" v="path"/></way>
  <relation id="20" version="1" changeset="1" uid="1" user="mapper" timestamp="2024-01-01T00:00:00Z" visible="true"><member type="way" ref="10" role=""/><tag k="type" v="route"/></relation>
</osm>
`
)

const reviewYAML = `scopes:
  - name: ` + scopeName + `
    reviewers: [rita, sam]
    area: west.geojson
fallback_reviewers: [rita]
`

const westGeoJSON = `{"type":"Polygon","coordinates":[[[1.0,42.0],[1.5,42.0],[1.5,43.0],[1.0,43.0],[1.0,42.0]]]}`

// world is one running server and its callers' credentials.
type world struct {
	t      *testing.T
	binary string
	store  []string // the CLI's dataset flags
	proc   *servetest.Process
	// sqliteDir is the SQLite dataset's directory; empty on PostgreSQL.
	sqliteDir string

	tokens    map[caller]string
	passwords map[string]string // by account name
	// secrets are every password and token the test used, which no log
	// line or answer may hold.
	secrets []string

	mu      sync.Mutex
	answers []string
	// madeHistorical says which element types historical has done.
	madeHistorical map[string]bool
	// opened are the changesets openChangeset opened, which
	// closeOpened closes: a user may only have so many open.
	opened []int64
}

func newWorld(t *testing.T, backend string) *world {
	t.Helper()
	w := &world{t: t, binary: servetest.Binary(t), tokens: map[caller]string{}, passwords: map[string]string{}, madeHistorical: map[string]bool{}}
	dir := t.TempDir()
	switch backend {
	case "sqlite":
		w.sqliteDir = filepath.Join(dir, "data")
		w.store = []string{"--data", w.sqliteDir}
	case "postgres":
		cfg := pgtest.Config(t)
		w.store = []string{"--postgres", cfg.URL, "--schema", cfg.Schema}
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	w.cli("", append(append([]string{"import"}, w.store...), write("fixture.osm", fixtureOSM))...)
	roles := map[string]string{"carla": "contributor", "colin": "contributor", "rita": "reviewer", "sam": "reviewer", "adam": "admin"}
	for c, name := range accountOf {
		pw := "pw-" + name + "-" + randomHex(t)
		w.passwords[name] = pw
		w.secrets = append(w.secrets, pw)
		token := strings.TrimSpace(w.cli(pw+"\n", append([]string{"user", "add", name, "--role", roles[name], "--password-stdin"}, w.store...)...))
		w.tokens[c] = token
		w.secrets = append(w.secrets, token)
	}
	revoked := strings.TrimSpace(w.cli("", append([]string{"token", "create", "--user", "carla"}, w.store...)...))
	w.cli("", append([]string{"token", "revoke", revoked}, w.store...)...)
	w.tokens[revokedToken] = revoked
	w.tokens[expiredToken] = w.expiredToken()
	w.secrets = append(w.secrets, revoked, w.tokens[expiredToken])

	write("west.geojson", westGeoJSON)
	config := write("review.yaml", reviewYAML)
	// No write limit: the table writes far faster than a person.
	w.proc = servetest.Start(t, w.binary, append([]string{"--review-config", config, "--write-rate", "0", "--replication-interval", "0"}, w.store...)...)
	return w
}

func randomHex(t *testing.T) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func (w *world) cli(stdin string, args ...string) string {
	w.t.Helper()
	return servetest.Run(w.t, w.binary, stdin, args...)
}

// expiredToken creates a token of carla's that expires a second from
// now, and waits until that time has passed (the CLI says when): the
// token then stays expired, so nothing below depends on timing.
func (w *world) expiredToken() string {
	w.t.Helper()
	token := strings.TrimSpace(w.cli("", append([]string{"token", "create", "--user", "carla", "--expires", "1s"}, w.store...)...))
	time.Sleep(2100 * time.Millisecond)
	return token
}

// answer is what a caller got.
type answer struct {
	status int
	header http.Header
	body   string
}

// call makes one request as c; body is sent with contentType.
func (w *world) call(c caller, method, path, contentType, body string, header ...string) answer {
	w.t.Helper()
	req, err := http.NewRequest(method, w.proc.Base+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c != anonymous {
		req.Header.Set("Authorization", "Bearer "+w.tokens[c])
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s as %s: %v", method, path, c, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatalf("%s %s as %s: read the answer: %v", method, path, c, err)
	}
	w.mu.Lock()
	w.answers = append(w.answers, string(b), fmt.Sprint(resp.Header))
	w.mu.Unlock()
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// osm calls the OSM API with an XML body.
func (w *world) osm(c caller, method, path, body string) answer {
	w.t.Helper()
	return w.call(c, method, path, "text/xml", body)
}

// connect calls a unary Connect procedure with a JSON message.
func (w *world) connect(c caller, procedure string, msg any) answer {
	w.t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		w.t.Fatal(err)
	}
	return w.call(c, http.MethodPost, procedure, "application/json", string(b))
}

// mustOSM is a setup call that has to succeed.
func (w *world) mustOSM(c caller, method, path, body string) string {
	w.t.Helper()
	a := w.osm(c, method, path, body)
	if a.status != http.StatusOK {
		w.t.Fatalf("setup: %s %s as %s: %d %s", method, path, c, a.status, a.body)
	}
	return a.body
}

// openChangeset is a new open changeset of carla's.
func (w *world) openChangeset() int64 {
	w.t.Helper()
	body := w.mustOSM(contributor, http.MethodPut, "/api/0.6/changeset/create",
		`<osm><changeset><tag k="comment" v="authorization table"/></changeset></osm>`)
	id, err := strconv.ParseInt(strings.TrimSpace(body), 10, 64)
	if err != nil {
		w.t.Fatalf("setup: changeset id %q", body)
	}
	w.opened = append(w.opened, id)
	return id
}

// closeOpened closes the changesets the rows opened and left open; one
// closed already answers 409, which is as good.
func (w *world) closeOpened() {
	w.t.Helper()
	for _, id := range w.opened {
		w.osm(contributor, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", id), "")
	}
	w.opened = nil
}

// submitted is a changeset of carla's creating a node at lon (in the
// scope's west half or out of it), closed, and validated by the review
// gate, so that reviewers may decide on it.
func (w *world) submitted(lon string) int64 {
	w.t.Helper()
	cs, _ := w.submittedNode(lon)
	return cs
}

var newID = regexp.MustCompile(`new_id="(\d+)"`)

// submittedNode is submitted, with the id of the node it creates.
func (w *world) submittedNode(lon string) (cs, node int64) {
	w.t.Helper()
	cs = w.openChangeset()
	diff := w.mustOSM(contributor, http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/upload", cs), fmt.Sprintf(
		`<osmChange version="0.6"><create><node id="-1" changeset="%d" lat="42.55" lon="%s"><tag k="amenity" v="bench"/></node></create></osmChange>`, cs, lon))
	m := newID.FindStringSubmatch(diff)
	if m == nil {
		w.t.Fatalf("setup: diffResult without a new id: %s", diff)
	}
	node, _ = strconv.ParseInt(m[1], 10, 64)
	w.mustOSM(contributor, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", cs), "")
	w.waitValidated(cs)
	return cs, node
}

// waitValidated waits until the review gate has validated a submitted
// changeset, which lets reviewers decide on it.
func (w *world) waitValidated(cs int64) {
	w.t.Helper()
	for deadline := time.Now().Add(time.Minute); ; {
		a := w.connect(admin, "/geocommuns.v1.ReviewService/GetReview", map[string]any{"changesetId": cs})
		var review struct {
			ValidatedAt string `json:"validatedAt"`
		}
		if a.status == http.StatusOK && json.Unmarshal([]byte(a.body), &review) == nil && review.ValidatedAt != "" {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("setup: changeset %d was not validated within a minute: %d %s", cs, a.status, a.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// merged is a changeset of carla's that an admin approved and that
// merged.
func (w *world) merged() int64 {
	w.t.Helper()
	return w.mergeApproved(w.submitted(eastLon))
}

// historical makes version 1 of an imported element of typ (node 2, way
// 10, relation 20) historical, once, by merging a change of carla's to
// it, and returns that version's path.
func (w *world) historical(typ string) string {
	w.t.Helper()
	edit := map[string]string{
		"node":     `<node id="2" version="1" changeset="%d" lat="42.5" lon="1.9"><tag k="name" v="x"/></node>`,
		"way":      `<way id="10" version="1" changeset="%d"><nd ref="3"/><nd ref="4"/><tag k="highway" v="footway"/></way>`,
		"relation": `<relation id="20" version="1" changeset="%d"><member type="way" ref="10" role=""/><tag k="type" v="site"/></relation>`,
	}[typ]
	path := map[string]string{"node": "/api/0.6/node/2/1", "way": "/api/0.6/way/10/1", "relation": "/api/0.6/relation/20/1"}[typ]
	if w.madeHistorical[typ] {
		return path
	}
	cs := w.openChangeset()
	w.mustOSM(contributor, http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/upload", cs),
		fmt.Sprintf(`<osmChange version="0.6"><modify>`+edit+`</modify></osmChange>`, cs))
	w.mustOSM(contributor, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", cs), "")
	w.waitValidated(cs)
	w.mergeApproved(cs)
	w.madeHistorical[typ] = true
	return path
}

// mergeApproved approves a validated changeset as the admin and waits
// for its merge.
func (w *world) mergeApproved(cs int64) int64 {
	w.t.Helper()
	if a := w.connect(admin, "/geocommuns.v1.ReviewService/Approve", map[string]any{"changesetId": cs}); a.status != http.StatusOK {
		w.t.Fatalf("setup: approve %d: %d %s", cs, a.status, a.body)
	}
	for deadline := time.Now().Add(time.Minute); ; {
		a := w.osm(anonymous, http.MethodGet, fmt.Sprintf("/api/0.6/changeset/%d", cs), "")
		if strings.Contains(a.body, `review_state="merged"`) {
			return cs
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("setup: changeset %d did not merge within a minute: %s", cs, a.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// createdNode is a node carla created in an open changeset of hers,
// returned with that changeset.
func (w *world) createdNode() (cs, node int64) {
	w.t.Helper()
	cs = w.openChangeset()
	body := w.mustOSM(contributor, http.MethodPut, "/api/0.6/node/create",
		fmt.Sprintf(`<osm><node changeset="%d" lat="42.55" lon="1.2"/></osm>`, cs))
	node, err := strconv.ParseInt(strings.TrimSpace(body), 10, 64)
	if err != nil {
		w.t.Fatalf("setup: node id %q", body)
	}
	return cs, node
}

// bytesField returns a Connect message's bytes field as JSON wants it.
func bytesField(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
