package review_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// The merge job rebases only on stores that can; both backends must.
var (
	_ storage.Rebaser = (*postgres.Store)(nil)
	_ storage.Rebaser = (*sqlite.Store)(nil)
)

// street is the dataset the rebase tests edit: a residential street
// through five nodes, created and merged by a contributor other than
// the two who then edit it concurrently.
type street struct {
	*world
	job *review.MergeJob
	// seed is the changeset that created the street.
	seed     int64
	nodes    []int64
	way      int64
	ana, bob *auth.Identity
}

var streetTags = osmdata.Tags{{Key: "highway", Value: "residential"}}

func newStreet(t *testing.T, store storage.Store) *street {
	t.Helper()
	w := newWorld(t, store)
	// The job's log says what it rebased and why a changeset conflicted,
	// in the output of a test that fails.
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	s := &street{world: w, job: review.NewMergeJob(store, review.TrustedAuthors{}, time.Hour, logger)}
	sam := w.contributor("sam", true)
	cs := w.open(sam)
	ops := make([]editing.Operation, 0, 6)
	placeholders := make([]int64, 5)
	for i := range placeholders {
		placeholders[i] = int64(-1 - i)
		ops = append(ops, createNode(placeholders[i], 42.5, 1.5+0.001*float64(i)))
	}
	ops = append(ops, createWay(-1, placeholders, streetTags...))
	res := w.upload(sam, cs, ops...)
	for _, e := range res.Entries {
		if e.Type == osmdata.Node {
			s.nodes = append(s.nodes, e.NewID)
		} else {
			s.way = e.NewID
		}
	}
	w.close(sam, cs)
	s.seed = cs
	if n := step(t, s.job); n != 1 {
		t.Fatalf("the street's changeset: %d merges, want 1", n)
	}
	s.ana, s.bob = w.contributor("ana", true), w.contributor("bob", true)
	return s
}

// edit opens a changeset of who, uploads ops to it and returns it, still
// open.
func (s *street) edit(who *auth.Identity, ops ...editing.Operation) (int64, *editing.DiffResult) {
	s.t.Helper()
	cs := s.open(who)
	return cs, s.upload(who, cs, ops...)
}

// closing is a changeset and its author, who closes it.
type closing struct {
	who *auth.Identity
	cs  int64
}

// mergeInOrder closes the changesets one after the other, each followed
// by a step of the merge job: each rests on what the ones before merged.
func (s *street) mergeInOrder(changesets ...closing) {
	s.t.Helper()
	for _, c := range changesets {
		s.close(c.who, c.cs)
		step(s.t, s.job)
	}
}

// history checks that an element's versions are 1..n, gapless, from the
// changesets given, in order.
func (s *street) history(t osmdata.ElementType, id int64, changesets ...int64) []osmdata.Element {
	s.t.Helper()
	h, err := s.store.History(context.Background(), t, id)
	if err != nil {
		s.t.Fatalf("history of %s %d: %v", t, id, err)
	}
	var got []string
	for _, v := range h {
		got = append(got, fmt.Sprintf("v%d c%d", v.Version, v.Changeset))
	}
	var want []string
	for i, cs := range changesets {
		want = append(want, fmt.Sprintf("v%d c%d", i+1, cs))
	}
	if !slices.Equal(got, want) {
		s.t.Fatalf("history of %s %d: %v, want %v", t, id, got, want)
	}
	return h
}

func (s *street) conflicts(cs int64) []storage.MergeConflict {
	s.t.Helper()
	report, err := s.store.MergeConflicts(context.Background(), cs)
	if err != nil {
		s.t.Fatalf("conflict report of changeset %d: %v", cs, err)
	}
	return report
}

// reopened checks that a changeset is conflicted and open again for its
// author to fix.
func (s *street) reopened(cs int64) {
	s.t.Helper()
	c, err := s.store.Changeset(context.Background(), cs)
	if err != nil {
		s.t.Fatal(err)
	}
	if c.ReviewState != osmdata.ReviewConflicted || !c.Open {
		s.t.Fatalf("changeset %d is %q, open=%t; want conflicted and reopened", cs, c.ReviewState, c.Open)
	}
}

