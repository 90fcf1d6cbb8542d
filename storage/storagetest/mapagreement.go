package storagetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/storage"
)

// MapAgreementSeedEnv overrides the fixed seed of RunMapAgreement's boxes.
const MapAgreementSeedEnv = "GEOCOMMUNS_MAPAGREEMENT_SEED"

const (
	mapAgreementSeed = 20250601
	// agreementBoxes is how many random boxes under the node limit are
	// compared.
	agreementBoxes = 60
)

// mapAgreementFiles are paulmach/osm's real data: two extracts and
// benchmark.osm, a reply of openstreetmap.org's own map call.
var mapAgreementFiles = []string{
	"testdata/delaware-latest.osm.pbf",
	"testdata/andorra-latest.osm.bz2",
	"osmgeojson/testdata/benchmark.osm",
}

const benchmarkFile = 2 // index of benchmark.osm in mapAgreementFiles

// RunMapAgreement imports the real files into one store and compares
// storage.Map with an independent rendering of cgimap's steps computed
// from the files; see the package comment. Skipped under -short.
func RunMapAgreement(t *testing.T, open Opener) {
	if testing.Short() {
		t.Skip("map agreement imports delaware, andorra and benchmark.osm (about a million elements); skipped under -short")
	}
	ctx := t.Context()
	dir, err := osmfile.ModuleTestdata()
	if err != nil {
		t.Fatalf("locate the test data: %v", err)
	}
	var paths []string
	for _, f := range mapAgreementFiles {
		paths = append(paths, filepath.Join(dir, f))
	}
	s := withFaultFromEnv(t, open)(t)

	start := time.Now()
	src, err := osmfile.OpenAll(paths)
	if err != nil {
		t.Fatalf("osmfile.OpenAll: %v", err)
	}
	res, err := s.Import(ctx, src)
	src.Close()
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	t.Logf("imported %d nodes, %d ways, %d relations in %v", res.Nodes, res.Ways, res.Relations, time.Since(start).Round(time.Millisecond))

	ref, err := loadReference(ctx, paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(ref.duplicates) > 0 {
		t.Fatalf("the files share elements (%v…): the reference cannot tell which version an import keeps", ref.duplicates[0])
	}
	if res.Nodes != int64(len(ref.nodes)) || res.Ways != int64(len(ref.ways)) || res.Relations != int64(len(ref.relations)) {
		t.Errorf("Import = %d nodes, %d ways, %d relations; the files have %d, %d, %d",
			res.Nodes, res.Ways, res.Relations, len(ref.nodes), len(ref.ways), len(ref.relations))
	}

	t.Run("BenchmarkBounds", func(t *testing.T) {
		b, ok := ref.bounds[benchmarkFile]
		if !ok {
			t.Fatalf("benchmark.osm has no <bounds>")
		}
		bd := osmdata.BoxDegrees{MinLon: b.MinLon, MinLat: b.MinLat, MaxLon: b.MaxLon, MaxLat: b.MaxLat}
		rb := refBox{refTrunc(b.MinLat), refTrunc(b.MinLon), refTrunc(b.MaxLat), refTrunc(b.MaxLon)}
		want := ref.fileElements[benchmarkFile]
		// The reference must itself reproduce openstreetmap.org's answer,
		// or it is no reference.
		if diff := diffVersions(ref.mapCall(rb), want); diff != "" {
			t.Fatalf("the reference's map call on benchmark.osm's bounds differs from benchmark.osm:\n%s", diff)
		}
		box := bd.Fixed()
		if box != (osmdata.Box{MinLat: rb.minLat, MinLon: rb.minLon, MaxLat: rb.maxLat, MaxLon: rb.maxLon}) {
			t.Errorf("osmdata.BoxDegrees.Fixed(%v) = %+v, want %+v (truncated toward zero)", bd, box, rb)
		}
		got, err := storage.Map(ctx, s, box, storage.MaxMapNodes)
		if err != nil {
			t.Fatalf("Map(%v): %v", bd, err)
		}
		if diff := diffVersions(mapVersions(got), want); diff != "" {
			t.Errorf("Map(%v) differs from benchmark.osm, openstreetmap.org's answer to it:\n%s", bd, diff)
		}
	})

	t.Run("RandomBoxes", func(t *testing.T) {
		seed := uint64(mapAgreementSeed)
		if v := os.Getenv(MapAgreementSeedEnv); v != "" {
			if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
				t.Fatalf("%s=%q: %v", MapAgreementSeedEnv, v, err)
			}
		}
		t.Logf("seed %d (set %s to repeat another)", seed, MapAgreementSeedEnv)
		boxes, overLimit := agreementBoxSet(ref, seed)
		for i, ab := range boxes {
			t.Run(fmt.Sprintf("%02d_%s_%s", i, fileLabel(ab.file), ab.kind), func(t *testing.T) {
				got, err := storage.Map(ctx, s, ab.box, storage.MaxMapNodes)
				if err != nil {
					t.Fatalf("Map(%s): %v", ab, err)
				}
				if diff := diffVersions(mapVersions(got), ab.want); diff != "" {
					t.Errorf("Map(%s) differs from cgimap's steps over the files:\n%s", ab, diff)
				}
			})
		}
		// Boxes the reference finds over the limit must be refused.
		for i, ab := range overLimit {
			if _, err := storage.Map(ctx, s, ab.box, storage.MaxMapNodes); !isTooManyNodes(err, storage.MaxMapNodes) {
				t.Errorf("over-limit box %d (%s, %d nodes): Map = %v, want TooManyNodesError", i, ab, ab.nodes, err)
			}
		}
		largest := 0
		for _, ab := range boxes {
			largest = max(largest, ab.nodes)
		}
		t.Logf("%d boxes compared (the largest with %d nodes in it), %d over the node limit refused", len(boxes), largest, len(overLimit))
	})
}

