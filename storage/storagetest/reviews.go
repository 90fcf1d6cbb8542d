package storagetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// testReviews covers storage.Reviews as the review service uses it: a
// reviewer's decision is refused or recorded exactly as the service's
// callers (ReviewService, the OSM discussion calls) would see it, and each
// action leaves its event in the changeset's public log.
func testReviews(t *testing.T, open Opener) {
	t.Run("Validation", func(t *testing.T) { t.Parallel(); testReviewValidation(t, open) })
	t.Run("TwoScopes", func(t *testing.T) { t.Parallel(); testReviewTwoScopes(t, open) })
	t.Run("SelfReview", func(t *testing.T) { t.Parallel(); testReviewSelf(t, open) })
	t.Run("ApprovalsRequired", func(t *testing.T) { t.Parallel(); testReviewApprovalsRequired(t, open) })
	t.Run("RequestChanges", func(t *testing.T) { t.Parallel(); testReviewRequestChanges(t, open) })
	t.Run("Reject", func(t *testing.T) { t.Parallel(); testReviewReject(t, open) })
	t.Run("Withdraw", func(t *testing.T) { t.Parallel(); testReviewWithdraw(t, open) })
	t.Run("Assign", func(t *testing.T) { t.Parallel(); testReviewAssign(t, open) })
	t.Run("Queue", func(t *testing.T) { t.Parallel(); testReviewQueue(t, open) })
	t.Run("Escalation", func(t *testing.T) { t.Parallel(); testReviewEscalation(t, open) })
	t.Run("Subscriptions", func(t *testing.T) { t.Parallel(); testReviewSubscriptions(t, open) })
	t.Run("EarnedTrust", func(t *testing.T) { t.Parallel(); testReviewEarnedTrust(t, open) })
}

// eventLine describes a review event as an auditor reads it:
// "kind by uid [scope] -> state: comment".
func eventLine(ev osmdata.ReviewEvent) string {
	line := fmt.Sprintf("%s by %d", ev.Kind, ev.ActorUID)
	if ev.Scope != "" {
		line += " [" + ev.Scope + "]"
	}
	line += " -> " + string(ev.State)
	if ev.Comment != "" {
		line += ": " + ev.Comment
	}
	return line
}