func createWay(placeholder int64, nodes []int64, tags ...osmdata.Tag) editing.Operation {
	return editing.Operation{Action: storage.Create, Element: osmdata.Element{Type: osmdata.Way, ID: placeholder,
		Nodes: slices.Clone(nodes), Tags: tags}}
}

func modifyWay(id int64, version int, nodes []int64, tags ...osmdata.Tag) editing.Operation {
	op := createWay(id, nodes, tags...)
	op.Action, op.Element.Version = storage.Modify, version
	return op
}

func deleteNode(id int64, version int) editing.Operation {
	return editing.Operation{Action: storage.Delete, Element: osmdata.Element{Type: osmdata.Node, ID: id, Version: version}}
}

func withTag(tags osmdata.Tags, key, value string) osmdata.Tags {
	return append(slices.Clone(tags), osmdata.Tag{Key: key, Value: value})
}

func tagsOf(tags osmdata.Tags) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// Two contributors tag the same street, each with a key of their own,
// both citing version 1: the second changeset is rebased onto the first
// one's version and merges, and the street has both tags.
func TestRebaseMergesDifferentTagsOfOneWay(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newStreet(t, b.open(t))
			csAna, _ := s.edit(s.ana, modifyWay(s.way, 1, s.nodes, withTag(streetTags, "name", "Carrer Major")...))
			csBob, _ := s.edit(s.bob, modifyWay(s.way, 1, s.nodes, withTag(streetTags, "surface", "asphalt")...))
			s.mergeInOrder(closing{s.ana, csAna}, closing{s.bob, csBob})

			for _, cs := range []int64{csAna, csBob} {
				if st := s.state(cs); st != osmdata.ReviewMerged {
					t.Fatalf("changeset %d is %q, want merged (report %+v)", cs, st, s.conflicts(cs))
				}
			}
			got := s.current(osmdata.Way, s.way)
			want := map[string]string{"highway": "residential", "name": "Carrer Major", "surface": "asphalt"}
			if tags := tagsOf(got.Tags); !maps.Equal(tags, want) || !slices.Equal(got.Nodes, s.nodes) {
				t.Fatalf("street after both merges: tags %v, nodes %v; want tags %v, nodes %v", tags, got.Nodes, want, s.nodes)
			}
			h := s.history(osmdata.Way, s.way, s.seed, csAna, csBob)
			if v2 := tagsOf(h[1].Tags); v2["name"] != "Carrer Major" || v2["surface"] != "" {
				t.Fatalf("version 2 (ana's) has tags %v, want ana's edit alone", v2)
			}
		})
	}
}

// One contributor moves a node of the street while the other tags it:
// both merge, the node ends where the first put it, with the second's
// tag.
func TestRebaseMergesMoveAndRetagOfOneNode(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newStreet(t, b.open(t))
			node := s.nodes[2]
			start := s.current(osmdata.Node, node)
			csAna, _ := s.edit(s.ana, modifyNode(node, 1, 42.501, 1.5025))
			bobOp := modifyNode(node, 1, 0, 0, osmdata.Tag{Key: "highway", Value: "crossing"})
			bobOp.Element.Lat, bobOp.Element.Lon = start.Lat, start.Lon
			csBob, _ := s.edit(s.bob, bobOp)
			s.mergeInOrder(closing{s.ana, csAna}, closing{s.bob, csBob})

			if st := s.state(csBob); st != osmdata.ReviewMerged {
				t.Fatalf("the retag is %q, want merged (report %+v)", st, s.conflicts(csBob))
			}
			got := s.current(osmdata.Node, node)
			if got.Lat != osmdata.RoundCoordToFixed(42.501) || got.Lon != osmdata.RoundCoordToFixed(1.5025) {
				t.Errorf("node %d at %d,%d; want ana's position 42.501,1.5025", node, got.Lat, got.Lon)
			}
			if crossing, _ := got.Tags.Get("highway"); crossing != "crossing" || len(got.Tags) != 1 {
				t.Errorf("node %d has tags %v, want bob's highway=crossing", node, got.Tags)
			}
			s.history(osmdata.Node, node, s.seed, csAna, csBob)
		})
	}
}

