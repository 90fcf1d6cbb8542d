package bench

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
)

// testLoadSizes run the load scenario small: three contributors, three
// changesets each.
var testLoadSizes = loadSizes{contributors: 3, rounds: 3, soloRounds: 2}

// TestLoadScenario runs the load scenario, self-checks included, on both
// backends. Its figures are not asserted: the machine is shared.
func TestLoadScenario(t *testing.T) {
	for _, c := range []struct {
		name string
		open func(t *testing.T) backend
	}{
		{"sqlite", func(*testing.T) backend { return sqliteBackend{} }},
		{"postgres", func(t *testing.T) backend { return postgresBackend{url: pgtest.URL(t)} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			results, err := measureLoad(context.Background(), c.open(t), testLoadSizes)
			if err != nil {
				t.Fatal(err)
			}
			// The rate, p50 and p99 of four kinds of request, the errors.
			if len(results) != 1+2*4+1 {
				t.Fatalf("%d results, want 10", len(results))
			}
			for _, r := range results[:len(results)-1] {
				if r.Value <= 0 || r.Baseline <= 0 || r.Backend != c.name {
					t.Errorf("result %+v: want a positive figure and baseline on %s", r, c.name)
				}
			}
			if last := results[len(results)-1]; last.Metric != "errors" || last.Value != 0 || (c.name == "postgres") != (last.Met != nil) {
				t.Errorf("last result %+v: want zero errors, with the target on PostgreSQL only", last)
			}
		})
	}
}

// TestLoadSelfCheckCatches is the load scenario's negative control: after
// real contributors' changesets merged on a real server, each kind of
// wrong outcome the checks exist for fails them, and a refused request
// is an error.
func TestLoadSelfCheckCatches(t *testing.T) {
	ctx := context.Background()
	store, cleanup, err := sqliteBackend{}.open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	rig, err := startLoadServer(ctx, store, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rig.stop)
	seq, err := store.LastMergeSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tm := newTimings()
	clients, err := rig.newContributors(ctx, 2, 1, tm)
	if err != nil {
		t.Fatal(err)
	}
	run, err := rig.contribute(ctx, clients, 2)
	if err != nil || len(tm.errors) > 0 {
		t.Fatalf("contribute: %v %v", err, tm.errors)
	}
	if len(run.changesets) != 4 || len(run.elements) != 4*(loadCreates+1) {
		t.Fatalf("%d changesets, %d elements; want 4 and %d", len(run.changesets), len(run.elements), 4*(loadCreates+1))
	}
	if err := checkLoad(ctx, store, rig.watch, seq, []loadRun{run}); err != nil {
		t.Fatalf("the check fails a correct run: %v", err)
	}

	edited := func(edit func(r *loadRun)) loadRun {
		r := loadRun{changesets: slices.Clone(run.changesets), elements: maps.Clone(run.elements)}
		edit(&r)
		return r
	}
	someElement := func(r *loadRun, t osmdata.ElementType, version int) osmdata.Key {
		for _, k := range slices.SortedFunc(maps.Keys(r.elements), func(a, b osmdata.Key) int { return int(a.ID - b.ID) }) {
			if k.Type == t && r.elements[k].version == version {
				return k
			}
		}
		panic("no such element in the run")
	}
	for _, c := range []struct {
		name      string
		seqBefore int64
		run       loadRun
		want      string
	}{
		{"a merge more than changesets", seq - 1, run, "merge_seq went from"},
		{"a changeset that is not the run's", seq, edited(func(r *loadRun) {
			r.changesets[0] += 1000
		}), "not one of the run's"},
		{"a node at the wrong version", seq, edited(func(r *loadRun) {
			k := someElement(r, osmdata.Node, 2)
			m := r.elements[k]
			m.version = 1
			r.elements[k] = m
		}), "differs from the upload"},
		{"a way without its retag", seq, edited(func(r *loadRun) {
			k := someElement(r, osmdata.Way, 2)
			m := r.elements[k]
			m.tags = m.tags[1:]
			r.elements[k] = m
		}), "differs from the upload"},
		{"a node moved", seq, edited(func(r *loadRun) {
			k := someElement(r, osmdata.Node, 1)
			m := r.elements[k]
			m.lat++
			r.elements[k] = m
		}), "differs from the upload"},
		{"an element never made", seq, edited(func(r *loadRun) {
			r.elements[osmdata.Key{Type: osmdata.Node, ID: 1 << 40}] = madeElement{key: osmdata.Key{Type: osmdata.Node, ID: 1 << 40}, version: 1}
		}), "the store has"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := checkLoad(ctx, store, rig.watch, c.seqBefore, []loadRun{c.run})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("check: %v, want an error with %q", err, c.want)
			}
		})
	}

	t.Run("a refused request fails the run", func(t *testing.T) {
		bad := *clients[0]
		bad.token = "gcm_not-a-token"
		bad.t = newTimings()
		_, err := rig.contribute(ctx, []*loadClient{&bad}, 1)
		if err == nil || !strings.Contains(err.Error(), "401") || len(bad.t.errors) != 1 {
			t.Errorf("a contributor with a bad token: %v, %d errors counted; want the 401, counted once", err, len(bad.t.errors))
		}
	})
}
