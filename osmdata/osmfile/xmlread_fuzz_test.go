package osmfile_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
)

// FuzzOSMXML checks the .osm reader on any bytes: no panic; every element
// it hands out is what a snapshot may hold (positive id, visible, in
// OSM order, a node's position in range); and a file read to its end,
// written again by osmdata's XML writer, reads the same.
func FuzzOSMXML(f *testing.F) {
	for _, s := range []string{
		`<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
 <bounds minlat="42.4" minlon="1.4" maxlat="42.7" maxlon="1.8"/>
 <node id="1" visible="true" version="2" changeset="3" timestamp="2020-01-01T00:00:00Z" user="a &amp; b" uid="4" lat="42.5" lon="1.5">
  <tag k="name" v="x&#10;y"/>
 </node>
 <node id="2" version="1" changeset="3" lat="-90" lon="180"/>
 <way id="3" version="1" changeset="3"><nd ref="1"/><nd ref="2"/><tag k="highway" v="path"/></way>
 <relation id="4" version="1" changeset="3"><member type="way" ref="3" role="outer"/><member type="node" ref="9" role=""/></relation>
</osm>`,
		`<osm><node id="1" lat="1" lon="1"/><node id="1" lat="1" lon="1"/></osm>`,
		`<osmChange><create><node id="1" lat="1" lon="1"/></create></osmChange>`,
		`<osm><node id="-1" action="modify" lat="1" lon="1"/><way id="5" action="delete"/></osm>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		elems, err := readOSM(t, filepath.Join(dir, "in.osm"), data)
		var prev *osmdata.Element
		for _, e := range elems {
			if e.ID <= 0 || !e.Visible || (prev != nil && !prev.Key().Less(e.Key())) {
				t.Fatalf("%s v%d visible=%v handed out after %v", e.Key(), e.Version, e.Visible, prev)
			}
			if e.Type == osmdata.Node && (e.Lat < -900000000 || e.Lat > 900000000 || e.Lon < -1800000000 || e.Lon > 1800000000) {
				t.Fatalf("%s at %d, %d", e.Key(), e.Lat, e.Lon)
			}
			prev = e
		}
		if err != nil {
			return
		}
		var buf bytes.Buffer
		w := osmdata.NewXMLWriter(&buf, osmdata.DocumentHeader{Generator: "fuzz"})
		for _, e := range elems {
			if err := w.WriteElement(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		again, err := readOSM(t, filepath.Join(dir, "again.osm"), buf.Bytes())
		if err != nil {
			t.Fatalf("written again, refused: %v", err)
		}
		if diff := cmp.Diff(elems, again); diff != "" {
			t.Fatalf("written again, reads differently (-read +again):\n%s", diff)
		}
	})
}

// readOSM reads every element of data saved as path, stopping at the
// first error (nil at a clean end).
func readOSM(t *testing.T, path string, data []byte) ([]*osmdata.Element, error) {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := osmfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []*osmdata.Element
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, e)
	}
}
