package clientstest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/server/servetest"
	"github.com/paulmach/osm"
)

// The npm package osm-api@4.0.0, unmodified (pinned by
// node/package-lock.json, installed by scripts/setup with npm ci), signs
// in with its own OAuth 2 login() (authorization code + PKCE), uploads
// gzip-compressed osmChange documents and reads JSON. The script is
// node/osm-api-session.mjs; the test plays the browser of its login and
// records the wire between it and the server.

// jsOutcome is one call of the script: its value, or osm-api's error.
type jsOutcome struct {
	Value  json.RawMessage `json:"value"`
	Error  *string         `json:"error"`
	Status any             `json:"status"`
}

type jsSession struct {
	Event           string    `json:"event"`
	Login           jsOutcome `json:"login"`
	LoggedIn        bool      `json:"loggedIn"`
	APICapabilities jsOutcome `json:"apiCapabilities"`
	Capabilities    jsOutcome `json:"capabilities"`
	User            jsOutcome `json:"user"`
	Upload          jsOutcome `json:"upload"`
	ChangesetID     int64     `json:"changesetId"`
	Changeset       jsOutcome `json:"changeset"`
	Bench           jsOutcome `json:"bench"`
	PathFull        jsOutcome `json:"pathFull"`
	Nodes           jsOutcome `json:"nodes"`
	WaysOfBench     jsOutcome `json:"waysOfBench"`
	Deleted         jsOutcome `json:"deleted"`
	Map             jsOutcome `json:"map"`
	Stacked         jsOutcome `json:"stacked"`
	BenchAfterStack jsOutcome `json:"benchAfterStack"`
}

// jsElement is an element of the OSM API's JSON, as osm-api returns it.
type jsElement struct {
	Type      string            `json:"type"`
	ID        int64             `json:"id"`
	Version   int               `json:"version"`
	Changeset int64             `json:"changeset"`
	User      string            `json:"user"`
	Lat       float64           `json:"lat"`
	Lon       float64           `json:"lon"`
	Tags      map[string]string `json:"tags"`
	Nodes     []int64           `json:"nodes"`
}

func (e jsElement) String() string { return fmt.Sprintf("%s %d v%d", e.Type, e.ID, e.Version) }

// uploadResult is what uploadChangeset returns: per changeset, the new
// id and version of each element by type and old id.
type uploadResult map[string]struct {
	DiffResult map[string]map[string]struct {
		NewID      *int64 `json:"newId"`
		NewVersion *int   `json:"newVersion"`
	} `json:"diffResult"`
}

func jsValue[T any](t *testing.T, call string, o jsOutcome) (T, bool) {
	t.Helper()
	var v T
	switch {
	case o.Error != nil:
		t.Errorf("osm-api %s: %s (status %v)", call, *o.Error, o.Status)
		return v, false
	case o.Value == nil:
		t.Errorf("osm-api %s: not called (an earlier call failed)", call)
		return v, false
	}
	if err := json.Unmarshal(o.Value, &v); err != nil {
		t.Errorf("osm-api %s: decode %s: %v", call, o.Value, err)
		return v, false
	}
	return v, true
}

const osmAPIDir = "node"

// requireOsmAPI finds node and the pinned osm-api.
func requireOsmAPI(t *testing.T) string {
	t.Helper()
	nodeBin, err := exec.LookPath("node")
	servetest.RequireTool(t, "node", "scripts/setup installs Debian's npm, which brings nodejs", err)
	var pkg struct {
		Version string `json:"version"`
	}
	b, err := os.ReadFile(filepath.Join(osmAPIDir, "node_modules", "osm-api", "package.json"))
	if err == nil {
		err = json.Unmarshal(b, &pkg)
	}
	if err == nil && pkg.Version != "4.0.0" {
		err = fmt.Errorf("osm-api %s installed, want 4.0.0", pkg.Version)
	}
	servetest.RequireTool(t, "npm osm-api@4.0.0", "scripts/setup runs npm ci in editing/clientstest/node", err)
	return nodeBin
}

