package bench

import (
	"context"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
)

// TestValidateScenario runs the validate scenario small, self-checks
// included, on both backends. Its figures are not asserted: the machine
// is shared.
func TestValidateScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("imports Andorra once per backend")
	}
	env := testEnvironment(t)
	backends := map[string]func(t *testing.T) backend{
		"sqlite":   func(*testing.T) backend { return sqliteBackend{} },
		"postgres": func(t *testing.T) backend { return postgresBackend{url: pgtest.URL(t)} },
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			results, err := measureValidate(context.Background(), env, open(t), 600)
			if err != nil {
				t.Fatal(err)
			}
			if len(results) != 1 {
				t.Fatalf("%d results, want one", len(results))
			}
			r := results[0]
			if r.Value <= 0 || r.Baseline <= 0 || r.Backend != name || !strings.Contains(r.Note, "findings") {
				t.Errorf("result %+v: want a positive figure and baseline on %s", r, name)
			}
			if (name == "postgres") != (r.Met != nil) {
				t.Errorf("result on %s: target met = %v; only PostgreSQL has a target", name, r.Met)
			}
		})
	}
}
