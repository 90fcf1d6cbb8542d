package osmdata_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/paulmach/osm"
)

// mapReply is a map call's worth of elements: 50,000 nodes (the API's
// limit), with ways and a relation over them.
func mapReply() []*osmdata.Element {
	ts := at("2020-01-02T03:04:05Z")
	var out []*osmdata.Element
	for i := int64(1); i <= 50000; i++ {
		e := &osmdata.Element{Type: osmdata.Node, ID: i, Version: 3, Visible: true, Changeset: 1000 + i, Timestamp: ts,
			UID: 42, User: "mapper", Lat: int32(378000000 + i*7), Lon: int32(-1222000000 - i*11)}
		if i%10 == 0 {
			e.Tags = osmdata.Tags{{Key: "highway", Value: "crossing"}, {Key: "crossing", Value: "zebra"}}
		}
		out = append(out, e)
	}
	for i := int64(1); i <= 5000; i++ {
		nodes := make([]int64, 10)
		for j := range nodes {
			nodes[j] = (i-1)*10 + int64(j) + 1
		}
		out = append(out, &osmdata.Element{Type: osmdata.Way, ID: i, Version: 2, Visible: true, Changeset: 7, Timestamp: ts,
			UID: 42, User: "mapper", Nodes: nodes, Tags: osmdata.Tags{{Key: "highway", Value: "residential"}, {Key: "name", Value: "Rue de l'Église"}}})
	}
	out = append(out, &osmdata.Element{Type: osmdata.Relation, ID: 1, Version: 1, Visible: true, Changeset: 7, Timestamp: ts,
		Members: []osmdata.Member{{Type: osmdata.Way, Ref: 1, Role: "outer"}}, Tags: osmdata.Tags{{Key: "type", Value: "multipolygon"}}})
	return out
}

// countingDiscard counts bytes so the benchmark can check it wrote a
// whole document.
type countingDiscard struct{ n int64 }

func (c *countingDiscard) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func benchmarkWriter(b *testing.B, newWriter func(io.Writer) osmdata.DocumentWriter) {
	elems := mapReply()
	var size int64
	b.ReportAllocs()
	for b.Loop() {
		var c countingDiscard
		w := newWriter(&c)
		for _, e := range elems {
			if err := w.WriteElement(e); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		size = c.n
	}
	if size < int64(len(elems))*50 {
		b.Fatalf("wrote %d bytes for %d elements", size, len(elems))
	}
	b.SetBytes(size)
}

func BenchmarkXMLWriter(b *testing.B) {
	benchmarkWriter(b, func(w io.Writer) osmdata.DocumentWriter { return osmdata.NewXMLWriter(w, cgimapHeader) })
}

func BenchmarkJSONWriter(b *testing.B) {
	benchmarkWriter(b, func(w io.Writer) osmdata.DocumentWriter { return osmdata.NewJSONWriter(w, cgimapHeader) })
}

// toOSM builds paulmach/osm's document for the baselines.
func toOSM(elems []*osmdata.Element) *osm.OSM {
	o := &osm.OSM{Version: "0.6", Generator: cgimapHeader.Generator}
	for _, e := range elems {
		var tags osm.Tags
		for _, t := range e.Tags {
			tags = append(tags, osm.Tag{Key: t.Key, Value: t.Value})
		}
		switch e.Type {
		case osmdata.Node:
			o.Nodes = append(o.Nodes, &osm.Node{ID: osm.NodeID(e.ID), Version: e.Version, Visible: e.Visible, ChangesetID: osm.ChangesetID(e.Changeset),
				Timestamp: e.Timestamp, UserID: osm.UserID(e.UID), User: e.User, Lat: osmdata.FixedToDegrees(e.Lat), Lon: osmdata.FixedToDegrees(e.Lon), Tags: tags})
		case osmdata.Way:
			w := &osm.Way{ID: osm.WayID(e.ID), Version: e.Version, Visible: e.Visible, ChangesetID: osm.ChangesetID(e.Changeset),
				Timestamp: e.Timestamp, UserID: osm.UserID(e.UID), User: e.User, Tags: tags}
			for _, n := range e.Nodes {
				w.Nodes = append(w.Nodes, osm.WayNode{ID: osm.NodeID(n)})
			}
			o.Ways = append(o.Ways, w)
		case osmdata.Relation:
			r := &osm.Relation{ID: osm.RelationID(e.ID), Version: e.Version, Visible: e.Visible, ChangesetID: osm.ChangesetID(e.Changeset),
				Timestamp: e.Timestamp, UserID: osm.UserID(e.UID), User: e.User, Tags: tags}
			for _, m := range e.Members {
				r.Members = append(r.Members, osm.Member{Type: osm.Type(m.Type.String()), Ref: m.Ref, Role: m.Role})
			}
			o.Relations = append(o.Relations, r)
		}
	}
	return o
}

// The baselines: the same document through paulmach/osm's reflection-based
// encoders, in the same run.
func BenchmarkXMLWriterBaselinePaulmach(b *testing.B) {
	o := toOSM(mapReply())
	var size int
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		if err := xml.NewEncoder(&buf).Encode(o); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	if size == 0 {
		b.Fatal("nothing written")
	}
	b.SetBytes(int64(size))
}

func BenchmarkJSONWriterBaselinePaulmach(b *testing.B) {
	o := toOSM(mapReply())
	var size int
	b.ReportAllocs()
	for b.Loop() {
		data, err := json.Marshal(o)
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	if size == 0 {
		b.Fatal("nothing written")
	}
	b.SetBytes(int64(size))
}
