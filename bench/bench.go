// Package bench holds the scenarios of `geocommuns bench`. Every scenario
// checks its own results (counts, a sampled equality, zero errors) so that
// a short-circuited path cannot post a figure, and prints each figure
// beside a baseline measured in the same run: machines here are shared,
// so only ratios are comparable from run to run.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Config selects what to run and where.
type Config struct {
	// PostgresURL, when set, runs every scenario on PostgreSQL too, each
	// in a fresh schema that is dropped afterwards.
	PostgresURL string
	// Scenarios to run by name; empty runs them all.
	Scenarios []string
	// DataDir holds the real data files; empty finds the paulmach/osm
	// module's testdata.
	DataDir string
	// JSONPath, when set, receives every result as JSON.
	JSONPath string
	// Repeat measures the figures of the scenarios that support it (stage)
	// this many times in one run, each beside its own baseline; 0 is 1.
	Repeat int
	// Quick runs every scenario at reduced sizes so that the whole run
	// finishes in under 3 minutes on a 2-core machine (CI); the checks are
	// the same, only the figures are less telling.
	Quick bool
	// Contributors is how many contributors the load scenario runs at
	// once; 0 is DefaultContributors.
	Contributors int
	// PlotsDir, when set, receives the SVG plots of the run (latency
	// distributions, throughput against size).
	PlotsDir string
	// MarkdownPath, when set, receives the run written up as
	// BENCHMARKS.md: machine, versions, table, curves, plots, anchors.
	MarkdownPath string
	// CommandLine is how the run was started, for the write-up.
	CommandLine string
	// CPUProfilePath is where --cpuprofile writes the run's CPU profile,
	// which the write-up points to for every target not met.
	CPUProfilePath string
}

