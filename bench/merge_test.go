package bench

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
)

// testMergeSizes run the merge scenario small: the same mix of
// operations, a fraction of the elements.
var testMergeSizes = mergeSizes{bigs: []int{50, 200}, small: 20, smallSize: 10}

func testEnvironment(t *testing.T) *environment {
	t.Helper()
	env, err := newEnvironment(Config{})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// TestMergeScenario runs the merge scenario, self-checks included, on
// both backends. Its figures are not asserted: the machine is shared.
func TestMergeScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("imports Andorra twice per backend")
	}
	env := testEnvironment(t)
	backends := map[string]func(t *testing.T) backend{
		"sqlite":   func(*testing.T) backend { return sqliteBackend{} },
		"postgres": func(t *testing.T) backend { return postgresBackend{url: pgtest.URL(t)} },
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			results, err := measureMerge(context.Background(), env, open(t), testMergeSizes)
			if err != nil {
				t.Fatal(err)
			}
			if len(results) != len(testMergeSizes.bigs)+1 {
				t.Fatalf("%d results, want each big merge's and the small merges'", len(results))
			}
			for _, r := range results {
				if r.Value <= 0 || r.Baseline <= 0 || r.Backend != name {
					t.Errorf("result %+v: want a positive figure and baseline on %s", r, name)
				}
				// The big merges' target is set at 10,000 elements only.
				if (name == "postgres" && r.Series == "") != (r.Met != nil) {
					t.Errorf("result %q on %s: target met = %v; only PostgreSQL's small merges have a target at these sizes", r.Scenario, name, r.Met)
				}
			}
		})
	}
}

// TestMergeSelfCheckCatches is the self-check's negative control: after a
// real merge, each kind of wrong result it exists to catch makes it fail.
func TestMergeSelfCheckCatches(t *testing.T) {
	if testing.Short() {
		t.Skip("imports Andorra")
	}
	ctx := context.Background()
	env := testEnvironment(t)
	elements, err := readAll(env.file(andorraFile))
	if err != nil {
		t.Fatal(err)
	}
	store, cleanup, err := sqliteBackend{}.open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	if err := importAndorra(ctx, env, store); err != nil {
		t.Fatal(err)
	}
	svc, err := editing.NewService(store, editing.Limits{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	acct, err := store.CreateAccount(ctx, storage.NewAccount{DisplayName: "self-check", Role: string(auth.RoleContributor)})
	if err != nil {
		t.Fatal(err)
	}
	who := &auth.Identity{UserID: acct.ID, DisplayName: acct.DisplayName, Role: auth.RoleContributor, Scopes: auth.AllScopes}
	cs, err := stageForMerge(ctx, svc, store, who, newEditPool(elements), 10, "self-check")
	if err != nil {
		t.Fatal(err)
	}
	seq, err := store.LastMergeSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	entry, err := store.Merge(ctx, cs.id)
	if err != nil {
		t.Fatal(err)
	}
	good := mergedChangeset{cs, entry}
	if _, err := checkMerges(ctx, store, seq, []mergedChangeset{good}); err != nil {
		t.Fatalf("the check fails a correct merge: %v", err)
	}

	edited := func(edit func(m *mergedChangeset)) mergedChangeset {
		m := good
		m.pending = append([]storage.PendingChange(nil), good.pending...)
		m.entry.Versions = append([]storage.MergedVersion(nil), good.entry.Versions...)
		edit(&m)
		return m
	}
	for _, c := range []struct {
		name      string
		seqBefore int64
		merged    mergedChangeset
		want      string
	}{
		{"merge_seq advanced by two", seq - 1, good, "merge_seq is"},
		{"another changeset in the outbox", seq, edited(func(m *mergedChangeset) { m.id++ }), "outbox row 0 is"},
		{"outbox row differs", seq, edited(func(m *mergedChangeset) { m.entry.Versions[0].NewVersion++ }), "differs from what Merge returned"},
		{"content differs from the upload", seq, edited(func(m *mergedChangeset) {
			for i := range m.pending {
				if e := &m.pending[i].Element; e.Visible && e.Type == osmdata.Node {
					e.Lat++
					return
				}
			}
		}), "is not what was uploaded"},
		{"an element the merge did not write", seq, edited(func(m *mergedChangeset) {
			m.pending[0].Element.ID = 1 << 40
		}), "not in the merge's outbox row"},
		{"a version off its base", seq, edited(func(m *mergedChangeset) {
			m.pending[len(m.pending)-1].BaseVersion++
		}), "want one version above its base"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := checkMerges(ctx, store, c.seqBefore, []mergedChangeset{c.merged})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("check: %v, want an error with %q", err, c.want)
			}
		})
	}

	// The reverse lookup check reads the store, not what Merge returned:
	// feed it a way the store keeps as if it were deleted, and a deleted
	// one as if kept.
	finals, err := currentOfMerged(ctx, store, []mergedChangeset{good})
	if err != nil {
		t.Fatal(err)
	}
	for _, flip := range []struct {
		kept bool
		want string
	}{{true, "is still among the ways using the nodes it had"}, {false, "is not among the ways using its nodes"}} {
		wrong := maps.Clone(finals)
		flipped := false
		for k, e := range wrong {
			if k.Type == osmdata.Way && e.Visible == flip.kept && e.Version > 1 {
				e.Visible = !e.Visible
				wrong[k], flipped = e, true
				break
			}
		}
		if !flipped {
			t.Fatalf("the merge has no way with a previous version that is visible=%v", flip.kept)
		}
		if err := checkWaysOfNodes(ctx, store, []mergedChangeset{good}, wrong); err == nil || !strings.Contains(err.Error(), flip.want) {
			t.Errorf("checkWaysOfNodes: %v, want an error with %q", err, flip.want)
		}
	}
}
