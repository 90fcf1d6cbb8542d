package connectapi

import (
	"time"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmproto"
)

// This file converts the changeset types; elements, tags and boxes are
// osmproto's, shared with the change feeds.

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
		CreatedAt:    osmproto.TimeToProto(c.CreatedAt),
		ClosedAt:     osmproto.TimeToProto(c.ClosedAt),
		Open:         osmdata.ChangesetOpen(c, time.Now()),
		Tags:         osmproto.TagsToProto(c.Tags),
		ChangesCount: int64(c.NumChanges),
		ReviewState:  reviewStates[c.ReviewState],
	}
	if c.HasBox {
		p.Bbox = osmproto.BoxToProto(c.Box)
	}
	return p
}
