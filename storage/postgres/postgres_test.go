package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

const urlVariable = "GEOCOMMUNS_TEST_POSTGRES"

// testURL skips the test unless a PostgreSQL server is configured.
func testURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(urlVariable)
	if u == "" {
		t.Skipf("PostgreSQL tests need a server: set %s, e.g. %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable", urlVariable, urlVariable)
	}
	return u
}

var nonIdentifier = regexp.MustCompile(`[^a-z0-9_]+`)

// testConfig names a schema that no other test uses and drops it, with
// everything in it, when the test ends.
func testConfig(t testing.TB) Config {
	t.Helper()
	url := testURL(t)
	name := nonIdentifier.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	suffix := make([]byte, 5)
	rand.Read(suffix)
	schema := "t_" + name + "_" + hex.EncodeToString(suffix)
	t.Cleanup(func() {
		// Its own connection: the store's pool may be closed already.
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
	return Config{URL: url, Schema: schema}
}

// openTestStore opens a new, migrated store in a schema of its own.
func openTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
