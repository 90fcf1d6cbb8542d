package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The outside anchors the write-up compares figures with (issue 10).
const (
	// cgimapMapCallMS is the database time cgimap spends on a map call
	// returning cgimapMapCallNodes nodes.
	cgimapMapCallMS    = 259.0
	cgimapMapCallNodes = 48978
	// osm2pgsqlNodesPerSecond is osm2pgsql's published import rate.
	osm2pgsqlNodesPerSecond = 404000.0
	// minutelyDiffLagMS is how far behind openstreetmap.org's minutely
	// diffs run at best (1 to 2 minutes).
	minutelyDiffLagMS = 60000.0
)

// publication is one run as BENCHMARKS.md records it.
type publication struct {
	Config   Config
	Machine  machine
	Started  time.Time
	Elapsed  time.Duration
	Results  []Result
	Curves   []curve
	Plots    []plotFile
	Failures []string
}

// issueTarget is one of the issue's targets and how to find the rows
// that measure it.
type issueTarget struct {
	name  string
	match func(Result) bool
}

var issueTargets = []issueTarget{
	{"import within 2x of COPY", func(r Result) bool { return strings.HasPrefix(r.Scenario, "import") }},
	{"staging at least 50,000 elements/s", func(r Result) bool { return strings.HasPrefix(r.Scenario, "stage") }},
	{"the 50,000-node map call under 259 ms end to end", func(r Result) bool { return strings.HasPrefix(r.Scenario, "map") }},
	{"a 10,000-element validation under 0.5 s", func(r Result) bool { return strings.HasPrefix(r.Scenario, "validate") }},
	{"a 10,000-element merge under 0.5 s", func(r Result) bool { return r.Metric == "merge time" }},
	{"at least 200 small merges/s", func(r Result) bool { return r.Metric == "merges/s" }},
	{"merge → subscriber p99 at most 25 ms", func(r Result) bool { return strings.HasPrefix(r.Metric, "commit → ") }},
	{"zero errors under load", func(r Result) bool { return strings.HasPrefix(r.Scenario, "load") }},
}

