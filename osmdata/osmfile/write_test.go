package osmfile

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/google/go-cmp/cmp"
)

var testHeader = osmdata.DocumentHeader{
	Generator:   "geocommuns osmfile test",
	Copyright:   "OpenStreetMap and contributors",
	Attribution: "http://www.openstreetmap.org/copyright",
	License:     "http://opendatacommons.org/licenses/odbl/1-0/",
}

func readElements(t testing.TB, path string) []*osmdata.Element {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []*osmdata.Element
	for {
		e, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
}

func writeElements(t testing.TB, path string, elems []*osmdata.Element) {
	t.Helper()
	w, err := Create(path, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range elems {
		if err := w.WriteElement(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// osmiumDiff runs `osmium diff -q`, which exits 1 when the files differ
// in any object, attribute, tag (in order) or member.
func osmiumDiff(t *testing.T, osmium, a, b string) {
	t.Helper()
	out, err := exec.Command(osmium, "diff", "-q", a, b).CombinedOutput()
	if err != nil {
		summary, _ := exec.Command(osmium, "diff", "-s", "-c", a, b).CombinedOutput()
		t.Errorf("osmium diff -q %s %s: %v %s\n%.3000s", a, b, err, out, summary)
	}
}

func TestExportRoundTripsThroughOsmium(t *testing.T) {
	osmium := needOsmium(t)
	src := realFile(t, "osmgeojson/testdata/benchmark.osm")
	elems := readElements(t, src)
	for _, name := range []string{"out.osm", "out.osm.gz", "out.osm.bz2"} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), name)
			writeElements(t, p, elems)
			osmiumDiff(t, osmium, src, p)
			if diff := cmp.Diff(elems, readElements(t, p)); diff != "" {
				t.Errorf("read back (-written +read):\n%s", diff)
			}
		})
	}
}

func TestExportOfExtractRoundTripsThroughOsmium(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the 200,000-node extract")
	}
	osmium := needOsmium(t)
	src := realFile(t, "testdata/andorra-latest.osm.bz2")
	r, err := Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := filepath.Join(t.TempDir(), "andorra.osm.gz")
	w, err := Create(p, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteElement(e); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n != 203265+9080+233 {
		t.Fatalf("exported %d elements", n)
	}
	osmiumDiff(t, osmium, src, p)
}

// TestOsmiumReadsTrickyValues has osmium parse what we write and print it
// as OPL, which a different parser (below) decodes back to compare.
func TestOsmiumReadsTrickyValues(t *testing.T) {
	osmium := needOsmium(t)
	tricky := []string{
		`quote " apostrophe ' amp & lt < gt >`,
		"tab\there newline\nthere cr\rthere",
		"  spaces  ",
		"unicode: Ærøskøbing 北京 😀",
		"RTL: שלום עליכם مرحبا",
		"percent % comma , equals = at @ backslash \\",
		"",
	}
	var tags osmdata.Tags
	for i, s := range tricky {
		tags = append(tags, osmdata.Tag{Key: fmt.Sprintf("k%d %s", i, s), Value: s})
	}
	ts := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	elems := []*osmdata.Element{
		{Type: osmdata.Node, ID: 1, Version: 1, Visible: true, Changeset: 9, Timestamp: ts, UID: 5, User: tricky[0], Lat: 1234567, Lon: -1799999999, Tags: tags},
		{Type: osmdata.Node, ID: 2, Version: 4, Visible: false, Changeset: 9, Timestamp: ts, UID: 5, User: tricky[4], Lat: 100, Lon: 200},
		{Type: osmdata.Node, ID: 3, Version: 1, Visible: true, Changeset: 9, Timestamp: ts, Lat: -900000000, Lon: 1800000000},
		{Type: osmdata.Way, ID: 4, Version: 2, Visible: true, Changeset: 9, Timestamp: ts, UID: 6, User: "w", Nodes: []int64{1, 3}, Tags: osmdata.Tags{{Key: "a", Value: tricky[1]}}},
		{Type: osmdata.Relation, ID: 5, Version: 1, Visible: true, Changeset: 9, Timestamp: ts, UID: 6, User: "w",
			Members: []osmdata.Member{{Type: osmdata.Way, Ref: 4, Role: tricky[0]}, {Type: osmdata.Node, Ref: 2, Role: ""}, {Type: osmdata.Relation, Ref: 5, Role: tricky[3]}}},
	}
	p := filepath.Join(t.TempDir(), "tricky.osm")
	writeElements(t, p, elems)
	out, err := exec.Command(osmium, "cat", "-f", "opl", p).Output()
	if err != nil {
		t.Fatalf("osmium cat: %v", err)
	}
	got := parseOPL(t, out)
	want := make([]*osmdata.Element, len(elems))
	for i, e := range elems {
		c := *e
		if !c.Visible {
			c.Lat, c.Lon = 0, 0 // written without coordinates
		}
		want[i] = &c
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("osmium read (-written +osmium):\n%s\nOPL:\n%s", diff, out)
	}
	// The deleted node has no position at all (OPL "x y" without values),
	// rather than 0,0.
	if !bytes.Contains(out, []byte("n2 v4 dD ")) || !bytes.Contains(out, []byte(" x y\n")) {
		t.Errorf("deleted node in OPL:\n%s", out)
	}
}

