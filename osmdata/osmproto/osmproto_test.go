package osmproto

import (
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
)

// Every element type survives the wire unchanged, fixed-point
// coordinates and tag and member order included; a deleted node loses
// its position, which no OSM format carries.
func TestElementRoundTrip(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, e := range []osmdata.Element{
		{Type: osmdata.Node, ID: 1, Version: 3, Visible: true, Changeset: 9, Timestamp: at, UID: 4, User: "a", Lat: -899999999, Lon: 1800000000,
			Tags: osmdata.Tags{{Key: "z", Value: "1"}, {Key: "a", Value: "2"}}},
		{Type: osmdata.Node, ID: 2, Version: 1, Visible: true, Lat: 0, Lon: 0},
		{Type: osmdata.Way, ID: 5, Version: 2, Visible: true, Changeset: 9, Timestamp: at, Nodes: []int64{3, 1, 3}},
		{Type: osmdata.Relation, ID: 6, Version: 1, Visible: true, Members: []osmdata.Member{
			{Type: osmdata.Way, Ref: 5, Role: "outer"}, {Type: osmdata.Node, Ref: 1}, {Type: osmdata.Relation, Ref: 6, Role: "self"}}},
		{Type: osmdata.Way, ID: 7, Version: 4, Visible: false, Changeset: 10, Timestamp: at},
	} {
		b, err := proto.Marshal(ElementToProto(&e))
		if err != nil {
			t.Fatal(err)
		}
		var p geocommunsv1.Element
		if err := proto.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		got, err := ElementFromProto(&p)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("\n got %+v\nwant %+v", got, e)
		}
	}

	deleted := osmdata.Element{Type: osmdata.Node, ID: 8, Version: 2, Lat: 5, Lon: 6}
	p := ElementToProto(&deleted)
	if p.LatE7 != nil || p.LonE7 != nil {
		t.Errorf("deleted node written with a position: %v", p)
	}
}

func TestElementFromProtoRefusesUnknownTypes(t *testing.T) {
	for name, p := range map[string]*geocommunsv1.Element{
		"element": {Id: 1},
		"member": {Type: geocommunsv1.ElementType_ELEMENT_TYPE_RELATION, Id: 1,
			Members: []*geocommunsv1.Member{{Type: geocommunsv1.ElementType(9), Ref: 2}}},
	} {
		if _, err := ElementFromProto(p); err == nil {
			t.Errorf("unknown %s type: no error", name)
		}
	}
}

func TestBoxAndTime(t *testing.T) {
	b := osmdata.Box{MinLat: -1, MinLon: -2, MaxLat: 3, MaxLon: 4}
	if got := BoxFromProto(BoxToProto(b)); got != b {
		t.Errorf("box %v came back as %v", b, got)
	}
	if TimeToProto(time.Time{}) != nil || !TimeFromProto(nil).IsZero() {
		t.Error("the zero time is not unset")
	}
}
