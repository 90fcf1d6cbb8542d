package main

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// historyFile has two versions of one node, as a full-history dump does.
const historyFile = `<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
 <node id="1" version="1" visible="true" changeset="1" timestamp="2012-09-25T00:00:00Z" user="foo" uid="1" lat="0" lon="0"/>
 <node id="1" version="2" visible="true" changeset="2" timestamp="2012-09-26T00:00:00Z" user="foo" uid="1" lat="1" lon="1"/>
</osm>
`

// TestImportRefusesBadInput feeds import what it must refuse: each run
// exits 1 naming the file and where in it, and leaves the dataset empty.
func TestImportRefusesBadInput(t *testing.T) {
	src := testdata(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := make([]byte, 4096)
	rand.Read(garbage)
	delaware, err := os.ReadFile(filepath.Join(src, "testdata", "delaware-latest.osm.pbf"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, file string
		// position is how the message says where in the file.
		position string
	}{
		{"corrupt PBF", write("corrupt.osm.pbf", garbage), "byte offset"},
		{"corrupt XML", write("corrupt.osm", []byte("<osm version=\"0.6\">\n <node id=\"1\" lat=\"oops\"")), "line 2"},
		// 2 MB in is well inside a block (blocks are tens of kB).
		{"PBF truncated mid-block", write("truncated.osm.pbf", delaware[:2_000_000]), "byte offset"},
		{"osmChange", filepath.Join(src, "testdata", "changeset_38162206.osc"), "line "},
		{"history file", write("history.osm", []byte(historyFile)), "line 4"},
	}
	for _, backend := range backendNames(t) {
		t.Run(backend, func(t *testing.T) {
			ds := newDataset(t, backend)
			for _, c := range cases {
				res := runBinary(t, nil, append(append([]string{"import"}, ds.flags...), c.file)...)
				if res.exit != 1 {
					t.Errorf("%s: exit %d, want 1\nstdout: %s\nstderr: %s", c.name, res.exit, res.stdout, res.stderr)
				}
				if !strings.Contains(res.stderr, c.file) || !strings.Contains(res.stderr, c.position) {
					t.Errorf("%s: the message does not name %s and %q:\n%s", c.name, c.file, c.position, res.stderr)
				}
				summary := exportSummaryOf(t, ds, filepath.Join(t.TempDir(), "after.osm"))
				if !strings.HasPrefix(summary, "exported 0 nodes, 0 ways, 0 relations (0 elements)") {
					t.Errorf("%s: the dataset is not empty after the refused import: %s", c.name, summary)
				}
			}
		})
	}
}

// TestImportRefusesNonEmptyDataset imports twice: the second import is
// refused and changes nothing.
func TestImportRefusesNonEmptyDataset(t *testing.T) {
	file := filepath.Join(testdata(t), "osmgeojson", "testdata", "benchmark.osm")
	for _, backend := range backendNames(t) {
		t.Run(backend, func(t *testing.T) {
			ds := newDataset(t, backend)
			first := runBinary(t, nil, append(append([]string{"import"}, ds.flags...), file)...)
			if first.exit != 0 {
				t.Fatalf("first import: exit %d\n%s", first.exit, first.stderr)
			}
			if !strings.HasPrefix(first.stdout, "imported 2867 nodes, 462 ways, 8 relations (3337 elements; ") {
				t.Errorf("summary line: %q", first.stdout)
			}
			second := runBinary(t, nil, append(append([]string{"import"}, ds.flags...), file)...)
			if second.exit != 1 || !strings.Contains(second.stderr, "not empty") {
				t.Errorf("second import: exit %d, stderr %q; want 1 and the dataset named not empty", second.exit, second.stderr)
			}
			if s := exportSummaryOf(t, ds, filepath.Join(t.TempDir(), "after.osm")); !strings.HasPrefix(s, "exported 2867 nodes, 462 ways, 8 relations") {
				t.Errorf("after the refused second import: %s", s)
			}
		})
	}
}
