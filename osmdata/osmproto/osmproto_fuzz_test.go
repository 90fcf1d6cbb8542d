package osmproto_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmproto"
)

// FuzzElementFromProto reads any bytes as an Element message, as a
// mirror reads the change feed, and converts it: no panic; an unknown
// element or member type is refused; what is accepted converts back to
// a message that converts to the same element again (the conversion is
// stable after one pass), with the type's own content kept as sent:
// tags byte for byte and in order, a way's nodes, a relation's members.
func FuzzElementFromProto(f *testing.F) {
	lat, lon := int32(515000000), int32(-1000000)
	for _, p := range []*geocommunsv1.Element{
		{Type: geocommunsv1.ElementType_ELEMENT_TYPE_NODE, Id: 1, Version: 2, Visible: true, Changeset: 3, Uid: 4, User: "ana",
			LatE7: &lat, LonE7: &lon, Tags: []*geocommunsv1.Tag{{Key: "name", Value: "x\x00\u00e9"}, {Key: "", Value: ""}}},
		{Type: geocommunsv1.ElementType_ELEMENT_TYPE_WAY, Id: 2, Nodes: []int64{1, -1, 0}, LatE7: &lat},
		{Type: geocommunsv1.ElementType_ELEMENT_TYPE_RELATION, Id: 3, Members: []*geocommunsv1.Member{
			{Type: geocommunsv1.ElementType_ELEMENT_TYPE_WAY, Ref: 2, Role: "outer"}, {Type: 7, Ref: 1}}},
		{Type: geocommunsv1.ElementType_ELEMENT_TYPE_NODE, Id: 4, Visible: false, LatE7: &lat, LonE7: &lon},
		{Type: 9},
	} {
		data, err := proto.Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &geocommunsv1.Element{}
		if err := proto.Unmarshal(data, p); err != nil {
			return
		}
		e, err := osmproto.ElementFromProto(p)
		if err != nil {
			if _, ok := osmproto.TypeFromProto(p.GetType()); ok && p.GetType() != geocommunsv1.ElementType_ELEMENT_TYPE_RELATION {
				t.Fatalf("%v refused: %v", p, err)
			}
			return
		}
		back := osmproto.ElementToProto(&e)
		again, err := osmproto.ElementFromProto(back)
		if err != nil {
			t.Fatalf("%v accepted as %+v, which converts to %v, refused: %v", p, e, back, err)
		}
		if d := cmp.Diff(osmproto.ElementToProto(&again), back, cmp.Comparer(proto.Equal)); d != "" {
			t.Fatalf("%v: the conversion is not stable:\n%s", p, d)
		}
		if d := cmp.Diff(osmproto.TagsFromProto(p.GetTags()), again.Tags); d != "" {
			t.Fatalf("%v: tags changed:\n%s", p, d)
		}
		switch e.Type {
		case osmdata.Way:
			if !cmp.Equal(p.GetNodes(), again.Nodes, cmp.Comparer(func(a, b []int64) bool { return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b) })) {
				t.Fatalf("%v: nodes %v", p, again.Nodes)
			}
		case osmdata.Relation:
			if len(p.GetMembers()) != len(again.Members) {
				t.Fatalf("%v: members %v", p, again.Members)
			}
			for i, m := range p.GetMembers() {
				got := again.Members[i]
				if osmproto.TypeToProto(got.Type) != m.GetType() || got.Ref != m.GetRef() || got.Role != m.GetRole() {
					t.Fatalf("%v: member %d is %+v", p, i, got)
				}
			}
		}
	})
}

// FuzzElementRefFromProto: an element reference a client sends (review
// decisions on some elements, partial approvals) is accepted only when it
// names a stored element (known type, positive id), and then converts
// back to the reference sent.
func FuzzElementRefFromProto(f *testing.F) {
	for _, r := range []*geocommunsv1.ElementRef{{Type: geocommunsv1.ElementType_ELEMENT_TYPE_WAY, Id: 5}, {Id: -1}, {Type: 4, Id: 1}} {
		data, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &geocommunsv1.ElementRef{}
		if err := proto.Unmarshal(data, r); err != nil {
			return
		}
		k, err := osmproto.KeyFromProto(r)
		if err != nil {
			return
		}
		sent := proto.Clone(r)
		sent.ProtoReflect().SetUnknown(nil)
		if back := osmproto.KeyToProto(k); k.ID <= 0 || !proto.Equal(back, sent) {
			t.Fatalf("%v accepted as %v, which converts back to %v", r, k, back)
		}
	})
}
