package review_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

var backends = []struct {
	name string
	open func(t *testing.T) storage.Store
}{
	{"sqlite", func(t *testing.T) storage.Store {
		s, err := sqlite.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t *testing.T) storage.Store { return pgtest.Open(t, pgtest.Config(t)) }},
}

// world is one store with its editing service and contributors.
type world struct {
	t     *testing.T
	store storage.Store
	svc   *editing.Service
}

func newWorld(t *testing.T, store storage.Store) *world {
	svc, err := editing.NewService(store, editing.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, store: store, svc: svc}
}

func (w *world) contributor(name string, trusted bool) *auth.Identity {
	w.t.Helper()
	acc, err := w.store.CreateAccount(context.Background(), storage.NewAccount{DisplayName: name, Role: string(auth.RoleContributor), Trusted: trusted})
	if err != nil {
		w.t.Fatal(err)
	}
	return &auth.Identity{UserID: acc.ID, DisplayName: name, Role: auth.RoleContributor, Trusted: trusted, Scopes: auth.AllScopes}
}

func (w *world) open(who *auth.Identity) int64 {
	w.t.Helper()
	cs, err := w.svc.CreateChangeset(context.Background(), who, osmdata.Tags{{Key: "comment", Value: "test"}})
	if err != nil {
		w.t.Fatal(err)
	}
	return cs.ID
}

func (w *world) upload(who *auth.Identity, cs int64, ops ...editing.Operation) *editing.DiffResult {
	w.t.Helper()
	for i := range ops {
		ops[i].Element.Changeset = cs
	}
	res, err := w.svc.Upload(context.Background(), who, cs, ops)
	if err != nil {
		w.t.Fatalf("upload to changeset %d: %v", cs, err)
	}
	return res
}

func (w *world) close(who *auth.Identity, cs int64) {
	w.t.Helper()
	if _, err := w.svc.CloseChangeset(context.Background(), who, cs); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) state(cs int64) osmdata.ReviewState {
	w.t.Helper()
	c, err := w.store.Changeset(context.Background(), cs)
	if err != nil {
		w.t.Fatal(err)
	}
	return c.ReviewState
}

func (w *world) current(t osmdata.ElementType, id int64) osmdata.Element {
	w.t.Helper()
	es, err := w.store.CurrentElements(context.Background(), t, []int64{id})
	if err != nil || len(es) != 1 {
		w.t.Fatalf("current %s %d: %v (%d found)", t, id, err, len(es))
	}
	return es[0]
}

func createNode(placeholder int64, lat, lon float64, tags ...osmdata.Tag) editing.Operation {
	return editing.Operation{Action: storage.Create, Element: osmdata.Element{Type: osmdata.Node, ID: placeholder,
		Lat: osmdata.RoundCoordToFixed(lat), Lon: osmdata.RoundCoordToFixed(lon), Tags: tags}}
}

func modifyNode(id int64, version int, lat, lon float64, tags ...osmdata.Tag) editing.Operation {
	op := createNode(id, lat, lon, tags...)
	op.Action, op.Element.Version = storage.Modify, version
	return op
}

func step(t *testing.T, job *review.MergeJob) int {
	t.Helper()
	n, err := job.Step(context.Background())
	if err != nil {
		t.Fatalf("merge job step: %v", err)
	}
	return n
}

