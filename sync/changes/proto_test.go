package changes

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
)

// A merge survives the wire: encoded, decoded and read back it is the
// merge, except the position of a deleted node, which no OSM format
// carries.
func TestProtoRoundTrip(t *testing.T) {
	for _, m := range sampleMerges() {
		b, err := proto.Marshal(ToProto(m))
		if err != nil {
			t.Fatal(err)
		}
		var p geocommunsv1.MergedChange
		if err := proto.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		if p.GetPart() != 1 || p.GetParts() != 1 {
			t.Errorf("merge %d: part %d of %d, want 1 of 1", m.Seq, p.GetPart(), p.GetParts())
		}
		got, err := FromProto(&p)
		if err != nil {
			t.Fatal(err)
		}
		want := m
		want.Elements = append([]ElementChange(nil), m.Elements...)
		for i := range want.Elements {
			if !want.Elements[i].New.Visible {
				want.Elements[i].New.Lat, want.Elements[i].New.Lon = 0, 0
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("merge %d:\n got %+v\nwant %+v", m.Seq, got, want)
		}
	}
}

func TestFromProtoRefusesBrokenMessages(t *testing.T) {
	for name, p := range map[string]*geocommunsv1.MergedChange{
		"no new version": {MergeSeq: 4, Elements: []*geocommunsv1.ElementChange{{}}},
		"unknown type":   {MergeSeq: 4, Elements: []*geocommunsv1.ElementChange{{New: &geocommunsv1.Element{Id: 1}}}},
	} {
		if _, err := FromProto(p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// bigMerge is a merge of n elements, as large a change as one changeset
// makes: ways of 50 nodes and tagged nodes.
func bigMerge(n int) Merge {
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	m := Merge{Seq: 77, Changeset: 1234, MergedAt: at, Elements: make([]ElementChange, n)}
	for i := range m.Elements {
		e := osmdata.Element{ID: int64(i + 1), Version: 1, Visible: true, Changeset: 1234, Timestamp: at, UID: 3, User: "importer",
			Tags: osmdata.Tags{{Key: "source", Value: fmt.Sprintf("survey %d", i)}}}
		if i%4 == 3 {
			e.Type = osmdata.Way
			for j := range 50 {
				e.Nodes = append(e.Nodes, int64(i-j))
			}
		} else {
			e.Type, e.Lat, e.Lon = osmdata.Node, int32(i*1000), int32(-i*1000)
		}
		m.Elements[i] = ElementChange{New: e}
		if i%2 == 1 {
			old := e
			m.Elements[i].Old = &old
			m.Elements[i].New.Version = 2
		}
	}
	return m
}

// A 10,000-element merge is larger than NATS's default max_payload
// (1 MB): split, every part fits, and the parts hold every element once,
// in order, numbered 1..n; Join gives the whole back.
func TestSplitKeepsEveryElementOnceInOrder(t *testing.T) {
	const limit = 1 << 20
	whole := ToProto(bigMerge(10_000))
	if proto.Size(whole) <= limit {
		t.Fatalf("the test merge is %d bytes, not over the %d limit", proto.Size(whole), limit)
	}
	parts := Split(whole, limit)
	if len(parts) < 2 {
		t.Fatalf("%d parts", len(parts))
	}
	var ids []int64
	for i, p := range parts {
		b, err := proto.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > limit {
			t.Errorf("part %d is %d bytes, over %d", i+1, len(b), limit)
		}
		if p.GetPart() != int32(i+1) || p.GetParts() != int32(len(parts)) || p.GetMergeSeq() != 77 || p.GetChangeset() != 1234 || !p.GetMergedAt().AsTime().Equal(whole.GetMergedAt().AsTime()) {
			t.Errorf("part %d says part %d of %d, merge %d, changeset %d", i+1, p.GetPart(), p.GetParts(), p.GetMergeSeq(), p.GetChangeset())
		}
		for _, ec := range p.GetElements() {
			ids = append(ids, ec.GetNew().GetId())
		}
	}
	if len(ids) != 10_000 {
		t.Fatalf("parts hold %d elements, want 10000", len(ids))
	}
	for i, id := range ids {
		if id != int64(i+1) {
			t.Fatalf("element %d of the parts is %d, want %d", i, id, i+1)
		}
	}
	t.Logf("%d bytes in %d parts", proto.Size(whole), len(parts))

	// Parts may arrive in any order.
	shuffled := append([]*geocommunsv1.MergedChange{parts[len(parts)-1]}, parts[:len(parts)-1]...)
	joined, err := Join(shuffled)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(joined, whole) {
		t.Error("joined parts differ from the whole")
	}
	if _, err := Join(parts[1:]); err == nil {
		t.Error("Join without part 1: no error")
	}
}

func TestSplitLeavesSmallMergesWhole(t *testing.T) {
	whole := ToProto(sampleMerges()[0])
	parts := Split(whole, 1<<20)
	if len(parts) != 1 || !proto.Equal(parts[0], whole) {
		t.Fatalf("got %d parts, want the whole merge", len(parts))
	}
	// One element over the limit still goes out, alone, not dropped.
	parts = Split(whole, 10)
	if len(parts) != len(whole.GetElements()) {
		t.Fatalf("limit 10: %d parts for %d elements", len(parts), len(whole.GetElements()))
	}
	// A merge without elements is one empty part.
	if parts := Split(&geocommunsv1.MergedChange{MergeSeq: 5}, 100); len(parts) != 1 || parts[0].GetParts() != 1 {
		t.Fatalf("empty merge: %v", parts)
	}
}