// runOsmAPI runs the script against apiURL, signing in through the
// browser when login() opens its popup, and returns its result.
func runOsmAPI(t *testing.T, nodeBin, apiURL, clientID, redirectURI, fallbackToken string, s *session) jsSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, "osm-api-session.mjs")
	cmd.Dir = osmAPIDir
	cmd.Env = append(os.Environ(),
		"OSM_API_URL="+apiURL, "OSM_CLIENT_ID="+clientID, "OSM_REDIRECT_URL="+redirectURI,
		"OSM_FALLBACK_TOKEN="+fallbackToken, "CLIENTSTEST_FIXTURE="+fixtureJSON(t))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var result *jsSession
	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 16<<20)
	for lines.Scan() {
		var ev struct {
			Event string `json:"event"`
			URL   string `json:"url"`
		}
		if err := json.Unmarshal(lines.Bytes(), &ev); err != nil {
			t.Errorf("osm-api script printed %q: %v", lines.Text(), err)
			continue
		}
		switch ev.Event {
		case "authorize":
			back := newBrowser(t, redirectURI).authorize(ev.URL, s.author, s.password)
			if _, err := io.WriteString(stdin, back.String()+"\n"); err != nil {
				t.Fatalf("hand the redirect to osm-api: %v", err)
			}
		case "result":
			result = new(jsSession)
			if err := json.Unmarshal(lines.Bytes(), result); err != nil {
				t.Fatalf("osm-api script result %q: %v", lines.Text(), err)
			}
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil || result == nil {
		t.Fatalf("osm-api script: %v, result %v\nstderr: %s\nserver log:\n%s", err, result != nil, stderr.String(), s.server.Log())
	}
	return *result
}

var uploadPath = regexp.MustCompile(`^/api/0\.6/changeset/(\d+)/upload$`)

// TestNpmOsmAPI drives osm-api@4.0.0's sign-in, capabilities, upload
// (gzip), changeset, feature, multi-fetch, ways-of-node and map reads in
// JSON, and a second changeset stacked on the first's provisional
// version, on both backends; an anonymous reader sees none of it.
func TestNpmOsmAPI(t *testing.T) {
	nodeBin := requireOsmAPI(t)
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			const redirectURI = "http://127.0.0.1:9/osm-api-land.html"
			var clientID string
			s := newSession(t, backend, "Élise Mapper", func(ds dataset) {
				clientID = addPublicApp(t, ds, "osm-api web app", redirectURI)
			})
			wire := newWireRecorder(t, s.server.Base)
			// A token from the same flow, for the script to go on with if
			// osm-api's own login() is refused, so that one refusal does not
			// hide the rest.
			_, fallback := signInWithOAuth2(t, s.server.Base, clientID, redirectURI, s.author, s.password)
			out := runOsmAPI(t, nodeBin, wire.URL, clientID, redirectURI, fallback.AccessToken, s)

			checkOsmAPILogin(t, out, wire)
			token := fallback.AccessToken
			if out.LoggedIn {
				var login struct {
					AccessToken string `json:"accessToken"`
				}
				json.Unmarshal(out.Login.Value, &login)
				token = login.AccessToken
			}
			for _, ex := range wire.all() {
				if strings.HasPrefix(ex.Path, "/api/") && ex.Header.Get("Authorization") != "Bearer "+token {
					t.Errorf("osm-api's %s %s was sent with Authorization %.20q…, not the OAuth 2 access token", ex.Method, ex.Path, ex.Header.Get("Authorization"))
				}
			}

			if caps, ok := jsValue[struct {
				API struct {
					Changesets struct {
						MaximumElements int `json:"maximum_elements"`
					} `json:"changesets"`
					Waynodes struct {
						Maximum int `json:"maximum"`
					} `json:"waynodes"`
				} `json:"api"`
			}](t, "getApiCapabilities", out.APICapabilities); ok && (caps.API.Changesets.MaximumElements != 10000 || caps.API.Waynodes.Maximum != 2000) {
				t.Errorf("capabilities.json: %s; want 10,000 changes per changeset and 2,000 nodes per way", out.APICapabilities.Value)
			}
			if caps, ok := jsValue[struct {
				Limits struct {
					MaxChangesetElements int `json:"maxChangesetElements"`
					MaxWayNodes          int `json:"maxWayNodes"`
				} `json:"limits"`
			}](t, "getCapabilities", out.Capabilities); ok && (caps.Limits.MaxChangesetElements != 10000 || caps.Limits.MaxWayNodes != 2000) {
				t.Errorf("getCapabilities: %s", out.Capabilities.Value)
			}
			if len(wire.find("GET", func(p string) bool { return p == "/api/capabilities.json" })) == 0 {
				t.Errorf("osm-api did not read /api/capabilities.json")
			}
			if u, ok := jsValue[struct {
				DisplayName string `json:"display_name"`
			}](t, "getUser(me)", out.User); ok && u.DisplayName != s.author {
				t.Errorf("getUser(me) is %q, want %q", u.DisplayName, s.author)
			}

			up, ok := jsValue[uploadResult](t, "uploadChangeset", out.Upload)
			if !ok || len(up) != 1 {
				t.Fatalf("uploadChangeset returned %s", out.Upload.Value)
			}
			cs := out.ChangesetID
			checkGzipUpload(t, wire, cs)
			diff := up[fmt.Sprint(cs)].DiffResult
			id := func(typ, old string) (int64, int) {
				e := diff[typ][old]
				if e.NewID == nil || e.NewVersion == nil {
					t.Fatalf("uploadChangeset's diffResult has no new id and version for %s %s: %s", typ, old, out.Upload.Value)
				}
				return *e.NewID, *e.NewVersion
			}
			bench, bv := id("node", "-1")
			end, ev := id("node", "-2")
			path, pv := id("way", "-1")
			cafeID, cv := id("node", fmt.Sprint(cafe.ID))
			if bench <= gate.ID || end <= gate.ID || bench == end || path <= serviceWay.ID || bv != 1 || ev != 1 || pv != 1 {
				t.Errorf("created node %d v%d, node %d v%d, way %d v%d; want new ids above the imported ones, version 1", bench, bv, end, ev, path, pv)
			}
			if cafeID != cafe.ID || cv != cafe.Version+1 {
				t.Errorf("the modified café: %d v%d, want %d v%d", cafeID, cv, cafe.ID, cafe.Version+1)
			}
			if g := diff["node"][fmt.Sprint(gate.ID)]; g.NewID != nil || g.NewVersion != nil {
				t.Errorf("the deleted gate came back with new id %v version %v; a delete's diffResult has its old_id only", g.NewID, g.NewVersion)
			}

			if c, ok := jsValue[struct {
				ID           int64             `json:"id"`
				Open         bool              `json:"open"`
				User         string            `json:"user"`
				ReviewState  string            `json:"review_state"`
				ChangesCount int               `json:"changes_count"`
				Tags         map[string]string `json:"tags"`
			}](t, "getChangeset", out.Changeset); ok {
				want := map[string]string{"comment": "osm-api: a path with a bench", "created_by": "osm-api-js 4.0.0"}
				if c.ID != cs || c.Open || c.ReviewState != "submitted" || c.User != s.author || c.ChangesCount != 5 || !maps.Equal(c.Tags, want) {
					t.Errorf("getChangeset after uploadChangeset closed it: %s; want closed, review_state submitted, 5 changes, by %s, %v", out.Changeset.Value, s.author, want)
				}
			}
			benchTags := map[string]string{"amenity": "bench", "backrest": "no"}
			if els, ok := jsValue[[]jsElement](t, "getFeature(node)", out.Bench); ok {
				if len(els) != 1 || els[0].ID != bench || els[0].Version != 1 || els[0].Changeset != cs || els[0].User != s.author || !maps.Equal(els[0].Tags, benchTags) {
					t.Errorf("getFeature of the new bench: %s", out.Bench.Value)
				}
			}
			if els, ok := jsValue[[]jsElement](t, "getFeature(way, full)", out.PathFull); ok {
				got := fmt.Sprint(els)
				if want := fmt.Sprint([]jsElement{{Type: "node", ID: bench, Version: 1}, {Type: "node", ID: end, Version: 1}, {Type: "way", ID: path, Version: 1}}); got != want ||
					!slices.Equal(els[2].Nodes, []int64{bench, end}) || els[2].Tags["name"] != "Chemin des Clients" {
					t.Errorf("getFeature of the path, full: %s; want %s", out.PathFull.Value, want)
				}
			}
			if els, ok := jsValue[[]jsElement](t, "getFeatures(node)", out.Nodes); ok {
				slices.SortFunc(els, func(a, b jsElement) int { return int(a.ID - b.ID) })
				got := fmt.Sprint(els)
				if want := fmt.Sprint([]jsElement{{Type: "node", ID: cafe.ID, Version: cafe.Version + 1}, {Type: "node", ID: bench, Version: 1}, {Type: "node", ID: end, Version: 1}}); got != want ||
					!maps.Equal(els[0].Tags, withTag(cafe.Tags, "wheelchair", "yes")) {
					t.Errorf("getFeatures: %s; want %s, the café with wheelchair=yes", out.Nodes.Value, want)
				}
			}
			if els, ok := jsValue[[]jsElement](t, "getWaysForNode", out.WaysOfBench); ok && (len(els) != 1 || els[0].ID != path || els[0].Version != 1) {
				t.Errorf("getWaysForNode of the bench: %s; want the path", out.WaysOfBench.Value)
			}
			if out.Deleted.Error == nil || fmt.Sprint(out.Deleted.Status) != "410" {
				t.Errorf("getFeature of the gate the author deleted: %s %v; want a 410 error", out.Deleted.Value, out.Deleted.Status)
			}
			if els, ok := jsValue[[]jsElement](t, "getMapData", out.Map); ok {
				var got []string
				for _, e := range els {
					got = append(got, e.String())
				}
				slices.Sort(got)
				want := []string{
					fmt.Sprintf("node %d v%d", cafe.ID, cafe.Version+1), fmt.Sprintf("node %d v1", corner.ID),
					fmt.Sprintf("node %d v1", bench), fmt.Sprintf("node %d v1", end),
					fmt.Sprintf("way %d v1", serviceWay.ID), fmt.Sprintf("way %d v1", path),
				}
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("getMapData: %v; want %v", got, want)
				}
			}

			// The next changeset cites the bench's provisional version 1.
			if st, ok := jsValue[uploadResult](t, "uploadChangeset (stacked)", out.Stacked); ok {
				for csID, r := range st {
					b := r.DiffResult["node"][fmt.Sprint(bench)]
					if csID == fmt.Sprint(cs) || b.NewVersion == nil || *b.NewVersion != 2 {
						t.Errorf("the stacked upload: %s; want a new changeset, the bench at version 2", out.Stacked.Value)
					}
				}
			}
			if els, ok := jsValue[[]jsElement](t, "getFeature(node) after the stacked upload", out.BenchAfterStack); ok &&
				(len(els) != 1 || els[0].Version != 2 || els[0].Tags["backrest"] != "yes" || els[0].Changeset == cs) {
				t.Errorf("the bench after the stacked changeset: %s; want version 2 with a backrest, in the second changeset", out.BenchAfterStack.Value)
			}

			checkAnonymousSeesFixture(t, s.server.Base, []osm.FeatureID{
				osm.NodeID(bench).FeatureID(), osm.NodeID(end).FeatureID(), osm.WayID(path).FeatureID(),
			})
		})
	}
}

