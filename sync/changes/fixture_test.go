package changes

import (
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
)

// sampleMerges are three merges as a feed sees them: creates, modifies of
// every type, deletes, and a stacked chain (node 1 created, then moved,
// then deleted in later merges), with text that needs escaping.
func sampleMerges() []Merge {
	t1 := time.Date(2026, 11, 29, 10, 0, 1, 0, time.UTC)
	t2 := t1.Add(3 * time.Second)
	t3 := t2.Add(time.Minute)
	node1v1 := osmdata.Element{Type: osmdata.Node, ID: 1, Version: 1, Visible: true, Changeset: 10, Timestamp: t1,
		UID: 7, User: "Zoë <&> \"quoted\"", Lat: 485000000, Lon: -12345678, Tags: osmdata.Tags{{Key: "amenity", Value: "café & bar"}}}
	node2v1 := osmdata.Element{Type: osmdata.Node, ID: 2, Version: 1, Visible: true, Changeset: 10, Timestamp: t1, UID: 7, User: "Zoë <&> \"quoted\"", Lat: -899999999, Lon: 1800000000}
	way5v1 := osmdata.Element{Type: osmdata.Way, ID: 5, Version: 1, Visible: true, Changeset: 10, Timestamp: t1, UID: 7, User: "Zoë <&> \"quoted\"",
		Nodes: []int64{1, 2}, Tags: osmdata.Tags{{Key: "highway", Value: "residential"}, {Key: "name", Value: "Rue d'Ölm"}}}
	rel9v1 := osmdata.Element{Type: osmdata.Relation, ID: 9, Version: 1, Visible: true, Changeset: 10, Timestamp: t1, UID: 7, User: "Zoë <&> \"quoted\"",
		Members: []osmdata.Member{{Type: osmdata.Way, Ref: 5, Role: "outer"}, {Type: osmdata.Node, Ref: 1, Role: ""}}, Tags: osmdata.Tags{{Key: "type", Value: "multipolygon"}}}

	node1v2 := node1v1
	node1v2.Version, node1v2.Changeset, node1v2.Timestamp, node1v2.Lat = 2, 11, t2, 485000001
	way5v2 := way5v1
	way5v2.Version, way5v2.Changeset, way5v2.Timestamp, way5v2.Nodes = 2, 11, t2, []int64{2, 1}
	rel9v2 := rel9v1
	rel9v2.Version, rel9v2.Changeset, rel9v2.Timestamp, rel9v2.Tags = 2, 11, t2, nil

	// A deleted node keeps the coordinates it is stored with; writers
	// leave them out.
	node1v3 := node1v2
	node1v3.Version, node1v3.Changeset, node1v3.Timestamp, node1v3.Visible, node1v3.Tags = 3, 12, t3, false, nil
	way5v3 := way5v2
	way5v3.Version, way5v3.Changeset, way5v3.Timestamp, way5v3.Visible, way5v3.Tags, way5v3.Nodes = 3, 12, t3, false, nil, nil
	rel9v3 := rel9v2
	rel9v3.Version, rel9v3.Changeset, rel9v3.Timestamp, rel9v3.Visible, rel9v3.Members = 3, 12, t3, false, nil

	return []Merge{
		{Seq: 1, Changeset: 10, MergedAt: t1, Elements: []ElementChange{{New: node1v1}, {New: node2v1}, {New: way5v1}, {New: rel9v1}}},
		{Seq: 2, Changeset: 11, MergedAt: t2, Elements: []ElementChange{{Old: &node1v1, New: node1v2}, {Old: &way5v1, New: way5v2}, {Old: &rel9v1, New: rel9v2}}},
		{Seq: 3, Changeset: 12, MergedAt: t3, Elements: []ElementChange{{Old: &rel9v2, New: rel9v3}, {Old: &way5v2, New: way5v3}, {Old: &node1v2, New: node1v3}}},
	}
}
