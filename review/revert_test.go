package review_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
)

// approveRevert checks that the revert's author cannot approve it and
// that another reviewer can, after which it merges.
func approveRevert(t *testing.T, w *reviewWorld, rev review.Revert, author, other review.Caller) {
	t.Helper()
	ctx := context.Background()
	step(t, w.job) // the Gate validates the submission
	w.mustState(rev.Changeset.ID, osmdata.ReviewSubmitted)
	if _, err := w.svc.Approve(ctx, author, rev.Changeset.ID, ""); !errors.Is(err, storage.ErrSelfReview) {
		t.Fatalf("the revert's author approving it: %v, want ErrSelfReview", err)
	}
	if _, err := w.svc.Approve(ctx, other, rev.Changeset.ID, "right, this undoes it"); err != nil {
		t.Fatalf("another reviewer approving revert %d: %v", rev.Changeset.ID, err)
	}
	step(t, w.job)
	w.mustState(rev.Changeset.ID, osmdata.ReviewMerged)
}

// A merged changeset reverted after someone else edited other tags of one
// of its elements: the revert keeps the later edit and undoes the
// original's; an element whose later edit changed the same tag is left,
// naming that edit; an element the changeset created is deleted.
func TestRevertKeepsLaterEditOfAnotherTag(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			w := newReviewWorld(t, b.open(t))
			ctx := context.Background()
			ana, carl, dan := w.contributor("ana", true), w.contributor("carl", true), w.contributor("dan", true)
			rita, rob := w.reviewer("rita"), w.reviewer("rob")

			_, res := w.edit(ana, createNode(-1, 2, 2, tag("amenity", "bench")),
				createNode(-2, 2, 2.001, tag("amenity", "waste_basket"), tag("name", "Alpha")),
				createNode(-3, 2.001, 2), createNode(-4, 2.001, 2.001),
				wayOp(storage.Create, -1, 0, []int64{-3, -4}, tag("highway", "service")))
			bench, basket := res.Entries[0].NewID, res.Entries[1].NewID
			g1, g2, lane := res.Entries[2].NewID, res.Entries[3].NewID, res.Entries[4].NewID
			// The original also deletes a lane and its nodes, which the
			// revert brings back as they were.
			original, res := w.edit(carl,
				modifyNode(bench, 1, 2, 2, tag("amenity", "bench"), tag("backrest", "yes")),
				modifyNode(basket, 1, 2, 2.001, tag("amenity", "waste_basket"), tag("name", "Beta")),
				createNode(-1, 2, 2.002, tag("amenity", "bench")),
				wayOp(storage.Delete, lane, 1, nil), nodeDeletion(g1, 1), nodeDeletion(g2, 1))
			created := res.Entries[2].NewID
			later, _ := w.edit(dan,
				modifyNode(bench, 2, 2, 2, tag("amenity", "bench"), tag("backrest", "yes"), tag("colour", "green")),
				modifyNode(basket, 2, 2, 2.001, tag("amenity", "waste_basket"), tag("name", "Gamma")))
			w.mustState(original, osmdata.ReviewMerged)
			w.mustState(later, osmdata.ReviewMerged)

			if _, err := w.svc.RevertChangeset(ctx, review.Caller{}, original, ""); !errors.Is(err, review.ErrForbidden) {
				t.Errorf("an anonymous revert: %v, want ErrForbidden", err)
			}
			bob := w.contributor("bob", false)
			waiting, _ := w.edit(bob, createNode(-1, 3, 3, tag("amenity", "bench")))
			if _, err := w.svc.RevertChangeset(ctx, rita, waiting, ""); !errors.Is(err, storage.ErrReviewState) {
				t.Errorf("reverting submitted changeset %d: %v, want ErrReviewState", waiting, err)
			}

			rev, err := w.svc.RevertChangeset(ctx, rita, original, "")
			if err != nil {
				t.Fatalf("revert changeset %d: %v", original, err)
			}
			want := []osmdata.Key{nodeKey(bench), nodeKey(g1), nodeKey(g2), nodeKey(created), wayKey(lane)}
			sortKeys(want)
			if !slices.Equal(rev.Reverted, want) {
				t.Errorf("reverted %v, want %v", rev.Reverted, want)
			}
			if len(rev.Skipped) != 1 || rev.Skipped[0].Element != nodeKey(basket) || rev.Skipped[0].By != later ||
				!strings.Contains(rev.Skipped[0].Reason, "tag name") {
				t.Errorf("skipped %+v, want node %d kept by changeset %d's change of tag name", rev.Skipped, basket, later)
			}
			cs := rev.Changeset
			comment, _ := cs.Tags.Get("comment")
			createdBy, _ := cs.Tags.Get("created_by")
			if cs.UID != rita.UID || cs.Open || cs.ReviewState != osmdata.ReviewSubmitted ||
				!strings.Contains(comment, strconv.FormatInt(original, 10)) || createdBy != review.RevertCreatedBy {
				t.Errorf("revert changeset %+v, want rita's, submitted, tagged with changeset %d", cs, original)
			}

			approveRevert(t, w, rev, rita, rob)
			got := w.current(osmdata.Node, bench)
			if want := map[string]string{"amenity": "bench", "colour": "green"}; got.Version != 4 || !maps.Equal(tagMap(got.Tags), want) {
				t.Errorf("node %d after the revert: v%d %v, want v4 %v", bench, got.Version, got.Tags, want)
			}
			if got := w.current(osmdata.Node, created); got.Visible {
				t.Errorf("node %d, created by the reverted changeset, is still visible: %+v", created, got)
			}
			if got := w.current(osmdata.Node, basket); tagMap(got.Tags)["name"] != "Gamma" || got.Version != 3 {
				t.Errorf("node %d after the revert: v%d %v, want v3 name=Gamma", basket, got.Version, got.Tags)
			}
			if got := w.current(osmdata.Way, lane); !got.Visible || got.Version != 3 || !slices.Equal(got.Nodes, []int64{g1, g2}) ||
				tagMap(got.Tags)["highway"] != "service" {
				t.Errorf("way %d after the revert: %+v, want v3 highway=service on nodes %d, %d", lane, got, g1, g2)
			}
			for _, n := range []int64{g1, g2} {
				if got := w.current(osmdata.Node, n); !got.Visible || got.Version != 3 {
					t.Errorf("node %d after the revert: %+v, want visible v3", n, got)
				}
			}
		})
	}
}

