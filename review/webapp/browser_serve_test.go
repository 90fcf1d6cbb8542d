package webapp_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/server/servetest"
)

// The browser tests run the web app as an operator does: the binary built
// from this checkout, `geocommuns import` of a small extract, `user add`,
// then `serve`, and a contributor's changeset uploaded over the OSM API.
// The binary is built once for all of them.
func TestMain(m *testing.M) {
	servetest.Main(m)
}

// commandTimeout bounds one wait on the server; far above what each
// takes, so that a hang fails instead of stalling.
const commandTimeout = time.Minute

// site is one test's dataset (a SQLite directory: the web app is the same
// on both backends, which the storage suites test) and the binary that
// serves it.
type site struct {
	binary string
	flags  []string
}

func newSite(t *testing.T) *site {
	t.Helper()
	return &site{binary: servetest.Binary(t), flags: []string{"--data", filepath.Join(t.TempDir(), "data")}}
}

// run runs a geocommuns subcommand on the dataset with stdin and returns
// its stdout; a failure fails the test.
func (s *site) run(t *testing.T, stdin, subcommand string, args ...string) string {
	t.Helper()
	return servetest.Run(t, s.binary, stdin, slices.Concat([]string{subcommand}, s.flags, args)...)
}

// addUser adds an account with a password; role is contributor, reviewer
// or admin, and nobody is trusted, so every changeset waits for review.
func (s *site) addUser(t *testing.T, name, role, password string) {
	t.Helper()
	s.run(t, password+"\n", "user", "add", name, "--role", role, "--password-stdin")
}

// The imported extract: a café the contributor moves and renames, a
// corner and a gate joined by a service way, the context around the
// changeset.
const extractOSM = `<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="webapp browser test">
 <node id="101" version="3" timestamp="2024-05-01T10:00:00Z" uid="7" user="importer" changeset="11" lat="43.6000000" lon="1.4400000"><tag k="amenity" v="cafe"/><tag k="name" v="Le Vieux Café"/></node>
 <node id="102" version="1" timestamp="2024-05-01T10:00:00Z" uid="7" user="importer" changeset="11" lat="43.6010000" lon="1.4410000"/>
 <node id="103" version="2" timestamp="2024-05-01T10:00:00Z" uid="7" user="importer" changeset="11" lat="43.6020000" lon="1.4420000"><tag k="barrier" v="gate"/></node>
 <way id="201" version="1" timestamp="2024-05-01T10:00:00Z" uid="7" user="importer" changeset="11"><nd ref="101"/><nd ref="102"/><nd ref="103"/><tag k="highway" v="service"/></way>
</osm>
`

func (s *site) importExtract(t *testing.T) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "extract.osm")
	if err := os.WriteFile(file, []byte(extractOSM), 0o644); err != nil {
		t.Fatal(err)
	}
	s.run(t, "", "import", file)
}

// serve starts `geocommuns serve` on a free port and waits until it
// listens. The merge job looks often, so an approval merges within the
// test's patience. It is stopped with SIGTERM when the test ends; its log
// is shown when the test failed.
func (s *site) serve(t *testing.T, args ...string) *servetest.Process {
	t.Helper()
	return servetest.Start(t, s.binary, slices.Concat([]string{"--merge-poll", "200ms"}, s.flags, args)...)
}
