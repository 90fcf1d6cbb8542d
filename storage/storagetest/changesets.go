package storagetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Authors of the editing tests. ana also has imported elements when a
// test imports editorsDataset, so that the users table knows her name.
const (
	ana   int64 = 7
	bo    int64 = 8
	carla int64 = 9
)

var authorNames = map[int64]string{ana: "ana", bo: "bo", carla: "carla"}

// editorNodes are one node by each author, in changesets 600 (ana), 601
// (bo) and 602 (carla), so that an import records their names in the
// users table (GET /changesets?display_name=).
func editorNodes() []osmdata.Element {
	var nodes []osmdata.Element
	for i, uid := range []int64{ana, bo, carla} {
		n := newNode(int64(100+i), 1, deg(10), deg(10))
		n.UID, n.User, n.Changeset = uid, authorNames[uid], int64(600+i)
		nodes = append(nodes, n)
	}
	return nodes
}

// editorsDataset is importDataset with editorNodes.
func editorsDataset() []osmdata.Element {
	els := append(importDataset(), editorNodes()...)
	sortOSM(els)
	return els
}

func editing(t *testing.T, open Opener) storage.Store {
	t.Helper()
	s := open(t)
	mustImport(t, s, editorsDataset())
	return s
}

func mustCreateChangeset(t *testing.T, s storage.Store, uid int64, kv ...string) osmdata.Changeset {
	t.Helper()
	c, err := s.CreateChangeset(t.Context(), storage.NewChangeset{UID: uid, User: authorNames[uid], Tags: tags(kv...)})
	if err != nil {
		t.Fatalf("CreateChangeset by %d: %v", uid, err)
	}
	return c
}

func mustChangeset(t *testing.T, s storage.Reader, id int64) osmdata.Changeset {
	t.Helper()
	c, err := s.Changeset(t.Context(), id)
	if err != nil {
		t.Fatalf("Changeset %d: %v", id, err)
	}
	return c
}

func mustBackdate(t *testing.T, s storage.Store, id int64, d time.Duration) {
	t.Helper()
	b, ok := s.(Backdater)
	if !ok {
		t.Skipf("the store (%T) cannot backdate changesets (storagetest.Backdater)", s)
	}
	if err := b.BackdateChangeset(t.Context(), id, d); err != nil {
		t.Fatalf("BackdateChangeset %d by %v: %v", id, d, err)
	}
}

// ageOpen makes changeset id (of uid) older by d while keeping it open,
// as a contributor uploading every 50 minutes would: backdating alone
// would leave it idle past its closing time.
func ageOpen(t *testing.T, s storage.Store, id, uid int64, d time.Duration) {
	t.Helper()
	for d > 0 {
		step := min(d, 50*time.Minute)
		mustBackdate(t, s, id, step)
		mustStageUpdate(t, s, id, uid, 0, nil)
		d -= step
	}
}

