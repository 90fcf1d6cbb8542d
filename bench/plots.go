package bench

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// plotFile is one SVG the run drew, named relative to the plots
// directory.
type plotFile struct {
	Name  string
	Title string
}

// The size of every plot: legible on a page of BENCHMARKS.md.
const (
	plotWidth  = 7 * vg.Inch
	plotHeight = 4.5 * vg.Inch
)

// writePlots draws, into dir, one latency distribution (cumulative, log
// x) per scenario whose rows carry Samples, and one throughput against
// size (log-log) per size series, and returns what it wrote.
func writePlots(dir string, results []Result) ([]plotFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	var files []plotFile
	for _, g := range groupBy(results, func(r Result) string {
		if len(r.Samples) == 0 {
			return ""
		}
		return cmpOr(r.Series, r.Scenario)
	}) {
		f, err := latencyPlot(dir, g.key, g.rows)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	for _, g := range groupBy(results, func(r Result) string {
		if _, ok := workSeconds(r); !ok || r.Size <= 0 {
			return ""
		}
		return r.Series
	}) {
		f, ok, err := throughputPlot(dir, g.key, g.rows)
		if err != nil {
			return nil, err
		}
		if ok {
			files = append(files, f)
		}
	}
	return files, nil
}

type resultGroup struct {
	key  string
	rows []Result
}

// groupBy groups results by a key, in the order keys first appear; an
// empty key leaves the result out.
func groupBy(results []Result, key func(Result) string) []resultGroup {
	var out []resultGroup
	index := map[string]int{}
	for _, r := range results {
		k := key(r)
		if k == "" {
			continue
		}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, resultGroup{key: k})
		}
		out[i].rows = append(out[i].rows, r)
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// latencyPlot draws the cumulative distribution of each row's samples.
func latencyPlot(dir, name string, rows []Result) (plotFile, error) {
	p := plot.New()
	p.Title.Text = name + ": latency distribution"
	// A zero (a merge can reach a subscriber before Merge returns to the
	// bench) cannot sit on a log axis: it is drawn at half the smallest
	// sample above zero.
	zeroAt := math.Inf(1)
	for _, r := range rows {
		for _, v := range r.Samples {
			if v > 0 {
				zeroAt = math.Min(zeroAt, v/2)
			}
		}
	}
	if math.IsInf(zeroAt, 1) {
		zeroAt = 1e-3
	}
	p.X.Label.Text = fmt.Sprintf("latency (%s, log scale; 0 drawn at %.3g)", rows[0].Unit, zeroAt)
	p.Y.Label.Text = "fraction of calls at or below"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = logTicks{}
	p.Y.Min, p.Y.Max = 0, 1
	// Top left: a distribution rises from the bottom left to the top right.
	p.Legend.Top, p.Legend.Left = true, true
	var lines []any
	for _, r := range rows {
		// The samples are every call, not the percentile the row names.
		label := strings.TrimSuffix(strings.TrimSuffix(r.Metric, "p50"), " ")
		if r.Series != "" && r.Scenario != r.Series {
			// One plot for the sizes of a series: say which size.
			label = strings.TrimSuffix(r.Scenario+", "+label, ", ")
		}
		lines = append(lines, fmt.Sprintf("%s: %s (%d)", r.Backend, label, len(r.Samples)), cdf(r.Samples, zeroAt))
	}
	if err := plotutil.AddLines(p, lines...); err != nil {
		return plotFile{}, fmt.Errorf("plot %s: %w", name, err)
	}
	f := plotFile{Name: slug(name) + "-latency.svg", Title: p.Title.Text}
	if err := p.Save(plotWidth, plotHeight, filepath.Join(dir, f.Name)); err != nil {
		return plotFile{}, fmt.Errorf("plot %s: %w", name, err)
	}
	return f, nil
}

// cdf gives the empirical cumulative distribution of samples, zeros
// moved to zeroAt so that the log axis can show them.
func cdf(samples []float64, zeroAt float64) plotter.XYs {
	s := slices.Clone(samples)
	slices.Sort(s)
	xys := make(plotter.XYs, len(s))
	for i, v := range s {
		xys[i].X = math.Max(v, zeroAt)
		xys[i].Y = float64(i+1) / float64(len(s))
	}
	return xys
}

// throughputPlot draws items per second against size for each backend
// and metric of one series, in log-log; ok is false when no line has
// two sizes.
func throughputPlot(dir, series string, rows []Result) (plotFile, bool, error) {
	p := plot.New()
	p.Title.Text = series + ": throughput against size"
	p.X.Label.Text = "size (items of work, log scale)"
	p.Y.Label.Text = "items per second (log scale)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = logTicks{}, logTicks{}
	p.Legend.Top = true
	var lines []any
	highest := 0.0
	for _, g := range groupBy(rows, func(r Result) string { return r.Backend + ": " + r.Metric }) {
		best := map[float64]float64{}
		for _, r := range g.rows {
			t, _ := workSeconds(r)
			best[r.Size] = math.Max(best[r.Size], r.Size/t)
		}
		if len(best) < 2 {
			continue
		}
		var xys plotter.XYs
		for size, rate := range best {
			xys = append(xys, plotter.XY{X: size, Y: rate})
			highest = math.Max(highest, rate)
		}
		slices.SortFunc(xys, func(a, b plotter.XY) int { return cmp.Compare(a.X, b.X) })
		lines = append(lines, g.key, xys)
	}
	if len(lines) == 0 {
		return plotFile{}, false, nil
	}
	if err := plotutil.AddLinePoints(p, lines...); err != nil {
		return plotFile{}, false, fmt.Errorf("plot %s: %w", series, err)
	}
	// Headroom above the highest point, for the legend.
	p.Y.Max = highest * math.Pow(2, float64(len(lines)/2))
	f := plotFile{Name: slug(series) + "-throughput.svg", Title: p.Title.Text}
	if err := p.Save(plotWidth, plotHeight, filepath.Join(dir, f.Name)); err != nil {
		return plotFile{}, false, fmt.Errorf("plot %s: %w", series, err)
	}
	return f, true, nil
}

// slug makes a file name of a title: "feed 1000 merges × 10" → "feed-1000-merges-10".
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// logTicks labels 1, 2 and 5 times each power of ten, and marks the other
// multiples: plot.LogTicks labels powers of ten only, which leaves a
// curve spanning less than a decade with one label or none.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for decade := math.Pow(10, math.Floor(math.Log10(lo))); decade <= hi; decade *= 10 {
		for m := 1.0; m < 10; m++ {
			v := m * decade
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', 4, 64)
				if v >= 1 {
					t.Label = strconv.FormatFloat(math.Round(v), 'f', -1, 64)
				}
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
