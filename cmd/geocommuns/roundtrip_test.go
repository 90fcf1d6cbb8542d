package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRoundTrip imports real extracts and exports them again: `osmium
// diff` must find no difference between the source and the export,
// metadata (versions, timestamps, changesets, users, tag order) included.
func TestRoundTrip(t *testing.T) {
	osmium := requireOsmium(t)
	src := testdata(t)
	sources := []struct {
		name, path string
		// alsoAs are further export names, diffed too: each compressed
		// format once.
		alsoAs []string
	}{
		{"delaware", filepath.Join(src, "testdata", "delaware-latest.osm.pbf"), nil},
		{"andorra", filepath.Join(src, "testdata", "andorra-latest.osm.bz2"), []string{"export.osm.gz"}},
		{"benchmark", filepath.Join(src, "osmgeojson", "testdata", "benchmark.osm"), []string{"export.osm.bz2"}},
	}
	for _, backend := range backendNames(t) {
		t.Run(backend, func(t *testing.T) {
			for _, s := range sources {
				t.Run(s.name, func(t *testing.T) {
					own := newDataset(t, backend)
					res := runBinary(t, nil, append(append([]string{"import"}, own.flags...), s.path)...)
					if res.exit != 0 {
						t.Fatalf("import: exit %d\n%s", res.exit, res.stderr)
					}
					if !strings.Contains(res.stdout, "imported ") {
						t.Errorf("import printed no summary line: %q", res.stdout)
					}
					names := []string{"export.osm"}
					if backend == "sqlite" {
						names = append(names, s.alsoAs...)
					}
					for _, name := range names {
						out := filepath.Join(t.TempDir(), name)
						exportSummaryOf(t, own, out)
						if diff := osmiumDiff(t, osmium, s.path, out); diff != "" {
							t.Errorf("%s differs from %s:\n%s", name, filepath.Base(s.path), diff)
						}
					}
					if s.name == "benchmark" {
						checkDiffSeesMetadata(t, osmium, own, s.path)
					}
				})
			}
		})
	}
}

// osmiumDiff returns osmium's list of differences, empty when the files
// hold the same objects.
func osmiumDiff(t *testing.T, osmium, a, b string) string {
	t.Helper()
	err := exec.CommandContext(context.Background(), osmium, "diff", "-q", a, b).Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &exitErr) && exitErr.ExitCode() == 1:
		out, _ := exec.Command(osmium, "diff", "-s", a, b).CombinedOutput()
		lines := strings.Split(string(out), "\n")
		var changed []string
		for _, l := range lines {
			if l != "" && l[0] != ' ' {
				changed = append(changed, l)
			}
			if len(changed) == 20 {
				changed = append(changed, "…")
				break
			}
		}
		return strings.Join(changed, "\n")
	}
	t.Fatalf("osmium diff %s %s: %v", a, b, err)
	return ""
}

// checkDiffSeesMetadata renames one user in a copy of the export: if
// osmium diff did not see it, the round trip would prove nothing about
// metadata.
func checkDiffSeesMetadata(t *testing.T, osmium string, ds dataset, source string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "export.osm")
	exportSummaryOf(t, ds, out)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	renamed := strings.Replace(string(data), `user="Eric Fischer"`, `user="Eric F."`, 1)
	if renamed == string(data) {
		t.Fatalf("the export has no user named Eric Fischer to rename")
	}
	tampered := filepath.Join(t.TempDir(), "tampered.osm")
	if err := os.WriteFile(tampered, []byte(renamed), 0o644); err != nil {
		t.Fatal(err)
	}
	if osmiumDiff(t, osmium, source, tampered) == "" {
		t.Errorf("osmium diff does not see a renamed user: the round trip would not check metadata")
	}
}
