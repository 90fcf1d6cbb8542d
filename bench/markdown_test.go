package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A run as the harness hands it to the write-up: a target met, one not
// met, a map call, a feed latency and a size series.
func samplePublication(profile string) publication {
	rows := []Result{
		{Scenario: "import delaware", Backend: "postgres", Metric: "elements/s", Value: 202000, Unit: "el/s",
			BaselineName: "el/s plain COPY", Baseline: 250000, Ratio: 0.808, Target: "time within 2x of COPY", Met: boolPtr(true), PeakMB: 280},
		{Scenario: "merge 10000 elements", Backend: "postgres", Metric: "merge time", Value: 1.5, Unit: "s",
			Target: "< 0.5 s", Met: boolPtr(false), Series: "merge one changeset", Size: 10000},
		{Scenario: "merge 1000 elements", Backend: "postgres", Metric: "merge time", Value: 0.05, Unit: "s", Series: "merge one changeset", Size: 1000},
		{Scenario: "merge 100 elements", Backend: "postgres", Metric: "merge time", Value: 0.005, Unit: "s", Series: "merge one changeset", Size: 100},
		{Scenario: "map 50,000 nodes", Backend: "postgres", Metric: "p50", Value: 518, Unit: "ms", Series: "map", Size: 50000},
		{Scenario: "feed 1000 merges × 10", Backend: "postgres", Metric: "commit → NATS subscriber p99", Value: 12, Unit: "ms",
			Target: "≤ 25 ms", Met: boolPtr(true), Note: "a | in a note"},
	}
	return publication{
		Config:  Config{Quick: true, PlotsDir: "docs/bench", CommandLine: "geocommuns bench --quick --postgres postgres://x", CPUProfilePath: profile},
		Machine: machine{CPU: "Test CPU", Cores: 2, MemoryGiB: 3.8, OS: "Debian", Go: "go1.26", PostgreSQL: "15.8", SQLite: "3.50.4", Commit: "abc123"},
		Started: time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC), Elapsed: 150 * time.Second,
		Results: rows, Curves: fitCurves(rows),
		Plots: []plotFile{{Name: "merge-one-changeset-throughput.svg", Title: "merge one changeset: throughput against size"}},
	}
}

func TestMarkdownWritesTheRunUp(t *testing.T) {
	md := renderMarkdown(samplePublication("/tmp/cpu.pprof"), ".")
	for _, want := range []string{
		// Machine and versions.
		"| CPU | Test CPU, 2 cores |", "| PostgreSQL | 15.8 |", "| SQLite | 3.50.4 |", "| geocommuns | abc123 |",
		"| date | 2026-11-30 02:00 UTC (the run took 2m30s) |", "`geocommuns bench --quick --postgres postgres://x`",
		"**This is a `--quick` run**",
		// The targets, as printed, and the ones not measured.
		"- import within 2x of COPY: import delaware on postgres, elements/s: 202000 el/s, met.",
		"- a 10,000-element merge under 0.5 s: merge 10000 elements on postgres, merge time: 1.50 s, NOT met.",
		"- zero errors under load: not measured in this run.",
		// Sentences computed from the figures against their anchors.
		"this is 0.50× that (counting every element",
		"this call of 50,000 nodes took 518 ms end to end, 2.00× that",
		"this is 5000× sooner than one minute",
		"0.81× its same-run baseline (250000 el/s plain COPY)",
		// A target not met points to its profile.
		"target < 0.5 s: NOT met, its CPU profile is in `/tmp/cpu.pprof` (`go tool pprof -tagfocus 'bench=merge 10000 elements' /tmp/cpu.pprof`",
		// The table, with a | escaped, the curve and the plot linked relative to the file.
		"| feed 1000 merges × 10 | postgres | commit → NATS subscriber p99 | 12.00 ms |", `a \| in a note`,
		"- merge one changeset, postgres, merge time: superlinear: time ∝ size^",
		"![merge one changeset: throughput against size](docs/bench/merge-one-changeset-throughput.svg)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the write-up lacks %q:\n%s", want, md)
		}
	}
}

func TestMarkdownWithoutProfileSaysHowToTakeOne(t *testing.T) {
	md := renderMarkdown(samplePublication(""), ".")
	if want := "NOT met, and this run took no profile: rerun it with `--cpuprofile FILE`"; !strings.Contains(md, want) {
		t.Errorf("the write-up lacks %q:\n%s", want, md)
	}
}

// The plots are linked relative to where the file is written.
func TestWriteMarkdownLinksPlotsRelativeToTheFile(t *testing.T) {
	dir := t.TempDir()
	p := samplePublication("")
	p.Config.PlotsDir = filepath.Join(dir, "docs", "bench")
	path := filepath.Join(dir, "BENCHMARKS.md")
	if err := writeMarkdown(path, p); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "](docs/bench/merge-one-changeset-throughput.svg)"; !strings.Contains(string(data), want) {
		t.Errorf("BENCHMARKS.md lacks the link %q:\n%s", want, data)
	}
}
