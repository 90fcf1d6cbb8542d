package osmchange

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"
)

// createUpload is an upload as JOSM writes one: 10,000 creates with
// placeholder ids, 9,000 nodes (a third of them tagged) and 1,000 ways of
// ten nodes each.
func createUpload() ([]byte, int) {
	var s strings.Builder
	s.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<osmChange version="0.6" generator="JOSM">` + "\n<create>\n")
	const nodes, ways = 9000, 1000
	for i := 1; i <= nodes; i++ {
		lat, lon := 42.4+float64(i%997)*0.0001234, 1.4+float64(i%991)*0.0001321
		if i%3 == 0 {
			fmt.Fprintf(&s, "  <node id='-%d' changeset='1' lat='%.7f' lon='%.7f'>\n    <tag k='amenity' v='bench'/>\n    <tag k='name' v='Banc %d'/>\n  </node>\n", i, lat, lon, i)
		} else {
			fmt.Fprintf(&s, "  <node id='-%d' changeset='1' lat='%.7f' lon='%.7f' />\n", i, lat, lon)
		}
	}
	for w := 1; w <= ways; w++ {
		fmt.Fprintf(&s, "  <way id='-%d' changeset='1'>\n", nodes+w)
		for k := 0; k < 10; k++ {
			fmt.Fprintf(&s, "    <nd ref='-%d' />\n", (w*10+k)%nodes+1)
		}
		fmt.Fprintf(&s, "    <tag k='highway' v='footway'/>\n    <tag k='surface' v='gravel'/>\n  </way>\n")
	}
	s.WriteString("</create>\n</osmChange>\n")
	return []byte(s.String()), nodes + ways
}

// BenchmarkRead reads a 10,000-create upload and openstreetmap.org's
// .osc files with the osmChange reader, and, as the baseline of the same
// run, the bare encoding/xml token loop over the same bytes (which
// decodes nothing into elements). Each reports elements per second.
func BenchmarkRead(b *testing.B) {
	upload, uploadOps := createUpload()
	var real [][]byte
	realOps := 0
	for _, f := range realFiles(b) {
		ops, err := ReadAll(NewDiffReader(strings.NewReader(f.data), Limits{}))
		if err != nil {
			b.Fatal(err)
		}
		realOps += len(ops)
		real = append(real, []byte(f.data))
	}
	inputs := []struct {
		name string
		docs [][]byte
		ops  int
		diff bool
	}{
		{"10000-creates", [][]byte{upload}, uploadOps, false},
		{"real-osc", real, realOps, true},
	}
	for _, in := range inputs {
		size := 0
		for _, d := range in.docs {
			size += len(d)
		}
		b.Run(in.name+"/osmchange", func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				for _, d := range in.docs {
					r := NewReader(bytes.NewReader(d), Limits{})
					if in.diff {
						r = NewDiffReader(bytes.NewReader(d), Limits{})
					}
					for {
						op, err := r.Next()
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
						if op.Element.ID == 0 || op.Element.Changeset == 0 {
							b.Fatalf("operation %d read as %+v", n, op)
						}
						n++
					}
				}
				if n != in.ops {
					b.Fatalf("read %d operations, want %d", n, in.ops)
				}
			}
			b.ReportMetric(float64(in.ops)*float64(b.N)/b.Elapsed().Seconds(), "elements/s")
		})
		b.Run(in.name+"/encoding-xml-tokens", func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				starts := 0
				for _, d := range in.docs {
					dec := xml.NewDecoder(bytes.NewReader(d))
					for {
						tok, err := dec.Token()
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
						if _, ok := tok.(xml.StartElement); ok {
							starts++
						}
					}
				}
				if starts < in.ops {
					b.Fatalf("%d start tags for %d operations", starts, in.ops)
				}
			}
			b.ReportMetric(float64(in.ops)*float64(b.N)/b.Elapsed().Seconds(), "elements/s")
		})
	}
}
