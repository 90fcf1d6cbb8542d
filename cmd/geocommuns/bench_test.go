package main

import "testing"

// BENCHMARKS.md is published with the command line that made it: a
// password in --postgres must not reach it, the rest must.
func TestBenchCommandLineMasksPasswords(t *testing.T) {
	got := benchCommandLine([]string{"--quick", "--postgres", "postgres://bench:s3cret@db.example:5432/osm?sslmode=disable", "--plots", "docs/bench"})
	want := "geocommuns bench --quick --postgres postgres://bench:xxxxx@db.example:5432/osm?sslmode=disable --plots docs/bench"
	if got != want {
		t.Errorf("command line\n%s\nwant\n%s", got, want)
	}
}