// A trusted contributor's changeset merges at the job's next step with
// its net effect; another's waits for a reviewer, and merges once one
// approves it.
func TestTrustedMergesOthersWait(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			w := newWorld(t, b.open(t))
			job := review.NewMergeJob(w.store, review.TrustedAuthors{}, time.Hour, nil)
			ana, bob := w.contributor("ana", true), w.contributor("bob", false)

			csA := w.open(ana)
			res := w.upload(ana, csA, createNode(-1, 1, 1, osmdata.Tag{Key: "amenity", Value: "bench"}), createNode(-2, 1.5, 1.5))
			node := res.Entries[0].NewID
			res = w.upload(ana, csA, modifyNode(node, 1, 2, 2, osmdata.Tag{Key: "amenity", Value: "bench"}))
			w.upload(ana, csA, modifyNode(node, res.Entries[0].NewVersion, 3, 3, osmdata.Tag{Key: "amenity", Value: "table"}))
			csB := w.open(bob)
			bobNode := w.upload(bob, csB, createNode(-1, 4, 4)).Entries[0].NewID

			if n := step(t, job); n != 0 {
				t.Fatalf("merged %d changesets while none was closed", n)
			}
			w.close(ana, csA)
			w.close(bob, csB)
			if n := step(t, job); n != 1 {
				t.Fatalf("first step merged %d changesets, want 1 (ana's)", n)
			}
			if st := w.state(csA); st != osmdata.ReviewMerged {
				t.Fatalf("trusted changeset %d is %q, want merged", csA, st)
			}
			// Created and modified twice in one changeset: one version.
			got := w.current(osmdata.Node, node)
			if amenity, _ := got.Tags.Get("amenity"); got.Version != 1 || got.Lat != osmdata.RoundCoordToFixed(3) || amenity != "table" {
				t.Fatalf("merged node: version %d at %d, tags %v; want v1 at 3,3 amenity=table", got.Version, got.Lat, got.Tags)
			}
			if st := w.state(csB); st != osmdata.ReviewSubmitted {
				t.Fatalf("untrusted changeset %d is %q, want submitted", csB, st)
			}
			if es, _ := w.store.CurrentElements(context.Background(), osmdata.Node, []int64{bobNode}); len(es) != 0 {
				t.Fatalf("bob's unreviewed node %d is in the dataset", bobNode)
			}
			// The policy decided once: bob's changeset is no longer
			// undecided, and further steps leave it alone.
			if und, err := w.store.UndecidedChangesets(context.Background(), 10); err != nil || len(und) != 0 {
				t.Fatalf("undecided after the step: %v %v", und, err)
			}
			if n := step(t, job); n != 0 {
				t.Fatalf("a second step merged %d", n)
			}

			if _, err := w.store.SetReviewState(context.Background(), csB, osmdata.ReviewApproved, storage.ReviewNote{}); err != nil {
				t.Fatal(err)
			}
			if n := step(t, job); n != 1 || w.state(csB) != osmdata.ReviewMerged {
				t.Fatalf("approved changeset: merged %d, state %q", n, w.state(csB))
			}
			if seq, _ := w.store.LastMergeSeq(context.Background()); seq != 2 {
				t.Fatalf("last merge_seq %d, want 2", seq)
			}
		})
	}
}

// A stacked child closed before its parent waits, approved, and merges
// right after the parent does, in the same step.
func TestStackedChildWaitsForParent(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			w := newWorld(t, b.open(t))
			job := review.NewMergeJob(w.store, review.TrustedAuthors{}, time.Hour, nil)
			ana := w.contributor("ana", true)
			parent := w.open(ana)
			res := w.upload(ana, parent, createNode(-1, 1, 1))
			node := res.Entries[0].NewID
			child := w.open(ana)
			res = w.upload(ana, child, modifyNode(node, 1, 2, 2))
			w.upload(ana, child, modifyNode(node, res.Entries[0].NewVersion, 3, 3))

			w.close(ana, child)
			if n := step(t, job); n != 0 {
				t.Fatalf("the child merged before its parent (%d merges)", n)
			}
			if st := w.state(child); st != osmdata.ReviewApproved {
				t.Fatalf("waiting child is %q, want approved", st)
			}
			w.close(ana, parent)
			if n := step(t, job); n != 2 {
				t.Fatalf("merged %d, want the parent and then the child", n)
			}
			out, err := w.store.Outbox(context.Background(), 0, 10)
			if err != nil || len(out) != 2 || out[0].Changeset != parent || out[1].Changeset != child {
				t.Fatalf("outbox %+v (%v): want the parent, then the child", out, err)
			}
			got := w.current(osmdata.Node, node)
			if got.Version != 2 || got.Lat != osmdata.RoundCoordToFixed(3) {
				t.Fatalf("node after both merges: v%d at %d, want v2 at 3", got.Version, got.Lat)
			}
		})
	}
}

