package storagetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// queueing opens a store with mergeDataset, for the merge queue's tests
// (some of them merge).
func queueing(t *testing.T, open Opener) storage.Store {
	t.Helper()
	s, _ := merging(t, open)
	return s
}

// submittedNode submits a changeset of uid that creates node id, so that
// it also merges cleanly.
func submittedNode(t *testing.T, s storage.Store, uid, node int64) int64 {
	t.Helper()
	return submitted(t, s, uid, nil, []storage.PendingChange{pendingNode(storage.Create, node, 1, 1, float64(node%100))})
}

// mustUndecided returns the ids UndecidedChangesets lists, checking that
// each one is submitted and closed.
func mustUndecided(t *testing.T, s storage.Store, limit int) []int64 {
	t.Helper()
	cs, err := s.UndecidedChangesets(t.Context(), limit)
	if err != nil {
		t.Fatalf("UndecidedChangesets(%d): %v", limit, err)
	}
	ids := []int64{}
	for _, c := range cs {
		if c.ReviewState != osmdata.ReviewSubmitted || c.Open {
			t.Errorf("undecided changeset %d is %q, open %v; want submitted, closed", c.ID, c.ReviewState, c.Open)
		}
		ids = append(ids, c.ID)
	}
	return ids
}

func mustApproved(t *testing.T, s storage.Store, limit int) []int64 {
	t.Helper()
	ids, err := s.ApprovedChangesets(t.Context(), limit)
	if err != nil {
		t.Fatalf("ApprovedChangesets(%d): %v", limit, err)
	}
	return ids
}

// checkQueue checks both lists, read with a limit above their lengths.
func checkQueue(t *testing.T, s storage.Store, what string, undecided, approved []int64) {
	t.Helper()
	if diff := cmp.Diff(undecided, mustUndecided(t, s, 100), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s: undecided changesets (-want +got):\n%s", what, diff)
	}
	if diff := cmp.Diff(approved, mustApproved(t, s, 100), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("%s: approved changesets (-want +got):\n%s", what, diff)
	}
}

func mustDecide(t *testing.T, s storage.Store, id int64, approve bool) bool {
	t.Helper()
	ok, err := s.DecideChangeset(t.Context(), id, approve)
	if err != nil {
		t.Fatalf("DecideChangeset(%d, approve %v): %v", id, approve, err)
	}
	return ok
}

func checkReviewState(t *testing.T, s storage.Store, id int64, want osmdata.ReviewState) {
	t.Helper()
	if c := mustChangeset(t, s, id); c.ReviewState != want || c.Open {
		t.Errorf("changeset %d is %q, open %v; want %q, closed", id, c.ReviewState, c.Open, want)
	}
}

func mustSetReviewState(t *testing.T, s storage.Store, id int64, state osmdata.ReviewState) {
	t.Helper()
	if _, err := s.SetReviewState(t.Context(), id, state, storage.ReviewNote{}); err != nil {
		t.Fatalf("SetReviewState(%d, %q): %v", id, state, err)
	}
}

func mustClose(t *testing.T, s storage.Store, id, uid int64) {
	t.Helper()
	if _, err := s.CloseChangeset(t.Context(), id, uid); err != nil {
		t.Fatalf("CloseChangeset %d: %v", id, err)
	}
}

