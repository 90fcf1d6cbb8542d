package changes

import (
	"bytes"
	"encoding/xml"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/osm"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmchange"
)

func writeSample(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteOsmChange(&buf, osmdata.DocumentHeader{Generator: "geocommuns test"}, sampleMerges()...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The osmChange holds every new version, in merge order, with the action
// a replication consumer applies: read back by our own diff reader it is
// the input, element for element.
func TestWriteOsmChangeReadsBackAsWritten(t *testing.T) {
	doc := writeSample(t)
	ops, err := osmchange.ReadAll(osmchange.NewDiffReader(bytes.NewReader(doc), osmchange.Limits{}))
	if err != nil {
		t.Fatalf("read back: %v\n%s", err, doc)
	}
	var want []*osmchange.Operation
	for _, m := range sampleMerges() {
		for _, c := range m.Elements {
			e := c.New
			if !e.Visible {
				e.Lat, e.Lon = 0, 0
			}
			want = append(want, &osmchange.Operation{Action: c.Action(), Element: e})
		}
	}
	if len(ops) != len(want) {
		t.Fatalf("read %d operations, wrote %d\n%s", len(ops), len(want), doc)
	}
	for i := range ops {
		ops[i].Line = 0
		if !reflect.DeepEqual(ops[i], want[i]) {
			t.Errorf("operation %d:\n got %+v\nwant %+v", i, ops[i], want[i])
		}
	}
}

// paulmach/osm (what many Go consumers decode replication diffs with)
// reads the same document: the same versions under the same actions,
// with whole-second timestamps and deleted nodes without a position.
func TestWriteOsmChangeReadByPaulmachOsm(t *testing.T) {
	doc := writeSample(t)
	if bytes.Contains(doc, []byte(".000")) || bytes.Contains(doc, []byte(`lat="0"`)) {
		t.Errorf("fractional seconds or a 0,0 position in:\n%s", doc)
	}
	var change osm.Change
	if err := xml.Unmarshal(doc, &change); err != nil {
		t.Fatalf("paulmach/osm: %v\n%s", err, doc)
	}
	got := map[string][]string{}
	collect := func(action string, o *osm.OSM) {
		if o == nil {
			return
		}
		for _, e := range o.Elements() {
			got[action] = append(got[action], e.ElementID().String())
		}
	}
	collect("create", change.Create)
	collect("modify", change.Modify)
	collect("delete", change.Delete)
	want := map[string][]string{}
	for _, m := range sampleMerges() {
		for _, c := range m.Elements {
			id := osm.ElementID(0)
			switch c.New.Type {
			case osmdata.Node:
				id = osm.NodeID(c.New.ID).ElementID(c.New.Version)
			case osmdata.Way:
				id = osm.WayID(c.New.ID).ElementID(c.New.Version)
			case osmdata.Relation:
				id = osm.RelationID(c.New.ID).ElementID(c.New.Version)
			}
			want[c.Action().String()] = append(want[c.Action().String()], id.String())
		}
	}
	// osm.Change groups each block by type, so compare as sets per action.
	for action := range want {
		if !sameSet(got[action], want[action]) {
			t.Errorf("%s: got %v, want %v", action, got[action], want[action])
		}
	}
	n := change.Create.Nodes[0]
	if n.User != "Zoë <&> \"quoted\"" || n.Tags.Find("amenity") != "café & bar" || !n.Timestamp.Equal(sampleMerges()[0].MergedAt) || n.Lon != -1.2345678 {
		t.Errorf("node 1 read as %+v", n)
	}
	if !strings.Contains(string(doc), `generator="geocommuns test"`) {
		t.Errorf("header missing:\n%s", doc)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
