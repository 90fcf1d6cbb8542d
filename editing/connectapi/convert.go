package connectapi

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
)

// This file converts between osmdata's types and the protobuf messages.
// Coordinates stay fixed-point both ways, so nothing is rounded.

func typeToProto(t osmdata.ElementType) geocommunsv1.ElementType {
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

// typeFromProto reports false for an unspecified or unknown type.
func typeFromProto(t geocommunsv1.ElementType) (osmdata.ElementType, bool) {
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

func tagsToProto(tags osmdata.Tags) []*geocommunsv1.Tag {
	if len(tags) == 0 {
		return nil
	}
	out := make([]*geocommunsv1.Tag, len(tags))
	for i, t := range tags {
		out[i] = &geocommunsv1.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

func tagsFromProto(tags []*geocommunsv1.Tag) osmdata.Tags {
	if len(tags) == 0 {
		return nil
	}
	out := make(osmdata.Tags, len(tags))
	for i, t := range tags {
		out[i] = osmdata.Tag{Key: t.GetKey(), Value: t.GetValue()}
	}
	return out
}

func timeToProto(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func timeFromProto(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

func elementToProto(e *osmdata.Element) *geocommunsv1.Element {
	p := &geocommunsv1.Element{
		Type:      typeToProto(e.Type),
		Id:        e.ID,
		Version:   int64(e.Version),
		Visible:   e.Visible,
		Changeset: e.Changeset,
		Timestamp: timeToProto(e.Timestamp),
		Uid:       e.UID,
		User:      e.User,
		Tags:      tagsToProto(e.Tags),
	}
	switch e.Type {
	case osmdata.Node:
		// The OSM API leaves a deleted node's position out.
		if e.Visible {
			lat, lon := e.Lat, e.Lon
			p.LatE7, p.LonE7 = &lat, &lon
		}
	case osmdata.Way:
		p.Nodes = e.Nodes
	case osmdata.Relation:
		if len(e.Members) > 0 {
			p.Members = make([]*geocommunsv1.Member, len(e.Members))
			for i, m := range e.Members {
				p.Members[i] = &geocommunsv1.Member{Type: typeToProto(m.Type), Ref: m.Ref, Role: m.Role}
			}
		}
	}
	return p
}

func elementsToProto(els []osmdata.Element) []*geocommunsv1.Element {
	out := make([]*geocommunsv1.Element, len(els))
	for i := range els {
		out[i] = elementToProto(&els[i])
	}
	return out
}

func boxToProto(b osmdata.Box) *geocommunsv1.BoundingBox {
	return &geocommunsv1.BoundingBox{MinLatE7: b.MinLat, MinLonE7: b.MinLon, MaxLatE7: b.MaxLat, MaxLonE7: b.MaxLon}
}

func boxFromProto(b *geocommunsv1.BoundingBox) osmdata.Box {
	return osmdata.Box{MinLat: b.GetMinLatE7(), MinLon: b.GetMinLonE7(), MaxLat: b.GetMaxLatE7(), MaxLon: b.GetMaxLonE7()}
}

var reviewStates = map[osmdata.ReviewState]geocommunsv1.ReviewState{
	osmdata.ReviewNone:             geocommunsv1.ReviewState_REVIEW_STATE_UNSPECIFIED,
	osmdata.ReviewSubmitted:        geocommunsv1.ReviewState_REVIEW_STATE_SUBMITTED,
	osmdata.ReviewApproved:         geocommunsv1.ReviewState_REVIEW_STATE_APPROVED,
	osmdata.ReviewChangesRequested: geocommunsv1.ReviewState_REVIEW_STATE_CHANGES_REQUESTED,
	osmdata.ReviewRejected:         geocommunsv1.ReviewState_REVIEW_STATE_REJECTED,
	osmdata.ReviewMerged:           geocommunsv1.ReviewState_REVIEW_STATE_MERGED,
	osmdata.ReviewConflicted:       geocommunsv1.ReviewState_REVIEW_STATE_CONFLICTED,
}

func reviewStateFromProto(s geocommunsv1.ReviewState) (osmdata.ReviewState, bool) {
	for k, v := range reviewStates {
		if v == s {
			return k, true
		}
	}
	return "", false
}

// changesetToProto says a changeset is open as the OSM API does: one
// whose closing time has passed is closed, whether or not the sweeper has
// come by yet.
func changesetToProto(c *osmdata.Changeset) *geocommunsv1.Changeset {
	p := &geocommunsv1.Changeset{
		Id:           c.ID,
		Uid:          c.UID,
		User:         c.User,
		CreatedAt:    timeToProto(c.CreatedAt),
		ClosedAt:     timeToProto(c.ClosedAt),
		Open:         osmdata.ChangesetOpen(c, time.Now()),
		Tags:         tagsToProto(c.Tags),
		ChangesCount: int64(c.NumChanges),
		ReviewState:  reviewStates[c.ReviewState],
	}
	if c.HasBox {
		p.Bbox = boxToProto(c.Box)
	}
	return p
}