// parseOPL reads osmium's OPL output: one object per line, fields keyed
// by their first letter, strings with %hex% escapes.
func parseOPL(t *testing.T, data []byte) []*osmdata.Element {
	t.Helper()
	var out []*osmdata.Element
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		fields := strings.Split(line, " ")
		e := &osmdata.Element{}
		typ, id := fields[0][0], fields[0][1:]
		e.Type = map[byte]osmdata.ElementType{'n': osmdata.Node, 'w': osmdata.Way, 'r': osmdata.Relation}[typ]
		e.ID = mustInt(t, id)
		for _, f := range fields[1:] {
			v := f[1:]
			switch f[0] {
			case 'v':
				e.Version = int(mustInt(t, v))
			case 'd':
				e.Visible = v == "V"
			case 'c':
				e.Changeset = mustInt(t, v)
			case 't':
				ts, err := time.Parse(time.RFC3339, v)
				if err != nil {
					t.Fatal(err)
				}
				e.Timestamp = ts
			case 'i':
				e.UID = mustInt(t, v)
			case 'u':
				e.User = oplString(t, v)
			case 'x':
				if v != "" {
					e.Lon = mustCoord(t, v)
				}
			case 'y':
				if v != "" {
					e.Lat = mustCoord(t, v)
				}
			case 'T':
				if v == "" {
					continue
				}
				for _, kv := range strings.Split(v, ",") {
					k, val, _ := strings.Cut(kv, "=")
					e.Tags = append(e.Tags, osmdata.Tag{Key: oplString(t, k), Value: oplString(t, val)})
				}
			case 'N':
				if v == "" {
					continue
				}
				for _, n := range strings.Split(v, ",") {
					e.Nodes = append(e.Nodes, mustInt(t, n[1:]))
				}
			case 'M':
				if v == "" {
					continue
				}
				for _, m := range strings.Split(v, ",") {
					ref, role, _ := strings.Cut(m[1:], "@")
					mt := map[byte]osmdata.ElementType{'n': osmdata.Node, 'w': osmdata.Way, 'r': osmdata.Relation}[m[0]]
					e.Members = append(e.Members, osmdata.Member{Type: mt, Ref: mustInt(t, ref), Role: oplString(t, role)})
				}
			}
		}
		out = append(out, e)
	}
	return out
}

func oplString(t *testing.T, s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			t.Fatalf("unterminated escape in %q", s)
		}
		r, err := strconv.ParseUint(s[i+1:i+1+j], 16, 32)
		if err != nil {
			t.Fatalf("escape in %q: %v", s, err)
		}
		b.WriteRune(rune(r))
		s = s[i+j+2:]
	}
}

func mustInt(t *testing.T, s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustCoord(t *testing.T, s string) int32 {
	v, err := osmdata.ParseFixedCoord(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCreateRefusesUnknownFormat(t *testing.T) {
	if _, err := Create(filepath.Join(t.TempDir(), "out.pbf"), testHeader); err == nil || !strings.Contains(err.Error(), "out.pbf") {
		t.Errorf("Create of a .pbf: %v", err)
	}
}