// writeMarkdown writes the run to path as BENCHMARKS.md, the plots
// linked relative to it.
func writeMarkdown(path string, p publication) error {
	if err := os.WriteFile(path, []byte(renderMarkdown(p, filepath.Dir(path))), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// renderMarkdown writes the run up; plots are linked relative to dir,
// where the markdown file lives.
func renderMarkdown(p publication, dir string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Benchmarks\n\n")
	w("Written by `geocommuns bench --markdown` from the run it describes; rerun the command below rather than editing it.\n")
	w("Every figure stands beside a baseline measured in the same run: on a shared machine the ratios carry over from run to run, absolute times do not.\n\n")
	if p.Config.Quick {
		w("**This is a `--quick` run**: every scenario ran at reduced sizes, so its figures do not answer the issue's targets, which are set at the full sizes.\n\n")
	}

	m := p.Machine
	w("## Machine and versions\n\n| | |\n| --- | --- |\n")
	w("| CPU | %s, %d cores |\n", m.CPU, m.Cores)
	w("| memory | %.1f GiB |\n", m.MemoryGiB)
	w("| OS | %s |\n", m.OS)
	w("| Go | %s |\n", m.Go)
	w("| PostgreSQL | %s |\n", m.PostgreSQL)
	w("| SQLite | %s |\n", m.SQLite)
	w("| geocommuns | %s |\n", m.Commit)
	w("| date | %s (the run took %s) |\n", p.Started.UTC().Format("2006-01-02 15:04 MST"), p.Elapsed.Round(time.Second))
	w("| command | `%s` |\n\n", p.Config.CommandLine)

	w("## The issue's targets\n\n")
	for _, t := range issueTargets {
		var rows []string
		for _, r := range p.Results {
			if r.Met != nil && t.match(r) {
				rows = append(rows, fmt.Sprintf("%s on %s, %s: %s %s, %s", r.Scenario, r.Backend, r.Metric, formatValue(r.Value), r.Unit, metWord(*r.Met)))
			}
		}
		if len(rows) == 0 {
			w("- %s: not measured in this run.\n", t.name)
			continue
		}
		w("- %s: %s.\n", t.name, strings.Join(rows, "; "))
	}
	w("\n")

	w("## Each figure against its anchor\n\n")
	for _, r := range p.Results {
		w("- %s\n", figureSentence(r, p.Config.CPUProfilePath))
	}
	w("\n")

	w("## The table\n\n")
	w("Peak RSS is the bench process's, where the geocommuns code under test runs (during the timed part where the scenario measured it, else over the whole scenario); PostgreSQL's own processes are not counted.\n\n")
	w("| %s |\n|%s\n", strings.Join(tableHeader, " | "), strings.Repeat(" --- |", len(tableHeader)))
	for _, r := range p.Results {
		cells := tableCells(r)
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		w("| %s |\n", strings.Join(cells, " | "))
	}
	w("\n")

	w("## How cost grows with work\n\n")
	if len(p.Curves) == 0 {
		w("No size series of three sizes or more ran.\n\n")
	} else {
		w("Each size series of three sizes or more, fitted as time ∝ size^b in log-log: b near 1 is linear.\n\n")
		for _, c := range p.Curves {
			w("- %s, %s, %s: %s.\n", c.Series, c.Backend, c.Metric, c.Summary)
		}
		w("\n")
	}

	if len(p.Plots) > 0 {
		w("## Plots\n\n")
		for _, f := range p.Plots {
			link := filepath.Join(p.Config.PlotsDir, f.Name)
			if rel, err := filepath.Rel(dir, link); err == nil {
				link = rel
			}
			w("![%s](%s)\n\n", f.Title, filepath.ToSlash(link))
		}
	}

	if len(p.Failures) > 0 {
		w("## Failures\n\nThese scenarios failed or their self-check did; they posted no figure:\n\n")
		for _, f := range p.Failures {
			w("- %s\n", strings.ReplaceAll(f, "\n", " "))
		}
	}
	return b.String()
}

func metWord(met bool) string {
	if met {
		return "met"
	}
	return "NOT met"
}

// figureSentence says one figure in words: its value, its same-run
// baseline, its outside anchor where the issue names one, and its target,
// with where to look when it is not met.
func figureSentence(r Result, profile string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** on %s, %s: %s %s", r.Scenario, r.Backend, r.Metric, formatValue(r.Value), r.Unit)
	if r.BaselineName != "" && r.Baseline > 0 {
		fmt.Fprintf(&b, ", %.2f× its same-run baseline (%s %s)", r.Ratio, formatValue(r.Baseline), r.BaselineName)
	}
	if a := anchorClause(r); a != "" {
		b.WriteString("; " + a)
	}
	if r.Met != nil {
		fmt.Fprintf(&b, "; target %s: %s", r.Target, metWord(*r.Met))
		if !*r.Met {
			if profile != "" {
				fmt.Fprintf(&b, ", its CPU profile is in `%s` (`go tool pprof -tagfocus 'bench=%s' %s`, the timed parts labelled by figure and backend)",
					profile, r.Scenario, profile)
			} else {
				b.WriteString(", and this run took no profile: rerun it with `--cpuprofile FILE` for the pprof profile that explains it")
			}
		}
	}
	b.WriteString(".")
	return b.String()
}

// anchorClause compares a figure with the outside figure the issue
// anchors it to, computed from the figure itself.
func anchorClause(r Result) string {
	switch {
	case strings.HasPrefix(r.Scenario, "import") && r.Unit == "el/s" && r.Value > 0:
		return fmt.Sprintf("osm2pgsql's published import rate is %.0fk nodes/s, this is %.2f× that (counting every element, not nodes only)",
			osm2pgsqlNodesPerSecond/1000, r.Value/osm2pgsqlNodesPerSecond)
	case strings.HasPrefix(r.Scenario, "map") && r.Metric == "µs per returned node" && r.Value > 0:
		cgimapPerNode := cgimapMapCallMS * 1000 / cgimapMapCallNodes
		return fmt.Sprintf("cgimap's database time alone is %.1f µs per node (%.0f ms for %s nodes); this is %.2f× that, end to end",
			cgimapPerNode, cgimapMapCallMS, formatCount(cgimapMapCallNodes), r.Value/cgimapPerNode)
	case (r.Series == "map" || strings.HasPrefix(r.Scenario, "map")) && isTime(r.Unit):
		t, _ := secondsPer(r.Unit)
		msValue := r.Value * t * 1000
		size := ""
		if r.Size > 0 {
			size = fmt.Sprintf(" of %s nodes", formatCount(r.Size))
		}
		return fmt.Sprintf("cgimap spends %.0f ms of database time alone on a %s-node map call; this call%s took %.0f ms end to end, %.2f× that",
			cgimapMapCallMS, formatCount(cgimapMapCallNodes), size, msValue, msValue/cgimapMapCallMS)
	case strings.HasPrefix(r.Metric, "commit → ") && isTime(r.Unit) && r.Value > 0:
		t, _ := secondsPer(r.Unit)
		msValue := r.Value * t * 1000
		return fmt.Sprintf("openstreetmap.org's minutely diffs run 1 to 2 minutes behind; this is %.0f× sooner than one minute", minutelyDiffLagMS/msValue)
	}
	return ""
}

func isTime(unit string) bool {
	_, ok := secondsPer(unit)
	return ok
}
