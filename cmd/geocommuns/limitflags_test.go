package main

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/server"
)

// What an operator types reaches the server: 0 turns the open changeset
// limit off (the server's own zero would mean its default), and values
// that would silently disable a limit are refused.
func TestLimitFlags(t *testing.T) {
	parse := func(args ...string) (server.Config, error) {
		var f limitFlags
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f.register(fs)
		if err := fs.Parse(args); err != nil {
			return server.Config{}, err
		}
		if err := f.check(); err != nil {
			return server.Config{}, err
		}
		var cfg server.Config
		f.apply(&cfg)
		return cfg, nil
	}
	cfg, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxOpenChangesets != editing.DefaultMaxOpenChangesets || cfg.MaxRelationMembers != editing.DefaultMaxRelationMembers ||
		cfg.BodyReadTimeout != server.DefaultBodyReadTimeout || cfg.ReadHeaderTimeout != server.DefaultReadHeaderTimeout {
		t.Errorf("defaults: %+v", cfg)
	}
	if cfg, _ := parse("--max-open-changesets", "0"); cfg.MaxOpenChangesets >= 0 {
		t.Errorf("--max-open-changesets 0: server limit %d, want none (negative)", cfg.MaxOpenChangesets)
	}
	for _, args := range [][]string{
		{"--max-open-changesets", "-1"},
		{"--max-inflate-ratio", "0"},
		{"--max-tags", "0"},
		{"--max-relation-members", "-5"},
		{"--body-read-timeout", "0s"},
	} {
		if _, err := parse(args...); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%s: %v, want a refusal naming the flag", strings.Join(args, " "), err)
		}
	}
}