// The street's names in TestRebaseConflictOnOneTagSetTwice: bob also
// adds a surface, which merges.
var (
	anaNamed = withTag(streetTags, "name", "Carrer Major")
	bobNamed = withTag(withTag(streetTags, "name", "Calle Mayor"), "surface", "asphalt")
)

// streetNamedTwice has ana and then bob name the street, both citing
// version 1: bob's changeset conflicts.
func streetNamedTwice(t *testing.T, store storage.Store) (s *street, csAna, csBob int64) {
	t.Helper()
	s = newStreet(t, store)
	csAna, _ = s.edit(s.ana, modifyWay(s.way, 1, s.nodes, anaNamed...))
	csBob, _ = s.edit(s.bob, modifyWay(s.way, 1, s.nodes, bobNamed...))
	s.mergeInOrder(closing{s.ana, csAna}, closing{s.bob, csBob})
	return s, csAna, csBob
}

// Both contributors name the street, differently: the second changeset
// is conflicted and reopened with a report naming the tag and its three
// values; nothing of it merges.
func TestRebaseConflictOnOneTagSetTwice(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, csAna, csBob := streetNamedTwice(t, b.open(t))
			if st := s.state(csAna); st != osmdata.ReviewMerged {
				t.Fatalf("ana's changeset is %q, want merged", st)
			}
			s.reopened(csBob)
			got := s.current(osmdata.Way, s.way)
			if got.Version != 2 || !maps.Equal(tagsOf(got.Tags), tagsOf(anaNamed)) {
				t.Fatalf("street after the conflict: v%d tags %v; want ana's v2 alone", got.Version, got.Tags)
			}
			report := s.conflicts(csBob)
			if len(report) != 1 {
				t.Fatalf("report %+v, want one line for the street", report)
			}
			line := report[0]
			if line.Element != (osmdata.Key{Type: osmdata.Way, ID: s.way}) || line.Kind != storage.ConflictEdited ||
				line.BaseVersion != 1 || line.CurrentVersion != 2 {
				t.Fatalf("report line %+v; want way %d edited, base v1, current v2", line, s.way)
			}
			wantField := storage.ConflictField{Kind: "tag", Key: "name", Current: "Carrer Major", Pending: "Calle Mayor", AbsentInBase: true}
			if len(line.Fields) != 1 || line.Fields[0] != wantField {
				t.Fatalf("conflicting fields %+v, want %+v alone (surface merges)", line.Fields, wantField)
			}
			if line.Base == nil || line.Current == nil || line.Pending == nil {
				t.Fatalf("report line without the three contents: base %v, current %v, pending %v", line.Base, line.Current, line.Pending)
			}
			if v, _ := line.Base.Tags.Get("name"); v != "" || line.Base.Version != 1 {
				t.Errorf("report's base: v%d tags %v, want v1 unnamed", line.Base.Version, line.Base.Tags)
			}
			if v, _ := line.Current.Tags.Get("name"); v != "Carrer Major" || line.Current.Version != 2 {
				t.Errorf("report's current: v%d tags %v, want v2 with ana's name", line.Current.Version, line.Current.Tags)
			}
			if v, _ := line.Pending.Tags.Get("name"); v != "Calle Mayor" {
				t.Errorf("report's pending: tags %v, want bob's name", line.Pending.Tags)
			}
		})
	}
}

