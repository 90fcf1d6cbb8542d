package reviewapi

import (
	"time"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmproto"
	"github.com/geocommuns/geocommuns/storage"
)

// The conversions osmproto does not have yet. changesetToProto repeats
// editing/connectapi's (unexported there): both belong in osmproto once
// its owner moves them, so that the two services cannot disagree.

// reviewStates are the states a changeset can be asked for in.
var reviewStates = []osmdata.ReviewState{
	osmdata.ReviewSubmitted, osmdata.ReviewApproved, osmdata.ReviewChangesRequested,
	osmdata.ReviewRejected, osmdata.ReviewMerged, osmdata.ReviewConflicted,
}

// reviewStateFromProto is the inverse of osmproto.ReviewStateToProto;
// UNSPECIFIED (never submitted) is no state of the queue.
func reviewStateFromProto(p geocommunsv1.ReviewState) (osmdata.ReviewState, bool) {
	for _, s := range reviewStates {
		if osmproto.ReviewStateToProto(s) == p {
			return s, true
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
		CreatedAt:    osmproto.TimeToProto(c.CreatedAt),
		ClosedAt:     osmproto.TimeToProto(c.ClosedAt),
		Open:         osmdata.ChangesetOpen(c, time.Now()),
		Tags:         osmproto.TagsToProto(c.Tags),
		ChangesCount: int64(c.NumChanges),
		ReviewState:  osmproto.ReviewStateToProto(c.ReviewState),
	}
	if c.HasBox {
		p.Bbox = osmproto.BoxToProto(c.Box)
	}
	return p
}

func scopesToProto(scopes []storage.ScopeApproval) []*geocommunsv1.ScopeApproval {
	out := make([]*geocommunsv1.ScopeApproval, len(scopes))
	for i, s := range scopes {
		out[i] = &geocommunsv1.ScopeApproval{Scope: s.Scope, ApprovedBy: s.ApprovedBy}
	}
	return out
}

func actionToProto(a storage.Action) geocommunsv1.Action {
	switch a {
	case storage.Create:
		return geocommunsv1.Action_ACTION_CREATE
	case storage.Modify:
		return geocommunsv1.Action_ACTION_MODIFY
	case storage.Delete:
		return geocommunsv1.Action_ACTION_DELETE
	}
	return geocommunsv1.Action_ACTION_UNSPECIFIED
}

// elementToProto gives nil for an absent version (no base, no current).
func elementToProto(e *osmdata.Element) *geocommunsv1.Element {
	if e == nil {
		return nil
	}
	return osmproto.ElementToProto(e)
}

// validBox is a box within the world with its edges in order.
func validBox(b osmdata.Box) bool {
	const maxLat, maxLon = 90 * osmdata.CoordScale, 180 * osmdata.CoordScale
	return b.MinLat >= -maxLat && b.MaxLat <= maxLat && b.MinLon >= -maxLon && b.MaxLon <= maxLon &&
		b.MinLat <= b.MaxLat && b.MinLon <= b.MaxLon
}
