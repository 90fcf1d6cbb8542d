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
			sizes := []int{200, 600}
			results, err := measureValidate(context.Background(), env, open(t), sizes)
			if err != nil {
				t.Fatal(err)
			}
			if len(results) != len(sizes) {
				t.Fatalf("%d results, want one per size", len(results))
			}
			for i, r := range results {
				if r.Value <= 0 || r.Baseline <= 0 || r.Backend != name || !strings.Contains(r.Note, "findings") || r.Size != float64(sizes[i]) {
					t.Errorf("result %+v: want a positive figure and baseline on %s at size %d", r, name, sizes[i])
				}
				// The target is set at 10,000 elements only.
				if r.Met != nil {
					t.Errorf("result on %s at %d elements: target met = %v; the target is for 10,000", name, sizes[i], r.Met)
				}
			}
		})
	}
}
