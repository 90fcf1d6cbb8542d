package osmproto

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
)

// A changeset survives the wire with every field the OSM API shows, its
// box only when it has one.
func TestChangesetOnTheWire(t *testing.T) {
	created := time.Date(2026, 11, 29, 18, 0, 0, 0, time.UTC)
	c := osmdata.Changeset{ID: 42, UID: 7, User: "alice", CreatedAt: created, ClosedAt: created.Add(time.Hour),
		Tags: osmdata.Tags{{Key: "comment", Value: "bridge"}, {Key: "created_by", Value: "JOSM"}}, NumChanges: 12,
		HasBox: true, Box: osmdata.Box{MinLat: 425000000, MinLon: 15200000, MaxLat: 425100000, MaxLon: 15300000},
		ReviewState: osmdata.ReviewChangesRequested}
	b, err := proto.Marshal(ChangesetToProto(&c, created.Add(2*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	var p geocommunsv1.Changeset
	if err := proto.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.GetId() != 42 || p.GetUid() != 7 || p.GetUser() != "alice" || !p.GetCreatedAt().AsTime().Equal(created) ||
		!p.GetClosedAt().AsTime().Equal(c.ClosedAt) || p.GetOpen() || p.GetChangesCount() != 12 ||
		p.GetReviewState() != geocommunsv1.ReviewState_REVIEW_STATE_CHANGES_REQUESTED {
		t.Errorf("read back %v from %+v", &p, c)
	}
	if got := TagsFromProto(p.GetTags()); len(got) != 2 || got[0] != c.Tags[0] || got[1] != c.Tags[1] {
		t.Errorf("tags %v, want %v", got, c.Tags)
	}
	if p.GetBbox() == nil || BoxFromProto(p.GetBbox()) != c.Box {
		t.Errorf("bbox %v, want %+v", p.GetBbox(), c.Box)
	}

	c.HasBox = false
	if p := ChangesetToProto(&c, created); p.Bbox != nil {
		t.Errorf("a changeset without nodes has bbox %v", p.Bbox)
	}
}

// Open is the OSM API's: flagged open and not yet past its closing time,
// so a changeset the sweeper has not closed yet reads closed once due.
func TestChangesetOpenAtNow(t *testing.T) {
	closes := time.Date(2026, 11, 29, 19, 0, 0, 0, time.UTC)
	c := osmdata.Changeset{ID: 1, Open: true, ClosedAt: closes}
	if !ChangesetToProto(&c, closes.Add(-time.Second)).GetOpen() {
		t.Error("open changeset before its closing time reads closed")
	}
	if ChangesetToProto(&c, closes).GetOpen() {
		t.Error("open changeset at its closing time reads open")
	}
	c.Open = false
	if ChangesetToProto(&c, closes.Add(-time.Hour)).GetOpen() {
		t.Error("closed changeset reads open")
	}
}

// Every review state comes back from the wire as itself, unspecified as
// never submitted; a value from a newer client is refused, not guessed.
func TestReviewStateFromProto(t *testing.T) {
	for _, s := range []osmdata.ReviewState{osmdata.ReviewNone, osmdata.ReviewSubmitted, osmdata.ReviewApproved,
		osmdata.ReviewChangesRequested, osmdata.ReviewRejected, osmdata.ReviewMerged, osmdata.ReviewConflicted} {
		if got, ok := ReviewStateFromProto(ReviewStateToProto(s)); !ok || got != s {
			t.Errorf("%q comes back as %q, %v", s, got, ok)
		}
	}
	if got, ok := ReviewStateFromProto(geocommunsv1.ReviewState(99)); ok {
		t.Errorf("unknown state 99 read as %q", got)
	}
}
