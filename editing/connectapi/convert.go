package connectapi

import (
	"time"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmproto"
)

// The conversions are osmproto's, shared with the review service and the
// change feeds, so that they cannot disagree.

// changesetToProto answers with the changeset as it is at the time of
// the reply.
func changesetToProto(c *osmdata.Changeset) *geocommunsv1.Changeset {
	return osmproto.ChangesetToProto(c, time.Now())
}

// reviewStateFromProto takes UNSPECIFIED as "never submitted", a state
// a changeset list may ask for.
func reviewStateFromProto(s geocommunsv1.ReviewState) (osmdata.ReviewState, bool) {
	return osmproto.ReviewStateFromProto(s)
}
