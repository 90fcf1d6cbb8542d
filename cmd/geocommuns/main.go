// Command geocommuns is the geocommuns binary: it parses flags and hands
// over to the packages that do the work.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// commands is every subcommand, in the order `geocommuns help` lists them.
var commands = []command{
	{"serve", "serve the OSM API 0.6 reads, /healthz, /readyz and /metrics", runServe},
	{"import", "load OSM files (.osm.pbf, .osm, .osm.bz2, .osm.gz) as the initial dataset", runImport},
	{"mirror", "keep a read-only copy of another geocommuns dataset up to date", runMirror},
	{"export", "write the current dataset with full metadata to FILE.osm[.gz|.bz2]", runExport},
	{"migrate", "apply the schema migrations to the dataset", runMigrate},
	{"backup", "copy the embedded dataset, even while it is served, to a new dataset directory", runBackup},
	{"bench", "run the benchmark scenarios, each beside a same-run baseline", runBench},
	{"user", "add an account (user add NAME --role ROLE) and print its API token, or delete one (user delete NAME)", runUser},
	{"token", "create an API token for a user, or revoke one", runToken},
	{"oauth-app", "register an OAuth 2 client application and print its client id", runOAuthApp},
	{"revert", "revert a merged changeset as a user (revert ID --user NAME): a new changeset for review", runRevert},
	{"redact", "hide a historical version from every read and feed (redact node/ID/VERSION --by ADMIN --reason TEXT)", runRedact},
	{"audit", "print the administrators' audit log (redactions, account deletions)", runAudit},
}

// env is what a command may use of the process, so tests can run
// commands in process.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) (string, bool)
	// stderrTerminal says whether stderr is a terminal: progress bars are
	// drawn there only.
	stderrTerminal bool
}

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{
		stdout:         os.Stdout,
		stderr:         os.Stderr,
		getenv:         os.LookupEnv,
		stderrTerminal: term.IsTerminal(int(os.Stderr.Fd())),
	}
	os.Exit(run(ctx, e, os.Args[1:]))
}

// usageError is a mistake in the command line; it exits with status 2.
// shown means the flag package has already printed it with the usage.
type usageError struct {
	msg   string
	shown bool
}

func (u usageError) Error() string { return u.msg }

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		printHelp(e.stderr)
		return exitUsage
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "-help" || name == "--help" {
		if len(args) > 1 {
			if c, ok := findCommand(args[1]); ok {
				return run(ctx, e, []string{c.name, "-h"})
			}
			fmt.Fprintf(e.stderr, "geocommuns: unknown command %q\n\n", args[1])
			printHelp(e.stderr)
			return exitUsage
		}
		printHelp(e.stdout)
		return exitOK
	}
	c, ok := findCommand(name)
	if !ok {
		fmt.Fprintf(e.stderr, "geocommuns: unknown command %q\n\n", name)
		printHelp(e.stderr)
		return exitUsage
	}
	err := c.run(ctx, e, args[1:])
	var usage usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &usage) && usage.shown:
		return exitUsage
	case errors.As(err, &usage):
		fmt.Fprintf(e.stderr, "geocommuns %s: %v\n", c.name, err)
		fmt.Fprintf(e.stderr, "Run 'geocommuns help %s' for usage.\n", c.name)
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "geocommuns %s: %v\n", c.name, err)
	return exitFailure
}

func findCommand(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "geocommuns edits geographic data together, as a commons.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: geocommuns COMMAND [flags] [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every flag also reads an environment variable: --data is GEOCOMMUNS_DATA, --postgres")
	fmt.Fprintln(w, "GEOCOMMUNS_POSTGRES and so on; a flag given on the command line wins.")
	fmt.Fprintln(w, "Run 'geocommuns help COMMAND' or 'geocommuns COMMAND -h' for a command's flags.")
}
