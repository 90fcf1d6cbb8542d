package sqlite_test

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

var (
	delawareOnce sync.Once
	delawareEls  []osmdata.Element
	delawareErr  error
)

// delaware reads paulmach/osm's delaware-latest.osm.pbf (723,870 nodes)
// once per test binary.
func delaware(tb testing.TB) []osmdata.Element {
	tb.Helper()
	delawareOnce.Do(func() {
		dir, err := osmfile.ModuleTestdata()
		if err != nil {
			delawareErr = err
			return
		}
		r, err := osmfile.Open(filepath.Join(dir, "testdata", "delaware-latest.osm.pbf"))
		if err != nil {
			delawareErr = err
			return
		}
		defer r.Close()
		for {
			e, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				delawareErr = err
				return
			}
			delawareEls = append(delawareEls, *e)
		}
	})
	if delawareErr != nil {
		tb.Fatalf("read delaware: %v", delawareErr)
	}
	return delawareEls
}

func TestImportDelaware(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 800k elements; run without -short")
	}
	ctx := context.Background()
	els := delaware(t)
	s := openStore(t)
	res, err := s.Import(ctx, &sliceSource{els: els})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	var want storage.Counts
	users, changesets := map[int64]bool{}, map[int64]bool{}
	for _, e := range els {
		switch e.Type {
		case osmdata.Node:
			want.Nodes++
		case osmdata.Way:
			want.Ways++
		case osmdata.Relation:
			want.Relations++
		}
		if e.UID != 0 || e.User != "" {
			users[e.UID] = true
		}
		if e.Changeset != 0 {
			changesets[e.Changeset] = true
		}
	}
	want.Versions = want.Nodes + want.Ways + want.Relations
	want.Users, want.Changesets = int64(len(users)), int64(len(changesets))
	if want.Nodes != 723870 {
		t.Errorf("delaware has %d nodes, want 723,870", want.Nodes)
	}
	got, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("counts after import = %+v, want %+v", got, want)
	}
	if res.Elements() != want.Versions {
		t.Errorf("import reported %d elements, want %d", res.Elements(), want.Versions)
	}

	// Every 997th element reads back as in the file.
	for i := 0; i < len(els); i += 997 {
		e := els[i]
		cur, err := s.CurrentElements(ctx, e.Type, []int64{e.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(cur) != 1 {
			t.Fatalf("%s: got %d current versions", e.Key(), len(cur))
		}
		if diff := cmp.Diff(e, cur[0]); diff != "" {
			t.Errorf("%s differs from the file (-file +store):\n%s", e.Key(), diff)
		}
	}

	// A box in Wilmington, against a scan of the file.
	box := osmdata.BoxDegrees{MinLon: -75.56, MinLat: 39.73, MaxLon: -75.54, MaxLat: 39.75}.Fixed()
	var inBox []int64
	for _, e := range els {
		if e.Type == osmdata.Node && box.Contains(e.Lat, e.Lon) {
			inBox = append(inBox, e.ID)
		}
	}
	nodes, err := s.NodesInBox(ctx, box, storage.MaxMapNodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(inBox) == 0 || !cmp.Equal(ids(nodes), inBox) {
		t.Errorf("nodes in %v: got %d, the file has %d", box, len(nodes), len(inBox))
	}
	m, err := storage.Map(ctx, s, box, storage.MaxMapNodes)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Ways) == 0 || len(m.Nodes) <= len(inBox) {
		t.Errorf("map of %v: %d nodes, %d ways, %d relations: want ways and their outside nodes",
			box, len(m.Nodes), len(m.Ways), len(m.Relations))
	}

	exported := 0
	if err := s.Export(ctx, func(*osmdata.Element) error { exported++; return nil }); err != nil {
		t.Fatal(err)
	}
	if int64(exported) != want.Versions {
		t.Errorf("exported %d elements, want %d", exported, want.Versions)
	}
	next, err := s.NextIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var maxNode int64
	for _, e := range els {
		if e.Type == osmdata.Node {
			maxNode = max(maxNode, e.ID)
		}
	}
	if next.Node != maxNode+1 {
		t.Errorf("next node id = %d, want %d", next.Node, maxNode+1)
	}
}

// BenchmarkImportDelaware imports delaware (from memory, so that decoding
// the PBF is not measured) into a fresh store per iteration, beside
// CopyBaseline's single-row INSERTs of the same rows.
func BenchmarkImportDelaware(b *testing.B) {
	ctx := context.Background()
	els := delaware(b)
	b.Run("Import", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			s, err := sqlite.Open(ctx, b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			res, err := s.Import(ctx, &sliceSource{els: els})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if res.Elements() != int64(len(els)) {
				b.Fatalf("imported %d elements, want %d", res.Elements(), len(els))
			}
			c, err := s.Counts(ctx)
			if err != nil || c.Versions != int64(len(els)) {
				b.Fatalf("counts after import = %+v, %v; want %d versions", c, err, len(els))
			}
			s.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(len(els))*float64(b.N)/b.Elapsed().Seconds(), "elements/s")
	})
	b.Run("CopyBaseline", func(b *testing.B) {
		var total float64
		for b.Loop() {
			b.StopTimer()
			s, err := sqlite.Open(ctx, b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			d, err := s.CopyBaseline(ctx, els)
			if err != nil {
				b.Fatal(err)
			}
			total += d.Seconds()
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(len(els))*float64(b.N)/total, "elements/s")
	})
}

// BenchmarkReadsDelaware measures the reads the API serves most on an
// imported delaware: a map call over a Wilmington block, and a full export.
func BenchmarkReadsDelaware(b *testing.B) {
	ctx := context.Background()
	els := delaware(b)
	s, err := sqlite.Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Import(ctx, &sliceSource{els: els}); err != nil {
		b.Fatal(err)
	}
	b.Run("Map", func(b *testing.B) {
		box := osmdata.BoxDegrees{MinLon: -75.56, MinLat: 39.73, MaxLon: -75.54, MaxLat: 39.75}.Fixed()
		var n int
		for b.Loop() {
			m, err := storage.Map(ctx, s, box, storage.MaxMapNodes)
			if err != nil {
				b.Fatal(err)
			}
			n = len(m.Nodes) + len(m.Ways) + len(m.Relations)
		}
		if n == 0 {
			b.Fatal("the map call found nothing")
		}
		b.ReportMetric(float64(n), "elements/call")
	})
	b.Run("Export", func(b *testing.B) {
		var n int
		for b.Loop() {
			n = 0
			if err := s.Export(ctx, func(*osmdata.Element) error { n++; return nil }); err != nil {
				b.Fatal(err)
			}
		}
		if n != len(els) {
			b.Fatalf("exported %d elements, want %d", n, len(els))
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "elements/s")
	})
}
