package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// runInProcess runs the command line with the given environment, as
// main does, and returns the exit status and the output.
func runInProcess(environ map[string]string, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	e := &env{
		stdout: &stdout,
		stderr: &stderr,
		getenv: func(k string) (string, bool) { v, ok := environ[k]; return v, ok },
	}
	code := run(context.Background(), e, args)
	return code, stdout.String(), stderr.String()
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestFlagsReadTheEnvironment: every flag falls back on GEOCOMMUNS_<FLAG>,
// and the command line wins over it.
func TestFlagsReadTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	fromEnv, fromFlag := filepath.Join(dir, "env"), filepath.Join(dir, "flag")

	code, _, stderr := runInProcess(map[string]string{"GEOCOMMUNS_DATA": fromEnv}, "migrate")
	if code != 0 || !exists(sqlite.Path(fromEnv)) {
		t.Errorf("migrate with GEOCOMMUNS_DATA: exit %d, dataset created: %v\n%s", code, exists(sqlite.Path(fromEnv)), stderr)
	}
	code, _, stderr = runInProcess(map[string]string{"GEOCOMMUNS_DATA": filepath.Join(dir, "unused")}, "migrate", "--data", fromFlag)
	if code != 0 || !exists(sqlite.Path(fromFlag)) || exists(filepath.Join(dir, "unused")) {
		t.Errorf("--data against GEOCOMMUNS_DATA: exit %d; the flag must win\n%s", code, stderr)
	}

	code, _, stderr = runInProcess(map[string]string{"GEOCOMMUNS_DEMO": "perhaps", "GEOCOMMUNS_DATA": fromEnv}, "serve")
	if code != exitUsage || !strings.Contains(stderr, `GEOCOMMUNS_DEMO="perhaps"`) {
		t.Errorf("a bad GEOCOMMUNS_DEMO: exit %d, stderr %q; want 2 naming the variable", code, stderr)
	}
	code, _, stderr = runInProcess(map[string]string{"GEOCOMMUNS_LISTEN": "127.0.0.1:-1", "GEOCOMMUNS_DATA": fromEnv}, "serve")
	if code != exitFailure || !strings.Contains(stderr, "127.0.0.1:-1") {
		t.Errorf("serve with GEOCOMMUNS_LISTEN=127.0.0.1:-1: exit %d, stderr %q; want 1 naming the address", code, stderr)
	}
}

func TestHelp(t *testing.T) {
	code, stdout, _ := runInProcess(nil, "help")
	if code != 0 {
		t.Errorf("help: exit %d", code)
	}
	for _, c := range commands {
		if !strings.Contains(stdout, "  "+c.name+" ") {
			t.Errorf("help does not list %s:\n%s", c.name, stdout)
		}
	}
	for _, args := range [][]string{{"serve", "-h"}, {"help", "import"}, {"export", "--help"}} {
		name := args[0]
		if name == "help" {
			name = args[1]
		}
		code, _, stderr := runInProcess(nil, args...)
		if code != 0 || !strings.Contains(stderr, "Usage: geocommuns "+name+" ") {
			t.Errorf("%v: exit %d\n%s", args, code, stderr)
		}
		if !strings.Contains(stderr, "(env GEOCOMMUNS_DATA; default ./geocommuns-data)") {
			t.Errorf("%v: the usage does not name the environment variables:\n%s", args, stderr)
		}
	}
	if code, _, _ := runInProcess(nil, "frobnicate"); code != exitUsage {
		t.Errorf("unknown command: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := runInProcess(nil); code != exitUsage {
		t.Errorf("no command: exit %d, want %d", code, exitUsage)
	}
	if code, _, stderr := runInProcess(nil, "import", "--no-such-flag"); code != exitUsage || !strings.Contains(stderr, "no-such-flag") {
		t.Errorf("unknown flag: exit %d\n%s", code, stderr)
	}
}

// TestImportProgress imports with stderr taken for a terminal: the bar
// shows the elements read and their rate, and the summary line follows
// on stdout.
func TestImportProgress(t *testing.T) {
	file := filepath.Join(testdata(t), "osmgeojson", "testdata", "benchmark.osm")
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, stderrTerminal: true,
		getenv: func(string) (string, bool) { return "", false }}
	code := run(context.Background(), e, []string{"import", "--data", filepath.Join(t.TempDir(), "data"), file})
	if code != 0 {
		t.Fatalf("import: exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "3337 elements, ") || !strings.Contains(stderr.String(), "elements/s") {
		t.Errorf("the progress bar does not show the elements read and their rate:\n%q", stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "imported 2867 nodes, 462 ways, 8 relations (3337 elements; 37 users, 104 changesets) from 1 file in ") {
		t.Errorf("summary line: %q", stdout.String())
	}
}
