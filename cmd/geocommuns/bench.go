package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/geocommuns/geocommuns/bench"
)

func runBench(ctx context.Context, e *env, args []string) error {
	var cfg bench.Config
	var scenarios string
	fs := newFlagSet(e, "bench", "",
		"Runs the benchmark scenarios on the embedded store and, with --postgres, on PostgreSQL\n"+
			"(each measurement in a fresh schema, dropped afterwards). Every scenario checks its own\n"+
			"results and prints its figures beside a baseline measured in the same run.")
	fs.StringVar(&cfg.PostgresURL, "postgres", "", "a PostgreSQL connection `URL` to run the scenarios on too")
	fs.StringVar(&scenarios, "scenario", "", "comma-separated scenario `names` (default: all)")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "the `directory` holding testdata/ (default: the github.com/paulmach/osm module)")
	fs.StringVar(&cfg.JSONPath, "json", "", "also write the results as JSON to this `file`")
	fs.IntVar(&cfg.Repeat, "repeat", 1, "measure each figure this many `times` in the same run (stage)")
	fs.IntVar(&cfg.Contributors, "contributors", bench.DefaultContributors, "how many `contributors` the load scenario runs at once")
	fs.BoolVar(&cfg.Quick, "quick", false, "run every scenario at reduced sizes (a few minutes, as CI does); the self-checks are the same")
	fs.StringVar(&cfg.PlotsDir, "plots", "", "draw the run's plots as SVG into this `directory`")
	fs.StringVar(&cfg.MarkdownPath, "markdown", "", "write the run up as Markdown (BENCHMARKS.md) to this `file`, linking the --plots")
	var cpuProfile string
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this `file`; the timed\n"+
		"parts carry the pprof labels bench (the figure) and backend, for -tagfocus")
	if err := parseFlags(fs, e, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{msg: "bench takes no arguments"}
	}
	if scenarios != "" {
		cfg.Scenarios = strings.Split(scenarios, ",")
	}
	cfg.CommandLine = benchCommandLine(args)
	if cpuProfile != "" {
		cfg.CPUProfilePath = cpuProfile
		f, err := os.Create(cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	return bench.Run(ctx, cfg, e.stdout)
}

// benchCommandLine is the command as the write-up records it, with any
// password in a URL masked: BENCHMARKS.md is published.
func benchCommandLine(args []string) string {
	shown := []string{"geocommuns", "bench"}
	for _, a := range args {
		if u, err := url.Parse(a); err == nil && u.User != nil {
			if _, has := u.User.Password(); has {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
				a = u.String()
			}
		}
		shown = append(shown, a)
	}
	return strings.Join(shown, " ")
}