// checkDatabaseTimes checks what a client reads of a changeset's times:
// UTC, whole seconds, and near this machine's clock (the database runs
// here), around was.
func checkDatabaseTimes(t *testing.T, what string, got time.Time, was time.Time) {
	t.Helper()
	if got.Location() != time.UTC || got.Nanosecond() != 0 {
		t.Errorf("%s = %v: want UTC, whole seconds", what, got)
	}
	if d := got.Sub(was); d < -time.Minute || d > time.Minute {
		t.Errorf("%s = %v, %v away from %v", what, got, d, was)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

func testChangesets(t *testing.T, open Opener) {
	t.Run("CreateUpdateClose", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := editing(t, open)
		next := mustNextIDs(t, s)
		c := mustCreateChangeset(t, s, ana, "created_by", "JOSM/1.5", "comment", "a café")
		if c.ID < next.Changeset || c.ID <= bigChangesetID {
			t.Errorf("changeset id %d: want at least %d, above the imported %d", c.ID, next.Changeset, int64(bigChangesetID))
		}
		want := osmdata.Changeset{ID: c.ID, UID: ana, User: "ana", CreatedAt: c.CreatedAt, ClosedAt: c.CreatedAt.Add(storage.ChangesetIdle),
			Open: true, Tags: tags("created_by", "JOSM/1.5", "comment", "a café"), ReviewState: osmdata.ReviewNone}
		if diff := cmp.Diff(want, c, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("created changeset (-want +got):\n%s", diff)
		}
		checkDatabaseTimes(t, "created_at", c.CreatedAt, time.Now())
		if diff := cmp.Diff(c, mustChangeset(t, s, c.ID), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("changeset read back (-created +read):\n%s", diff)
		}
		if again := mustCreateChangeset(t, s, ana); again.ID <= c.ID {
			t.Errorf("second changeset id %d, not above %d", again.ID, c.ID)
		}

		_, err := s.UpdateChangesetTags(ctx, c.ID, bo, tags("comment", "mine"))
		wantErr(t, "tags by another user", err, storage.ErrNotOwner)
		_, err = s.UpdateChangesetTags(ctx, c.ID+1000, ana, tags("comment", "none"))
		wantErr(t, "tags of an unknown changeset", err, storage.ErrNotFound)
		u, err := s.UpdateChangesetTags(ctx, c.ID, ana, tags("zz", "last", "comment", "replaced"))
		if err != nil {
			t.Fatalf("UpdateChangesetTags: %v", err)
		}
		if diff := cmp.Diff(tags("zz", "last", "comment", "replaced"), mustChangeset(t, s, c.ID).Tags); diff != "" {
			t.Errorf("tags replaced, in their order (-want +got):\n%s", diff)
		}
		if !u.Open || u.ReviewState != osmdata.ReviewNone {
			t.Errorf("after a tag update: open %v, review state %q; want open, none", u.Open, u.ReviewState)
		}

		_, err = s.CloseChangeset(ctx, c.ID, bo)
		wantErr(t, "close by another user", err, storage.ErrNotOwner)
		_, err = s.CloseChangeset(ctx, c.ID+1000, ana)
		wantErr(t, "close of an unknown changeset", err, storage.ErrNotFound)
		closed, err := s.CloseChangeset(ctx, c.ID, ana)
		if err != nil {
			t.Fatalf("CloseChangeset: %v", err)
		}
		read := mustChangeset(t, s, c.ID)
		if diff := cmp.Diff(closed, read, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("closed changeset read back (-returned +read):\n%s", diff)
		}
		if read.Open || read.ReviewState != osmdata.ReviewSubmitted {
			t.Errorf("closed changeset: open %v, review state %q; want closed, submitted", read.Open, read.ReviewState)
		}
		checkDatabaseTimes(t, "closed_at", read.ClosedAt, time.Now())
		if read.ClosedAt.Before(read.CreatedAt) {
			t.Errorf("closed at %v, before it was created at %v", read.ClosedAt, read.CreatedAt)
		}
		_, err = s.CloseChangeset(ctx, c.ID, ana)
		wantErr(t, "closing again", err, storage.ErrChangesetClosed)
		_, err = s.UpdateChangesetTags(ctx, c.ID, ana, tags("comment", "late"))
		wantErr(t, "tags of a closed changeset", err, storage.ErrChangesetClosed)
		err = s.Stage(ctx, c.ID, ana, func(ctx context.Context, tx storage.StageTx) error { return nil })
		wantErr(t, "upload to a closed changeset", err, storage.ErrChangesetClosed)
		if got := mustChangeset(t, s, c.ID); !slices.Equal(got.Tags, tags("zz", "last", "comment", "replaced")) {
			t.Errorf("refused writes changed the tags to %v", got.Tags)
		}
	})

	t.Run("ClosingTime", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := editing(t, open)
		// An upload moves closed_at to an hour from now, but never past
		// 24 hours after the changeset opened.
		c := mustCreateChangeset(t, s, ana)
		ageOpen(t, s, c.ID, ana, 23*time.Hour+30*time.Minute)
		old := mustChangeset(t, s, c.ID)
		updated := mustStageUpdate(t, s, c.ID, ana, 1, nil)
		if want := old.CreatedAt.Add(storage.ChangesetMaxAge); !updated.ClosedAt.Equal(want) {
			t.Errorf("closed_at after an upload 23.5 h in: %v, want created_at + 24 h = %v", updated.ClosedAt, want)
		}
		if !updated.Open {
			t.Errorf("changeset closed after an upload within its 24 h")
		}
		fresh := mustCreateChangeset(t, s, ana)
		mustBackdate(t, s, fresh.ID, 10*time.Minute)
		updated = mustStageUpdate(t, s, fresh.ID, ana, 1, nil)
		checkDatabaseTimes(t, "closed_at after an upload", updated.ClosedAt, time.Now().Add(storage.ChangesetIdle))

		// Past its closing time a changeset reads as closed before any
		// sweep, and refuses writes.
		idle := mustCreateChangeset(t, s, ana)
		mustBackdate(t, s, idle.ID, 2*time.Hour)
		if got := mustChangeset(t, s, idle.ID); got.Open {
			t.Errorf("changeset idle for an hour reads as open (closed_at %v)", got.ClosedAt)
		}
		err := s.Stage(ctx, idle.ID, ana, func(ctx context.Context, tx storage.StageTx) error { return nil })
		wantErr(t, "upload to an idle changeset", err, storage.ErrChangesetClosed)
		_, err = s.UpdateChangesetTags(ctx, idle.ID, ana, tags("a", "b"))
		wantErr(t, "tags of an idle changeset", err, storage.ErrChangesetClosed)

		// The 10,000th change closes it.
		full := mustCreateChangeset(t, s, bo)
		got := mustStageUpdate(t, s, full.ID, bo, storage.MaxChangesetChanges, nil)
		if got.Open || got.NumChanges != storage.MaxChangesetChanges {
			t.Errorf("after %d changes: open %v, %d changes; want closed", storage.MaxChangesetChanges, got.Open, got.NumChanges)
		}
		err = s.Stage(ctx, full.ID, bo, func(ctx context.Context, tx storage.StageTx) error { return nil })
		wantErr(t, "upload to a full changeset", err, storage.ErrChangesetClosed)

		// The sweeper closes and submits the idle and the full one, once.
		swept, err := s.CloseDueChangesets(ctx)
		if err != nil {
			t.Fatalf("CloseDueChangesets: %v", err)
		}
		slices.Sort(swept)
		if diff := cmp.Diff([]int64{idle.ID, full.ID}, swept); diff != "" {
			t.Errorf("swept changesets (-want +got):\n%s", diff)
		}
		for _, id := range []int64{idle.ID, full.ID} {
			got := mustChangeset(t, s, id)
			if got.Open || got.ReviewState != osmdata.ReviewSubmitted {
				t.Errorf("changeset %d after the sweep: open %v, review state %q; want closed, submitted", id, got.Open, got.ReviewState)
			}
		}
		if got := mustChangeset(t, s, idle.ID); !got.ClosedAt.Equal(idle.ClosedAt.Add(-2 * time.Hour)) {
			t.Errorf("swept changeset closed_at %v, want the time it became due, %v", got.ClosedAt, idle.ClosedAt.Add(-2*time.Hour))
		}
		if again, err := s.CloseDueChangesets(ctx); err != nil || len(again) != 0 {
			t.Errorf("second sweep: %v, %v; want nothing", again, err)
		}
		if got := mustChangeset(t, s, c.ID); !got.Open {
			t.Errorf("the sweep closed changeset %d, which is not due", c.ID)
		}
	})

	t.Run("ConcurrentSweepers", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := editing(t, open)
		var due []int64
		for i := range 20 {
			c := mustCreateChangeset(t, s, []int64{ana, bo}[i%2])
			mustBackdate(t, s, c.ID, 90*time.Minute)
			due = append(due, c.ID)
		}
		notDue := mustCreateChangeset(t, s, carla)
		for round := range 3 {
			swept := make([][]int64, writers)
			errs := race(writers, func(i int) error {
				var err error
				swept[i], err = s.CloseDueChangesets(ctx)
				return err
			})
			var all []int64
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d: sweeper %d: %v", round, i, err)
				}
				all = append(all, swept[i]...)
			}
			slices.Sort(all)
			want := due
			if round > 0 {
				want = nil
			}
			if diff := cmp.Diff(want, all, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("round %d: changesets closed by %d concurrent sweepers, all together (-want +got):\n%s", round, writers, diff)
			}
		}
		if !mustChangeset(t, s, notDue.ID).Open {
			t.Errorf("a changeset that was not due was closed")
		}
	})

	t.Run("ReviewState", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := editing(t, open)
		c := mustCreateChangeset(t, s, ana)
		if _, err := s.CloseChangeset(ctx, c.ID, ana); err != nil {
			t.Fatal(err)
		}
		_, err := s.SetReviewState(ctx, c.ID+1000, osmdata.ReviewApproved, storage.ReviewNote{})
		wantErr(t, "review of an unknown changeset", err, storage.ErrNotFound)
		if _, err := s.SetReviewState(ctx, c.ID, osmdata.ReviewNone, storage.ReviewNote{}); err == nil {
			t.Errorf("review state set back to none")
		}
		// Changes requested reopen the changeset, with a fresh 24 h
		// window: it was opened 30 h ago, an upload still gives it an
		// hour.
		mustBackdate(t, s, c.ID, 30*time.Hour)
		got, err := s.SetReviewState(ctx, c.ID, osmdata.ReviewChangesRequested, storage.ReviewNote{})
		if err != nil {
			t.Fatalf("SetReviewState changes_requested: %v", err)
		}
		if !got.Open || got.ReviewState != osmdata.ReviewChangesRequested {
			t.Errorf("changes requested: open %v, state %q; want reopened", got.Open, got.ReviewState)
		}
		checkDatabaseTimes(t, "closed_at of a reopened changeset", got.ClosedAt, time.Now().Add(storage.ChangesetIdle))
		updated := mustStageUpdate(t, s, c.ID, ana, 2, nil)
		checkDatabaseTimes(t, "closed_at after an upload to a reopened changeset", updated.ClosedAt, time.Now().Add(storage.ChangesetIdle))
		resubmitted, err := s.CloseChangeset(ctx, c.ID, ana)
		if err != nil || resubmitted.ReviewState != osmdata.ReviewSubmitted || resubmitted.Open {
			t.Errorf("closing a reopened changeset: %+v, %v; want closed, submitted", resubmitted, err)
		}
		for _, st := range []osmdata.ReviewState{osmdata.ReviewApproved, osmdata.ReviewMerged} {
			got, err := s.SetReviewState(ctx, c.ID, st, storage.ReviewNote{})
			if err != nil || got.ReviewState != st || got.Open {
				t.Errorf("SetReviewState %q: %+v, %v", st, got, err)
			}
			if read := mustChangeset(t, s, c.ID); read.ReviewState != st {
				t.Errorf("review state read back %q, want %q", read.ReviewState, st)
			}
		}
		// Rejecting an open changeset closes it.
		open := mustCreateChangeset(t, s, bo)
		if got, err := s.SetReviewState(ctx, open.ID, osmdata.ReviewRejected, storage.ReviewNote{}); err != nil || got.Open {
			t.Errorf("rejecting an open changeset: %+v, %v; want it closed", got, err)
		}
	})

	t.Run("Query", func(t *testing.T) { t.Parallel(); testChangesetQuery(t, open) })
}

