package osmproto

import (
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
)

// ReviewStateToProto converts a review state; ReviewNone (and a state
// this package does not know) becomes REVIEW_STATE_UNSPECIFIED.
func ReviewStateToProto(s osmdata.ReviewState) geocommunsv1.ReviewState {
	switch s {
	case osmdata.ReviewSubmitted:
		return geocommunsv1.ReviewState_REVIEW_STATE_SUBMITTED
	case osmdata.ReviewApproved:
		return geocommunsv1.ReviewState_REVIEW_STATE_APPROVED
	case osmdata.ReviewChangesRequested:
		return geocommunsv1.ReviewState_REVIEW_STATE_CHANGES_REQUESTED
	case osmdata.ReviewRejected:
		return geocommunsv1.ReviewState_REVIEW_STATE_REJECTED
	case osmdata.ReviewMerged:
		return geocommunsv1.ReviewState_REVIEW_STATE_MERGED
	case osmdata.ReviewConflicted:
		return geocommunsv1.ReviewState_REVIEW_STATE_CONFLICTED
	}
	return geocommunsv1.ReviewState_REVIEW_STATE_UNSPECIFIED
}

// ReviewEventToProto converts one review log entry; its kind stays the
// word the log and the NATS subjects use.
func ReviewEventToProto(ev *osmdata.ReviewEvent) *geocommunsv1.ReviewEvent {
	return &geocommunsv1.ReviewEvent{
		Seq:       ev.Seq,
		Changeset: ev.Changeset,
		Kind:      string(ev.Kind),
		ActorUid:  ev.ActorUID,
		Actor:     ev.Actor,
		Scope:     ev.Scope,
		Comment:   ev.Comment,
		State:     ReviewStateToProto(ev.State),
		Time:      TimeToProto(ev.Time),
	}
}

// ReviewStateFromProto is the inverse of ReviewStateToProto:
// REVIEW_STATE_UNSPECIFIED is ReviewNone (never submitted), and a value
// this package does not know reports false.
func ReviewStateFromProto(p geocommunsv1.ReviewState) (osmdata.ReviewState, bool) {
	for _, s := range []osmdata.ReviewState{osmdata.ReviewNone, osmdata.ReviewSubmitted, osmdata.ReviewApproved,
		osmdata.ReviewChangesRequested, osmdata.ReviewRejected, osmdata.ReviewMerged, osmdata.ReviewConflicted} {
		if ReviewStateToProto(s) == p {
			return s, true
		}
	}
	return "", false
}
