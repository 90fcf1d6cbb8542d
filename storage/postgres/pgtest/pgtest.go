// Package pgtest gives tests of any package a PostgreSQL dataset of their
// own: a fresh schema on the server GEOCOMMUNS_TEST_POSTGRES names,
// dropped when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/storage/postgres"
)

// URLVariable names the test server's connection URL.
const URLVariable = "GEOCOMMUNS_TEST_POSTGRES"

// URL returns the test server's URL, or skips the test when none is set
// (CI always sets it: scripts/test).
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(URLVariable)
	if u == "" {
		t.Skipf("PostgreSQL tests need a server: set %s, e.g. %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable", URLVariable, URLVariable)
	}
	return u
}

var nonIdentifier = regexp.MustCompile(`[^a-z0-9_]+`)

// Config names a schema no other test uses, from the test's name, and
// drops it with everything in it when the test ends. Several stores (or
// processes) opened on it share one dataset.
func Config(t testing.TB) postgres.Config {
	t.Helper()
	url := URL(t)
	name := nonIdentifier.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	suffix := make([]byte, 5)
	rand.Read(suffix)
	schema := "t_" + name + "_" + hex.EncodeToString(suffix)
	t.Cleanup(func() {
		// Its own connection: the stores' pools may be closed already.
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
	return postgres.Config{URL: url, Schema: schema}
}

// Open opens a store on cfg (migrating it if needed), closed when the
// test ends.
func Open(t testing.TB, cfg postgres.Config) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
