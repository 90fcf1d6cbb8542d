package bench

import (
	"strings"
	"testing"
)

// series makes the rows of one size series from the time (seconds) each
// size took, as a rate in items/s.
func series(name string, times map[float64]float64) []Result {
	var out []Result
	for size, t := range times {
		out = append(out, Result{Scenario: name, Backend: "postgres", Metric: "elements/s", Unit: "el/s",
			Value: size / t, Series: name, Size: size})
	}
	return out
}

func TestFitCurvesVerdicts(t *testing.T) {
	for _, c := range []struct {
		name    string
		times   map[float64]float64
		verdict string
		says    string
	}{
		// 10 µs per element at every size.
		{"linear", map[float64]float64{100: 0.001, 1000: 0.01, 10000: 0.1}, "linear", "within ±0% from 100 to 10,000"},
		// Quadratic from 1,000 on: ×10 per element from 1,000 to 10,000.
		{"superlinear", map[float64]float64{100: 0.001, 1000: 0.01, 10000: 1}, "superlinear", "cost per item ×10.0 from 1,000 to 10,000"},
		// A fixed cost hides the growth from the overall fit, not from
		// the last step.
		{"superlinear at the top", map[float64]float64{100: 0.01, 1000: 0.012, 10000: 0.3}, "superlinear", "cost per item ×2.5 from 1,000 to 10,000"},
		// A fixed 50 ms per call, then 1 µs per element.
		{"sublinear", map[float64]float64{100: 0.0501, 1000: 0.051, 10000: 0.06}, "sublinear", "from 100 to 10,000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			curves := fitCurves(series(c.name, c.times))
			if len(curves) != 1 {
				t.Fatalf("%d curves, want one", len(curves))
			}
			got := curves[0]
			if got.Verdict != c.verdict || !strings.Contains(got.Summary, c.says) || !strings.HasPrefix(got.Summary, c.verdict+":") {
				t.Errorf("verdict %q, %q; want %s saying %q", got.Verdict, got.Summary, c.verdict, c.says)
			}
			if got.Sizes[0] != 100 || got.Sizes[2] != 10000 {
				t.Errorf("sizes %v, want ascending from 100 to 10,000", got.Sizes)
			}
		})
	}
}

// Times, rates and costs per item are the same curve.
func TestFitCurvesReadsEveryUnit(t *testing.T) {
	rows := []Result{
		{Series: "a", Backend: "sqlite", Metric: "merge time", Unit: "s", Value: 0.001, Size: 100},
		{Series: "a", Backend: "sqlite", Metric: "merge time", Unit: "s", Value: 0.01, Size: 1000},
		{Series: "a", Backend: "sqlite", Metric: "merge time", Unit: "s", Value: 0.1, Size: 10000},
		{Series: "b", Backend: "sqlite", Metric: "p50", Unit: "µs/node", Value: 10, Size: 1000},
		{Series: "b", Backend: "sqlite", Metric: "p50", Unit: "µs/node", Value: 10, Size: 10000},
		{Series: "b", Backend: "sqlite", Metric: "p50", Unit: "µs/node", Value: 30, Size: 50000},
	}
	curves := fitCurves(rows)
	if len(curves) != 2 {
		t.Fatalf("%d curves, want two", len(curves))
	}
	if curves[0].Verdict != "linear" || curves[0].CostPerItem[0] != 1e-5 {
		t.Errorf("times: %+v, want linear at 10 µs per item", curves[0])
	}
	if curves[1].Verdict != "superlinear" || !strings.Contains(curves[1].Summary, "×3.0 from 10,000 to 50,000") {
		t.Errorf("costs per item: %+v, want superlinear, ×3 from 10,000 to 50,000", curves[1])
	}
}

// A series needs three sizes, and figures of another backend or metric
// are another series.
func TestFitCurvesNeedsThreeSizes(t *testing.T) {
	rows := series("s", map[float64]float64{100: 0.001, 1000: 0.01})
	other := series("s", map[float64]float64{10000: 0.1})
	other[0].Backend = "sqlite"
	if curves := fitCurves(append(rows, other...)); len(curves) != 0 {
		t.Errorf("curves %+v from two sizes per backend, want none", curves)
	}
}