// Bob resolves the conflict of TestRebaseConflictOnOneTagSetTwice: he
// re-uploads his name citing the current version, 2, and closes again;
// it merges over ana's.
func TestRebaseConflictResolvedCitingCurrentVersion(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, csAna, csBob := streetNamedTwice(t, b.open(t))
			s.reopened(csBob)
			// Bob keeps his name and ana's edit, citing version 2.
			s.upload(s.bob, csBob, modifyWay(s.way, 2, s.nodes, bobNamed...))
			s.close(s.bob, csBob)
			step(t, s.job)
			if st := s.state(csBob); st != osmdata.ReviewMerged {
				t.Fatalf("the resolved changeset is %q, want merged (report %+v)", st, s.conflicts(csBob))
			}
			got := s.current(osmdata.Way, s.way)
			if !maps.Equal(tagsOf(got.Tags), tagsOf(bobNamed)) {
				t.Fatalf("street after the resolution: tags %v, want %v", got.Tags, bobNamed)
			}
			s.history(osmdata.Way, s.way, s.seed, csAna, csBob)
		})
	}
}

// Edits of the street's node list far apart both merge, in order; edits
// of the same stretch conflict.
func TestRebaseNodeListEdits(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Run("apart", func(t *testing.T) {
				s := newStreet(t, b.open(t))
				n := s.nodes
				csAna, resAna := s.edit(s.ana, createNode(-1, 42.4995, 1.5005),
					modifyWay(s.way, 1, []int64{n[0], -1, n[1], n[2], n[3], n[4]}, streetTags...))
				csBob, resBob := s.edit(s.bob, createNode(-1, 42.4995, 1.5035),
					modifyWay(s.way, 1, []int64{n[0], n[1], n[2], n[3], -1, n[4]}, streetTags...))
				anaNode, bobNode := resAna.Entries[0].NewID, resBob.Entries[0].NewID
				s.mergeInOrder(closing{s.ana, csAna}, closing{s.bob, csBob})

				if st := s.state(csBob); st != osmdata.ReviewMerged {
					t.Fatalf("the second node-list edit is %q, want merged (report %+v)", st, s.conflicts(csBob))
				}
				want := []int64{n[0], anaNode, n[1], n[2], n[3], bobNode, n[4]}
				if got := s.current(osmdata.Way, s.way); !slices.Equal(got.Nodes, want) {
					t.Fatalf("street's nodes %v, want both insertions %v", got.Nodes, want)
				}
				s.history(osmdata.Way, s.way, s.seed, csAna, csBob)
				s.history(osmdata.Node, bobNode, csBob)
			})
			t.Run("overlapping", func(t *testing.T) {
				s := newStreet(t, b.open(t))
				n := s.nodes
				csAna, resAna := s.edit(s.ana, createNode(-1, 42.4995, 1.5015),
					modifyWay(s.way, 1, []int64{n[0], n[1], -1, n[2], n[3], n[4]}, streetTags...))
				csBob, resBob := s.edit(s.bob, createNode(-1, 42.5005, 1.5015),
					modifyWay(s.way, 1, []int64{n[0], n[1], -1, n[2], n[3], n[4]}, streetTags...))
				anaNode, bobNode := resAna.Entries[0].NewID, resBob.Entries[0].NewID
				s.mergeInOrder(closing{s.ana, csAna}, closing{s.bob, csBob})

				s.reopened(csBob)
				if got := s.current(osmdata.Way, s.way); !slices.Equal(got.Nodes, []int64{n[0], n[1], anaNode, n[2], n[3], n[4]}) {
					t.Fatalf("street's nodes %v, want ana's edit alone", got.Nodes)
				}
				report := s.conflicts(csBob)
				if len(report) != 1 || report[0].Kind != storage.ConflictEdited || len(report[0].Fields) != 1 || report[0].Fields[0].Kind != "nodes" {
					t.Fatalf("report %+v, want one edited line on the street's nodes", report)
				}
				if es, _ := s.store.CurrentElements(context.Background(), osmdata.Node, []int64{bobNode}); len(es) != 0 {
					t.Fatalf("bob's node %d merged although his changeset conflicted", bobNode)
				}
			})
		})
	}
}

