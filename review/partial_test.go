package review_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
)

// mixedChangeset is a submitted changeset of an untrusted contributor
// (bob) that does three unrelated things: a new path (way w on new
// nodes n1, n2), a retag of another way (b gets surface=gravel), and a
// node deletion (a2) released by an edit of the way that used it (a).
type mixedChangeset struct {
	*reviewWorld
	bob          *auth.Identity
	rita         review.Caller
	cs           int64
	a1, a2, a3   int64
	a, b         int64
	n1, n2, wNew int64
}

func newMixedChangeset(t *testing.T, s storage.Store) *mixedChangeset {
	t.Helper()
	w := newReviewWorld(t, s)
	m := &mixedChangeset{reviewWorld: w, bob: w.contributor("bob", false), rita: w.reviewer("rita")}
	ana := w.contributor("ana", true)
	base, res := w.edit(ana,
		createNode(-1, 1, 1), createNode(-2, 1, 1.001), createNode(-3, 1, 1.002),
		createNode(-4, 1.01, 1), createNode(-5, 1.01, 1.001),
		wayOp(storage.Create, -1, 0, []int64{-1, -2, -3}, tag("highway", "footway")),
		wayOp(storage.Create, -2, 0, []int64{-4, -5}, tag("highway", "path")))
	w.mustState(base, osmdata.ReviewMerged)
	m.a1, m.a2, m.a3 = res.Entries[0].NewID, res.Entries[1].NewID, res.Entries[2].NewID
	b1, b2 := res.Entries[3].NewID, res.Entries[4].NewID
	m.a, m.b = res.Entries[5].NewID, res.Entries[6].NewID

	m.cs, res = w.edit(m.bob,
		createNode(-1, 1.02, 1), createNode(-2, 1.02, 1.001),
		wayOp(storage.Create, -1, 0, []int64{-1, -2}, tag("highway", "footway")),
		wayOp(storage.Modify, m.b, 1, []int64{b1, b2}, tag("highway", "path"), tag("surface", "gravel")),
		wayOp(storage.Modify, m.a, 1, []int64{m.a1, m.a3}, tag("highway", "footway")),
		nodeDeletion(m.a2, 1))
	w.mustState(m.cs, osmdata.ReviewSubmitted)
	m.n1, m.n2, m.wNew = res.Entries[0].NewID, res.Entries[1].NewID, res.Entries[2].NewID
	return m
}

func (m *mixedChangeset) visible(k osmdata.Key) bool {
	m.t.Helper()
	es, err := m.store.CurrentElements(context.Background(), k.Type, []int64{k.ID})
	if err != nil {
		m.t.Fatal(err)
	}
	return len(es) == 1 && es[0].Visible
}

// Choosing only the new way approves it with the new nodes it uses, which
// merge; the retag and the node deletion go back to bob in a new
// changeset he fixes and resubmits, and that merges in turn.
func TestApproveElementsNewWayBringsItsNodes(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			m := newMixedChangeset(t, b.open(t))
			ctx := context.Background()
			got, err := m.svc.ApproveElements(ctx, m.rita, m.cs, []osmdata.Key{wayKey(m.wNew)}, "the new path is fine; the rest needs a source")
			if err != nil {
				t.Fatalf("approve way %d of changeset %d: %v", m.wNew, m.cs, err)
			}
			if want := []osmdata.Key{nodeKey(m.n1), nodeKey(m.n2), wayKey(m.wNew)}; !slices.Equal(got.Accepted, want) {
				t.Errorf("accepted %v, want %v", got.Accepted, want)
			}
			if len(got.Added) != 2 {
				t.Fatalf("added %+v, want nodes %d and %d", got.Added, m.n1, m.n2)
			}
			for i, n := range []int64{m.n1, m.n2} {
				a := got.Added[i]
				if a.Element != nodeKey(n) || a.Because != wayKey(m.wNew) ||
					!strings.Contains(a.Reason, nodeKey(n).String()) || !strings.Contains(a.Reason, "created") {
					t.Errorf("added[%d] = %+v, want node %d because way %d uses it, created here", i, a, n, m.wNew)
				}
			}
			if got.Approved.ID != m.cs || got.Approved.ReviewState != osmdata.ReviewApproved {
				t.Errorf("approved changeset %d is %s, want %d approved", got.Approved.ID, got.Approved.ReviewState, m.cs)
			}
			ret := got.Returned
			if ret.ID == 0 || ret.ID == m.cs || ret.UID != m.bob.UserID || !ret.Open || ret.ReviewState != osmdata.ReviewChangesRequested {
				t.Fatalf("returned changeset %+v, want a new open changes_requested changeset of bob", ret)
			}
			if want := []osmdata.Key{nodeKey(m.a2), wayKey(m.a), wayKey(m.b)}; !slices.Equal(m.changedKeys(ret.ID), want) {
				t.Errorf("returned changeset %d holds %v, want %v", ret.ID, m.changedKeys(ret.ID), want)
			}

			step(t, m.job)
			m.mustState(m.cs, osmdata.ReviewMerged)
			if w := m.current(osmdata.Way, m.wNew); !w.Visible || !slices.Equal(w.Nodes, []int64{m.n1, m.n2}) {
				t.Errorf("the accepted way after the merge: %+v", w)
			}
			if way := m.current(osmdata.Way, m.b); way.Version != 1 || tagMap(way.Tags)["surface"] != "" {
				t.Errorf("way %d merged the retag left out: v%d %v", m.b, way.Version, way.Tags)
			}
			if !m.visible(nodeKey(m.a2)) {
				t.Errorf("node %d was deleted, though its deletion was left out", m.a2)
			}

			// Bob answers the review in the returned changeset, citing
			// the version his upload gave the way, and submits it again.
			m.upload(m.bob, ret.ID, wayOp(storage.Modify, m.b, 2, m.current(osmdata.Way, m.b).Nodes,
				tag("highway", "path"), tag("surface", "compacted"), tag("source", "survey")))
			m.close(m.bob, ret.ID)
			step(t, m.job)
			m.mustState(ret.ID, osmdata.ReviewSubmitted)
			if _, err := m.svc.Approve(ctx, m.rita, ret.ID, ""); err != nil {
				t.Fatalf("approve the resubmitted changeset %d: %v", ret.ID, err)
			}
			step(t, m.job)
			m.mustState(ret.ID, osmdata.ReviewMerged)
			if way := m.current(osmdata.Way, m.b); way.Version != 2 || tagMap(way.Tags)["surface"] != "compacted" {
				t.Errorf("way %d after the resubmission: v%d %v, want v2 surface=compacted", m.b, way.Version, way.Tags)
			}
			if way := m.current(osmdata.Way, m.a); !slices.Equal(way.Nodes, []int64{m.a1, m.a3}) {
				t.Errorf("way %d after the resubmission: nodes %v, want %v", m.a, way.Nodes, []int64{m.a1, m.a3})
			}
			if m.visible(nodeKey(m.a2)) {
				t.Errorf("node %d is still visible after the resubmission merged", m.a2)
			}
		})
	}
}