func fileLabel(i int) string {
	return strings.SplitN(filepath.Base(mapAgreementFiles[i]), "-", 2)[0]
}

type agreementBox struct {
	file  int
	kind  string // "snapped": every edge on a node's coordinate; "degrees": a request's box
	deg   osmdata.BoxDegrees
	box   osmdata.Box
	nodes int
	want  map[refVersion]bool
}

func (a agreementBox) String() string {
	if a.kind == "degrees" {
		return fmt.Sprintf("bbox=%v (%d nodes)", a.deg, a.nodes)
	}
	return fmt.Sprintf("box %+v (%d nodes)", a.box, a.nodes)
}

// agreementBoxSet draws boxes around random nodes of each file in turn,
// at sizes spread from a few metres to the 0.25 sq° limit, shrinking a
// box until it holds at most MaxMapNodes nodes (and keeping a few of the
// boxes over the limit to check the refusal).
func agreementBoxSet(ref *refData, seed uint64) (boxes, overLimit []agreementBox) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := 0; len(boxes) < agreementBoxes; i++ {
		file := i % len(ref.nodeIDs)
		ids := ref.nodeIDs[file]
		anchor := ref.nodes[ids[rng.IntN(len(ids))]]
		lat, lon := float64(anchor.lat)/1e7, float64(anchor.lon)/1e7
		maxSide := 0.5 // 0.5° x 0.5° is the area limit
		if file == benchmarkFile {
			maxSide = 0.01 // benchmark.osm covers 0.005°
		}
		// Log-uniform sides: most boxes are small, as editors ask.
		w := math.Exp(rng.Float64()*(math.Log(maxSide)-math.Log(1e-5)) + math.Log(1e-5))
		h := math.Exp(rng.Float64()*(math.Log(maxSide)-math.Log(1e-5)) + math.Log(1e-5))
		if i%10 == 0 && file != benchmarkFile {
			w, h = maxSide, maxSide // the largest box allowed, shrunk below if over the node limit
		}
		if w*h > storage.MaxMapArea {
			h = storage.MaxMapArea / w
		}
		for {
			d := osmdata.BoxDegrees{
				MinLon: lon - w*rng.Float64(), MinLat: lat - h*rng.Float64(),
			}
			d.MaxLon, d.MaxLat = d.MinLon+w, d.MinLat+h
			d.MinLon, d.MaxLon = math.Max(d.MinLon, -180), math.Min(d.MaxLon, 180)
			d.MinLat, d.MaxLat = math.Max(d.MinLat, -90), math.Min(d.MaxLat, 90)
			ab := agreementBox{file: file, kind: "degrees", deg: d, box: d.Fixed()}
			rb := refBox{refTrunc(d.MinLat), refTrunc(d.MinLon), refTrunc(d.MaxLat), refTrunc(d.MaxLon)}
			inside := ref.nodesInBox(rb)
			if len(inside) > storage.MaxMapNodes {
				if len(overLimit) < 3 {
					ab.nodes = len(inside)
					overLimit = append(overLimit, ab)
				}
				w, h = w/2, h/2
				continue
			}
			if (i/len(ref.nodeIDs))%3 == 1 && len(inside) > 0 {
				// Snap every edge onto a node inside: the tight box of
				// the nodes, given in fixed point so no conversion moves
				// an edge off its node.
				rb = refBox{math.MaxInt32, math.MaxInt32, math.MinInt32, math.MinInt32}
				for _, id := range inside {
					n := ref.nodes[id]
					rb.minLat, rb.maxLat = min(rb.minLat, n.lat), max(rb.maxLat, n.lat)
					rb.minLon, rb.maxLon = min(rb.minLon, n.lon), max(rb.maxLon, n.lon)
				}
				ab.kind = "snapped"
				ab.box = osmdata.Box{MinLat: rb.minLat, MinLon: rb.minLon, MaxLat: rb.maxLat, MaxLon: rb.maxLon}
			} else if ab.box != (osmdata.Box{MinLat: rb.minLat, MinLon: rb.minLon, MaxLat: rb.maxLat, MaxLon: rb.maxLon}) {
				// osmdata's conversion disagrees with cgimap's truncation:
				// compare against the reference's box so the report shows it.
				ab.box = osmdata.Box{MinLat: rb.minLat, MinLon: rb.minLon, MaxLat: rb.maxLat, MaxLon: rb.maxLon}
				ab.kind = "degrees-mismatch"
			}
			ab.nodes = len(inside)
			ab.want = ref.mapCall(rb)
			boxes = append(boxes, ab)
			break
		}
	}
	return boxes, overLimit
}

// mapVersions lists a map call's answer as (type, id, version).
func mapVersions(m *storage.MapData) map[refVersion]bool {
	out := map[refVersion]bool{}
	for _, list := range [][]osmdata.Element{m.Nodes, m.Ways, m.Relations} {
		for _, e := range list {
			out[refVersion{refKey{e.Type.String(), e.ID}, e.Version}] = true
		}
	}
	return out
}

// diffVersions describes how got differs from want, at most a few lines
// of each side; empty when equal.
func diffVersions(got, want map[refVersion]bool) string {
	var missing, extra []refVersion
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	show := func(vs []refVersion) string {
		sort.Slice(vs, func(i, j int) bool {
			if vs[i].typ != vs[j].typ {
				return vs[i].typ < vs[j].typ
			}
			return vs[i].id < vs[j].id
		})
		var b strings.Builder
		for i, v := range vs {
			if i == 10 {
				fmt.Fprintf(&b, " … and %d more", len(vs)-10)
				break
			}
			fmt.Fprintf(&b, " %v;", v)
		}
		return b.String()
	}
	return fmt.Sprintf("%d expected, %d answered; missing %d:%s\nunexpected %d:%s",
		len(want), len(got), len(missing), show(missing), len(extra), show(extra))
}
