package storagetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// discussionKinds are the events whose comments a changeset discussion
// shows (editing/osmapi): comments and decisions with a text.
var discussionKinds = []osmdata.ReviewEventKind{osmdata.EventCommented, osmdata.EventApproved,
	osmdata.EventChangesRequested, osmdata.EventRejected, osmdata.EventWithdrawn, osmdata.EventConflicted}

func mustReviewCommentCounts(t *testing.T, s storage.ReviewLog, ids []int64, kinds []osmdata.ReviewEventKind) map[int64]int {
	t.Helper()
	counts, err := s.ReviewCommentCounts(t.Context(), ids, kinds)
	if err != nil {
		t.Fatalf("ReviewCommentCounts(%v, %q): %v", ids, kinds, err)
	}
	return counts
}

// testReviewCommentCounts: a list of changesets counts, for each, the
// events of the kinds asked for that say something, as many as the
// changeset's own log holds; white space (Unicode's too) is no comment,
// and other changesets' events, other kinds and unknown ids count for
// nothing.
func testReviewCommentCounts(t *testing.T, open Opener) {
	s := editing(t, open)
	ctx := t.Context()
	commented := reviewNode(t, s, ana, 5001)
	decided := reviewNode(t, s, ana, 5002)
	silent := reviewNode(t, s, bo, 5003)
	unlisted := reviewNode(t, s, bo, 5004)
	stillOpen := mustCreateChangeset(t, s, carla)

	add := func(id int64, kind osmdata.ReviewEventKind, actor int64, comment string) {
		t.Helper()
		if _, err := s.AddReviewEvent(ctx, osmdata.ReviewEvent{Changeset: id, Kind: kind, ActorUID: actor, Comment: comment}); err != nil {
			t.Fatalf("AddReviewEvent(%s on %d, %q): %v", kind, id, comment, err)
		}
	}
	add(commented, osmdata.EventCommented, bo, "Is the bench on the pavement?")
	add(commented, osmdata.EventCommented, ana, "No, on the grass «here»")
	add(commented, osmdata.EventCommented, carla, " \t\n")
	add(commented, osmdata.EventCommented, carla, "\u00a0\u3000\u2028\u0085")
	add(commented, osmdata.EventEscalated, 0, "waiting for 3 days")
	add(commented, osmdata.EventAssigned, carla, "")
	add(unlisted, osmdata.EventCommented, carla, "not in the list")
	add(stillOpen.ID, osmdata.EventCommented, bo, "before closing")

	mustDecideReview(t, s, approve(bo, decided), osmdata.ReviewApproved)
	second := reviewNode(t, s, ana, 5005)
	mustDecideReview(t, s, storage.Decision{Changeset: second, Reviewer: carla, Kind: osmdata.EventChangesRequested,
		Comment: "the bench is in the river"}, osmdata.ReviewChangesRequested)
	add(second, osmdata.EventCommented, ana, "moved it")
	mustDecideReview(t, s, storage.Decision{Changeset: silent, Reviewer: carla, Kind: osmdata.EventRejected, Comment: "  "},
		osmdata.ReviewRejected)

	ids := []int64{commented, decided, silent, second, stillOpen.ID, 999999}
	counts := mustReviewCommentCounts(t, s, ids, discussionKinds)
	want := map[int64]int{commented: 2, second: 2, stillOpen.ID: 1}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("comment counts of changesets %v (-want +got):\n%s", ids, diff)
	}
	// The bulk read agrees with each changeset's own log, read as the
	// discussion reads it.
	for _, id := range ids {
		n := 0
		for _, ev := range mustChangesetReviewEvents(t, s, id) {
			if slices.Contains(discussionKinds, ev.Kind) && strings.TrimSpace(ev.Comment) != "" {
				n++
			}
		}
		if n != counts[id] {
			t.Errorf("changeset %d: counted %d comments, its log has %d", id, counts[id], n)
		}
	}

	onlyComments := mustReviewCommentCounts(t, s, ids, []osmdata.ReviewEventKind{osmdata.EventCommented})
	if diff := cmp.Diff(map[int64]int{commented: 2, second: 1, stillOpen.ID: 1}, onlyComments); diff != "" {
		t.Errorf("commented events only (-want +got):\n%s", diff)
	}
	escalations := mustReviewCommentCounts(t, s, []int64{commented}, []osmdata.ReviewEventKind{osmdata.EventEscalated})
	if escalations[commented] != 1 {
		t.Errorf("escalations of changeset %d with their comments: %v, want 1", commented, escalations)
	}
	for name, args := range map[string][2]int{"no ids": {0, len(discussionKinds)}, "no kinds": {len(ids), 0}} {
		got := mustReviewCommentCounts(t, s, ids[:args[0]], discussionKinds[:args[1]])
		if len(got) != 0 {
			t.Errorf("%s: %v, want nothing counted", name, got)
		}
	}
	one := mustReviewCommentCounts(t, s, []int64{second}, discussionKinds)
	if diff := cmp.Diff(map[int64]int{second: 2}, one); diff != "" {
		t.Errorf("changeset %d alone (-want +got):\n%s", second, diff)
	}
}