// Bob adds the street's middle node a second time, near its end; ana
// takes it out of the street and deletes it. Each edit alone is fine and
// the node lists merge, but the merged street would use a deleted node:
// ana's changeset is refused.
func TestRebaseRefusesMergedResultBreakingConstraints(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newStreet(t, b.open(t))
			n := s.nodes
			csBob, _ := s.edit(s.bob, modifyWay(s.way, 1, []int64{n[0], n[1], n[2], n[3], n[2], n[4]}, streetTags...))
			csAna, _ := s.edit(s.ana, modifyWay(s.way, 1, []int64{n[0], n[1], n[3], n[4]}, streetTags...), deleteNode(n[2], 1))
			s.mergeInOrder(closing{s.bob, csBob}, closing{s.ana, csAna})

			if st := s.state(csBob); st != osmdata.ReviewMerged {
				t.Fatalf("bob's changeset is %q, want merged", st)
			}
			s.reopened(csAna)
			if got := s.current(osmdata.Node, n[2]); !got.Visible || got.Version != 1 {
				t.Fatalf("node %d: v%d visible=%t; want v1 still there", n[2], got.Version, got.Visible)
			}
			if got := s.current(osmdata.Way, s.way); got.Version != 2 || !slices.Equal(got.Nodes, []int64{n[0], n[1], n[2], n[3], n[2], n[4]}) {
				t.Fatalf("street v%d nodes %v; want bob's v2", got.Version, got.Nodes)
			}
			report := s.conflicts(csAna)
			refused := false
			for _, line := range report {
				if line.Element == (osmdata.Key{Type: osmdata.Way, ID: s.way}) && line.Kind == storage.ConflictMissingReference {
					refused = true
				}
			}
			if !refused {
				t.Fatalf("report %+v; want the street refused for using deleted node %d", report, n[2])
			}
		})
	}
}

// Twenty contributors each add a tag of their own to one node at the
// same time, all citing version 1, while the merge job runs: all twenty
// merge, one version each, and the node has every tag.
func TestRebaseTwentyConcurrentTaggers(t *testing.T) {
	const taggers = 20
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newStreet(t, b.open(t))
			node := s.nodes[0]
			s.svc.OnSubmit(s.job.Kick)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { s.job.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()

			who := make([]*auth.Identity, taggers)
			for i := range who {
				who[i] = s.contributor(fmt.Sprintf("tagger%02d", i), true)
			}
			start := s.current(osmdata.Node, node)
			changesets := make([]int64, taggers)
			errs := make(chan error, taggers)
			var uploaded sync.WaitGroup
			uploaded.Add(taggers)
			allUploaded := make(chan struct{})
			go func() { uploaded.Wait(); close(allUploaded) }()
			for i := range taggers {
				go func() {
					errs <- func() error {
						// Every upload must cite version 1 before any
						// merge makes it stale: the closes wait for all.
						uploadedOnce := sync.OnceFunc(uploaded.Done)
						defer uploadedOnce()
						cs, err := s.svc.CreateChangeset(context.Background(), who[i], osmdata.Tags{{Key: "comment", Value: "tag"}})
						if err != nil {
							return err
						}
						op := modifyNode(node, 1, 0, 0, osmdata.Tag{Key: fmt.Sprintf("tagger%02d", i), Value: "yes"})
						op.Element.Lat, op.Element.Lon, op.Element.Changeset = start.Lat, start.Lon, cs.ID
						if _, err := s.svc.Upload(context.Background(), who[i], cs.ID, []editing.Operation{op}); err != nil {
							return fmt.Errorf("upload of tagger %d: %w", i, err)
						}
						changesets[i] = cs.ID
						uploadedOnce()
						<-allUploaded
						if _, err := s.svc.CloseChangeset(context.Background(), who[i], cs.ID); err != nil {
							return fmt.Errorf("close of tagger %d: %w", i, err)
						}
						return nil
					}()
				}()
			}
			for range taggers {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			for _, cs := range changesets {
				waitFor(t, fmt.Sprintf("changeset %d merged", cs), func() bool {
					st := s.state(cs)
					if st == osmdata.ReviewConflicted {
						t.Fatalf("changeset %d conflicted: %+v", cs, s.conflicts(cs))
					}
					return st == osmdata.ReviewMerged
				})
			}

			got := s.current(osmdata.Node, node)
			if got.Version != taggers+1 || len(got.Tags) != taggers {
				t.Fatalf("node after the taggers: v%d with %d tags %v; want v%d with %d", got.Version, len(got.Tags), got.Tags, taggers+1, taggers)
			}
			for i := range taggers {
				if v, _ := got.Tags.Get(fmt.Sprintf("tagger%02d", i)); v != "yes" {
					t.Errorf("tagger %d's tag is missing: %v", i, got.Tags)
				}
			}
			h, err := s.store.History(context.Background(), osmdata.Node, node)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[int64]bool{}
			for i, v := range h {
				if v.Version != i+1 {
					t.Fatalf("history: version %d at position %d, not gapless", v.Version, i)
				}
				if i > 0 && (!slices.Contains(changesets, v.Changeset) || seen[v.Changeset]) {
					t.Fatalf("version %d from changeset %d: want one version per tagger's changeset", v.Version, v.Changeset)
				}
				seen[v.Changeset] = true
				if len(v.Tags) != i {
					t.Fatalf("version %d has %d tags, want %d: each merge adds one tag to the one before", v.Version, len(v.Tags), i)
				}
			}
			if len(h) != taggers+1 {
				t.Fatalf("history has %d versions, want %d", len(h), taggers+1)
			}
		})
	}
}

