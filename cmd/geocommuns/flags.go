package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/geocommuns/geocommuns/editing/osmapi"
	"github.com/geocommuns/geocommuns/osmdata"
)

// envPrefix starts the environment variable of every flag: --demo-file is
// GEOCOMMUNS_DEMO_FILE.
const envPrefix = "GEOCOMMUNS_"

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// newFlagSet returns a flag set whose usage lists each flag with its
// environment variable.
func newFlagSet(e *env, name, argsUsage, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: geocommuns %s [flags]%s\n\n%s\n\nFlags:\n", name, argsUsage, description)
		fs.VisitAll(func(f *flag.Flag) { printFlag(w, f) })
	}
	return fs
}

func printFlag(w io.Writer, f *flag.Flag) {
	kind, usage := flag.UnquoteUsage(f)
	fmt.Fprintf(w, "  --%s", f.Name)
	if kind != "" {
		fmt.Fprintf(w, " %s", kind)
	}
	fmt.Fprintf(w, "\n    \t%s\n    \t(env %s", usage, envName(f.Name))
	if f.DefValue != "" && f.DefValue != "false" {
		fmt.Fprintf(w, "; default %s", f.DefValue)
	}
	fmt.Fprintln(w, ")")
}

// parseFlags parses args, then gives every flag not on the command line
// the value of its environment variable, if set: the command line wins.
func parseFlags(fs *flag.FlagSet, e *env, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		// The flag package has printed the error and the usage.
		return usageError{msg: err.Error(), shown: true}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		name := envName(f.Name)
		v, ok := e.getenv(name)
		if !ok {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
		}
	})
	if err := errors.Join(errs...); err != nil {
		return usageError{msg: err.Error()}
	}
	return nil
}

// headerFlags set what written documents say about themselves.
type headerFlags struct {
	header osmdata.DocumentHeader
}

func (h *headerFlags) register(fs *flag.FlagSet) {
	d := osmapi.DefaultHeader
	fs.StringVar(&h.header.Generator, "generator", d.Generator, "the `name` written as the documents' generator")
	fs.StringVar(&h.header.Copyright, "copyright", d.Copyright, "the data's copyright `holder`, written in every document")
	fs.StringVar(&h.header.Attribution, "attribution", d.Attribution, "the `URL` of the data's attribution, written in every document")
	fs.StringVar(&h.header.License, "license", d.License, "the `URL` of the data's licence, written in every document")
}

// logFlags choose what the log shows.
type logFlags struct {
	level slog.Level
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.TextVar(&l.level, "log-level", slog.LevelInfo, "the least `level` logged: debug, info, warn or error")
}

func (l *logFlags) logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l.level}))
}
