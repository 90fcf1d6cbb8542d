package validate

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/geocommuns/geocommuns/osmdata"
)

// townEdit touches every node and way of a box around Andorra la Vella
// holding at least minElements of them (a retag of each way, nodes
// rewritten as they are), and adds a building across a street, so the
// rules have work to do on both sides and one known problem to find.
func townEdit(b testing.TB, d *dataset, minElements int) (e *edit, building int64) {
	b.Helper()
	centre := orb.Point{1.5218, 42.5063}
	for half := 0.002; half < 0.2; half *= 1.2 {
		inBox := func(p orb.Point) bool {
			return p[0] >= centre[0]-half && p[0] <= centre[0]+half && p[1] >= centre[1]-half && p[1] <= centre[1]+half
		}
		e = newEdit(d)
		for id, n := range d.Nodes {
			if inBox(nodePoint(n)) {
				e.modify(b, nodeKey(id), false, func(*osmdata.Element) {})
			}
		}
		for id, w := range d.Ways {
			for _, n := range w.Nodes {
				if inBox(d.point(b, n)) {
					e.addTag(b, wayKey(id), "check_date", "2026-11-29")
					break
				}
			}
		}
		if len(e.changes) >= minElements {
			break
		}
	}
	road := d.Ways[residentialRoad]
	p1, p2 := d.point(b, road.Nodes[0]), d.point(b, road.Nodes[1])
	mid := orb.Point{(p1[0] + p2[0]) / 2, (p1[1] + p2[1]) / 2}
	var corners []int64
	for _, c := range [][2]float64{{-6, -6}, {6, -6}, {6, 6}, {-6, 6}} {
		corners = append(corners, e.createNode(offset(mid, c[0], c[1])))
	}
	return e, e.createWay(append(corners, corners[0]), tag("building=yes"))
}

// BenchmarkGeometryRules runs every geometry rule on the Before and the
// After neighbourhood of a changeset touching ~10,000 elements of
// Andorra la Vella, as the engine may (it skips Before when After is
// clean), and reports the cost per touched element.
func BenchmarkGeometryRules(b *testing.B) {
	d := loadAndorra(b)
	e, building := townEdit(b, d, 10_000)
	before, after := e.snapshots()
	touched := e.touched()
	rules := GeometryRules()

	// The engine, on the same input, must report the building across the
	// street as introduced, and the count of findings must not change
	// between iterations: a short-circuited rule cannot post a figure.
	cfg := Config{}
	for _, r := range rules {
		cfg.Rules = append(cfg.Rules, RuleConfig{Enabled: true, Element: r})
	}
	v, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	in := &Input{Before: before, After: after}
	for _, k := range touched {
		in.Changes = append(in.Changes, Change{Old: visibleOrNil(e.before(k)), New: visibleOrNil(e.after(k))})
	}
	report := v.Validate(in)
	if !hasFindingAbout(report.Findings, []osmdata.Key{wayKey(residentialRoad), wayKey(building)}) {
		b.Fatalf("the building across way %d is not reported: %s", residentialRoad, describeFindings(report.Findings))
	}
	touchedBefore, touchedAfter := presentIn(before, touched), presentIn(after, touched)
	count := func() int {
		n := 0
		for _, r := range rules {
			n += len(r.Check(before, touchedBefore))
			n += len(r.Check(after, touchedAfter))
		}
		return n
	}
	want := count()
	// Andorra whole is garbage from here on; released, the collector
	// stops marking it during the timed runs, as it would not be in a
	// server's heap either.
	d, e = nil, nil
	releaseAndorra()
	runtime.GC()
	b.Logf("%d touched elements, snapshot of %d nodes, %d ways, %d relations; %d findings before and after, %d introduced",
		len(touched), len(after.Nodes), len(after.Ways), len(after.Relations), want, len(report.Findings))

	b.Run("all", func(b *testing.B) {
		cpu := processCPU(b)
		for i := 0; i < b.N; i++ {
			if got := count(); got != want {
				b.Fatalf("iteration %d: %d findings, want %d", i, got, want)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(touched)), "ns/element")
		// On a shared machine the wall clock counts other people's work;
		// the process's CPU time is what validating cost.
		b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(b.N*len(touched)), "cpu-ns/element")
	})
	for _, r := range rules {
		b.Run(r.Name(), func(b *testing.B) {
			cpu := processCPU(b)
			for i := 0; i < b.N; i++ {
				r.Check(before, touchedBefore)
				r.Check(after, touchedAfter)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(touched)), "ns/element")
			b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(b.N*len(touched)), "cpu-ns/element")
		})
	}
}

// processCPU is the user and system time the test process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