// A stacked changeset rebases from its parent's final version: ana's
// second changeset builds on her first, bob tags the street between
// their merges, and all three merge with every edit.
func TestRebaseStackedChangeset(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newStreet(t, b.open(t))
			named := withTag(streetTags, "name", "Carrer Major")
			parent, res := s.edit(s.ana, modifyWay(s.way, 1, s.nodes, named...))
			child, _ := s.edit(s.ana, modifyWay(s.way, res.Entries[0].NewVersion, s.nodes, withTag(named, "surface", "asphalt")...))
			csBob, _ := s.edit(s.bob, modifyWay(s.way, 1, s.nodes, withTag(streetTags, "lit", "yes")...))
			s.mergeInOrder(closing{s.ana, parent}, closing{s.bob, csBob}, closing{s.ana, child})

			for _, cs := range []int64{parent, csBob, child} {
				if st := s.state(cs); st != osmdata.ReviewMerged {
					t.Fatalf("changeset %d is %q, want merged (report %+v)", cs, st, s.conflicts(cs))
				}
			}
			want := map[string]string{"highway": "residential", "name": "Carrer Major", "surface": "asphalt", "lit": "yes"}
			if got := s.current(osmdata.Way, s.way); !maps.Equal(tagsOf(got.Tags), want) {
				t.Fatalf("street after the three merges: tags %v, want %v", got.Tags, want)
			}
			s.history(osmdata.Way, s.way, s.seed, parent, csBob, child)
		})
	}
}

// storeWithoutRebase is a real store seen only through storage.Store, as
// a backend without storage.Rebaser would be.
type storeWithoutRebase struct{ storage.Store }

// On a store that cannot rebase, the job merges as before issue 7: a
// changeset whose base moved is conflicted, whatever it changed.
func TestMergeWithoutRebaserRefusesMovedBases(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newStreet(t, storeWithoutRebase{b.open(t)})
			if _, ok := s.store.(storage.Rebaser); ok {
				t.Fatal("the wrapped store still rebases")
			}
			csAna, _ := s.edit(s.ana, modifyWay(s.way, 1, s.nodes, withTag(streetTags, "name", "Carrer Major")...))
			csBob, _ := s.edit(s.bob, modifyWay(s.way, 1, s.nodes, withTag(streetTags, "surface", "asphalt")...))
			s.mergeInOrder(closing{s.ana, csAna}, closing{s.bob, csBob})

			s.reopened(csBob)
			report := s.conflicts(csBob)
			if len(report) != 1 || report[0].Kind != storage.ConflictBaseMoved {
				t.Fatalf("report %+v, want the street's base moved", report)
			}
		})
	}
}
