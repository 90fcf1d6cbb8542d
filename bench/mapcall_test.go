package bench

import (
	"context"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
)

// testMapSizes run the map scenario small: Andorra rather than Delaware,
// boxes of about 100 and 1,000 nodes, a few calls each.
var testMapSizes = mapSizes{file: andorraFile, targets: []int{100, 1000}, calls: 3}

// TestMapScenario runs the map scenario, self-checks included, on both
// backends. Its figures are not asserted: the machine is shared.
func TestMapScenario(t *testing.T) {
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
			results, err := measureMap(context.Background(), testEnvironment(t), c.open(t), testMapSizes)
			if err != nil {
				t.Fatal(err)
			}
			if len(results) != 3*len(testMapSizes.targets) {
				t.Fatalf("%d results, want p50, p99 and µs per node for each of %d boxes", len(results), len(testMapSizes.targets))
			}
			for _, r := range results {
				if r.Value <= 0 || r.Baseline <= 0 || r.Backend != c.name {
					t.Errorf("result %+v: want a positive figure and baseline on %s", r, c.name)
				}
				if r.Series == "map" && (r.Size <= 0 || len(r.Samples) != testMapSizes.calls) {
					t.Errorf("result %+v: want its place on the curve (nodes returned) and one sample per call", r)
				}
			}
		})
	}
}

// TestMapSelfCheckCatches is the map scenario's negative control: on a
// real server over Andorra, a box whose expected reply is wrong in any
// of the ways the checks look at fails the measurement.
func TestMapSelfCheckCatches(t *testing.T) {
	if testing.Short() {
		t.Skip("imports Andorra")
	}
	ctx := context.Background()
	env := testEnvironment(t)
	elements, err := readAll(env.file(andorraFile))
	if err != nil {
		t.Fatal(err)
	}
	boxes, err := findMapBoxes(elements, []int{300})
	if err != nil {
		t.Fatal(err)
	}
	good := boxes[0]
	if !good.want.sampleOutsideTheBox {
		t.Errorf("the sampled node %d is inside the box: the sample should test the ways' step", good.want.sample.ID)
	}
	b := sqliteBackend{}
	store, bare, cleanup, err := openWithBareSQL(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	src, err := osmfile.OpenAll([]string{env.file(andorraFile)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Import(ctx, src)
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	rig, err := startMapServer(store, b.name(), boxes)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rig.stop)
	if _, err := measureMapBox(ctx, b, rig, bare, good, 2); err != nil {
		t.Fatalf("the check fails a correct map call: %v", err)
	}
	for _, c := range []struct {
		name string
		edit func(w *mapExpectation)
		want string
	}{
		{"a node more in the box", func(w *mapExpectation) { w.inBox++ }, "the bare query finds"},
		{"a node more in the reply", func(w *mapExpectation) { w.nodes++ }, "the reply has"},
		{"a way fewer", func(w *mapExpectation) { w.ways-- }, "the reply has"},
		{"a relation more", func(w *mapExpectation) { w.rels++ }, "the reply has"},
		{"the sampled node moved", func(w *mapExpectation) { w.sample.Lat++ }, "differs from the file"},
		{"the sampled node retagged", func(w *mapExpectation) {
			w.sample.Tags = append(w.sample.Tags[:len(w.sample.Tags):len(w.sample.Tags)], osmdata.Tag{Key: "bench", Value: "wrong"})
		}, "differs from the file"},
		{"a sample not in the reply", func(w *mapExpectation) { w.sample.ID = 1 << 40 }, "the reply lacks node"},
	} {
		t.Run(c.name, func(t *testing.T) {
			wrong := good
			c.edit(&wrong.want)
			_, err := measureMapBox(ctx, b, rig, bare, wrong, 2)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("measure: %v, want an error with %q", err, c.want)
			}
		})
	}
}
