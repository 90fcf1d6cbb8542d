package osmfile

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/google/go-cmp/cmp"
)

type counts struct{ nodes, ways, relations int }

// readAll reads a file to its end and counts its elements.
func readAll(t testing.TB, path string) (counts, *osmdata.Element, error) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		return counts{}, nil, err
	}
	defer r.Close()
	var c counts
	var first *osmdata.Element
	for {
		e, err := r.Next()
		if err == io.EOF {
			read, total := r.Progress()
			if read != total {
				t.Errorf("%s: progress at the end is %d of %d bytes", path, read, total)
			}
			return c, first, nil
		}
		if err != nil {
			return c, first, err
		}
		if first == nil {
			first = e
		}
		switch e.Type {
		case osmdata.Node:
			c.nodes++
		case osmdata.Way:
			c.ways++
		case osmdata.Relation:
			c.relations++
		}
	}
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The counts are those of `osmium fileinfo -e`; the first elements are
// those `osmium cat -f opl` prints.
func TestReadRealFiles(t *testing.T) {
	tests := []struct {
		file  string
		want  counts
		first osmdata.Element
	}{
		{"testdata/delaware-latest.osm.pbf", counts{723870, 73144, 1644}, osmdata.Element{
			Type: osmdata.Node, ID: 75385503, Version: 4, Visible: true, Changeset: 14254291,
			Timestamp: ts("2012-12-12T21:57:28Z"), UID: 635896, User: "bigwebguy", Lat: 398023061, Lon: -754149476,
		}},
		{"testdata/andorra-latest.osm.bz2", counts{203265, 9080, 233}, osmdata.Element{
			Type: osmdata.Node, ID: 625025, Version: 2, Visible: true, Changeset: 21730124,
			Timestamp: ts("2014-04-16T13:38:15Z"), UID: 90780, User: "Verdy_p", Lat: 425141716, Lon: 15527261,
		}},
		{"osmgeojson/testdata/benchmark.osm", counts{2867, 462, 8}, osmdata.Element{
			Type: osmdata.Node, ID: 53018339, Version: 9, Visible: true, Changeset: 17015068,
			Timestamp: ts("2013-07-19T18:14:42Z"), UID: 3158, User: "Eric Fischer", Lat: 378263696, Lon: -1222524513,
			Tags: osmdata.Tags{{Key: "highway", Value: "traffic_signals"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if testing.Short() && strings.HasSuffix(tt.file, ".pbf") {
				t.Skip("-short: skipping the 724,000-node extract")
			}
			got, first, err := readAll(t, realFile(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("counts = %+v, want %+v", got, tt.want)
			}
			if diff := cmp.Diff(&tt.first, first); diff != "" {
				t.Errorf("first element (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadKeepsTagOrderAndExactCoordinates(t *testing.T) {
	p := writeFile(t, "a.osm", []byte(`<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <node id="1" version="1" changeset="1" timestamp="2020-01-02T03:04:05.678+01:00" user="A &amp; B" uid="7" lat="0.1234567" lon="-179.9999999">
  <tag k="z" v="1"/>
  <tag k="a" v="x&#9;y&#10;z"/>
 </node>
 <way id="2" version="3" changeset="1" timestamp="2020-01-02T03:04:05Z" user="" uid="0">
  <nd ref="1"/><nd ref="1"/>
 </way>
 <relation id="3" version="1" changeset="1" timestamp="2020-01-02T03:04:05Z">
  <member type="way" ref="2" role="outer"/><member type="node" ref="1" role=""/>
  <tag k="type" v="multipolygon"/>
 </relation>
</osm>`))
	r, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []*osmdata.Element
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	want := []*osmdata.Element{
		{Type: osmdata.Node, ID: 1, Version: 1, Visible: true, Changeset: 1, Timestamp: ts("2020-01-02T02:04:05Z"),
			UID: 7, User: "A & B", Lat: 1234567, Lon: -1799999999,
			Tags: osmdata.Tags{{Key: "z", Value: "1"}, {Key: "a", Value: "x\ty\nz"}}},
		{Type: osmdata.Way, ID: 2, Version: 3, Visible: true, Changeset: 1, Timestamp: ts("2020-01-02T03:04:05Z"), Nodes: []int64{1, 1}},
		{Type: osmdata.Relation, ID: 3, Version: 1, Visible: true, Changeset: 1, Timestamp: ts("2020-01-02T03:04:05Z"),
			Members: []osmdata.Member{{Type: osmdata.Way, Ref: 2, Role: "outer"}, {Type: osmdata.Node, Ref: 1}},
			Tags:    osmdata.Tags{{Key: "type", Value: "multipolygon"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("elements (-want +got):\n%s", diff)
	}
	if loc := got[0].Timestamp.Location(); loc != time.UTC {
		t.Errorf("timestamp location %v, want UTC", loc)
	}
}

// readErr reads path to its end and returns the error that stopped it.
func readErr(t *testing.T, path string) error {
	t.Helper()
	_, _, err := readAll(t, path)
	if err == nil {
		t.Fatalf("%s read without error", path)
	}
	t.Logf("error: %v", err)
	return err
}

func assertError(t *testing.T, err error, kind error, fragments ...string) {
	t.Helper()
	if kind != nil && !errors.Is(err, kind) {
		t.Errorf("error %q is not %v", err, kind)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not say %q", err, f)
		}
	}
}

func TestRefusesOsmChange(t *testing.T) {
	p := realFile(t, "testdata/changeset_38162206.osc")
	_, err := Open(p)
	if err == nil {
		t.Fatal("an osmChange opened as a snapshot")
	}
	assertError(t, err, ErrNotSnapshot, p, "osmChange", "line 2")
}

func TestRefusesOtherRoot(t *testing.T) {
	p := writeFile(t, "notes.osm", []byte(`<?xml version="1.0"?>`+"\n"+`<gpx><node id="1" lat="0" lon="0"/></gpx>`))
	_, err := Open(p)
	if err == nil {
		t.Fatal("a <gpx> document opened as a snapshot")
	}
	assertError(t, err, ErrNotSnapshot, p, "<gpx>")
}

func TestRefusesHistoryXML(t *testing.T) {
	twice := writeFile(t, "twice.osm", []byte(`<osm version="0.6">
<node id="1" version="1" lat="1" lon="1"/>
<node id="1" version="2" lat="1" lon="2"/>
</osm>`))
	assertError(t, readErr(t, twice), ErrHistoryFile, twice, "line 3", "node 1 appears twice", "node 1 v1")

	deleted := writeFile(t, "deleted.osm", []byte(`<osm version="0.6">
<node id="1" version="1" lat="1" lon="1"/>
<node id="2" version="2" visible="false"/>
</osm>`))
	assertError(t, readErr(t, deleted), ErrHistoryFile, deleted, "line 3", `node 2 v2 has visible="false"`)
}

func TestRefusesHistoryPBF(t *testing.T) {
	osmium := needOsmium(t)
	osh := writeFile(t, "h.osh", []byte(`<osm version="0.6">
<node id="1" version="1" visible="true" changeset="1" timestamp="2020-01-01T00:00:00Z" lat="1" lon="1"/>
<node id="1" version="2" visible="false" changeset="2" timestamp="2020-01-02T00:00:00Z"/>
</osm>`))
	pbf := strings.TrimSuffix(osh, ".osh") + ".osh.pbf"
	if out, err := execOut(osmium, "cat", osh, "-o", pbf, "-f", "osh.pbf"); err != nil {
		t.Fatalf("osmium cat: %v\n%s", err, out)
	}
	_, err := Open(pbf)
	if err == nil {
		t.Fatal("a history PBF opened as a snapshot")
	}
	assertError(t, err, ErrHistoryFile, pbf, "HistoricalInformation")
}

func TestRefusesUnsorted(t *testing.T) {
	p := writeFile(t, "unsorted.osm", []byte(`<osm version="0.6">
<node id="1" version="1" lat="1" lon="1"/>
<way id="5" version="1"><nd ref="1"/></way>
<node id="2" version="1" lat="1" lon="1"/>
</osm>`))
	assertError(t, readErr(t, p), ErrUnsorted, p, "line 4", "node 2 comes after way 5", "osmium sort", "way 5 v1")

	desc := writeFile(t, "desc.osm", []byte(`<osm version="0.6">
<node id="2" version="1" lat="1" lon="1"/>
<node id="1" version="1" lat="1" lon="1"/>
</osm>`))
	assertError(t, readErr(t, desc), ErrUnsorted, desc, "line 3", "node 1 comes after node 2")
}

func TestRefusesBrokenXML(t *testing.T) {
	p := writeFile(t, "broken.osm", []byte(`<osm version="0.6">
<node id="1" version="1" lat="1" lon="1"/>
<node id="2" version="1" lat="1" lon="1">
  <tag k="a" v="b"></nd>
</node>
</osm>`))
	assertError(t, readErr(t, p), nil, p, "line 4", "node 1 v1")

	badCoord := writeFile(t, "coord.osm", []byte(`<osm version="0.6">
<node id="1" version="1" lat="91" lon="1"/>
</osm>`))
	assertError(t, readErr(t, badCoord), nil, badCoord, "line 2", "lat=")

	unclosed := writeFile(t, "unclosed.osm", []byte(`<osm version="0.6">
<node id="1" version="1" lat="1" lon="1"/>
<node id="2" version="1" lat="1" lon="1">`))
	assertError(t, readErr(t, unclosed), ErrTruncated, unclosed)

	noEnd := writeFile(t, "noend.osm", []byte(`<osm version="0.6">
<node id="1" version="1" lat="1" lon="1"/>
`))
	assertError(t, readErr(t, noEnd), ErrTruncated, noEnd, "line 3", "ends before")
}

func TestRefusesTruncatedBzip2(t *testing.T) {
	src, err := os.ReadFile(realFile(t, "testdata/andorra-latest.osm.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	p := writeFile(t, "cut.osm.bz2", src[:len(src)/2])
	assertError(t, readErr(t, p), ErrTruncated, p, "line ", "last element read: node ")
}

func TestRefusesTruncatedGzip(t *testing.T) {
	full := gzipFile(t, realFile(t, "osmgeojson/testdata/benchmark.osm"))
	if c, _, err := readAll(t, full); err != nil || c != (counts{2867, 462, 8}) {
		t.Fatalf("the whole gzip file reads %+v, %v", c, err)
	}
	data, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	// Cut in the middle, and also just before the gzip trailer, where the
	// XML is complete but the checksum is missing.
	for _, n := range []int{len(data) / 2, len(data) - 4} {
		p := writeFile(t, "cut.osm.gz", data[:n])
		assertError(t, readErr(t, p), ErrTruncated, p)
	}
}

func TestRefusesTruncatedPBF(t *testing.T) {
	src, err := os.ReadFile(realFile(t, "testdata/delaware-latest.osm.pbf"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := pbfBlocks(t, src)
	b := blocks[len(blocks)/2]
	cut := b.offset + b.length/2
	p := writeFile(t, "cut.osm.pbf", src[:cut])
	err = readErr(t, p)
	assertError(t, err, ErrTruncated, p, "ends inside this block, "+itoa(int(cut-b.offset))+" of its "+itoa(int(b.length))+" bytes in", "last element read: ")
	assertError(t, err, nil, "block "+itoa(b.index)+" at byte offset "+itoa(int(b.offset)))
}

// The documented limit: a PBF cut at a block boundary is a valid file.
func TestPBFCutAtBlockBoundaryReadsShorter(t *testing.T) {
	src, err := os.ReadFile(realFile(t, "testdata/delaware-latest.osm.pbf"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := pbfBlocks(t, src)
	p := writeFile(t, "short.osm.pbf", src[:blocks[3].offset])
	c, _, err := readAll(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if c.nodes == 0 || c.nodes >= 723870 || c.ways != 0 {
		t.Errorf("three blocks read as %+v", c)
	}
}

func TestRefusesCorruptPBF(t *testing.T) {
	src, err := os.ReadFile(realFile(t, "testdata/delaware-latest.osm.pbf"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := pbfBlocks(t, src)
	b := blocks[5]
	bad := append([]byte(nil), src...)
	for i := b.offset + b.length/2; i < b.offset+b.length/2+64; i++ {
		bad[i] ^= 0x5a
	}
	p := writeFile(t, "corrupt.osm.pbf", bad)
	assertError(t, readErr(t, p), nil, p, "block 5 at byte offset "+itoa(int(b.offset)), "last element read: node ")

	// A corrupt length prefix breaks the framing itself.
	bad = append([]byte(nil), src...)
	bad[blocks[7].offset] = 0x7f
	p = writeFile(t, "framing.osm.pbf", bad)
	assertError(t, readErr(t, p), nil, p, "block 7 at byte offset "+itoa(int(blocks[7].offset)))
}

func TestMergeFiles(t *testing.T) {
	a := writeFile(t, "a.osm", []byte(`<osm version="0.6">
<node id="1" version="1" lat="1" lon="1"/>
<node id="3" version="2" lat="3" lon="3"/>
<way id="1" version="1"><nd ref="1"/><nd ref="3"/></way>
</osm>`))
	b := writeFile(t, "b.osm", []byte(`<osm version="0.6">
<node id="2" version="1" lat="2" lon="2"/>
<node id="3" version="5" lat="3.5" lon="3.5"/>
<node id="4" version="1" lat="4" lon="4"/>
<relation id="9" version="1"><member type="node" ref="2" role=""/></relation>
</osm>`))
	c := writeFile(t, "c.osm", []byte(`<osm version="0.6">
<node id="3" version="4" lat="3" lon="3"/>
<way id="1" version="1"><nd ref="1"/><nd ref="3"/></way>
</osm>`))
	m, err := OpenAll([]string{a, b, c})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var got []string
	for {
		e, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Key().String()+" v"+itoa(e.Version))
	}
	want := []string{"node 1 v1", "node 2 v1", "node 3 v5", "node 4 v1", "way 1 v1", "relation 9 v1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged stream (-want +got):\n%s", diff)
	}
	read, total := m.Progress()
	if read != total || total == 0 {
		t.Errorf("progress at the end %d of %d", read, total)
	}
}

func TestMergeRealFiles(t *testing.T) {
	bench := realFile(t, "osmgeojson/testdata/benchmark.osm")
	andorra := realFile(t, "testdata/andorra-latest.osm.bz2")
	m, err := OpenAll([]string{andorra, bench, bench})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var c counts
	var prev osmdata.Key
	for {
		e, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if c != (counts{}) && !prev.Less(e.Key()) {
			t.Fatalf("%s after %s", e.Key(), prev)
		}
		prev = e.Key()
		switch e.Type {
		case osmdata.Node:
			c.nodes++
		case osmdata.Way:
			c.ways++
		case osmdata.Relation:
			c.relations++
		}
	}
	// The two extracts do not overlap; the duplicate benchmark counts once.
	if want := (counts{203265 + 2867, 9080 + 462, 233 + 8}); c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
}

func TestMergeReportsFileOfError(t *testing.T) {
	good := realFile(t, "osmgeojson/testdata/benchmark.osm")
	bad := writeFile(t, "bad.osm", []byte(`<osm version="0.6">
<node id="2" version="1" lat="1" lon="1"/>
<node id="1" version="1" lat="1" lon="1"/>
</osm>`))
	m, err := OpenAll([]string{good, bad})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for {
		_, err = m.Next()
		if err != nil {
			break
		}
	}
	assertError(t, err, ErrUnsorted, bad, "line 3")
}

func TestFormatFromContentWhenTheNameDoesNotTell(t *testing.T) {
	pbf, err := os.ReadFile(realFile(t, "testdata/delaware-latest.osm.pbf"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := pbfBlocks(t, pbf)
	p := writeFile(t, "download", pbf[:blocks[2].offset])
	if c, _, err := readAll(t, p); err != nil || c.nodes == 0 {
		t.Errorf("a PBF without extension read as %+v, %v", c, err)
	}
	gz := gzipFile(t, realFile(t, "osmgeojson/testdata/benchmark.osm"))
	data, err := os.ReadFile(gz)
	if err != nil {
		t.Fatal(err)
	}
	p = writeFile(t, "map", data)
	if c, _, err := readAll(t, p); err != nil || c != (counts{2867, 462, 8}) {
		t.Errorf("gzip XML without extension read as %+v, %v", c, err)
	}
}

func TestRefusesContentThatContradictsTheName(t *testing.T) {
	xml, err := os.ReadFile(realFile(t, "osmgeojson/testdata/benchmark.osm"))
	if err != nil {
		t.Fatal(err)
	}
	p := writeFile(t, "map.osm.pbf", xml)
	_, err = Open(p)
	if err == nil {
		t.Fatal("XML named .osm.pbf opened")
	}
	assertError(t, err, nil, p, "name says OSM PBF but its content is OSM XML")
}

// Closing mid-file must not hang on the decompressing goroutine or the
// PBF decoder's.
func TestCloseMidFile(t *testing.T) {
	for _, rel := range []string{"testdata/andorra-latest.osm.bz2", "testdata/delaware-latest.osm.pbf"} {
		r, err := Open(realFile(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s: close: %v", rel, err)
		}
	}
}

func TestRefusesEditorFiles(t *testing.T) {
	deleted := writeFile(t, "josm.osm", []byte(`<osm version="0.6" generator="JOSM">
<node id="1" version="1" lat="1" lon="1"/>
<node id="2" action="delete" version="3" lat="1" lon="1"/>
</osm>`))
	assertError(t, readErr(t, deleted), ErrNotSnapshot, deleted, "line 3", `node 2 is marked action="delete"`)

	placeholder := writeFile(t, "new.osm", []byte(`<osm version="0.6" generator="JOSM">
<node id="-1" lat="1" lon="1"/>
</osm>`))
	assertError(t, readErr(t, placeholder), nil, placeholder, "line 2", "node -1 has a placeholder id")
}

func TestRefusesEmptyFiles(t *testing.T) {
	for _, name := range []string{"empty.osm.pbf", "empty.osm", "empty.osm.gz", "empty.osm.bz2"} {
		p := writeFile(t, name, nil)
		_, err := Open(p)
		if err == nil {
			t.Errorf("%s opened", name)
			continue
		}
		t.Logf("%s: %v", name, err)
		assertError(t, err, nil, p)
	}
}
