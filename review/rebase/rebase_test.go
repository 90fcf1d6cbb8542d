package rebase

import (
	"reflect"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
)

// content is what a merged version holds, metadata aside.
type content struct {
	Visible  bool
	Lat, Lon int32
	Tags     osmdata.Tags
	Nodes    []int64
	Members  []osmdata.Member
}

func contentOf(e *osmdata.Element) content {
	c := content{Visible: e.Visible, Tags: e.Tags, Nodes: e.Nodes, Members: e.Members}
	if e.Type == osmdata.Node {
		c.Lat, c.Lon = e.Lat, e.Lon
	}
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
	if len(c.Nodes) == 0 {
		c.Nodes = nil
	}
	if len(c.Members) == 0 {
		c.Members = nil
	}
	return c
}

func TestElement(t *testing.T) {
	road := ids(10, 11, 12, 13, 14, 15)
	ring := ids(1, 2, 3, 4, 1)
	figureEight := ids(1, 2, 3, 1, 4, 5, 1)
	tests := []struct {
		name                   string
		base, current, pending osmdata.Element
		// want is the merged content when the merge is clean.
		want      content
		conflicts []Conflict
	}{
		{
			name:    "different tags changed on each side both apply",
			base:    way(road, tags("highway=residential", "name=Rue A")),
			current: way(road, tags("highway=residential", "name=Rue B")),
			pending: way(road, tags("highway=tertiary", "name=Rue A")),
			want:    content{Visible: true, Nodes: road, Tags: tags("highway=tertiary", "name=Rue B")},
		},
		{
			name:      "one tag set to different values conflicts",
			base:      way(road, tags("highway=residential", "name=Rue A")),
			current:   way(road, tags("highway=residential", "name=Rue B")),
			pending:   way(road, tags("highway=residential", "name=Rue C")),
			conflicts: []Conflict{{Kind: FieldTag, Key: "name", Base: "Rue A", Current: "Rue B", Pending: "Rue C"}},
		},
		{
			name:    "one tag set to the same value on both sides is one change",
			base:    way(road, tags("name=Rue A")),
			current: way(road, tags("name=Rue B")),
			pending: way(road, tags("name=Rue B")),
			want:    content{Visible: true, Nodes: road, Tags: tags("name=Rue B")},
		},
		{
			name:    "tag removed by current and unchanged in pending is removed",
			base:    node(1, 2, tags("amenity=bench", "note=fixme")),
			current: node(1, 2, tags("amenity=bench")),
			pending: node(1, 2, tags("note=fixme", "amenity=bench", "backrest=yes")),
			want:    content{Visible: true, Lat: 1, Lon: 2, Tags: tags("amenity=bench", "backrest=yes")},
		},
		{
			name:    "tag removed by pending and unchanged in current is removed",
			base:    node(1, 2, tags("amenity=bench", "note=fixme")),
			current: node(1, 2, tags("amenity=bench", "note=fixme", "colour=green")),
			pending: node(1, 2, tags("amenity=bench")),
			want:    content{Visible: true, Lat: 1, Lon: 2, Tags: tags("amenity=bench", "colour=green")},
		},
		{
			name:      "tag removed by current and changed by pending conflicts",
			base:      node(1, 2, tags("amenity=bench", "note=fixme")),
			current:   node(1, 2, tags("amenity=bench")),
			pending:   node(1, 2, tags("amenity=bench", "note=checked")),
			conflicts: []Conflict{{Kind: FieldTag, Key: "note", Base: "fixme", Pending: "checked", AbsentInCurrent: true}},
		},
		{
			name:      "tag changed by current and removed by pending conflicts",
			base:      node(1, 2, tags("amenity=bench", "note=fixme")),
			current:   node(1, 2, tags("amenity=bench", "note=checked")),
			pending:   node(1, 2, tags("amenity=bench")),
			conflicts: []Conflict{{Kind: FieldTag, Key: "note", Base: "fixme", Current: "checked", AbsentInPending: true}},
		},
		{
			name:      "an empty value is not an absent tag",
			base:      node(1, 2, tags("note=fixme")),
			current:   node(1, 2, tags()),
			pending:   node(1, 2, tags("note=")),
			conflicts: []Conflict{{Kind: FieldTag, Key: "note", Base: "fixme", Pending: "", AbsentInCurrent: true}},
		},
		{
			name:    "the same key added with different values conflicts",
			base:    node(1, 2, tags("amenity=cafe")),
			current: node(1, 2, tags("amenity=cafe", "opening_hours=Mo-Fr 08:00-18:00")),
			pending: node(1, 2, tags("amenity=cafe", "opening_hours=24/7")),
			conflicts: []Conflict{{
				Kind: FieldTag, Key: "opening_hours", Current: "Mo-Fr 08:00-18:00", Pending: "24/7", AbsentInBase: true,
			}},
		},
		{
			name:    "tags keep current's order, then the keys pending added in pending's order",
			base:    node(1, 2, tags("b=1", "a=1")),
			current: node(1, 2, tags("c=1", "a=2", "b=1")),
			pending: node(1, 2, tags("z=1", "a=1", "b=3", "y=1")),
			want:    content{Visible: true, Lat: 1, Lon: 2, Tags: tags("c=1", "a=2", "b=3", "z=1", "y=1")},
		},
		{
			name:    "conflicting tags are listed by key",
			base:    node(1, 2, tags("b=1", "a=1", "c=1")),
			current: node(1, 2, tags("c=2", "b=2", "a=2")),
			pending: node(1, 2, tags("b=3", "a=3", "c=1")),
			conflicts: []Conflict{
				{Kind: FieldTag, Key: "a", Base: "1", Current: "2", Pending: "3"},
				{Kind: FieldTag, Key: "b", Base: "1", Current: "2", Pending: "3"},
			},
		},
		{
			name:    "pending identical to base takes current",
			base:    node(1, 2, tags("amenity=bench")),
			current: node(5, 6, tags("amenity=bench", "backrest=no")),
			pending: node(1, 2, tags("amenity=bench")),
			want:    content{Visible: true, Lat: 5, Lon: 6, Tags: tags("amenity=bench", "backrest=no")},
		},
		{
			name:    "pending identical to current merges without conflict",
			base:    node(1, 2, tags("amenity=bench")),
			current: node(5, 6, tags("amenity=bench", "backrest=no")),
			pending: node(5, 6, tags("amenity=bench", "backrest=no")),
			want:    content{Visible: true, Lat: 5, Lon: 6, Tags: tags("amenity=bench", "backrest=no")},
		},
		{
			name:    "node moved by one side and retagged by the other takes both",
			base:    node(425_000_000, 15_000_000, tags("amenity=bench")),
			current: node(425_000_100, 15_000_200, tags("amenity=bench")),
			pending: node(425_000_000, 15_000_000, tags("amenity=bench", "backrest=yes")),
			want:    content{Visible: true, Lat: 425_000_100, Lon: 15_000_200, Tags: tags("amenity=bench", "backrest=yes")},
		},
		{
			name:    "node moved by both to different places conflicts on its position",
			base:    node(425_000_000, 15_000_000, nil),
			current: node(425_000_100, 15_000_000, nil),
			pending: node(425_000_000, -15_000_050, nil),
			conflicts: []Conflict{{
				Kind: FieldPosition, Base: "42.5,1.5", Current: "42.50001,1.5", Pending: "42.5,-1.500005",
			}},
		},
		{
			name:    "node moved by both to the same place",
			base:    node(1, 1, nil),
			current: node(7, 8, nil),
			pending: node(7, 8, nil),
			want:    content{Visible: true, Lat: 7, Lon: 8},
		},
		{
			name:    "edits at both ends of a way combine",
			base:    way(road, nil),
			current: way(ids(9, 10, 11, 12, 13, 14, 15), nil),
			pending: way(ids(10, 11, 12, 13, 15), nil),
			want:    content{Visible: true, Nodes: ids(9, 10, 11, 12, 13, 15)},
		},
		{
			name:    "the same vertex replaced differently conflicts",
			base:    way(road, nil),
			current: way(ids(10, 11, 20, 13, 14, 15), nil),
			pending: way(ids(10, 11, 21, 13, 14, 15), nil),
			conflicts: []Conflict{{
				Kind: FieldNodes, Base: "10 11 12 13 14 15", Current: "10 11 20 13 14 15", Pending: "10 11 21 13 14 15",
			}},
		},
		{
			name:    "overlapping removals and insertions conflict",
			base:    way(road, nil),
			current: way(ids(10, 11, 15), nil),
			pending: way(ids(10, 11, 12, 30, 13, 14, 15), nil),
			conflicts: []Conflict{{
				Kind: FieldNodes, Base: "10 11 12 13 14 15", Current: "10 11 15", Pending: "10 11 12 30 13 14 15",
			}},
		},
		{
			name:    "edits one kept node apart combine",
			base:    way(road, nil),
			current: way(ids(10, 11, 20, 13, 14, 15), nil),
			pending: way(ids(10, 11, 12, 13, 21, 14, 15), nil),
			want:    content{Visible: true, Nodes: ids(10, 11, 20, 13, 21, 14, 15)},
		},
		{
			name:    "edits of adjacent ranges conflict",
			base:    way(road, nil),
			current: way(ids(10, 11, 20, 13, 14, 15), nil),
			pending: way(ids(10, 11, 12, 21, 14, 15), nil),
			conflicts: []Conflict{{
				Kind: FieldNodes, Base: "10 11 12 13 14 15", Current: "10 11 20 13 14 15", Pending: "10 11 12 21 14 15",
			}},
		},
		{
			name:    "an insertion beside a replaced node conflicts",
			base:    way(road, nil),
			current: way(ids(10, 11, 20, 13, 14, 15), nil),
			pending: way(ids(10, 11, 12, 21, 13, 14, 15), nil),
			conflicts: []Conflict{{
				Kind: FieldNodes, Base: "10 11 12 13 14 15", Current: "10 11 20 13 14 15", Pending: "10 11 12 21 13 14 15",
			}},
		},
		{
			name:    "two different insertions at the same point conflict",
			base:    way(road, nil),
			current: way(ids(10, 11, 12, 20, 13, 14, 15), nil),
			pending: way(ids(10, 11, 12, 21, 13, 14, 15), nil),
			conflicts: []Conflict{{
				Kind: FieldNodes, Base: "10 11 12 13 14 15", Current: "10 11 12 20 13 14 15", Pending: "10 11 12 21 13 14 15",
			}},
		},
		{
			name:    "the same insertion on both sides is one insertion",
			base:    way(road, tags("highway=service")),
			current: way(ids(10, 11, 12, 20, 13, 14, 15), tags("highway=service")),
			pending: way(ids(10, 11, 12, 20, 13, 14, 15), tags("highway=service", "surface=gravel")),
			want:    content{Visible: true, Nodes: ids(10, 11, 12, 20, 13, 14, 15), Tags: tags("highway=service", "surface=gravel")},
		},
		{
			name:    "node list from empty on one side",
			base:    way(nil, nil),
			current: way(nil, tags("highway=path")),
			pending: way(ids(1, 2), nil),
			want:    content{Visible: true, Nodes: ids(1, 2), Tags: tags("highway=path")},
		},
		{
			name:    "node list emptied by both",
			base:    way(ids(1, 2), nil),
			current: way(nil, nil),
			pending: way(nil, nil),
			want:    content{Visible: true},
		},
		{
			name:      "node list emptied by one side while the other appends conflicts",
			base:      way(ids(1, 2), nil),
			current:   way(nil, nil),
			pending:   way(ids(1, 2, 3), nil),
			conflicts: []Conflict{{Kind: FieldNodes, Base: "1 2", Current: "", Pending: "1 2 3"}},
		},
		{
			name:    "a closed way edited away from its closing node stays closed",
			base:    way(ring, nil),
			current: way(ids(1, 2, 5, 3, 4, 1), nil),
			pending: way(ids(1, 2, 3, 1), nil),
			want:    content{Visible: true, Nodes: ids(1, 2, 5, 3, 1)},
		},
		{
			name:    "a closed way rotated by one side and extended inside by the other stays closed",
			base:    way(ids(1, 2, 3, 4, 5, 1), nil),
			current: way(ids(3, 4, 5, 1, 2, 3), nil),
			pending: way(ids(1, 2, 3, 8, 5, 1), nil),
			want:    content{Visible: true, Nodes: ids(3, 8, 5, 1, 2, 3)},
		},
		{
			name:      "an open way closed differently by each side conflicts",
			base:      way(ids(1, 2, 3, 4, 5), nil),
			current:   way(ids(5, 1, 2, 3, 4, 5), nil),
			pending:   way(ids(1, 2, 3, 4, 5, 1), nil),
			conflicts: []Conflict{{Kind: FieldNodes, Base: "1 2 3 4 5", Current: "5 1 2 3 4 5", Pending: "1 2 3 4 5 1"}},
		},
		{
			name:    "a figure-eight way using a node three times takes edits in both loops",
			base:    way(figureEight, nil),
			current: way(ids(1, 2, 6, 3, 1, 4, 5, 1), nil),
			pending: way(ids(1, 2, 3, 1, 4, 7, 5, 1), nil),
			want:    content{Visible: true, Nodes: ids(1, 2, 6, 3, 1, 4, 7, 5, 1)},
		},
		{
			name: "relation members combine, roles included",
			base: relation(members(wayMember(1, "outer"), wayMember(2, "outer"), wayMember(3, "inner"), nodeMember(4, "label")), nil),
			current: relation(members(wayMember(1, "outer"), wayMember(2, "outer"), wayMember(3, "outer"),
				nodeMember(4, "label")), nil),
			pending: relation(members(wayMember(9, "outer"), wayMember(1, "outer"), wayMember(2, "outer"),
				wayMember(3, "inner"), nodeMember(4, "label")), nil),
			want: content{Visible: true, Members: members(wayMember(9, "outer"), wayMember(1, "outer"),
				wayMember(2, "outer"), wayMember(3, "outer"), nodeMember(4, "label"))},
		},
		{
			name:    "a member's role changed differently conflicts",
			base:    relation(members(wayMember(1, "outer"), wayMember(3, "")), nil),
			current: relation(members(wayMember(1, "outer"), wayMember(3, "inner")), nil),
			pending: relation(members(wayMember(1, "outer"), wayMember(3, "outer")), nil),
			conflicts: []Conflict{{
				Kind: FieldMembers, Base: "way/1 outer\nway/3", Current: "way/1 outer\nway/3 inner", Pending: "way/1 outer\nway/3 outer",
			}},
		},
		{
			name:    "both deleting is a delete",
			base:    way(road, tags("highway=track")),
			current: deletedVersion(way(nil, nil)),
			pending: deletedVersion(way(nil, nil)),
			want:    content{},
		},
		{
			name:    "pending deletes what current changed in metadata only",
			base:    node(1, 2, tags("amenity=bench", "backrest=no")),
			current: node(1, 2, tags("backrest=no", "amenity=bench")),
			pending: deletedVersion(node(1, 2, nil)),
			want:    content{Lat: 1, Lon: 2},
		},
		{
			name:    "current deleted what pending left as it was",
			base:    node(1, 2, tags("amenity=bench")),
			current: deletedVersion(node(1, 2, nil)),
			pending: node(1, 2, tags("amenity=bench")),
			want:    content{Lat: 1, Lon: 2},
		},
		{
			name:    "pending deletes what current modified conflicts",
			base:    node(1, 2, tags("amenity=bench")),
			current: node(1, 2, tags("amenity=bench", "backrest=yes")),
			pending: deletedVersion(node(1, 2, nil)),
			conflicts: []Conflict{{
				Kind: FieldDeleted, Base: "0.0000001,0.0000002\namenity=bench",
				Current: "0.0000001,0.0000002\namenity=bench\nbackrest=yes", Pending: "deleted", AbsentInPending: true,
			}},
		},
		{
			name:    "current deleted what pending modified conflicts",
			base:    way(ids(1, 2, 3), tags("highway=track")),
			current: deletedVersion(way(nil, nil)),
			pending: way(ids(1, 2, 4, 3), tags("highway=track")),
			conflicts: []Conflict{{
				Kind: FieldDeleted, Base: "nodes: 1 2 3\nhighway=track",
				Current: "deleted", Pending: "nodes: 1 2 4 3\nhighway=track", AbsentInCurrent: true,
			}},
		},
		{
			name:    "a deleted base undeleted by pending only",
			base:    deletedVersion(node(1, 2, nil)),
			current: deletedVersion(node(1, 2, nil)),
			pending: node(3, 4, tags("amenity=bench")),
			want:    content{Visible: true, Lat: 3, Lon: 4, Tags: tags("amenity=bench")},
		},
		{
			name:    "conflicts are listed position first, then tags",
			base:    node(1, 1, tags("a=1")),
			current: node(2, 2, tags("a=2")),
			pending: node(3, 3, tags("a=3")),
			conflicts: []Conflict{
				{Kind: FieldPosition, Base: "0.0000001,0.0000001", Current: "0.0000002,0.0000002", Pending: "0.0000003,0.0000003"},
				{Kind: FieldTag, Key: "a", Base: "1", Current: "2", Pending: "3"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, current, pending := stamp(tt.base, baseSide), stamp(tt.current, currentSide), stamp(tt.pending, pendingSide)
			got := Element(base, current, pending)
			if !reflect.DeepEqual(got.Conflicts, tt.conflicts) {
				t.Fatalf("conflicts:\n got %+v\nwant %+v", got.Conflicts, tt.conflicts)
			}
			if len(tt.conflicts) > 0 {
				return
			}
			if c := contentOf(&got.Merged); !reflect.DeepEqual(c, tt.want) {
				t.Errorf("merged content:\n got %+v\nwant %+v", c, tt.want)
			}
		})
	}
}
