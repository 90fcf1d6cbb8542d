package osmproto

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
)

// Each review state has its own value on the wire, named as the state
// is, and only "never submitted" reads as unspecified.
func TestReviewStatesAreDistinctOnTheWire(t *testing.T) {
	states := []osmdata.ReviewState{osmdata.ReviewSubmitted, osmdata.ReviewApproved, osmdata.ReviewChangesRequested,
		osmdata.ReviewRejected, osmdata.ReviewMerged, osmdata.ReviewConflicted}
	seen := map[geocommunsv1.ReviewState]osmdata.ReviewState{}
	for _, s := range states {
		p := ReviewStateToProto(s)
		if want := "REVIEW_STATE_" + strings.ToUpper(string(s)); p.String() != want {
			t.Errorf("%q becomes %s, want %s", s, p, want)
		}
		if other, dup := seen[p]; dup {
			t.Errorf("%q and %q both become %s", s, other, p)
		}
		seen[p] = s
	}
	if p := ReviewStateToProto(osmdata.ReviewNone); p != geocommunsv1.ReviewState_REVIEW_STATE_UNSPECIFIED {
		t.Errorf("a changeset never submitted becomes %s", p)
	}
}

// A review event survives the wire with every field.
func TestReviewEventOnTheWire(t *testing.T) {
	ev := osmdata.ReviewEvent{Seq: 7, Changeset: 42, Kind: osmdata.EventChangesRequested, ActorUID: 3, Actor: "reviewer",
		Scope: "buildings", Comment: "please tag the entrance «here»", State: osmdata.ReviewChangesRequested,
		Time: time.Date(2026, 11, 29, 19, 40, 21, 0, time.UTC)}
	b, err := proto.Marshal(ReviewEventToProto(&ev))
	if err != nil {
		t.Fatal(err)
	}
	var p geocommunsv1.ReviewEvent
	if err := proto.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.GetSeq() != 7 || p.GetChangeset() != 42 || p.GetKind() != "changes_requested" || p.GetActorUid() != 3 ||
		p.GetActor() != "reviewer" || p.GetScope() != "buildings" || p.GetComment() != ev.Comment ||
		p.GetState() != geocommunsv1.ReviewState_REVIEW_STATE_CHANGES_REQUESTED || !p.GetTime().AsTime().Equal(ev.Time) {
		t.Errorf("read back %v from %+v", &p, ev)
	}
}