func testMergeQueue(t *testing.T, open Opener) {
	t.Run("Undecided", func(t *testing.T) {
		t.Parallel()
		s := queueing(t, open)
		checkQueue(t, s, "before any changeset", nil, nil)
		stillOpen := mustCreateChangeset(t, s, carla)
		a := submittedNode(t, s, ana, 50)
		b := submittedNode(t, s, bo, 51)
		checkQueue(t, s, "two closed changesets", []int64{a, b}, nil)
		if mustDecide(t, s, stillOpen.ID, true) {
			t.Errorf("DecideChangeset approved changeset %d, which is still open", stillOpen.ID)
		}
		if c := mustChangeset(t, s, stillOpen.ID); !c.Open || c.ReviewState != osmdata.ReviewNone {
			t.Errorf("changeset %d after a refused decision: %q, open %v; want still open", c.ID, c.ReviewState, c.Open)
		}
	})

	t.Run("Approve", func(t *testing.T) {
		t.Parallel()
		s := queueing(t, open)
		a := submittedNode(t, s, ana, 50)
		b := submittedNode(t, s, bo, 51)
		if !mustDecide(t, s, a, true) {
			t.Fatalf("DecideChangeset(%d, approve) = false on an undecided changeset", a)
		}
		checkReviewState(t, s, a, osmdata.ReviewApproved)
		checkQueue(t, s, "after approving one", []int64{b}, []int64{a})
	})

	t.Run("DecideTwice", func(t *testing.T) {
		t.Parallel()
		s := queueing(t, open)
		approved := submittedNode(t, s, ana, 50)
		queued := submittedNode(t, s, bo, 51)
		if !mustDecide(t, s, approved, true) || !mustDecide(t, s, queued, false) {
			t.Fatalf("the first decisions on %d and %d reported false", approved, queued)
		}
		for _, approve := range []bool{true, false} {
			if mustDecide(t, s, approved, approve) {
				t.Errorf("DecideChangeset(%d, approve %v) = true on an approved changeset", approved, approve)
			}
			if mustDecide(t, s, queued, approve) {
				t.Errorf("DecideChangeset(%d, approve %v) = true on a changeset already left to reviewers", queued, approve)
			}
		}
		checkReviewState(t, s, approved, osmdata.ReviewApproved)
		checkReviewState(t, s, queued, osmdata.ReviewSubmitted)
		checkQueue(t, s, "after second decisions", nil, []int64{approved})
	})

	t.Run("LeftToReviewers", func(t *testing.T) {
		t.Parallel()
		s := queueing(t, open)
		a := submittedNode(t, s, ana, 50)
		if !mustDecide(t, s, a, false) {
			t.Fatalf("DecideChangeset(%d, !approve) = false on an undecided changeset", a)
		}
		checkReviewState(t, s, a, osmdata.ReviewSubmitted)
		checkQueue(t, s, "left to reviewers", nil, nil)
		// A reviewer's approval puts it where the merge job looks.
		mustSetReviewState(t, s, a, osmdata.ReviewApproved)
		checkQueue(t, s, "approved by a reviewer", nil, []int64{a})
		if mustDecide(t, s, a, false) {
			t.Errorf("DecideChangeset(%d) = true after a reviewer approved it", a)
		}
		checkReviewState(t, s, a, osmdata.ReviewApproved)
	})

	t.Run("Resubmitted", func(t *testing.T) {
		t.Parallel()
		s := queueing(t, open)
		a := submittedNode(t, s, ana, 50)
		b := submittedNode(t, s, bo, 51)
		mustDecide(t, s, a, false)
		mustDecide(t, s, b, true)
		mustSetReviewState(t, s, a, osmdata.ReviewConflicted)
		checkQueue(t, s, "reopened as conflicted", nil, []int64{b})
		mustClose(t, s, a, ana)
		checkQueue(t, s, "closed again", []int64{a}, []int64{b})
		if !mustDecide(t, s, a, true) {
			t.Errorf("DecideChangeset(%d) = false on its second submission", a)
		}
		// A reviewer sending an approved changeset back to submitted
		// submits it again too.
		mustSetReviewState(t, s, b, osmdata.ReviewSubmitted)
		checkQueue(t, s, "approved one set back to submitted", []int64{b}, []int64{a})
	})

	t.Run("SweptIsUndecided", func(t *testing.T) {
		t.Parallel()
		s := queueing(t, open)
		idle := mustCreateChangeset(t, s, ana)
		mustBackdate(t, s, idle.ID, 2*time.Hour)
		reopened := submittedNode(t, s, bo, 51)
		mustDecide(t, s, reopened, false)
		mustSetReviewState(t, s, reopened, osmdata.ReviewChangesRequested)
		mustBackdate(t, s, reopened, 2*time.Hour)
		swept, err := s.CloseDueChangesets(t.Context())
		if err != nil {
			t.Fatalf("CloseDueChangesets: %v", err)
		}
		slices.Sort(swept)
		if diff := cmp.Diff([]int64{idle.ID, reopened}, swept); diff != "" {
			t.Fatalf("swept (-want +got):\n%s", diff)
		}
		checkQueue(t, s, "after the sweep", []int64{idle.ID, reopened}, nil)
	})

	t.Run("Merged", func(t *testing.T) {
		t.Parallel()
		s := queueing(t, open)
		approved := submittedNode(t, s, ana, 50)
		undecided := submittedNode(t, s, bo, 51)
		mustDecide(t, s, approved, true)
		mustMerge(t, s, approved)
		mustMerge(t, s, undecided)
		checkQueue(t, s, "after both merged", nil, nil)
		if mustDecide(t, s, undecided, true) {
			t.Errorf("DecideChangeset(%d) = true on a merged changeset", undecided)
		}
		checkReviewState(t, s, undecided, osmdata.ReviewMerged)

		// A merge that conflicts reopens the changeset: out of both
		// lists until the author closes it again.
		first := submitted(t, s, ana, nil, []storage.PendingChange{pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "bench", "backrest", "yes")})
		second := submitted(t, s, bo, nil, []storage.PendingChange{pendingNode(storage.Modify, 3, 2, 10.2, 10.2, "amenity", "picnic_table")})
		mustDecide(t, s, second, true)
		mustMerge(t, s, first)
		wantConflict(t, s, second, "base_moved node 3")
		checkQueue(t, s, "after a conflicted merge", nil, nil)
		mustClose(t, s, second, bo)
		checkQueue(t, s, "conflicted one closed again", []int64{second}, nil)
	})

	t.Run("Limit", func(t *testing.T) {
		t.Parallel()
		s := queueing(t, open)
		var ids []int64
		for i := range 5 {
			ids = append(ids, submittedNode(t, s, ana, int64(50+i)))
		}
		for _, limit := range []int{1, 3, 5, 10} {
			if diff := cmp.Diff(ids[:min(limit, len(ids))], mustUndecided(t, s, limit)); diff != "" {
				t.Errorf("UndecidedChangesets(%d) (-want +got):\n%s", limit, diff)
			}
		}
		// Approved in reverse: listed lowest id first all the same.
		for i := len(ids) - 1; i >= 0; i-- {
			mustDecide(t, s, ids[i], true)
		}
		for _, limit := range []int{1, 3, 5, 10} {
			if diff := cmp.Diff(ids[:min(limit, len(ids))], mustApproved(t, s, limit)); diff != "" {
				t.Errorf("ApprovedChangesets(%d) (-want +got):\n%s", limit, diff)
			}
		}
	})

	t.Run("OldestSubmissionFirst", func(t *testing.T) {
		t.Parallel()
		s := queueing(t, open)
		a := submittedNode(t, s, ana, 50)
		b := submittedNode(t, s, bo, 51)
		c := submittedNode(t, s, carla, 52)
		mustBackdate(t, s, c, 3*time.Hour)
		mustBackdate(t, s, a, 2*time.Hour)
		mustBackdate(t, s, b, time.Hour)
		checkQueue(t, s, "submitted c, a, b", []int64{c, a, b}, nil)
		if diff := cmp.Diff([]int64{c, a}, mustUndecided(t, s, 2)); diff != "" {
			t.Errorf("UndecidedChangesets(2) (-want +got):\n%s", diff)
		}
		// Its latest submission is what counts.
		mustSetReviewState(t, s, c, osmdata.ReviewConflicted)
		mustClose(t, s, c, carla)
		checkQueue(t, s, "c resubmitted", []int64{a, b, c}, nil)
	})

	t.Run("ConcurrentDecisions", func(t *testing.T) {
		t.Parallel()
		s := queueing(t, open)
		const n = 10
		var ids []int64
		for i := range n {
			ids = append(ids, submittedNode(t, s, []int64{ana, bo, carla}[i%3], int64(50+i)))
		}
		// Two deciders per changeset, one approving and one not, all
		// released at once.
		won := make([]bool, 2*n)
		errs := race(2*n, func(i int) error {
			var err error
			won[i], err = s.DecideChangeset(t.Context(), ids[i/2], i%2 == 0)
			return err
		})
		var approved []int64
		for j, id := range ids {
			for _, err := range errs[2*j : 2*j+2] {
				if err != nil {
					t.Fatalf("DecideChangeset(%d): %v", id, err)
				}
			}
			approver, leaver := won[2*j], won[2*j+1]
			if approver == leaver {
				t.Errorf("changeset %d: the approving decider reported %v, the other %v; want exactly one true", id, approver, leaver)
				continue
			}
			want := osmdata.ReviewSubmitted
			if approver {
				want = osmdata.ReviewApproved
				approved = append(approved, id)
			}
			checkReviewState(t, s, id, want)
		}
		checkQueue(t, s, fmt.Sprintf("after %d racing deciders", 2*n), nil, approved)
	})
}