// checkChangesetLog checks a changeset's whole review log, in order.
func checkChangesetLog(t *testing.T, s storage.Store, id int64, want ...string) {
	t.Helper()
	events, err := s.ChangesetReviewEvents(t.Context(), id)
	if err != nil {
		t.Fatalf("ChangesetReviewEvents(%d): %v", id, err)
	}
	got := make([]string, len(events))
	for i, ev := range events {
		got[i] = eventLine(ev)
		if ev.Changeset != id {
			t.Errorf("changeset %d's log has an event of changeset %d: %s", id, ev.Changeset, got[i])
		}
		if i > 0 && ev.Seq <= events[i-1].Seq {
			t.Errorf("changeset %d's log: seq %d after %d", id, ev.Seq, events[i-1].Seq)
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("review log of changeset %d (-want +got):\n%s", id, diff)
	}
}

func mustSetReviewScopes(t *testing.T, s storage.Store, id int64, required int, scopes ...string) {
	t.Helper()
	if err := s.SetReviewScopes(t.Context(), id, scopes, required); err != nil {
		t.Fatalf("SetReviewScopes(%d, %q, %d): %v", id, scopes, required, err)
	}
}

func checkReviewScopes(t *testing.T, s storage.Store, id int64, want ...storage.ScopeApproval) {
	t.Helper()
	got, err := s.ReviewScopes(t.Context(), id)
	if err != nil {
		t.Fatalf("ReviewScopes(%d): %v", id, err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("scopes of changeset %d (-want +got):\n%s", id, diff)
	}
}

func approve(reviewer int64, id int64, scopes ...string) storage.Decision {
	return storage.Decision{Changeset: id, Reviewer: reviewer, Kind: osmdata.EventApproved, Scopes: scopes}
}

// mustDecideReview records d and checks the state it leaves.
func mustDecideReview(t *testing.T, s storage.Store, d storage.Decision, want osmdata.ReviewState) osmdata.Changeset {
	t.Helper()
	c, err := s.Decide(t.Context(), d)
	if err != nil {
		t.Fatalf("Decide %s of changeset %d by %d (scopes %q): %v", d.Kind, d.Changeset, d.Reviewer, d.Scopes, err)
	}
	if c.ID != d.Changeset || c.ReviewState != want {
		t.Errorf("Decide %s of changeset %d by %d (scopes %q) returned changeset %d %q, want %q",
			d.Kind, d.Changeset, d.Reviewer, d.Scopes, c.ID, c.ReviewState, want)
	}
	if stored := mustChangeset(t, s, d.Changeset); stored.ReviewState != want {
		t.Errorf("after Decide %s by %d, changeset %d is %q, want %q", d.Kind, d.Reviewer, d.Changeset, stored.ReviewState, want)
	}
	return c
}

// wantDecideRefused checks that d fails with want and changes nothing.
func wantDecideRefused(t *testing.T, s storage.Store, d storage.Decision, want error) error {
	t.Helper()
	before := mustChangeset(t, s, d.Changeset)
	_, err := s.Decide(t.Context(), d)
	if !errors.Is(err, want) {
		t.Errorf("Decide %s of changeset %d by %d (scopes %q): got %v, want %v", d.Kind, d.Changeset, d.Reviewer, d.Scopes, err, want)
	}
	if after := mustChangeset(t, s, d.Changeset); after.ReviewState != before.ReviewState || after.Open != before.Open {
		t.Errorf("a refused Decide moved changeset %d from %q (open %v) to %q (open %v)",
			d.Changeset, before.ReviewState, before.Open, after.ReviewState, after.Open)
	}
	return err
}

// reviewNode is a submitted changeset of uid creating node id.
func reviewNode(t *testing.T, s storage.Store, uid, id int64) int64 {
	t.Helper()
	cs := submitted(t, s, uid, nil, []storage.PendingChange{pendingNode(storage.Create, id, 1, 11, float64(id%90))})
	validated(t, s, cs)
	return cs
}

// validated stores a clean validation of changeset id, as the policy does
// after each submission: reviewers decide only after it.
func validated(t *testing.T, s storage.Store, id int64) {
	t.Helper()
	if err := s.SaveValidation(t.Context(), id, storage.Validation{}); err != nil {
		t.Fatalf("SaveValidation(%d): %v", id, err)
	}
}

func testReviewValidation(t *testing.T, open Opener) {
	s := editing(t, open)
	id := submitted(t, s, ana, nil, []storage.PendingChange{pendingNode(storage.Create, 5001, 1, 11, 1)})
	wantDecideRefused(t, s, approve(bo, id), storage.ErrReviewState)
	if v, err := s.Validation(t.Context(), id); err != nil || !v.At.IsZero() || v.Risk != 0 || len(v.Findings) != 0 {
		t.Errorf("Validation of a changeset never validated = %+v, %v; want zero", v, err)
	}
	first := storage.Validation{Risk: 35, Findings: []storage.Finding{
		{Rule: "no_comment", Severity: "warning", Message: "The changeset has no comment"},
		{
			Rule: "crossing_ways", Severity: "error", Message: "Highway crosses building",
			Lon: -9.1393, Lat: 38.7223, HasLocation: true,
			Elements: []osmdata.Key{{Type: osmdata.Way, ID: 20}, {Type: osmdata.Way, ID: 21}, {Type: osmdata.Node, ID: 5001}},
		},
		{Rule: "disconnected_highway", Severity: "warning", Message: "élément « isolé »",
			Elements: []osmdata.Key{{Type: osmdata.Relation, ID: 30}}, Lon: -180, Lat: -90, HasLocation: true},
	}}
	saved := time.Now()
	if err := s.SaveValidation(t.Context(), id, first); err != nil {
		t.Fatalf("SaveValidation: %v", err)
	}
	got, err := s.Validation(t.Context(), id)
	if err != nil {
		t.Fatalf("Validation: %v", err)
	}
	checkDatabaseTimes(t, "validation time", got.At, saved)
	if diff := cmp.Diff(first, got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(storage.Validation{}, "At")); diff != "" {
		t.Errorf("validation as stored (-want +got):\n%s", diff)
	}

	// Validating again before the merge replaces the findings whole.
	second := storage.Validation{Risk: 5, Findings: []storage.Finding{{Rule: "deprecated_tag", Severity: "warning", Message: "landuse=farm"}}}
	if err := s.SaveValidation(t.Context(), id, second); err != nil {
		t.Fatalf("SaveValidation again: %v", err)
	}
	got, err = s.Validation(t.Context(), id)
	if err != nil {
		t.Fatalf("Validation: %v", err)
	}
	if diff := cmp.Diff(second, got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(storage.Validation{}, "At")); diff != "" {
		t.Errorf("validation after a second run (-want +got):\n%s", diff)
	}
	wantErr(t, "SaveValidation of an unknown changeset", s.SaveValidation(t.Context(), id+1000, second), storage.ErrNotFound)
}

func testReviewTwoScopes(t *testing.T, open Opener) {
	s := editing(t, open)
	id := reviewNode(t, s, ana, 5001)
	mustSetReviewScopes(t, s, id, 1, "lisboa", "highways", "lisboa")
	checkReviewScopes(t, s, id, storage.ScopeApproval{Scope: "highways"}, storage.ScopeApproval{Scope: "lisboa"})

	// An approval for scopes the changeset does not need counts for
	// nothing, and says which it was.
	err := wantDecideRefused(t, s, approve(bo, id, "porto", "addresses"), storage.ErrReviewState)
	if err != nil && (!strings.Contains(err.Error(), "porto") || !strings.Contains(err.Error(), "addresses")) {
		t.Errorf("the refusal of an approval for scopes not needed does not name them: %v", err)
	}
	mustDecideReview(t, s, approve(bo, id, "lisboa", "porto"), osmdata.ReviewSubmitted)
	checkReviewScopes(t, s, id, storage.ScopeApproval{Scope: "highways"}, storage.ScopeApproval{Scope: "lisboa", ApprovedBy: bo})
	d := approve(carla, id, "highways")
	d.Comment = "the junction is right"
	c := mustDecideReview(t, s, d, osmdata.ReviewApproved)
	if c.Open {
		t.Errorf("approved changeset %d is open", id)
	}
	checkReviewScopes(t, s, id, storage.ScopeApproval{Scope: "highways", ApprovedBy: carla}, storage.ScopeApproval{Scope: "lisboa", ApprovedBy: bo})
	wantDecideRefused(t, s, approve(bo, id), storage.ErrReviewState)
	_, err = s.Decide(t.Context(), approve(bo, id+1000))
	wantErr(t, "Decide on an unknown changeset", err, storage.ErrNotFound)
	checkChangesetLog(t, s, id,
		fmt.Sprintf("submitted by %d -> submitted", ana),
		fmt.Sprintf("approved by %d [lisboa] -> submitted", bo),
		fmt.Sprintf("approved by %d [highways] -> approved: the junction is right", carla))

	// An approval without scopes (an admin's) covers every scope.
	admin := reviewNode(t, s, bo, 5002)
	mustSetReviewScopes(t, s, admin, 1, "lisboa", "highways")
	mustDecideReview(t, s, approve(carla, admin), osmdata.ReviewApproved)
	checkReviewScopes(t, s, admin, storage.ScopeApproval{Scope: "highways", ApprovedBy: carla}, storage.ScopeApproval{Scope: "lisboa", ApprovedBy: carla})
	checkChangesetLog(t, s, admin, fmt.Sprintf("submitted by %d -> submitted", bo), fmt.Sprintf("approved by %d -> approved", carla))
}

func testReviewSelf(t *testing.T, open Opener) {
	s := editing(t, open)
	id := reviewNode(t, s, ana, 5001)
	for _, kind := range []osmdata.ReviewEventKind{osmdata.EventApproved, osmdata.EventChangesRequested, osmdata.EventRejected} {
		wantDecideRefused(t, s, storage.Decision{Changeset: id, Reviewer: ana, Kind: kind, Comment: "mine"}, storage.ErrSelfReview)
	}
	_, err := s.Assign(t.Context(), id, ana)
	wantErr(t, "Assign to the author", err, storage.ErrSelfReview)
	checkReviewState(t, s, id, osmdata.ReviewSubmitted)
	checkChangesetLog(t, s, id, fmt.Sprintf("submitted by %d -> submitted", ana))
}

func testReviewApprovalsRequired(t *testing.T, open Opener) {
	s := editing(t, open)
	// No scopes recorded: one approval of anyone.
	plain := reviewNode(t, s, ana, 5001)
	mustDecideReview(t, s, approve(bo, plain, "lisboa"), osmdata.ReviewApproved)

	id := reviewNode(t, s, ana, 5002)
	mustSetReviewScopes(t, s, id, 2, "lisboa")
	mustDecideReview(t, s, approve(bo, id, "lisboa"), osmdata.ReviewSubmitted)
	// The same reviewer again is still one reviewer.
	mustDecideReview(t, s, approve(bo, id), osmdata.ReviewSubmitted)
	mustDecideReview(t, s, approve(carla, id, "lisboa"), osmdata.ReviewApproved)
	checkReviewScopes(t, s, id, storage.ScopeApproval{Scope: "lisboa", ApprovedBy: bo})
	checkChangesetLog(t, s, id,
		fmt.Sprintf("submitted by %d -> submitted", ana),
		fmt.Sprintf("approved by %d [lisboa] -> submitted", bo),
		fmt.Sprintf("approved by %d -> submitted", bo),
		fmt.Sprintf("approved by %d [lisboa] -> approved", carla))
	if got := mustApproved(t, s, 10); !cmp.Equal(got, []int64{plain, id}) {
		t.Errorf("ApprovedChangesets = %v, want %v: the merge job would not see them", got, []int64{plain, id})
	}
}

func testReviewRequestChanges(t *testing.T, open Opener) {
	s := editing(t, open)
	id := reviewNode(t, s, ana, 5001)
	mustSetReviewScopes(t, s, id, 2, "lisboa", "highways")
	mustDecideReview(t, s, approve(bo, id, "lisboa"), osmdata.ReviewSubmitted)
	asked := time.Now()
	c := mustDecideReview(t, s, storage.Decision{Changeset: id, Reviewer: carla, Kind: osmdata.EventChangesRequested,
		Comment: "the bench is in the river"}, osmdata.ReviewChangesRequested)
	// Reopened as SetReviewState reopens: the author fixes it with any
	// editor, for another hour.
	if !c.Open {
		t.Errorf("changeset %d after changes were requested is closed; want it reopened", id)
	}
	checkDatabaseTimes(t, "closed_at of the reopened changeset", c.ClosedAt, asked.Add(storage.ChangesetIdle))
	wantDecideRefused(t, s, approve(carla, id), storage.ErrReviewState)
	mustWritePending(t, s, id, ana, pendingNode(storage.Modify, 5001, 2, 11.5, 1))

	// The resubmission needs every approval again, and a validation of
	// the new content before anyone decides.
	mustClose(t, s, id, ana)
	if v, err := s.Validation(t.Context(), id); err != nil || !v.At.IsZero() {
		t.Errorf("Validation after the resubmission = %+v, %v; want none: it was of the content before", v, err)
	}
	checkReviewScopes(t, s, id, storage.ScopeApproval{Scope: "highways"}, storage.ScopeApproval{Scope: "lisboa"})
	wantDecideRefused(t, s, approve(carla, id, "highways"), storage.ErrReviewState)
	mustSetReviewScopes(t, s, id, 2, "lisboa", "highways")
	validated(t, s, id)
	checkReviewScopes(t, s, id, storage.ScopeApproval{Scope: "highways"}, storage.ScopeApproval{Scope: "lisboa"})
	mustDecideReview(t, s, approve(carla, id, "highways"), osmdata.ReviewSubmitted)
	// bo approved lisboa before: that was the old submission.
	mustDecideReview(t, s, approve(carla, id, "lisboa"), osmdata.ReviewSubmitted)
	mustDecideReview(t, s, approve(bo, id, "lisboa"), osmdata.ReviewApproved)
	checkChangesetLog(t, s, id,
		fmt.Sprintf("submitted by %d -> submitted", ana),
		fmt.Sprintf("approved by %d [lisboa] -> submitted", bo),
		fmt.Sprintf("changes_requested by %d -> changes_requested: the bench is in the river", carla),
		fmt.Sprintf("submitted by %d -> submitted", ana),
		fmt.Sprintf("approved by %d [highways] -> submitted", carla),
		fmt.Sprintf("approved by %d [lisboa] -> submitted", carla),
		fmt.Sprintf("approved by %d [lisboa] -> approved", bo))
}

func testReviewReject(t *testing.T, open Opener) {
	s := editing(t, open)
	id := reviewNode(t, s, ana, 5001)
	mustSetReviewScopes(t, s, id, 1, "lisboa", "highways")
	mustDecideReview(t, s, approve(bo, id, "lisboa"), osmdata.ReviewSubmitted)
	c := mustDecideReview(t, s, storage.Decision{Changeset: id, Reviewer: carla, Kind: osmdata.EventRejected,
		Scopes: []string{"highways"}, Comment: "vandalism"}, osmdata.ReviewRejected)
	if c.Open {
		t.Errorf("rejected changeset %d is open", id)
	}
	wantDecideRefused(t, s, approve(carla, id, "highways"), storage.ErrReviewState)
	wantDecideRefused(t, s, storage.Decision{Changeset: id, Reviewer: bo, Kind: osmdata.EventRejected, Comment: "again"}, storage.ErrReviewState)
	checkChangesetLog(t, s, id,
		fmt.Sprintf("submitted by %d -> submitted", ana),
		fmt.Sprintf("approved by %d [lisboa] -> submitted", bo),
		fmt.Sprintf("rejected by %d [highways] -> rejected: vandalism", carla))
}

func testReviewWithdraw(t *testing.T, open Opener) {
	s := editing(t, open)
	id := reviewNode(t, s, ana, 5001)
	_, err := s.Withdraw(t.Context(), id, bo)
	wantErr(t, "Withdraw by another user", err, storage.ErrNotOwner)
	checkReviewState(t, s, id, osmdata.ReviewSubmitted)
	c, err := s.Withdraw(t.Context(), id, ana)
	if err != nil {
		t.Fatalf("Withdraw of a submitted changeset by its author: %v", err)
	}
	if c.ReviewState != osmdata.ReviewChangesRequested || !c.Open {
		t.Errorf("withdrawn changeset %d is %q, open %v; want changes_requested, reopened", id, c.ReviewState, c.Open)
	}
	if c := mustChangeset(t, s, id); c.ReviewState != osmdata.ReviewChangesRequested || !c.Open {
		t.Errorf("withdrawn changeset %d reads %q, open %v; want changes_requested, reopened", id, c.ReviewState, c.Open)
	}
	_, err = s.Withdraw(t.Context(), id, ana)
	wantErr(t, "Withdraw of a reopened changeset", err, storage.ErrReviewState)
	checkChangesetLog(t, s, id,
		fmt.Sprintf("submitted by %d -> submitted", ana),
		fmt.Sprintf("withdrawn by %d -> changes_requested", ana))

	// Approved but not merged yet: the author may still take it back.
	approved := reviewNode(t, s, ana, 5002)
	mustDecideReview(t, s, approve(bo, approved), osmdata.ReviewApproved)
	if c, err := s.Withdraw(t.Context(), approved, ana); err != nil || c.ReviewState != osmdata.ReviewChangesRequested {
		t.Errorf("Withdraw of an approved changeset = %q, %v; want changes_requested", c.ReviewState, err)
	}
	if got := mustApproved(t, s, 10); len(got) != 0 {
		t.Errorf("ApprovedChangesets after the withdrawal = %v; the merge job would merge what the author took back", got)
	}

	rejected := reviewNode(t, s, ana, 5003)
	mustDecideReview(t, s, storage.Decision{Changeset: rejected, Reviewer: bo, Kind: osmdata.EventRejected, Comment: "no"}, osmdata.ReviewRejected)
	_, err = s.Withdraw(t.Context(), rejected, ana)
	wantErr(t, "Withdraw of a rejected changeset", err, storage.ErrReviewState)
	stillOpen := mustCreateChangeset(t, s, ana)
	_, err = s.Withdraw(t.Context(), stillOpen.ID, ana)
	wantErr(t, "Withdraw of an open changeset", err, storage.ErrReviewState)
	_, err = s.Withdraw(t.Context(), stillOpen.ID+1000, ana)
	wantErr(t, "Withdraw of an unknown changeset", err, storage.ErrNotFound)
	checkChangesetLog(t, s, rejected,
		fmt.Sprintf("submitted by %d -> submitted", ana),
		fmt.Sprintf("rejected by %d -> rejected: no", bo))
}

func testReviewAssign(t *testing.T, open Opener) {
	s := editing(t, open)
	id := reviewNode(t, s, ana, 5001)
	ev, err := s.Assign(t.Context(), id, bo)
	if err != nil {
		t.Fatalf("Assign: %v", err)
	}
	if ev.Kind != osmdata.EventAssigned || ev.ActorUID != bo || ev.Changeset != id || ev.State != osmdata.ReviewSubmitted || ev.Seq == 0 {
		t.Errorf("Assign returned event %+v", ev)
	}
	items := mustReviewQueue(t, s, storage.QueueFilter{})
	if len(items) != 1 || items[0].Assignee != bo {
		t.Errorf("queue after Assign to %d: %+v", bo, items)
	}
	// Another reviewer takes it over.
	if _, err := s.Assign(t.Context(), id, carla); err != nil {
		t.Fatalf("Assign to another reviewer: %v", err)
	}
	if items := mustReviewQueue(t, s, storage.QueueFilter{}); len(items) != 1 || items[0].Assignee != carla {
		t.Errorf("queue after Assign to %d: %+v", carla, items)
	}
	open1 := mustCreateChangeset(t, s, ana)
	_, err = s.Assign(t.Context(), open1.ID, bo)
	wantErr(t, "Assign of an open changeset", err, storage.ErrReviewState)
	_, err = s.Assign(t.Context(), open1.ID+1000, bo)
	wantErr(t, "Assign of an unknown changeset", err, storage.ErrNotFound)
	checkChangesetLog(t, s, id,
		fmt.Sprintf("submitted by %d -> submitted", ana),
		fmt.Sprintf("assigned by %d -> submitted", bo),
		fmt.Sprintf("assigned by %d -> submitted", carla))
	checkChangesetLog(t, s, open1.ID)
}

func mustReviewQueue(t *testing.T, s storage.Store, f storage.QueueFilter) []storage.QueueItem {
	t.Helper()
	items, err := s.ReviewQueue(t.Context(), f)
	if err != nil {
		t.Fatalf("ReviewQueue(%+v): %v", f, err)
	}
	return items
}

func queueIDs(items []storage.QueueItem) []int64 {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.Changeset.ID
	}
	return ids
}

// submittedIn is submitted with the changeset's box set to box, as an
// upload of those changes would set it.
func submittedIn(t *testing.T, s storage.Store, uid int64, box osmdata.Box, changes ...storage.PendingChange) int64 {
	t.Helper()
	c := mustCreateChangeset(t, s, uid)
	err := s.Stage(t.Context(), c.ID, uid, func(ctx context.Context, tx storage.StageTx) error {
		if err := tx.WritePending(ctx, changes); err != nil {
			return err
		}
		_, err := tx.UpdateChangeset(ctx, len(changes), box, true)
		return err
	})
	if err != nil {
		t.Fatalf("Stage to changeset %d: %v", c.ID, err)
	}
	mustClose(t, s, c.ID, uid)
	return c.ID
}

func degBox(minLat, minLon, maxLat, maxLon float64) osmdata.Box {
	return osmdata.Box{MinLat: deg(minLat), MinLon: deg(minLon), MaxLat: deg(maxLat), MaxLon: deg(maxLon)}
}

func testReviewQueue(t *testing.T, open Opener) {
	s := editing(t, open)
	// bakery: ana creates a shop, submitted now. fountain: bo renames
	// the imported fountain (node 3, amenity=fountain) dropping its
	// amenity tag, submitted 2 h ago. road: carla deletes the imported
	// way 20 (highway=primary), submitted 3 h ago.
	bakery := submittedIn(t, s, ana, degBox(10, 10, 10.01, 10.01),
		pendingNode(storage.Create, 5001, 1, 10.005, 10.005, "shop", "bakery"))
	fountain := submittedIn(t, s, bo, degBox(38.70, -9.16, 38.72, -9.14),
		pendingNode(storage.Modify, 3, 10, 38.71, -9.15, "name", "Chafariz"))
	road := submittedIn(t, s, carla, degBox(40, -5, 41, -4), pendingDelete(20, osmdata.Way, 5))
	mustBackdate(t, s, fountain, 2*time.Hour)
	mustBackdate(t, s, road, 3*time.Hour)
	approvedOne := reviewNode(t, s, ana, 5002)
	mustDecideReview(t, s, approve(carla, approvedOne), osmdata.ReviewApproved)
	mustCreateChangeset(t, s, ana) // open: in no queue

	for id, v := range map[int64]storage.Validation{
		bakery: {Risk: 10, Findings: []storage.Finding{
			{Rule: "no_comment", Severity: "warning", Message: "no comment"},
			{Rule: "deprecated_tag", Severity: "warning", Message: "shop=bakery?", Elements: []osmdata.Key{{Type: osmdata.Node, ID: 5001}}},
			{Rule: "no_comment", Severity: "warning", Message: "counted twice, listed once"},
		}},
		fountain: {Risk: 50, Findings: []storage.Finding{
			{Rule: "mass_deletion", Severity: "error", Message: "tags dropped"},
			{Rule: "new_contributor", Severity: "warning", Message: "first edit"},
		}},
	} {
		if err := s.SaveValidation(t.Context(), id, v); err != nil {
			t.Fatalf("SaveValidation(%d): %v", id, err)
		}
	}
	mustSetReviewScopes(t, s, bakery, 1, "tenerife")
	mustSetReviewScopes(t, s, fountain, 1, "lisboa", "amenities")
	mustDecideReview(t, s, approve(carla, fountain, "amenities"), osmdata.ReviewSubmitted)

	now := time.Now()
	box := func(b osmdata.Box) *osmdata.Box { return &b }
	for _, c := range []struct {
		name   string
		filter storage.QueueFilter
		want   []int64
	}{
		{"submitted, oldest first", storage.QueueFilter{}, []int64{road, fountain, bakery}},
		{"approved", storage.QueueFilter{States: []osmdata.ReviewState{osmdata.ReviewApproved}}, []int64{approvedOne}},
		{"submitted or approved", storage.QueueFilter{States: []osmdata.ReviewState{osmdata.ReviewSubmitted, osmdata.ReviewApproved}},
			[]int64{road, fountain, bakery, approvedOne}},
		{"min risk 10", storage.QueueFilter{MinRisk: 10}, []int64{fountain, bakery}},
		{"min risk 11", storage.QueueFilter{MinRisk: 11}, []int64{fountain}},
		{"rule deprecated_tag", storage.QueueFilter{Rule: "deprecated_tag"}, []int64{bakery}},
		{"rule mass_deletion", storage.QueueFilter{Rule: "mass_deletion"}, []int64{fountain}},
		{"rule nobody broke", storage.QueueFilter{Rule: "crossing_ways"}, nil},
		{"box on the bakery", storage.QueueFilter{Box: box(degBox(9, 9, 10.001, 10.001))}, []int64{bakery}},
		{"box touching the road's edge", storage.QueueFilter{Box: box(degBox(41, -4, 42, -3))}, []int64{road}},
		{"box over Lisboa and the road", storage.QueueFilter{Box: box(degBox(38, -10, 40.5, -4.5))}, []int64{road, fountain}},
		{"box over the sea", storage.QueueFilter{Box: box(degBox(-10, -30, -5, -20))}, nil},
		{"new tag key", storage.QueueFilter{TagKey: "shop"}, []int64{bakery}},
		{"new tag key and value", storage.QueueFilter{TagKey: "shop", TagValue: "bakery"}, []int64{bakery}},
		{"new tag key, other value", storage.QueueFilter{TagKey: "shop", TagValue: "butcher"}, nil},
		{"old tag of a modified node", storage.QueueFilter{TagKey: "amenity", TagValue: "fountain"}, []int64{fountain}},
		{"new tag of a modified node", storage.QueueFilter{TagKey: "name", TagValue: "Chafariz"}, []int64{fountain}},
		{"old tag of a deleted way", storage.QueueFilter{TagKey: "highway"}, []int64{road}},
		{"a value is not a key", storage.QueueFilter{TagKey: "fountain"}, nil},
		{"a key is not a value", storage.QueueFilter{TagKey: "amenity", TagValue: "amenity"}, nil},
		{"contributor ana", storage.QueueFilter{Contributor: ana}, []int64{bakery}},
		{"contributor carla", storage.QueueFilter{Contributor: carla}, []int64{road}},
		{"waiting over 90 minutes", storage.QueueFilter{SubmittedBefore: now.Add(-90 * time.Minute)}, []int64{road, fountain}},
		{"waiting over 150 minutes", storage.QueueFilter{SubmittedBefore: now.Add(-150 * time.Minute)}, []int64{road}},
		{"limit", storage.QueueFilter{Limit: 2}, []int64{road, fountain}},
		{"my scope first", storage.QueueFilter{Scopes: []string{"tenerife"}}, []int64{bakery, road, fountain}},
		{"my scopes first", storage.QueueFilter{Scopes: []string{"lisboa", "tenerife"}}, []int64{fountain, bakery, road}},
		{"an approved scope is nobody's work", storage.QueueFilter{Scopes: []string{"amenities"}}, []int64{road, fountain, bakery}},
		{"only my scopes", storage.QueueFilter{Scopes: []string{"lisboa", "porto"}, OnlyScopes: true}, []int64{fountain}},
		{"everything at once", storage.QueueFilter{MinRisk: 1, Rule: "new_contributor", Box: box(degBox(38, -10, 39, -9)),
			TagKey: "amenity", Contributor: bo, SubmittedBefore: now.Add(-time.Hour), Scopes: []string{"lisboa"}, OnlyScopes: true},
			[]int64{fountain}},
	} {
		got := queueIDs(mustReviewQueue(t, s, c.filter))
		if diff := cmp.Diff(c.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("queue, %s (-want +got):\n%s", c.name, diff)
		}
	}

	// What each item shows a reviewer.
	items := mustReviewQueue(t, s, storage.QueueFilter{})
	if len(items) != 3 {
		t.Fatalf("queue has %d items, want 3", len(items))
	}
	for _, it := range items {
		if it.SubmittedAt.IsZero() || !it.SubmittedAt.Equal(it.Changeset.ClosedAt) || it.Changeset.ReviewState != osmdata.ReviewSubmitted {
			t.Errorf("queue item %d submitted at %v, closed at %v, %q", it.Changeset.ID, it.SubmittedAt, it.Changeset.ClosedAt, it.Changeset.ReviewState)
		}
	}
	want := []storage.QueueItem{
		{Changeset: mustChangeset(t, s, road)},
		{Changeset: mustChangeset(t, s, fountain), Risk: 50, Rules: []string{"mass_deletion", "new_contributor"}, Errors: 1, Warnings: 1,
			Scopes: []storage.ScopeApproval{{Scope: "amenities", ApprovedBy: carla}, {Scope: "lisboa"}}},
		{Changeset: mustChangeset(t, s, bakery), Risk: 10, Rules: []string{"deprecated_tag", "no_comment"}, Warnings: 3,
			Scopes: []storage.ScopeApproval{{Scope: "tenerife"}}},
	}
	if diff := cmp.Diff(want, items, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(storage.QueueItem{}, "SubmittedAt")); diff != "" {
		t.Errorf("queue items (-want +got):\n%s", diff)
	}
	if items[0].Changeset.UID != carla || !items[2].Changeset.HasBox || items[2].Changeset.Box != degBox(10, 10, 10.01, 10.01) {
		t.Errorf("queue items lost their changeset: %+v", items)
	}
}

func testReviewEscalation(t *testing.T, open Opener) {
	s := editing(t, open)
	old := reviewNode(t, s, ana, 5001)
	fresh := reviewNode(t, s, bo, 5002)
	approvedOld := reviewNode(t, s, carla, 5003)
	mustDecideReview(t, s, approve(bo, approvedOld), osmdata.ReviewApproved)
	mustBackdate(t, s, old, 3*time.Hour)
	mustBackdate(t, s, approvedOld, 3*time.Hour)
	escalate := func(want ...int64) {
		t.Helper()
		ids, err := s.EscalateWaiting(t.Context(), time.Now().Add(-2*time.Hour))
		if err != nil {
			t.Fatalf("EscalateWaiting: %v", err)
		}
		if diff := cmp.Diff(want, ids, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("EscalateWaiting (-want +got):\n%s", diff)
		}
	}
	escalate(old)
	escalate() // once
	items := mustReviewQueue(t, s, storage.QueueFilter{})
	if diff := cmp.Diff([]int64{old, fresh}, queueIDs(items)); diff != "" || !items[0].Escalated || items[1].Escalated {
		t.Errorf("queue after escalating %d: %+v", old, items)
	}
	checkChangesetLog(t, s, old,
		fmt.Sprintf("submitted by %d -> submitted", ana),
		"escalated by 0 -> submitted")
	checkChangesetLog(t, s, fresh, fmt.Sprintf("submitted by %d -> submitted", bo))

	// A resubmission waits afresh, and is escalated again if it waits
	// too long again.
	mustDecideReview(t, s, storage.Decision{Changeset: old, Reviewer: bo, Kind: osmdata.EventChangesRequested, Comment: "fix it"},
		osmdata.ReviewChangesRequested)
	mustClose(t, s, old, ana)
	if items := mustReviewQueue(t, s, storage.QueueFilter{Contributor: ana}); len(items) != 1 || items[0].Escalated {
		t.Errorf("the resubmission is still marked escalated: %+v", items)
	}
	escalate()
	// 4 h, not 3: backdated by as much, a resubmission within the same
	// second would close at the very time the first one was escalated
	// for, which no real resubmission can (it closes later).
	mustBackdate(t, s, old, 4*time.Hour)
	escalate(old)
}

func testReviewSubscriptions(t *testing.T, open Opener) {
	s := editing(t, open)
	id := reviewNode(t, s, ana, 5001)
	other := reviewNode(t, s, bo, 5002)
	subscribers := func(id int64, want ...int64) {
		t.Helper()
		got, err := s.Subscribers(t.Context(), id)
		if err != nil {
			t.Fatalf("Subscribers(%d): %v", id, err)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("subscribers of %d (-want +got):\n%s", id, diff)
		}
	}
	subscribers(id)
	for _, uid := range []int64{carla, ana, carla} {
		if err := s.SubscribeChangeset(t.Context(), id, uid); err != nil {
			t.Fatalf("SubscribeChangeset(%d, %d): %v", id, uid, err)
		}
	}
	subscribers(id, ana, carla)
	subscribers(other)
	for range 2 {
		if err := s.UnsubscribeChangeset(t.Context(), id, carla); err != nil {
			t.Fatalf("UnsubscribeChangeset(%d, %d): %v", id, carla, err)
		}
	}
	subscribers(id, ana)
	wantErr(t, "SubscribeChangeset to an unknown changeset", s.SubscribeChangeset(t.Context(), other+1000, ana), storage.ErrNotFound)

	// Commenting subscribes the commenter, once however often they
	// comment; an event of the system subscribes nobody.
	for range 2 {
		if _, err := s.AddReviewEvent(t.Context(), osmdata.ReviewEvent{Changeset: other, Kind: osmdata.EventCommented, ActorUID: carla, Comment: "where is the bench?"}); err != nil {
			t.Fatalf("comment on %d: %v", other, err)
		}
	}
	if _, err := s.AddReviewEvent(t.Context(), osmdata.ReviewEvent{Changeset: other, Kind: osmdata.EventEscalated}); err != nil {
		t.Fatalf("escalate %d: %v", other, err)
	}
	subscribers(other, carla)
}

func testReviewEarnedTrust(t *testing.T, open Opener) {
	s := editing(t, open)
	m, ok := s.(storage.Merger)
	if !ok {
		t.Skipf("the store (%T) does not merge (storage.Merger)", s)
	}
	trust := func(uid int64, want int) {
		t.Helper()
		got, err := s.MergedWithoutRejection(t.Context(), uid)
		if err != nil {
			t.Fatalf("MergedWithoutRejection(%d): %v", uid, err)
		}
		if got != want {
			t.Errorf("MergedWithoutRejection(%d) = %d, want %d", uid, got, want)
		}
	}
	// Each editor has one imported changeset: accepted history.
	trust(ana, 1)
	trust(424242, 0)
	for _, node := range []int64{5001, 5002} {
		id := reviewNode(t, s, ana, node)
		mustDecideReview(t, s, approve(bo, id), osmdata.ReviewApproved)
		mustMerge(t, m, id)
	}
	pending := reviewNode(t, s, ana, 5003)
	trust(ana, 3)
	mustDecideReview(t, s, storage.Decision{Changeset: pending, Reviewer: bo, Kind: osmdata.EventRejected, Comment: "no"}, osmdata.ReviewRejected)
	trust(ana, 0)
	trust(bo, 1)
	id := reviewNode(t, s, ana, 5004)
	mustMerge(t, m, id)
	trust(ana, 1)
	// A rejection by the policy counts as one by a reviewer.
	if _, err := s.SetReviewState(t.Context(), reviewNode(t, s, ana, 5005), osmdata.ReviewRejected, storage.ReviewNote{Comment: "errors"}); err != nil {
		t.Fatalf("SetReviewState rejected: %v", err)
	}
	trust(ana, 0)
}