// Result is one measured figure of one scenario on one backend.
type Result struct {
	Scenario string  `json:"scenario"`
	Backend  string  `json:"backend"`
	Metric   string  `json:"metric"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	// Baseline is the same-run anchor the value is compared with, and
	// Ratio is Value/Baseline (0 when there is none).
	BaselineName string  `json:"baseline_name,omitempty"`
	Baseline     float64 `json:"baseline,omitempty"`
	Ratio        float64 `json:"ratio,omitempty"`
	// Target says what the issue asks of this figure, and Met whether the
	// run reached it; a figure without a target is for information.
	Target string  `json:"target,omitempty"`
	Met    *bool   `json:"met,omitempty"`
	PeakMB float64 `json:"peak_rss_mb,omitempty"`
	Note   string  `json:"note,omitempty"`
	// Series and Size place the figure on a curve: results of one
	// scenario, backend and Series at different Sizes (elements staged,
	// nodes returned…) tell how cost grows with work.
	Series string  `json:"series,omitempty"`
	Size   float64 `json:"size,omitempty"`
	// Samples are the raw measurements (in Unit) a distribution figure
	// such as a p50 was taken from, one per call; --plots draws their
	// distribution. Set them on one row per distribution (the p50's),
	// not on each of its quantiles.
	Samples []float64 `json:"samples,omitempty"`
}

type scenario struct {
	name string
	run  func(ctx context.Context, env *environment, b backend) ([]Result, error)
}

// scenarios lists every scenario in the order they run; later issues add
// theirs here.
var scenarios = []scenario{
	{"import", runImport},
	{"stage", runStage},
	{"merge", runMerge},
	{"feed", runFeed},
	{"validate", runValidate},
	{"map", runMap},
	{"load", runLoad},
}

// Run runs the selected scenarios on every configured backend, prints one
// table to out and returns an error if any scenario failed or its
// self-check did.
func Run(ctx context.Context, cfg Config, out io.Writer) error {
	started := time.Now()
	env, err := newEnvironment(cfg)
	if err != nil {
		return err
	}
	selected, err := selectScenarios(cfg.Scenarios)
	if err != nil {
		return err
	}
	backends := []backend{sqliteBackend{}}
	if cfg.PostgresURL != "" {
		backends = append(backends, postgresBackend{url: cfg.PostgresURL})
	}
	var results []Result
	var failures []string
	for _, sc := range selected {
		for _, b := range backends {
			fmt.Fprintf(out, "running %s on %s…\n", sc.name, b.name())
			startScenarioPeak()
			rs, err := sc.run(ctx, env, b)
			if err != nil {
				failures = append(failures, fmt.Sprintf("%s on %s: %v", sc.name, b.name(), err))
				continue
			}
			// A row that did not measure the peak of its own timed part
			// gets the whole scenario's.
			peak := scenarioPeakMB()
			for i := range rs {
				if rs[i].PeakMB == 0 {
					rs[i].PeakMB = peak
				}
			}
			results = append(results, rs...)
		}
	}
	printTable(out, results)
	curves := fitCurves(results)
	printCurves(out, curves)
	if cfg.JSONPath != "" {
		if err := writeJSON(cfg.JSONPath, report{Results: results, Curves: curves, Failures: failures}); err != nil {
			return err
		}
	}
	var plots []plotFile
	if cfg.PlotsDir != "" {
		var err error
		if plots, err = writePlots(cfg.PlotsDir, results); err != nil {
			return err
		}
		fmt.Fprintf(out, "%d plots written to %s\n", len(plots), cfg.PlotsDir)
	}
	if cfg.MarkdownPath != "" {
		run := publication{
			Config: cfg, Machine: describeMachine(ctx, cfg.PostgresURL), Started: started, Elapsed: time.Since(started),
			Results: results, Curves: curves, Plots: plots, Failures: failures,
		}
		if err := writeMarkdown(cfg.MarkdownPath, run); err != nil {
			return err
		}
		fmt.Fprintf(out, "write-up in %s\n", cfg.MarkdownPath)
	}
	if len(failures) > 0 {
		return fmt.Errorf("bench failed:\n  %s", strings.Join(failures, "\n  "))
	}
	return nil
}

func selectScenarios(names []string) ([]scenario, error) {
	if len(names) == 0 {
		return scenarios, nil
	}
	var out []scenario
	for _, n := range names {
		found := false
		for _, sc := range scenarios {
			if sc.name == n {
				out = append(out, sc)
				found = true
			}
		}
		if !found {
			var known []string
			for _, sc := range scenarios {
				known = append(known, sc.name)
			}
			sort.Strings(known)
			return nil, fmt.Errorf("unknown scenario %q (known: %s)", n, strings.Join(known, ", "))
		}
	}
	return out, nil
}

func printTable(out io.Writer, results []Result) {
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(tableHeader, "\t"))
	for _, r := range results {
		fmt.Fprintln(tw, strings.Join(tableCells(r), "\t"))
	}
	tw.Flush()
}

// tableHeader and tableCells are the columns of the printed table and of
// the write-up's.
var tableHeader = []string{"scenario", "backend", "metric", "value", "baseline", "ratio", "target", "peak RSS", "note"}

func tableCells(r Result) []string {
	baseline, ratio := "", ""
	if r.BaselineName != "" {
		baseline = fmt.Sprintf("%s %s", formatValue(r.Baseline), r.BaselineName)
		ratio = fmt.Sprintf("%.2f", r.Ratio)
	}
	target := r.Target
	if r.Met != nil {
		if *r.Met {
			target += " (met)"
		} else {
			target += " (NOT met)"
		}
	}
	peak := ""
	if r.PeakMB > 0 {
		peak = fmt.Sprintf("%.0f MB", r.PeakMB)
	}
	return []string{r.Scenario, r.Backend, r.Metric, formatValue(r.Value) + " " + r.Unit, baseline, ratio, target, peak, r.Note}
}

func formatValue(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.4f", v)
	}
}

// report is the JSON file: every figure, the verdict on every size
// series, and what failed.
type report struct {
	Results  []Result `json:"results"`
	Curves   []curve  `json:"curves"`
	Failures []string `json:"failures,omitempty"`
}

func writeJSON(path string, rep report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func boolPtr(b bool) *bool { return &b }
