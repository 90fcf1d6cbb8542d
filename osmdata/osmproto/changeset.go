package osmproto

import (
	"time"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
)

// ChangesetToProto says a changeset is open as the OSM API does at now:
// one whose closing time has passed is closed, whether or not the sweeper
// has come by yet, so the Connect services and the OSM API agree.
func ChangesetToProto(c *osmdata.Changeset, now time.Time) *geocommunsv1.Changeset {
	p := &geocommunsv1.Changeset{
		Id:           c.ID,
		Uid:          c.UID,
		User:         c.User,
		CreatedAt:    TimeToProto(c.CreatedAt),
		ClosedAt:     TimeToProto(c.ClosedAt),
		Open:         osmdata.ChangesetOpen(c, now),
		Tags:         TagsToProto(c.Tags),
		ChangesCount: int64(c.NumChanges),
		ReviewState:  ReviewStateToProto(c.ReviewState),
	}
	if c.HasBox {
		p.Bbox = BoxToProto(c.Box)
	}
	return p
}
