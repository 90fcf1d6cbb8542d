package review_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
)

// gateWorld is the Andorra river crossing imported into a store, with the
// editing service, the Gate policy of a configuration, its merge job and
// the review service.
type gateWorld struct {
	*world
	spot  *riverCrossing
	store review.Store
	job   *review.MergeJob
	svc   *review.Service
}

func newGateWorld(t *testing.T, s storage.Store, configYAML string) *gateWorld {
	t.Helper()
	spot := andorraCrossing(t)
	if _, err := s.Import(t.Context(), &sliceSource{els: append([]osmdata.Element{}, spot.extract...)}); err != nil {
		t.Fatalf("import the extract: %v", err)
	}
	path := filepath.Join(t.TempDir(), "review.yaml")
	if err := os.WriteFile(path, []byte(configYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := review.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	rs, ok := s.(review.Store)
	if !ok {
		t.Fatalf("%T does not implement review.Store", s)
	}
	gate, err := review.NewGate(rs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &gateWorld{world: newWorld(t, s), spot: spot, store: rs,
		job: review.NewMergeJob(s, gate, time.Hour, nil), svc: review.NewService(rs, cfg)}
}

func (w *gateWorld) reviewer(name string) review.Caller {
	w.t.Helper()
	acc, err := w.store.CreateAccount(context.Background(), storage.NewAccount{DisplayName: name, Role: string(auth.RoleReviewer)})
	if err != nil {
		w.t.Fatal(err)
	}
	return review.Caller{UID: acc.ID, Name: name, Role: review.RoleReviewer}
}

// submit opens a changeset with a plain comment (the shared helper's
// "test" is a suspicious word), uploads ops and closes it.
func (w *gateWorld) submit(who *auth.Identity, ops ...editing.Operation) int64 {
	w.t.Helper()
	c, err := w.world.svc.CreateChangeset(context.Background(), who, osmdata.Tags{{Key: "comment", Value: "Benches along the river path"}})
	if err != nil {
		w.t.Fatal(err)
	}
	cs := c.ID
	w.upload(who, cs, ops...)
	w.close(who, cs)
	return cs
}

func (w *gateWorld) findings(cs int64) []storage.Finding {
	w.t.Helper()
	v, err := w.store.Validation(context.Background(), cs)
	if err != nil {
		w.t.Fatal(err)
	}
	if v.At.IsZero() {
		w.t.Fatalf("changeset %d was never validated", cs)
	}
	return v.Findings
}

func (w *gateWorld) events(cs int64) []osmdata.ReviewEventKind {
	w.t.Helper()
	evs, err := w.store.ChangesetReviewEvents(context.Background(), cs)
	if err != nil {
		w.t.Fatal(err)
	}
	var kinds []osmdata.ReviewEventKind
	for _, ev := range evs {
		kinds = append(kinds, ev.Kind)
	}
	return kinds
}

// moveAcrossRiver moves the road's node to the river's far side, its
// mirror image across the river: the road's segments to it now cross the
// river without a shared node, a crossing warning on the road.
func (w *gateWorld) moveAcrossRiver() (editing.Operation, int32, int32) {
	n := *w.spot.roadNode
	n.Lat, n.Lon = 2*w.spot.onLat-n.Lat, 2*w.spot.onLon-n.Lon
	return editing.Operation{Action: storage.Modify, Element: n}, n.Lat, n.Lon
}

func bench(lat, lon float64) editing.Operation {
	return createNode(-1, lat, lon, osmdata.Tag{Key: "amenity", Value: "bench"})
}

func hasRule(fs []storage.Finding, rule string, elem osmdata.Key) bool {
	return slices.ContainsFunc(fs, func(f storage.Finding) bool {
		return f.Rule == rule && (elem == osmdata.Key{} || slices.Contains(f.Elements, elem))
	})
}

// A trusted contributor's clean changeset merges by itself; the same
// contributor's changeset that makes a road cross a river waits, with the
// finding stored, until a reviewer approves it; an untrusted
// contributor's clean changeset waits too.
func TestGateTrustedCleanMergesWarningWaits(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			w := newGateWorld(t, b.open(t), "policy:\n  auto_approve_despite: [new_contributor, no_source]\n")
			ana, bob := w.contributor("ana", true), w.contributor("bob", false)
			rita := w.reviewer("rita")
			lat, lon := osmdata.FixedToDegrees(w.spot.onLat)+0.3, osmdata.FixedToDegrees(w.spot.onLon)

			clean := w.submit(ana, bench(lat, lon))
			across, movedLat, movedLon := w.moveAcrossRiver()
			warned := w.submit(ana, across)
			untrusted := w.submit(bob, bench(lat+0.01, lon))
			step(t, w.job)
			if got := w.state(clean); got != osmdata.ReviewMerged {
				t.Errorf("trusted clean changeset %d: %s, want merged (findings %+v)", clean, got, w.findings(clean))
			}
			if got := w.events(clean); !slices.Equal(got, []osmdata.ReviewEventKind{osmdata.EventSubmitted, osmdata.EventApproved, osmdata.EventMerged}) {
				t.Errorf("events of changeset %d: %v", clean, got)
			}
			if got := w.state(warned); got != osmdata.ReviewSubmitted {
				t.Errorf("trusted changeset %d with a warning: %s, want submitted", warned, got)
			}
			road := w.spot.road.Key()
			if fs := w.findings(warned); !hasRule(fs, "crossing_ways", road) {
				t.Errorf("changeset %d: no crossing_ways finding on %s: %+v", warned, road, fs)
			}
			if got := w.state(untrusted); got != osmdata.ReviewSubmitted {
				t.Errorf("untrusted clean changeset %d: %s, want submitted", untrusted, got)
			}
			scopes, err := w.store.ReviewScopes(t.Context(), untrusted)
			if err != nil || len(scopes) != 1 || scopes[0].Scope != review.FallbackScope {
				t.Errorf("scopes of changeset %d: %+v, %v; want the fallback scope", untrusted, scopes, err)
			}

			if _, err := w.svc.Approve(t.Context(), rita, warned, "the bridge is mapped next"); err != nil {
				t.Fatal(err)
			}
			step(t, w.job)
			if got := w.state(warned); got != osmdata.ReviewMerged {
				t.Errorf("approved changeset %d: %s, want merged", warned, got)
			}
			if got := w.current(osmdata.Node, w.spot.roadNode.ID); got.Lat != movedLat || got.Lon != movedLon {
				t.Errorf("road node after merge at %d,%d, want %d,%d", got.Lat, got.Lon, movedLat, movedLon)
			}
		})
	}
}