// mustStageUpdate records an upload of n changes (and a box) on a
// changeset and returns what UpdateChangeset returned.
func mustStageUpdate(t *testing.T, s storage.Store, id, uid int64, n int, box *osmdata.Box) osmdata.Changeset {
	t.Helper()
	var got osmdata.Changeset
	err := s.Stage(t.Context(), id, uid, func(ctx context.Context, tx storage.StageTx) error {
		var err error
		if box != nil {
			got, err = tx.UpdateChangeset(ctx, n, *box, true)
		} else {
			got, err = tx.UpdateChangeset(ctx, n, osmdata.Box{}, false)
		}
		return err
	})
	if err != nil {
		t.Fatalf("Stage (UpdateChangeset %d) on changeset %d: %v", n, id, err)
	}
	return got
}

func testChangesetQuery(t *testing.T, open Opener) {
	ctx := t.Context()
	s := open(t)
	mustImport(t, s, editorNodes())
	imported := []int64{602, 601, 600} // created at the same time: by id, descending
	box := func(minLat, minLon, maxLat, maxLon float64) *osmdata.Box {
		return &osmdata.Box{MinLat: deg(minLat), MinLon: deg(minLon), MaxLat: deg(maxLat), MaxLon: deg(maxLon)}
	}
	// Each changeset is created, aged, then uploaded to.
	lisbon := mustCreateChangeset(t, s, ana, "comment", "lisbon")
	ageOpen(t, s, lisbon.ID, ana, 5*time.Hour)
	mustStageUpdate(t, s, lisbon.ID, ana, 3, box(38.70, -9.20, 38.75, -9.10))
	rio := mustCreateChangeset(t, s, bo, "comment", "rio")
	ageOpen(t, s, rio.ID, bo, 4*time.Hour)
	mustStageUpdate(t, s, rio.ID, bo, 1, box(-22.95, -43.20, -22.90, -43.15))
	empty := mustCreateChangeset(t, s, ana, "comment", "no box")
	mustBackdate(t, s, empty.ID, 3*time.Hour)
	if swept, err := s.CloseDueChangesets(ctx); err != nil || !slices.Equal(swept, []int64{empty.ID}) {
		t.Fatalf("CloseDueChangesets: %v, %v; want [%d]", swept, err, empty.ID)
	}
	rejected := mustCreateChangeset(t, s, ana, "comment", "rejected")
	ageOpen(t, s, rejected.ID, ana, 2*time.Hour)
	mustStageUpdate(t, s, rejected.ID, ana, 1, box(38.71, -9.15, 38.72, -9.14))
	if _, err := s.SetReviewState(ctx, rejected.ID, osmdata.ReviewRejected, storage.ReviewNote{}); err != nil {
		t.Fatal(err)
	}
	recent := mustCreateChangeset(t, s, carla, "comment", "recent")
	mustStageUpdate(t, s, recent.ID, carla, 1, box(20, 20, 20, 20))
	// Created in the same second as recent, or a later one: first either
	// way (newest first, then the higher id).
	latest := mustCreateChangeset(t, s, carla, "comment", "latest")

	ids := func(cs []osmdata.Changeset) []int64 {
		out := []int64{}
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	createdAt := func(id int64) time.Time { return mustChangeset(t, s, id).CreatedAt }
	closedAt := func(id int64) time.Time { return mustChangeset(t, s, id).ClosedAt }
	with := func(ids []int64, more ...int64) []int64 { return append(slices.Clone(ids), more...) }
	local := []int64{latest.ID, recent.ID, rejected.ID, empty.ID, rio.ID, lisbon.ID}
	for _, tc := range []struct {
		name string
		q    storage.ChangesetQuery
		want []int64
	}{
		{"All", storage.ChangesetQuery{}, with(local, imported...)},
		{"Limit", storage.ChangesetQuery{Limit: 2}, local[:2]},
		{"User", storage.ChangesetQuery{UID: ana}, []int64{rejected.ID, empty.ID, lisbon.ID, 600}},
		{"DisplayName", storage.ChangesetQuery{DisplayName: "bo"}, []int64{rio.ID, 601}},
		{"UnknownDisplayName", storage.ChangesetQuery{DisplayName: "nobody"}, nil},
		{"IDs", storage.ChangesetQuery{IDs: []int64{rio.ID, recent.ID, 601, 1}}, []int64{recent.ID, rio.ID, 601}},
		// Overlap, edges excluded, as openstreetmap-website has it; a
		// changeset without nodes has no box and never matches.
		{"BoxOverlap", storage.ChangesetQuery{Box: box(38.74, -9.12, 39, -9)}, []int64{lisbon.ID}},
		{"BoxAround", storage.ChangesetQuery{Box: box(38, -10, 39, -9)}, []int64{rejected.ID, lisbon.ID}},
		{"BoxTouchingEdge", storage.ChangesetQuery{Box: box(38.75, -9.10, 39, -9)}, nil},
		{"BoxWorld", storage.ChangesetQuery{Box: box(-90, -180, 90, 180)}, with([]int64{recent.ID, rejected.ID, rio.ID, lisbon.ID}, imported...)},
		{"Open", storage.ChangesetQuery{OnlyOpen: true}, []int64{latest.ID, recent.ID, rio.ID, lisbon.ID}},
		{"Closed", storage.ChangesetQuery{OnlyClosed: true}, with([]int64{rejected.ID, empty.ID}, imported...)},
		{"ReviewStates", storage.ChangesetQuery{ReviewStates: []osmdata.ReviewState{osmdata.ReviewRejected, osmdata.ReviewSubmitted}}, []int64{rejected.ID, empty.ID}},
		{"NoReviewYet", storage.ChangesetQuery{ReviewStates: []osmdata.ReviewState{osmdata.ReviewNone}}, []int64{latest.ID, recent.ID, rio.ID, lisbon.ID}},
		{"Merged", storage.ChangesetQuery{ReviewStates: []osmdata.ReviewState{osmdata.ReviewMerged}}, imported},
		{"CreatedBefore", storage.ChangesetQuery{CreatedBefore: createdAt(rio.ID)}, with([]int64{rio.ID, lisbon.ID}, imported...)},
		{"ClosedAfter", storage.ChangesetQuery{ClosedAfter: closedAt(rejected.ID).Add(time.Second)}, []int64{latest.ID, recent.ID, rio.ID, lisbon.ID}},
		{"TimeWindow", storage.ChangesetQuery{ClosedAfter: closedAt(empty.ID), CreatedBefore: createdAt(rejected.ID)}, []int64{rejected.ID, empty.ID, rio.ID, lisbon.ID}},
		{"Combined", storage.ChangesetQuery{UID: ana, OnlyOpen: true}, []int64{lisbon.ID}},
	} {
		got, err := s.Changesets(ctx, tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if diff := cmp.Diff(tc.want, ids(got), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: %+v: changeset ids (-want +got):\n%s", tc.name, tc.q, diff)
		}
	}
	// A list returns what Changeset returns: review state, number of
	// changes, box.
	got, err := s.Changesets(ctx, storage.ChangesetQuery{IDs: []int64{lisbon.ID, rejected.ID, empty.ID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got {
		if diff := cmp.Diff(mustChangeset(t, s, c.ID), c, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("changeset %d listed (-read +listed):\n%s", c.ID, diff)
		}
	}
	if l := mustChangeset(t, s, lisbon.ID); l.NumChanges != 3 || !l.HasBox || *box(38.70, -9.20, 38.75, -9.10) != l.Box {
		t.Errorf("lisbon changeset: %d changes, box %v %+v; want 3 changes in its box", l.NumChanges, l.HasBox, l.Box)
	}
}
