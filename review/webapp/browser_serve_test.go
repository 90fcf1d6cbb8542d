package webapp_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The browser tests run the web app as an operator does: the binary built
// from this checkout, `geocommuns import` of a small extract, `user add`,
// then `serve`, and a contributor's changeset uploaded over the OSM API.

// commandTimeout bounds one CLI command or one wait on the server; far
// above what each takes, so that a hang fails instead of stalling.
const commandTimeout = time.Minute

// buildBinary builds geocommuns into the test's temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	binary := filepath.Join(t.TempDir(), "geocommuns")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", binary, "github.com/geocommuns/geocommuns/cmd/geocommuns")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build geocommuns: %v\n%s", err, out)
	}
	return binary
}

// site is one test's dataset (a SQLite directory: the web app is the same
// on both backends, which the storage suites test) and the binary that
// serves it.
type site struct {
	binary string
	flags  []string
}

func newSite(t *testing.T) *site {
	t.Helper()
	return &site{binary: buildBinary(t), flags: []string{"--data", filepath.Join(t.TempDir(), "data")}}
}

// run runs a geocommuns subcommand on the dataset with stdin and returns
// its stdout; a failure fails the test.
func (s *site) run(t *testing.T, stdin, subcommand string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.binary, slices.Concat([]string{subcommand}, s.flags, args)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("geocommuns %s %s: %v\n%s", subcommand, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
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

// server is a running `geocommuns serve`.
type server struct {
	cmd  *exec.Cmd
	base string
	mu   sync.Mutex
	logs strings.Builder
	done chan error
}

var listeningLine = regexp.MustCompile(`msg=listening addr=(\S+)`)

// serve starts `geocommuns serve` on a free port and waits until it
// listens. The merge job looks often, so an approval merges within the
// test's patience. It is stopped with SIGTERM when the test ends; its log
// is shown when the test failed.
func (s *site) serve(t *testing.T, args ...string) *server {
	t.Helper()
	cmd := exec.Command(s.binary, slices.Concat([]string{"serve", "--listen", "127.0.0.1:0", "--merge-poll", "200ms"}, s.flags, args)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	srv := &server{cmd: cmd, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stderr)
		lines.Buffer(nil, 1<<20)
		for lines.Scan() {
			line := lines.Text()
			srv.mu.Lock()
			srv.logs.WriteString(line + "\n")
			srv.mu.Unlock()
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
		srv.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		srv.stop(t)
		if t.Failed() {
			t.Logf("server log:\n%s", srv.log())
		}
	})
	select {
	case a := <-addr:
		srv.base = "http://" + a
	case err := <-srv.done:
		srv.done <- err
		t.Fatalf("serve exited before listening: %v\n%s", err, srv.log())
	case <-time.After(commandTimeout):
		t.Fatalf("serve did not listen within %s\n%s", commandTimeout, srv.log())
	}
	return srv
}

func (srv *server) log() string {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.logs.String()
}

// stop sends SIGTERM and waits for a clean exit (kills after a while).
func (srv *server) stop(t *testing.T) {
	t.Helper()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("stop serve: %v", err)
	}
	select {
	case err := <-srv.done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		srv.cmd.Process.Kill()
		<-srv.done
		t.Errorf("serve did not stop within 30 s of SIGTERM")
	}
}

// requireTool skips the test when a tool the test drives is missing,
// naming the package that installs it, except in CI, where it must be
// there (scripts/setup installs it).
func requireTool(t *testing.T, what, install string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI (%s): %v", what, install, err)
	}
	t.Skipf("%s is not installed (%s): %v", what, install, err)
}