// A way of one node is an error: with auto_reject_errors it is rejected
// at once, naming the way; without, a reviewer's approval does not merge
// it: the merge check blocks it and reopens it for its author.
func TestGateErrors(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, autoReject := range []bool{true, false} {
				config := "policy:\n  auto_reject_errors: " + map[bool]string{true: "true", false: "false"}[autoReject] + "\n"
				w := newGateWorld(t, b.open(t), config)
				ana := w.contributor("ana", true)
				rita := w.reviewer("rita")
				lat, lon := osmdata.FixedToDegrees(w.spot.onLat)+0.3, osmdata.FixedToDegrees(w.spot.onLon)
				stub := editing.Operation{Action: storage.Create, Element: osmdata.Element{Type: osmdata.Way, ID: -2,
					Nodes: []int64{-1}, Tags: osmdata.Tags{{Key: "highway", Value: "service"}}}}
				cs := w.submit(ana, bench(lat, lon), stub)
				step(t, w.job)
				fs := w.findings(cs)
				if !hasRule(fs, "way_too_few_nodes", osmdata.Key{}) {
					t.Fatalf("changeset %d: no way_too_few_nodes finding: %+v", cs, fs)
				}
				if autoReject {
					if got := w.state(cs); got != osmdata.ReviewRejected {
						t.Errorf("auto_reject_errors: changeset %d is %s, want rejected", cs, got)
					}
					evs, _ := w.store.ChangesetReviewEvents(t.Context(), cs)
					if last := evs[len(evs)-1]; last.Kind != osmdata.EventRejected || !strings.Contains(last.Comment, "way") {
						t.Errorf("last event %+v, want rejected naming the way", last)
					}
					continue
				}
				if got := w.state(cs); got != osmdata.ReviewSubmitted {
					t.Fatalf("changeset %d with an error: %s, want submitted", cs, got)
				}
				if _, err := w.svc.Approve(t.Context(), rita, cs, ""); err != nil {
					t.Fatal(err)
				}
				step(t, w.job)
				c, err := w.store.Changeset(t.Context(), cs)
				if err != nil {
					t.Fatal(err)
				}
				if c.ReviewState != osmdata.ReviewConflicted || !c.Open {
					t.Errorf("approved changeset %d with an error: %s (open %v), want conflicted and reopened", cs, c.ReviewState, c.Open)
				}
			}
		})
	}
}

