package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata/osmfile"
)

// The binary is built once, into a temporary directory, and every test
// of this file runs it as a user would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "geocommuns-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "geocommuns")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the binary: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// commandTimeout bounds one run of the binary; the largest is importing
// the Delaware extract.
const commandTimeout = 10 * time.Minute

type result struct {
	stdout, stderr string
	exit           int
}

// runBinary runs the binary with args and the environment variables given
// (on top of the test's own), and waits for it.
func runBinary(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		res.exit = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("run geocommuns %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// dataset is where one test's data lives, as command-line flags.
type dataset struct {
	name  string
	flags []string
}

const postgresVariable = "GEOCOMMUNS_TEST_POSTGRES"

var nonIdentifier = regexp.MustCompile(`[^a-z0-9_]+`)

// backendNames are the backends to test: SQLite always, PostgreSQL when
// GEOCOMMUNS_TEST_POSTGRES names a server.
func backendNames(t *testing.T) []string {
	t.Helper()
	if os.Getenv(postgresVariable) == "" {
		t.Logf("PostgreSQL not tested: set %s, e.g. %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable", postgresVariable, postgresVariable)
		return []string{"sqlite"}
	}
	return []string{"sqlite", "postgres"}
}

// newDataset names an empty dataset on the backend: a SQLite directory,
// or a PostgreSQL schema of its own that is dropped when the test ends.
func newDataset(t *testing.T, backend string) dataset {
	t.Helper()
	if backend == "sqlite" {
		return dataset{backend, []string{"--data", filepath.Join(t.TempDir(), "data")}}
	}
	url := os.Getenv(postgresVariable)
	return dataset{backend, []string{"--postgres", url, "--schema", testSchema(t, url)}}
}

// testSchema names a schema for this test alone and drops it afterwards.
func testSchema(t *testing.T, url string) string {
	t.Helper()
	name := nonIdentifier.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	schema := "t_cmd_" + name + "_" + hex.EncodeToString(suffix)
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// testdata is the paulmach/osm module's testdata directory, which holds
// real extracts.
func testdata(t *testing.T) string {
	t.Helper()
	dir, err := osmfile.ModuleTestdata()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// requireOsmium finds osmium-tool: a test skips without it, except in CI
// where it must be installed.
func requireOsmium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("osmium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("osmium-tool is required in CI: %v", err)
		}
		t.Skipf("osmium-tool is not installed (Debian package osmium-tool; scripts/setup installs it): %v", err)
	}
	return path
}

// exportedCounts runs export and returns its summary line.
func exportSummaryOf(t *testing.T, ds dataset, path string) string {
	t.Helper()
	res := runBinary(t, nil, append(append([]string{"export"}, ds.flags...), path)...)
	if res.exit != 0 {
		t.Fatalf("export: exit %d\n%s", res.exit, res.stderr)
	}
	return strings.TrimSpace(res.stdout)
}