// Run merges a changeset closed in this process at once, through Kick,
// although its poll would not come for an hour.
func TestKickMergesWithoutPolling(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			w := newWorld(t, b.open(t))
			job := review.NewMergeJob(w.store, review.TrustedAuthors{}, time.Hour, nil)
			w.svc.OnSubmit(job.Kick)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { job.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()

			ana := w.contributor("ana", true)
			for i := range 2 {
				cs := w.open(ana)
				w.upload(ana, cs, createNode(-1, float64(i), 1))
				w.close(ana, cs)
				waitFor(t, fmt.Sprintf("changeset %d merged", cs), func() bool { return w.state(cs) == osmdata.ReviewMerged })
			}
			// An upload that fills a changeset submits it: the editor
			// cannot close it any more, and it merges without a sweep.
			cs := w.open(ana)
			ops := make([]editing.Operation, storage.MaxChangesetChanges)
			for i := range ops {
				ops[i] = createNode(int64(-1-i), 5+float64(i/100)*0.001, 5+float64(i%100)*0.001)
			}
			w.upload(ana, cs, ops...)
			waitFor(t, fmt.Sprintf("full changeset %d merged", cs), func() bool { return w.state(cs) == osmdata.ReviewMerged })
		})
	}
}

// Three jobs over three connections to one PostgreSQL dataset, as three
// server processes have: every changeset is merged exactly once,
// merge_seq is gapless, and each element's versions are.
func TestJobsShareOneDataset(t *testing.T) {
	cfg := pgtest.Config(t)
	stores := []storage.Store{pgtest.Open(t, cfg), pgtest.Open(t, cfg), pgtest.Open(t, cfg)}
	w := newWorld(t, stores[0])
	authors := []*auth.Identity{w.contributor("ana", true), w.contributor("bo", true), w.contributor("cy", true)}
	const rounds = 10
	// Each author creates a node, then moves it in every later
	// changeset: the changesets of one author stack.
	nodes := map[int64]int64{}
	versions := map[int64]int{}
	var changesets []int64
	for r := range rounds {
		for _, a := range authors {
			cs := w.open(a)
			if r == 0 {
				res := w.upload(a, cs, createNode(-1, 1, float64(a.UserID%90)))
				nodes[a.UserID], versions[a.UserID] = res.Entries[0].NewID, res.Entries[0].NewVersion
			} else {
				res := w.upload(a, cs, modifyNode(nodes[a.UserID], versions[a.UserID], float64(r), float64(a.UserID%90)))
				versions[a.UserID] = res.Entries[0].NewVersion
			}
			w.close(a, cs)
			changesets = append(changesets, cs)
		}
	}

	errs := make(chan error, len(stores))
	for _, s := range stores {
		go func() {
			job := review.NewMergeJob(s, review.TrustedAuthors{}, time.Hour, nil)
			var err error
			for range 5 {
				if _, err = job.Step(context.Background()); err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range stores {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	out, err := stores[1].Outbox(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(changesets) {
		t.Fatalf("%d merges for %d changesets", len(out), len(changesets))
	}
	seen := map[int64]bool{}
	for i, e := range out {
		if e.Seq != int64(i+1) {
			t.Fatalf("merge %d has merge_seq %d: not gapless", i, e.Seq)
		}
		if seen[e.Changeset] {
			t.Fatalf("changeset %d merged twice", e.Changeset)
		}
		seen[e.Changeset] = true
		if i > 0 && e.MergedAt.Before(out[i-1].MergedAt) {
			t.Fatalf("merge_seq %d merged at %v, before merge_seq %d at %v", e.Seq, e.MergedAt, out[i-1].Seq, out[i-1].MergedAt)
		}
	}
	for _, a := range authors {
		hist, err := stores[2].History(context.Background(), osmdata.Node, nodes[a.UserID])
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != rounds {
			t.Fatalf("node of %s has %d versions, want %d", a.DisplayName, len(hist), rounds)
		}
		for i, v := range hist {
			if v.Version != i+1 {
				t.Fatalf("node of %s: version %d at position %d", a.DisplayName, v.Version, i)
			}
		}
		if last := hist[rounds-1]; last.Lat != osmdata.RoundCoordToFixed(rounds-1) {
			t.Fatalf("node of %s ends at %d, want the last changeset's position", a.DisplayName, last.Lat)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
