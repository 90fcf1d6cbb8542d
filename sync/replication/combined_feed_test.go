package replication_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/replication"
)

// TestFeedReplaysRebasedPartialAndReverted is the feed check of
// TestFeedReplaysTheMerges over a run of changesets the merge had to
// combine (issue 7): concurrent edits of one node by two contributors,
// the later rebased onto the earlier; changesets a reviewer approved in
// part, the rest coming back in a new changeset merged later; and
// reverts of merged changesets after later edits. osmium apply-changes of
// every replication file onto the initial extract equals the export.
func TestFeedReplaysRebasedPartialAndReverted(t *testing.T) {
	osmium := requireTool(t, "osmium", "osmium-tool")
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, b.open(t))
			rs, ok := w.store.(review.Store)
			if !ok {
				t.Fatalf("%T is not a review.Store", w.store)
			}
			cfg := review.DefaultConfig()
			gate, err := review.NewGate(rs, cfg)
			if err != nil {
				t.Fatal(err)
			}
			w.job = review.NewMergeJob(w.store, gate, time.Hour, nil)
			reviews := review.NewService(rs, cfg)
			_, admin := account(t, rs, "rita", auth.RoleAdmin)
			_, second := account(t, rs, "sami", auth.RoleAdmin)
			newcomer, _ := account(t, rs, "noa", auth.RoleContributor)
			cutter := replication.NewCutter(w.store, replication.CutterConfig{Interval: time.Minute, Header: osmdata.DocumentHeader{Generator: "geocommuns test"}}, nil)

			var rebased, parts, reverts int
			var revertable []int64
			for round := range 12 {
				w.edit(round)
				w.merge()

				// Two trusted contributors tag node 1+round%10 at once,
				// each from the same version with a key of their own.
				target := int64(1 + round%10)
				cur := w.current(osmdata.Node, target)
				var pair []int64
				for i, who := range w.authors {
					n := cur
					n.Tags = append(slices.Clone(cur.Tags), osmdata.Tag{Key: fmt.Sprintf("%s_%d", who.DisplayName, round), Value: "yes"})
					cs := w.open(who, fmt.Sprintf("concurrent %d/%d", round, i))
					w.upload(who, cs, []editing.Operation{{Action: storage.Modify, Element: n}})
					pair = append(pair, cs)
				}
				for i, cs := range pair {
					w.close(w.authors[i], cs)
				}
				w.merge()
				for _, cs := range pair {
					requireState(t, w.store, cs, osmdata.ReviewMerged)
				}
				after := w.current(osmdata.Node, target)
				for _, who := range w.authors {
					if _, ok := after.Tags.Get(fmt.Sprintf("%s_%d", who.DisplayName, round)); !ok {
						t.Fatalf("round %d: node %d lost %s's tag after the rebase: %v", round, target, who.DisplayName, after.Tags)
					}
				}
				rebased++
				revertable = append(revertable, pair[0])

				// A newcomer's changeset a reviewer approves in part: a
				// new way with its new nodes, and a retag of node
				// 30-round%5 left out, then fixed and merged.
				if round%3 == 0 {
					cs := w.open(newcomer, fmt.Sprintf("newcomer %d", round))
					lat, lon := 42.8+float64(round)*0.0003, 1.8
					retagged := w.current(osmdata.Node, int64(30-round%5))
					retagged.Tags = append(slices.Clone(retagged.Tags), osmdata.Tag{Key: "note", Value: fmt.Sprint(round)})
					res := w.upload(newcomer, cs, []editing.Operation{
						{Action: storage.Create, Element: node(-1, lat, lon)},
						{Action: storage.Create, Element: node(-2, lat+0.0001, lon)},
						{Action: storage.Create, Element: osmdata.Element{Type: osmdata.Way, ID: -1, Nodes: []int64{-1, -2},
							Tags: osmdata.Tags{{Key: "highway", Value: "path"}}}},
						{Action: storage.Modify, Element: retagged},
					})
					w.close(newcomer, cs)
					w.merge() // the Gate validates it; a newcomer waits for a reviewer
					var way osmdata.Key
					for _, e := range res.Entries {
						if e.Type == osmdata.Way {
							way = osmdata.Key{Type: osmdata.Way, ID: e.NewID}
						}
					}
					part, err := reviews.ApproveElements(ctx, admin, cs, []osmdata.Key{way}, "the path is fine; the note needs a source")
					if err != nil {
						t.Fatalf("round %d: approve the way of changeset %d: %v", round, cs, err)
					}
					if len(part.Accepted) != 3 || part.Returned.ID == 0 {
						t.Fatalf("round %d: partial approval accepted %v and returned %d; want the way with its two nodes, the retag returned",
							round, part.Accepted, part.Returned.ID)
					}
					w.merge()
					requireState(t, w.store, cs, osmdata.ReviewMerged)
					// The newcomer closes the returned changeset as it is;
					// the reviewer approves it this time.
					w.close(newcomer, part.Returned.ID)
					w.merge()
					if _, err := reviews.Approve(ctx, admin, part.Returned.ID, ""); err != nil {
						t.Fatalf("round %d: approve the returned changeset %d: %v", round, part.Returned.ID, err)
					}
					w.merge()
					requireState(t, w.store, part.Returned.ID, osmdata.ReviewMerged)
					parts++
				}

				// Every fourth round, a reviewer reverts one of the
				// concurrent changesets of an earlier round, after which
				// its node was tagged again by the other contributor.
				if round%4 == 3 && len(revertable) > 1 {
					target := revertable[0]
					revertable = revertable[1:]
					rev, err := reviews.RevertChangeset(ctx, admin, target, "")
					if err != nil {
						t.Fatalf("round %d: revert changeset %d: %v", round, target, err)
					}
					w.merge()
					if _, err := reviews.Approve(ctx, second, rev.Changeset.ID, "reverted as asked"); err != nil {
						t.Fatalf("round %d: approve the revert %d: %v", round, rev.Changeset.ID, err)
					}
					w.merge()
					requireState(t, w.store, rev.Changeset.ID, osmdata.ReviewMerged)
					reverts++
				}
				if _, _, err := cutter.Cut(ctx); err != nil {
					t.Fatalf("cut after round %d: %v", round, err)
				}
			}
			if rebased == 0 || parts == 0 || reverts == 0 {
				t.Fatalf("the run made %d rebased pairs, %d partial approvals, %d reverts; want some of each", rebased, parts, reverts)
			}

			feed := w.serve() + "/replication/minute"
			latest := readState(t, feed+"/state.txt")
			last, err := w.store.LastMergeSeq(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if latest.LastMergeSeq != last {
				t.Fatalf("the feed ends at merge %d, the dataset at %d", latest.LastMergeSeq, last)
			}
			files := []string{w.initial}
			for seq := int64(1); seq <= latest.Seq; seq++ {
				body := get(t, feed+"/"+replication.SeqPath(seq)+".osc.gz", "application/gzip")
				path := filepath.Join(w.dir, fmt.Sprintf("%d.osc.gz", seq))
				if err := os.WriteFile(path, body, 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, path)
			}
			export := w.export("export.osm")
			applied := filepath.Join(w.dir, "applied.osm")
			if out, err := exec.Command(osmium, append([]string{"apply-changes", "-o", applied}, files...)...).CombinedOutput(); err != nil {
				t.Fatalf("osmium apply-changes: %v\n%s", err, out)
			}
			if diff := osmiumDiff(t, osmium, applied, export); diff != "" {
				t.Fatalf("the initial extract with every file applied differs from the export:\n%s", diff)
			}
			t.Logf("%d merges in %d files: %d rebased pairs, %d partial approvals, %d reverts", last, latest.Seq, rebased, parts, reverts)
		})
	}
}

// account makes an untrusted account, as the editing and the review
// services see it.
func account(t *testing.T, s review.Store, name string, role auth.Role) (*auth.Identity, review.Caller) {
	t.Helper()
	acc, err := s.CreateAccount(context.Background(), storage.NewAccount{DisplayName: name, Role: string(role)})
	if err != nil {
		t.Fatal(err)
	}
	return &auth.Identity{UserID: acc.ID, DisplayName: name, Role: role, Scopes: auth.AllScopes},
		review.Caller{UID: acc.ID, Name: name, Role: string(role)}
}

func requireState(t *testing.T, s storage.Store, id int64, want osmdata.ReviewState) {
	t.Helper()
	cs, err := s.Changeset(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if cs.ReviewState != want {
		var report []storage.MergeConflict
		if m, ok := s.(storage.Merger); ok {
			report, _ = m.MergeConflicts(context.Background(), id)
		}
		t.Fatalf("changeset %d is %s, want %s (conflicts: %v)", id, cs.ReviewState, want, errors.Join(conflictErrors(report)...))
	}
}

func conflictErrors(report []storage.MergeConflict) []error {
	var out []error
	for _, c := range report {
		out = append(out, fmt.Errorf("%s: %s", c.Element, c.Message))
	}
	return out
}
