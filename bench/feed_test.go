package bench

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
)

// testFeedSizes run the feed scenario small: the same merges, fewer.
var testFeedSizes = feedSizes{merges: 20, perMerge: 10}

// TestFeedScenario runs the feed scenario, self-checks included, on both
// backends, the SQLite run taking its NOTIFY baseline from PostgreSQL.
// Its figures are not asserted: the machine is shared.
func TestFeedScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("imports Andorra per backend")
	}
	for _, c := range []struct {
		name string
		open func(t *testing.T) backend
	}{
		{"sqlite", func(*testing.T) backend { return sqliteBackend{} }},
		{"postgres", func(t *testing.T) backend { return postgresBackend{url: pgtest.URL(t)} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := c.open(t)
			env := testEnvironment(t)
			// As --postgres gives it; a SQLite run without it skips the
			// NOTIFY baseline.
			env.postgresURL = os.Getenv(pgtest.URLVariable)
			results, err := measureFeed(context.Background(), env, b, testFeedSizes)
			if err != nil {
				t.Fatal(err)
			}
			if len(results) != 5 {
				t.Fatalf("%d results, want p50 and p99 of two paths and the replay", len(results))
			}
			for _, r := range results {
				// A latency is zero only when merges reached the subscriber
				// before Merge returned to the bench (a loaded machine
				// delays the return), which the note says.
				early := strings.Contains(r.Note, "arrived before Merge returned")
				if r.Value < 0 || r.Value == 0 && !early || r.Backend != c.name || r.Met == nil && strings.HasSuffix(r.Metric, "p99") {
					t.Errorf("result %+v: want a positive figure on %s (zero only for arrivals before Merge returned), and a target for p99", r, c.name)
				}
				noNotify := env.postgresURL == "" && strings.Contains(r.Metric, "Subscribe RPC")
				if (r.Baseline > 0) == noNotify {
					t.Errorf("result %+v: baseline %v with PostgreSQL at %q", r, r.Baseline, env.postgresURL)
				}
			}
		})
	}
}

// TestCheckArrivalsCatches is the arrival check's negative control: each
// way a feed can go wrong fails it.
func TestCheckArrivalsCatches(t *testing.T) {
	at := time.Now()
	whole := func(seqs ...int64) []arrival {
		var out []arrival
		for _, s := range seqs {
			out = append(out, arrival{seq: s, part: 1, parts: 1, at: at})
		}
		return out
	}
	if _, err := checkArrivals("good", append(whole(1), arrival{seq: 2, part: 1, parts: 2}, arrival{seq: 2, part: 2, parts: 2}), 1, 2); err != nil {
		t.Fatalf("the check fails a correct feed: %v", err)
	}
	for _, c := range []struct {
		name string
		got  []arrival
		want string
	}{
		{"a gap", whole(1, 3), "want merge_seq 2"},
		{"a duplicate", whole(1, 2, 2), "want merge_seq 3"},
		{"out of order", whole(2, 1), "want merge_seq 1"},
		{"one missing at the end", whole(1, 2), "want 1 to 3"},
		{"a part missing", []arrival{{seq: 1, part: 1, parts: 2}, {seq: 2, part: 1, parts: 1}}, "want merge_seq 1 part 2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			to := int64(3)
			if c.name == "a part missing" {
				to = 2
			}
			if _, err := checkArrivals("feed", c.got, 1, to); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("check: %v, want an error with %q", err, c.want)
			}
		})
	}
}
