package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The bounds of the fitted exponent (time ∝ size^b) within which a curve
// is called linear: three sizes a decade apart on a shared machine do not
// pin b closer than that. A curve is superlinear too when its last step
// (between its two largest sizes) grows faster than segmentHigh: growth
// at the large sizes is what matters, and a fixed cost at the small ones
// can hide it from the overall fit.
const (
	linearLow   = 0.85
	linearHigh  = 1.15
	segmentHigh = 1.25
	// unevenSpread is the spread of the cost per item around its median
	// beyond which a linear fit is said to be uneven.
	unevenSpread = 0.5
)

// curve is one size series on one backend for one metric, fitted: how the
// time the work takes grows with its size.
type curve struct {
	Series  string `json:"series"`
	Backend string `json:"backend"`
	Metric  string `json:"metric"`
	// Sizes ascending, and the cost of one item at each (seconds per item
	// of Size: an element staged, a node returned…).
	Sizes       []float64 `json:"sizes"`
	CostPerItem []float64 `json:"cost_per_item_s"`
	// Exponent is b of time ∝ size^b, fitted in log-log by least squares.
	Exponent float64 `json:"exponent"`
	// Verdict is linear, superlinear or sublinear; Summary says it with
	// the figures.
	Verdict string `json:"verdict"`
	Summary string `json:"summary"`
}

// fitCurves fits every size series with at least three sizes: results
// sharing Series, Backend and Metric, in the order they first appear.
func fitCurves(results []Result) []curve {
	type key struct{ series, backend, metric string }
	var order []key
	points := map[key]map[float64]float64{} // size → seconds of the whole work
	for _, r := range results {
		if r.Series == "" || r.Size <= 0 {
			continue
		}
		t, ok := workSeconds(r)
		if !ok {
			continue
		}
		k := key{r.Series, r.Backend, r.Metric}
		if points[k] == nil {
			points[k] = map[float64]float64{}
			order = append(order, k)
		}
		// Repeated measurements of one size (--repeat): the fastest, as
		// the least disturbed by the machine's other work.
		if prev, seen := points[k][r.Size]; !seen || t < prev {
			points[k][r.Size] = t
		}
	}
	var out []curve
	for _, k := range order {
		if len(points[k]) < 3 {
			continue
		}
		c := curve{Series: k.series, Backend: k.backend, Metric: k.metric}
		for size := range points[k] {
			c.Sizes = append(c.Sizes, size)
		}
		slices.Sort(c.Sizes)
		times := make([]float64, len(c.Sizes))
		for i, size := range c.Sizes {
			times[i] = points[k][size]
			c.CostPerItem = append(c.CostPerItem, times[i]/size)
		}
		c.Exponent = logLogSlope(c.Sizes, times)
		c.Verdict, c.Summary = verdict(c)
		out = append(out, c)
	}
	return out
}

// workSeconds is the time the whole work of r took, from a time, a rate
// (items per second, Size items) or a cost per item ("µs/node").
func workSeconds(r Result) (float64, bool) {
	if r.Value <= 0 {
		return 0, false
	}
	num, den, per := strings.Cut(r.Unit, "/")
	switch {
	case !per:
		if scale, ok := secondsPer(num); ok {
			return r.Value * scale, true
		}
	case den == "s":
		return r.Size / r.Value, true
	default:
		if scale, ok := secondsPer(num); ok {
			return r.Value * scale * r.Size, true
		}
	}
	return 0, false
}

func secondsPer(unit string) (float64, bool) {
	switch strings.TrimSpace(unit) {
	case "s":
		return 1, true
	case "ms":
		return 1e-3, true
	case "µs", "us":
		return 1e-6, true
	case "ns":
		return 1e-9, true
	}
	return 0, false
}

// logLogSlope fits log(y) = a + b·log(x) by least squares and returns b.
func logLogSlope(xs, ys []float64) float64 {
	var sx, sy, sxx, sxy float64
	n := float64(len(xs))
	for i := range xs {
		x, y := math.Log(xs[i]), math.Log(ys[i])
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

// verdict names the curve's shape and says it with its figures: the
// spread of the cost per item when linear, else where it grew or shrank
// the most.
func verdict(c curve) (string, string) {
	first, last := 0, len(c.Sizes)-1
	span := fmt.Sprintf("from %s to %s", formatCount(c.Sizes[first]), formatCount(c.Sizes[last]))
	fit := fmt.Sprintf("time ∝ size^%.2f", c.Exponent)
	// The step where the time grew fastest against the size, and the
	// last step's growth.
	worst, worstExponent, lastExponent := 1, math.Inf(-1), 0.0
	for i := 1; i < len(c.Sizes); i++ {
		e := math.Log(c.CostPerItem[i]*c.Sizes[i]/(c.CostPerItem[i-1]*c.Sizes[i-1])) / math.Log(c.Sizes[i]/c.Sizes[i-1])
		if e > worstExponent {
			worst, worstExponent = i, e
		}
		lastExponent = e
	}
	switch {
	case c.Exponent > linearHigh || lastExponent > segmentHigh:
		return "superlinear", fmt.Sprintf("superlinear: %s; cost per item ×%.1f from %s to %s", fit,
			c.CostPerItem[worst]/c.CostPerItem[worst-1], formatCount(c.Sizes[worst-1]), formatCount(c.Sizes[worst]))
	case c.Exponent < linearLow:
		return "sublinear", fmt.Sprintf("sublinear: %s; cost per item ÷%.1f %s (a fixed cost per call weighs on the small sizes)",
			fit, c.CostPerItem[first]/c.CostPerItem[last], span)
	default:
		median := slices.Clone(c.CostPerItem)
		slices.Sort(median)
		mid := median[len(median)/2]
		spread := 0.0
		for _, v := range c.CostPerItem {
			spread = max(spread, math.Abs(v/mid-1))
		}
		summary := fmt.Sprintf("linear: %s; cost per item within ±%.0f%% %s", fit, 100*spread, span)
		if spread > unevenSpread {
			summary += " (uneven: the fit is linear, the steps are not; a quieter machine tells more)"
		}
		return "linear", summary
	}
}

// printCurves prints the verdict on every size series after the table.
func printCurves(out io.Writer, curves []curve) {
	if len(curves) == 0 {
		return
	}
	fmt.Fprintln(out, "\nhow cost grows with work (each size series of three sizes or more):")
	for _, c := range curves {
		fmt.Fprintf(out, "  %s, %s, %s: %s\n", c.Series, c.Backend, c.Metric, c.Summary)
	}
}

// formatCount writes a size as the issue does: 10,000.
func formatCount(v float64) string {
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	var b strings.Builder
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String()
}
