package clientstest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/server/servetest"
)

// The authoritative dataset every test starts from, imported with
// `geocommuns import`: a café the clients modify, a gate they delete, a
// corner node and a service way through the café and the corner. An
// anonymous reader must keep seeing exactly this while the authors'
// changes are pending.

type fixtureNode struct {
	ID      int64             `json:"id"`
	Version int               `json:"version"`
	Lat     float64           `json:"lat"`
	Lon     float64           `json:"lon"`
	Tags    map[string]string `json:"tags"`
}

type fixtureWay struct {
	ID      int64             `json:"id"`
	Version int               `json:"version"`
	Nodes   []int64           `json:"nodes"`
	Tags    map[string]string `json:"tags"`
}

var (
	cafe = fixtureNode{ID: 101, Version: 3, Lat: 43.6, Lon: 1.44,
		Tags: map[string]string{"amenity": "cafe", "name": "Le Vieux Café"}}
	corner = fixtureNode{ID: 102, Version: 1, Lat: 43.601, Lon: 1.441, Tags: map[string]string{}}
	gate   = fixtureNode{ID: 103, Version: 2, Lat: 43.602, Lon: 1.442,
		Tags: map[string]string{"barrier": "gate"}}
	serviceWay = fixtureWay{ID: 201, Version: 1, Nodes: []int64{101, 102},
		Tags: map[string]string{"highway": "service"}}
)

// fixtureJSON is the fixture as the client scripts read it
// (CLIENTSTEST_FIXTURE): what they modify, delete and extend.
func fixtureJSON(t *testing.T) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"modify": cafe, "delete": gate, "way": serviceWay})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func tagsXML(tags map[string]string) string {
	var b strings.Builder
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, `<tag k="%s" v="%s"/>`, k, tags[k])
	}
	return b.String()
}

// importFixture imports the fixture into the empty dataset.
func importFixture(t *testing.T, ds dataset) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<osm version="0.6" generator="clientstest">` + "\n")
	for _, n := range []fixtureNode{cafe, corner, gate} {
		fmt.Fprintf(&b, ` <node id="%d" version="%d" timestamp="2024-05-01T10:00:00Z" uid="7" user="importer" changeset="11" lat="%.7f" lon="%.7f">%s</node>`+"\n",
			n.ID, n.Version, n.Lat, n.Lon, tagsXML(n.Tags))
	}
	fmt.Fprintf(&b, ` <way id="%d" version="%d" timestamp="2024-05-01T10:00:00Z" uid="7" user="importer" changeset="11">`, serviceWay.ID, serviceWay.Version)
	for _, ref := range serviceWay.Nodes {
		fmt.Fprintf(&b, `<nd ref="%d"/>`, ref)
	}
	b.WriteString(tagsXML(serviceWay.Tags) + "</way>\n</osm>\n")
	file := filepath.Join(t.TempDir(), "fixture.osm")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	runCommand(t, ds, "", "import", file)
}

// addUser adds a contributor with a password and returns its API token.
func addUser(t *testing.T, ds dataset, name, password string) string {
	t.Helper()
	return strings.TrimSpace(runCommand(t, ds, password+"\n", "user", "add", name, "--role", "contributor", "--password-stdin"))
}

var clientIDLine = regexp.MustCompile(`(?m)^client_id=(\S+)$`)

// addPublicApp registers a public OAuth 2 application (PKCE required, as
// iD and JOSM are) and returns its client_id.
func addPublicApp(t *testing.T, ds dataset, name, redirectURI string) string {
	t.Helper()
	out := runCommand(t, ds, "", "oauth-app", "add", name, "--redirect-uri", redirectURI)
	m := clientIDLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("oauth-app add printed %q, no client_id", out)
	}
	return m[1]
}

// session is a dataset with the fixture, an author, and a running
// server.
type session struct {
	ds       dataset
	server   *servetest.Process
	author   string
	password string
	apiToken string
}

// The author's password; authors are named with a space (and, where
// the client can send it, an accent), as real display names are.
const authorPassword = "correct horse battery staple"

func newSession(t *testing.T, backend, author string, setup ...func(dataset)) *session {
	t.Helper()
	ds := newDataset(t, backend)
	importFixture(t, ds)
	s := &session{ds: ds, author: author, password: authorPassword}
	s.apiToken = addUser(t, ds, author, authorPassword)
	for _, f := range setup {
		f(ds)
	}
	s.server = startServe(t, ds)
	return s
}