// checkOsmAPILogin asserts that osm-api's own login() signed in, and
// shows the token request it sent and the answer when it did not.
func checkOsmAPILogin(t *testing.T, out jsSession, wire *wireRecorder) {
	t.Helper()
	if out.LoggedIn && out.Login.Error == nil {
		var login struct {
			AccessToken string   `json:"accessToken"`
			Scopes      []string `json:"scopes"`
			IssuedAt    string   `json:"issuedAt"`
		}
		if err := json.Unmarshal(out.Login.Value, &login); err != nil || login.AccessToken == "" ||
			!slices.Equal(login.Scopes, []string{"read_prefs", "write_api"}) || login.IssuedAt == "" {
			t.Errorf("osm-api login() resolved to %s", out.Login.Value)
		}
		return
	}
	msg := "(none)"
	if out.Login.Error != nil {
		msg = *out.Login.Error
	}
	var sent []string
	for _, ex := range wire.find("POST", func(p string) bool { return p == "/oauth2/token" }) {
		sent = append(sent, fmt.Sprintf("POST /oauth2/token?%s with body %q → %d %s", redact(ex.RawQuery), ex.Body, ex.Status, redact(ex.replyText())))
	}
	t.Errorf("osm-api's own login() did not sign in: %s\ntoken requests it sent: %s", msg, strings.Join(sent, "\n"))
}