// Trust is earned: with earned_trust_after 1, a contributor's clean
// changeset waits for a reviewer the first time and merges by itself
// after one merged changeset.
func TestGateEarnedTrust(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			w := newGateWorld(t, b.open(t), "policy:\n  earned_trust_after: 1\n")
			bob := w.contributor("bob", false)
			rita := w.reviewer("rita")
			lat, lon := osmdata.FixedToDegrees(w.spot.onLat)+0.3, osmdata.FixedToDegrees(w.spot.onLon)
			first := w.submit(bob, bench(lat, lon))
			step(t, w.job)
			if got := w.state(first); got != osmdata.ReviewSubmitted {
				t.Fatalf("first changeset %d: %s, want submitted", first, got)
			}
			if _, err := w.svc.Approve(t.Context(), rita, first, ""); err != nil {
				t.Fatal(err)
			}
			step(t, w.job)
			second := w.submit(bob, bench(lat+0.01, lon))
			step(t, w.job)
			if got := w.state(second); got != osmdata.ReviewMerged {
				t.Errorf("second changeset %d after one merged: %s, want merged (findings %+v)", second, got, w.findings(second))
			}
		})
	}
}

// A changeset waiting longer than escalate_after is escalated by the
// merge job, once, with an event on its log; a younger one is not.
func TestGateEscalatesWaitingChangesets(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			w := newGateWorld(t, b.open(t), "policy:\n  escalate_after: 48h\n")
			bob := w.contributor("bob", false)
			lat, lon := osmdata.FixedToDegrees(w.spot.onLat)+0.3, osmdata.FixedToDegrees(w.spot.onLon)
			old := w.submit(bob, bench(lat, lon))
			young := w.submit(bob, bench(lat+0.01, lon))
			step(t, w.job)
			backdater, ok := w.store.(interface {
				BackdateChangeset(ctx context.Context, id int64, d time.Duration) error
			})
			if !ok {
				t.Fatalf("%T cannot backdate changesets", w.store)
			}
			if err := backdater.BackdateChangeset(t.Context(), old, 49*time.Hour); err != nil {
				t.Fatal(err)
			}
			// New jobs: the first step of a job escalates at once, and
			// a second job escalates nothing twice.
			cfg := review.DefaultConfig()
			cfg.Policy.EscalateAfter = review.Duration(48 * time.Hour)
			gate, err := review.NewGate(w.store, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				step(t, review.NewMergeJob(w.store, gate, time.Hour, nil))
			}
			want := []osmdata.ReviewEventKind{osmdata.EventSubmitted, osmdata.EventEscalated}
			if got := w.events(old); !slices.Equal(got, want) {
				t.Errorf("events of the changeset waiting 49 h: %v, want %v", got, want)
			}
			if got := w.events(young); !slices.Equal(got, want[:1]) {
				t.Errorf("events of the changeset waiting a moment: %v, want %v", got, want[:1])
			}
		})
	}
}
