package clientstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/server/servetest"
	"github.com/jackc/pgx/v5"
)

// The binary is built once per test binary, and every test runs it as
// an operator would: `geocommuns import`, `user add`, `oauth-app add`,
// then `serve`.
func TestMain(m *testing.M) {
	servetest.Main(m)
}

// dropTimeout bounds dropping a test's schema; clientTimeout one client
// session; both are far above what they take, so that a hang fails the
// test instead of stalling the package.
const (
	dropTimeout   = time.Minute
	clientTimeout = time.Minute
)

// runCommand runs a geocommuns subcommand on the dataset, with stdin,
// and returns its stdout; a failure fails the test. The dataset's flags
// go right after the subcommand's name, where every subcommand reads
// them.
func runCommand(t *testing.T, ds dataset, stdin string, subcommand string, args ...string) string {
	t.Helper()
	return servetest.Run(t, servetest.Binary(t), stdin, slices.Concat([]string{subcommand}, ds.flags, args)...)
}

const postgresVariable = "GEOCOMMUNS_TEST_POSTGRES"

// backends are the backends to run on: SQLite always, PostgreSQL when
// GEOCOMMUNS_TEST_POSTGRES names a server.
func backends(t *testing.T) []string {
	t.Helper()
	if os.Getenv(postgresVariable) == "" {
		t.Logf("PostgreSQL not tested: set %s, e.g. %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable", postgresVariable, postgresVariable)
		return []string{"sqlite"}
	}
	return []string{"sqlite", "postgres"}
}

// dataset is where one test's data lives, as the command-line flags
// every subcommand takes.
type dataset struct {
	backend string
	flags   []string
}

var nonIdentifier = regexp.MustCompile(`[^a-z0-9_]+`)

// newDataset names an empty dataset: a SQLite directory, or a fresh
// PostgreSQL schema dropped when the test ends.
func newDataset(t *testing.T, backend string) dataset {
	t.Helper()
	if backend == "sqlite" {
		return dataset{backend, []string{"--data", filepath.Join(t.TempDir(), "data")}}
	}
	url := os.Getenv(postgresVariable)
	name := nonIdentifier.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	schema := "t_clients_" + name + "_" + hex.EncodeToString(suffix)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
		defer cancel()
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
	return dataset{backend, []string{"--postgres", url, "--schema", schema}}
}

// startServe runs `geocommuns serve` on a free port over the dataset and
// waits until it listens; it is stopped with SIGTERM when the test ends,
// and a server that does not stop cleanly fails the test.
func startServe(t *testing.T, ds dataset) *servetest.Process {
	t.Helper()
	return servetest.Start(t, servetest.Binary(t), ds.flags...)
}
