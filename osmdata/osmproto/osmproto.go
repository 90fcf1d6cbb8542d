// Package osmproto converts between osmdata's types and the protobuf
// messages of proto/geocommuns/v1, so that the Connect API and the change
// feeds (sync/...) cannot disagree on what an element looks like on the
// wire. Coordinates stay fixed-point both ways, so nothing is rounded.
package osmproto

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
)

// TypeToProto converts an element type; an unknown type becomes
// ELEMENT_TYPE_UNSPECIFIED.
func TypeToProto(t osmdata.ElementType) geocommunsv1.ElementType {
	switch t {
	case osmdata.Node:
		return geocommunsv1.ElementType_ELEMENT_TYPE_NODE
	case osmdata.Way:
		return geocommunsv1.ElementType_ELEMENT_TYPE_WAY
	case osmdata.Relation:
		return geocommunsv1.ElementType_ELEMENT_TYPE_RELATION
	}
	return geocommunsv1.ElementType_ELEMENT_TYPE_UNSPECIFIED
}

// TypeFromProto reports false for an unspecified or unknown type.
func TypeFromProto(t geocommunsv1.ElementType) (osmdata.ElementType, bool) {
	switch t {
	case geocommunsv1.ElementType_ELEMENT_TYPE_NODE:
		return osmdata.Node, true
	case geocommunsv1.ElementType_ELEMENT_TYPE_WAY:
		return osmdata.Way, true
	case geocommunsv1.ElementType_ELEMENT_TYPE_RELATION:
		return osmdata.Relation, true
	}
	return 0, false
}

// TagsToProto keeps the tags' order; no tags give nil.
func TagsToProto(tags osmdata.Tags) []*geocommunsv1.Tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]*geocommunsv1.Tag, len(tags))
	for i, t := range tags {
		out[i] = &geocommunsv1.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

// TagsFromProto keeps the tags' order; no tags give nil.
func TagsFromProto(tags []*geocommunsv1.Tag) osmdata.Tags {
	if len(tags) == 0 {
		return nil
	}
	out := make(osmdata.Tags, len(tags))
	for i, t := range tags {
		out[i] = osmdata.Tag{Key: t.GetKey(), Value: t.GetValue()}
	}
	return out
}

// TimeToProto gives nil for the zero time, which proto3 reads as unset.
func TimeToProto(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// TimeFromProto gives the zero time for nil, and UTC otherwise.
func TimeFromProto(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

// BoxToProto converts a box, fixed-point.
func BoxToProto(b osmdata.Box) *geocommunsv1.BoundingBox {
	return &geocommunsv1.BoundingBox{MinLatE7: b.MinLat, MinLonE7: b.MinLon, MaxLatE7: b.MaxLat, MaxLonE7: b.MaxLon}
}

// BoxFromProto converts a box as given; checking it is the caller's job,
// since what an invalid box answers depends on the call.
func BoxFromProto(b *geocommunsv1.BoundingBox) osmdata.Box {
	return osmdata.Box{MinLat: b.GetMinLatE7(), MinLon: b.GetMinLonE7(), MaxLat: b.GetMaxLatE7(), MaxLon: b.GetMaxLonE7()}
}