// Choosing the node deletion brings the edit of the way that used the
// node; choosing everything (through the closure) is a plain approval;
// elements outside the changeset and callers who do not review are
// refused.
func TestApproveElementsNodeDeletionBringsReleasingWay(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			m := newMixedChangeset(t, b.open(t))
			ctx := context.Background()
			if _, err := m.svc.ApproveElements(ctx, m.rita, m.cs, []osmdata.Key{nodeKey(m.a1)}, ""); !errors.Is(err, review.ErrBadRequest) {
				t.Errorf("approving node %d, which changeset %d does not change: %v, want ErrBadRequest", m.a1, m.cs, err)
			}
			bobCaller := review.Caller{UID: m.bob.UserID, Name: "bob", Role: review.RoleContributor}
			if _, err := m.svc.ApproveElements(ctx, bobCaller, m.cs, []osmdata.Key{nodeKey(m.a2)}, ""); !errors.Is(err, review.ErrForbidden) {
				t.Errorf("a contributor approving part of a changeset: %v, want ErrForbidden", err)
			}

			if _, err := m.svc.ApproveElements(ctx, m.rita, m.cs, []osmdata.Key{nodeKey(m.a2)}, " "); !errors.Is(err, review.ErrBadRequest) {
				t.Errorf("returning part of a changeset without a comment: %v, want ErrBadRequest", err)
			}
			m.mustState(m.cs, osmdata.ReviewSubmitted)
			got, err := m.svc.ApproveElements(ctx, m.rita, m.cs, []osmdata.Key{nodeKey(m.a2)}, "the deletion is right; the path needs a source")
			if err != nil {
				t.Fatalf("approve node %d's deletion: %v", m.a2, err)
			}
			if want := []osmdata.Key{nodeKey(m.a2), wayKey(m.a)}; !slices.Equal(got.Accepted, want) {
				t.Errorf("accepted %v, want %v", got.Accepted, want)
			}
			if len(got.Added) != 1 || got.Added[0].Element != wayKey(m.a) || got.Added[0].Because != nodeKey(m.a2) ||
				!strings.Contains(got.Added[0].Reason, "releases") {
				t.Errorf("added %+v, want way %d because it releases node %d", got.Added, m.a, m.a2)
			}
			want := []osmdata.Key{nodeKey(m.n1), nodeKey(m.n2), wayKey(m.wNew), wayKey(m.b)}
			sortKeys(want)
			if !slices.Equal(m.changedKeys(got.Returned.ID), want) {
				t.Errorf("returned changeset %d holds %v, want %v", got.Returned.ID, m.changedKeys(got.Returned.ID), want)
			}
			step(t, m.job)
			m.mustState(m.cs, osmdata.ReviewMerged)
			if m.visible(nodeKey(m.a2)) {
				t.Errorf("node %d is visible after its deletion merged", m.a2)
			}
			if way := m.current(osmdata.Way, m.a); !slices.Equal(way.Nodes, []int64{m.a1, m.a3}) {
				t.Errorf("way %d: nodes %v, want %v", m.a, way.Nodes, []int64{m.a1, m.a3})
			}
			if m.visible(wayKey(m.wNew)) {
				t.Errorf("way %d, left out, is in the dataset", m.wNew)
			}
			m.mustState(got.Returned.ID, osmdata.ReviewChangesRequested)

			// The closure of the new way, the retag and the deletion is
			// the whole of a second such changeset: a plain approval.
			second := newMixedChangeset(t, b.open(t))
			all, err := second.svc.ApproveElements(ctx, second.rita, second.cs,
				[]osmdata.Key{wayKey(second.wNew), wayKey(second.b), nodeKey(second.a2)}, "")
			if err != nil {
				t.Fatal(err)
			}
			if all.Returned.ID != 0 || all.Approved.ReviewState != osmdata.ReviewApproved || len(all.Accepted) != 6 {
				t.Errorf("approving the closure of everything: returned %d, %s, accepted %v; want a plain approval of 6 elements",
					all.Returned.ID, all.Approved.ReviewState, all.Accepted)
			}
			step(t, second.job)
			second.mustState(second.cs, osmdata.ReviewMerged)
		})
	}
}
