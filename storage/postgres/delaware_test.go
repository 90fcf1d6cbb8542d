package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

func TestImportDelaware(t *testing.T) {
	if testing.Short() {
		t.Skip("imports a real extract; skipped under -short")
	}
	ctx := context.Background()
	s := openTestStore(t)
	path := delawarePath(t)
	want := readFile(t, path)

	res, err := s.Import(ctx, openFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	var byType [4]int64
	for _, e := range want {
		byType[e.Type]++
	}
	if res.Nodes != byType[osmdata.Node] || res.Ways != byType[osmdata.Way] || res.Relations != byType[osmdata.Relation] {
		t.Errorf("imported %d nodes, %d ways, %d relations; the file has %d, %d, %d",
			res.Nodes, res.Ways, res.Relations, byType[osmdata.Node], byType[osmdata.Way], byType[osmdata.Relation])
	}
	if res.Nodes != 723870 {
		t.Errorf("imported %d nodes, delaware-latest has 723,870", res.Nodes)
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Versions != int64(len(want)) || counts.Nodes != res.Nodes || counts.Changesets != res.Changesets || counts.Users != res.Users {
		t.Errorf("counts %+v after importing %d elements (%+v)", counts, len(want), res)
	}

	// Every 997th element reads back exactly as the file has it.
	sample := map[osmdata.ElementType][]osmdata.Element{}
	for i := 0; i < len(want); i += 997 {
		sample[want[i].Type] = append(sample[want[i].Type], want[i])
	}
	for _, typ := range osmdata.ElementTypes {
		got, err := s.CurrentElements(ctx, typ, ids(sample[typ]))
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(sample[typ], got); d != "" {
			t.Errorf("sampled %ss differ from the file (-file +store):\n%s", typ, d)
		}
	}

	// A box around Dover, against a scan of the file.
	box := osmdata.Box{MinLat: 391500000, MinLon: -755500000, MaxLat: 391700000, MaxLon: -755200000}
	var inBox []int64
	for _, e := range want {
		if e.Type == osmdata.Node && box.Contains(e.Lat, e.Lon) {
			inBox = append(inBox, e.ID)
		}
	}
	if len(inBox) < 100 {
		t.Fatalf("only %d nodes of the file in the test box; choose a busier one", len(inBox))
	}
	got, err := s.NodesInBox(ctx, box, storage.MaxMapNodes)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(inBox, ids(got)); d != "" {
		t.Errorf("nodes in box (-file +store):\n%s", d)
	}

	next, err := s.NextIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last := want[len(want)-1]; next.Relation != last.ID+1 {
		t.Errorf("next relation id %d, want %d", next.Relation, last.ID+1)
	}
}

// BenchmarkImportDelaware sets the import of delaware (decoding the file
// included) beside CopyBaseline of the same rows from memory, each into a
// fresh schema.
func BenchmarkImportDelaware(b *testing.B) {
	ctx := context.Background()
	path := delawarePath(b)
	elements := readFile(b, path)
	n := float64(len(elements))
	var importTime, copyTime time.Duration
	for range b.N {
		b.StopTimer()
		baseline := openTestStore(b)
		d, err := baseline.CopyBaseline(ctx, elements)
		if err != nil {
			b.Fatal(err)
		}
		copyTime += d
		s := openTestStore(b)
		src := openFile(b, path)
		b.StartTimer()
		start := time.Now()
		res, err := s.Import(ctx, src)
		importTime += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if res.Elements() != int64(len(elements)) {
			b.Fatalf("imported %d elements of %d", res.Elements(), len(elements))
		}
	}
	importRate := n * float64(b.N) / importTime.Seconds()
	copyRate := n * float64(b.N) / copyTime.Seconds()
	b.ReportMetric(importRate, "import-elements/s")
	b.ReportMetric(copyRate, "copy-elements/s")
	b.ReportMetric(importTime.Seconds()/copyTime.Seconds(), "import/copy-time")
	b.Logf("delaware, %d elements: import %.0f elements/s, plain COPY %.0f elements/s, import takes %.2fx the COPY's time",
		len(elements), importRate, copyRate, importTime.Seconds()/copyTime.Seconds())
}