// A revert leaves a node the reverted changeset created when a later way
// uses it, and reports that way's changeset; the rest of the changeset
// (its way and the other node) is undone. Reverting again then finds
// nothing to do.
func TestRevertSkipsNodeALaterWayUses(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			w := newReviewWorld(t, b.open(t))
			ctx := context.Background()
			carl, dan := w.contributor("carl", true), w.contributor("dan", true)
			rita, rob := w.reviewer("rita"), w.reviewer("rob")

			original, res := w.edit(carl, createNode(-1, 4, 4), createNode(-2, 4, 4.001),
				wayOp(storage.Create, -1, 0, []int64{-1, -2}, tag("highway", "footway")))
			q1, q2, path := res.Entries[0].NewID, res.Entries[1].NewID, res.Entries[2].NewID
			later, res := w.edit(dan, createNode(-1, 4.001, 4.001),
				wayOp(storage.Create, -1, 0, []int64{q2, -1}, tag("highway", "footway")))
			spur := res.Entries[1].NewID
			w.mustState(original, osmdata.ReviewMerged)
			w.mustState(later, osmdata.ReviewMerged)

			rev, err := w.svc.RevertChangeset(ctx, rita, original, "the path does not exist")
			if err != nil {
				t.Fatalf("revert changeset %d: %v", original, err)
			}
			if want := []osmdata.Key{nodeKey(q1), wayKey(path)}; !slices.Equal(rev.Reverted, want) {
				t.Errorf("reverted %v, want %v", rev.Reverted, want)
			}
			if len(rev.Skipped) != 1 || rev.Skipped[0].Element != nodeKey(q2) || rev.Skipped[0].By != later ||
				!strings.Contains(rev.Skipped[0].Reason, wayKey(spur).String()) {
				t.Errorf("skipped %+v, want node %d, used by way %d of changeset %d", rev.Skipped, q2, spur, later)
			}
			if comment, _ := rev.Changeset.Tags.Get("comment"); comment != "the path does not exist" {
				t.Errorf("revert comment %q", comment)
			}

			approveRevert(t, w, rev, rita, rob)
			for _, k := range []osmdata.Key{nodeKey(q1), wayKey(path)} {
				if got := w.current(k.Type, k.ID); got.Visible {
					t.Errorf("%s is still visible after the revert", k)
				}
			}
			for _, k := range []osmdata.Key{nodeKey(q2), wayKey(spur)} {
				if got := w.current(k.Type, k.ID); !got.Visible {
					t.Errorf("%s was deleted by the revert", k)
				}
			}

			if _, err := w.svc.RevertChangeset(ctx, rob, original, ""); !errors.Is(err, review.ErrBadRequest) {
				t.Errorf("reverting changeset %d again: %v, want ErrBadRequest", original, err)
			}
		})
	}
}