// secretValue is a code or verifier in a token request's query, or a
// token in its JSON answer.
var secretValue = regexp.MustCompile(`\b(code|code_verifier)=[^&]*|"(access_token|refresh_token)":"[^"]*"`)

// redact hides the secrets of a token exchange in the test's messages.
func redact(s string) string {
	return secretValue.ReplaceAllStringFunc(s, func(m string) string {
		if k, _, ok := strings.Cut(m, "="); ok && !strings.HasPrefix(m, `"`) {
			return k + "=…"
		}
		k, _, _ := strings.Cut(m, ":")
		return k + `:"…"`
	})
}

// checkGzipUpload asserts that osm-api sent changeset cs's upload
// gzip-compressed, and that the server took it.
func checkGzipUpload(t *testing.T, wire *wireRecorder, cs int64) {
	t.Helper()
	uploads := wire.find("POST", func(p string) bool {
		m := uploadPath.FindStringSubmatch(p)
		return m != nil && m[1] == fmt.Sprint(cs)
	})
	if len(uploads) != 1 {
		t.Errorf("%d uploads of changeset %d on the wire, want 1", len(uploads), cs)
		return
	}
	ex := uploads[0]
	if ex.Header.Get("Content-Encoding") != "gzip" || !bytes.HasPrefix(ex.Body, []byte{0x1f, 0x8b}) {
		t.Errorf("osm-api's upload: Content-Encoding %q, body starting %x; want a gzip body", ex.Header.Get("Content-Encoding"), ex.Body[:min(4, len(ex.Body))])
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(ex.Body))
	if err != nil {
		t.Fatalf("osm-api's upload body: %v", err)
	}
	doc, err := io.ReadAll(zr)
	if err != nil || !bytes.Contains(doc, []byte("<osmChange")) || !bytes.Contains(doc, []byte(`if-unused`)) {
		t.Errorf("osm-api's upload inflates to %q (%v); want its osmChange, deletes if-unused", doc, err)
	}
	if ex.Status != 200 || !strings.HasPrefix(ex.ReplyHeader.Get("Content-Type"), "application/xml") || !strings.Contains(ex.replyText(), "<diffResult") {
		t.Errorf("the server answered the gzip upload %d %s: %s", ex.Status, ex.ReplyHeader.Get("Content-Type"), ex.replyText())
	}
}
