package storagetest

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/storage"
)

// PendingBaseliner is implemented by both backends: a plain bulk insert
// of complete pending rows (COPY on PostgreSQL), rolled back, timed.
type PendingBaseliner interface {
	CopyPendingBaseline(ctx context.Context, changes []storage.PendingChange) (time.Duration, error)
}

// StageBenchSize is the upload BenchmarkStaging stages: an upload the
// size of a full changeset.
const StageBenchSize = storage.MaxChangesetChanges

// AndorraUpload returns n elements of andorra-latest.osm.bz2 as an upload
// would create them: ways with all their nodes (topped up with more
// nodes to n), in document order, ids as in the file (the caller maps
// them to allocated ids, as placeholders are).
func AndorraUpload(tb testing.TB, n int) []osmdata.Element {
	tb.Helper()
	dir, err := osmfile.ModuleTestdata()
	if err != nil {
		tb.Fatalf("paulmach/osm test data: %v", err)
	}
	r, err := osmfile.Open(filepath.Join(dir, "testdata/andorra-latest.osm.bz2"))
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	nodes := map[int64]osmdata.Element{}
	var order []int64 // node ids in file order
	var ways []osmdata.Element
	used := map[int64]bool{}
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if e.Type == osmdata.Node {
			nodes[e.ID] = *e
			order = append(order, e.ID)
			continue
		}
		if e.Type != osmdata.Way {
			break
		}
		fresh := 0
		for _, id := range e.Nodes {
			if _, ok := nodes[id]; !ok {
				fresh = -1 << 30 // a node outside the extract: skip the way
				break
			}
			if !used[id] {
				fresh++
			}
		}
		if fresh < 0 || len(used)+fresh+len(ways)+1 > n {
			if len(used)+len(ways) > n-50 {
				break
			}
			continue
		}
		for _, id := range e.Nodes {
			used[id] = true
		}
		ways = append(ways, *e)
	}
	var out []osmdata.Element
	for _, id := range order {
		if used[id] || len(used)+len(ways) < n {
			if !used[id] {
				used[id] = true
			}
			out = append(out, nodes[id])
		}
	}
	out = append(out, ways...)
	if len(out) != n {
		tb.Fatalf("andorra upload: %d elements, want %d", len(out), n)
	}
	return out
}

// stageCreates is one upload of creates: it allocates ids, maps the
// file's ids to them (way nodes too), writes the pending rows and
// records them on the changeset, as the editing layer does.
func stageCreates(ctx context.Context, s storage.Store, cs, uid int64, els []osmdata.Element) ([]storage.PendingChange, error) {
	var changes []storage.PendingChange
	err := s.Stage(ctx, cs, uid, func(ctx context.Context, tx storage.StageTx) error {
		var count [4]int
		for i := range els {
			count[els[i].Type]++
		}
		newID := map[osmdata.Key]int64{}
		next := map[osmdata.ElementType][]int64{}
		for _, t := range osmdata.ElementTypes {
			ids, err := tx.AllocateIDs(ctx, t, count[t])
			if err != nil {
				return err
			}
			next[t] = ids
		}
		changes = make([]storage.PendingChange, len(els))
		box := osmdata.Box{MinLat: 900000000, MinLon: 1800000000, MaxLat: -900000000, MaxLon: -1800000000}
		for i := range els {
			e := els[i]
			id := next[e.Type][0]
			next[e.Type] = next[e.Type][1:]
			newID[e.Key()] = id
			e.ID, e.Version, e.Visible = id, 1, true
			e.Changeset, e.UID, e.User, e.Timestamp = 0, 0, "", time.Time{}
			if e.Type == osmdata.Way {
				nodes := make([]int64, len(e.Nodes))
				for j, n := range e.Nodes {
					nodes[j] = newID[osmdata.Key{Type: osmdata.Node, ID: n}]
				}
				e.Nodes = nodes
			}
			if e.Type == osmdata.Node {
				box.MinLat, box.MaxLat = min(box.MinLat, e.Lat), max(box.MaxLat, e.Lat)
				box.MinLon, box.MaxLon = min(box.MinLon, e.Lon), max(box.MaxLon, e.Lon)
			}
			changes[i] = storage.PendingChange{Action: storage.Create, Element: e}
		}
		if err := tx.WritePending(ctx, changes); err != nil {
			return err
		}
		_, err := tx.UpdateChangeset(ctx, len(changes), box, true)
		return err
	})
	return changes, err
}

// BenchmarkStaging stages StageBenchSize creates from Andorra per
// iteration (Stage with its id allocation, WritePending, UpdateChangeset;
// a fresh changeset each time, outside the timer) and, in the same run,
// a plain insert of the same rows (CopyPendingBaseline). Both report
// elements/s; the staged rows are checked (count, one sampled row).
func BenchmarkStaging(b *testing.B, open func(testing.TB) storage.Store) {
	ctx := context.Background()
	els := AndorraUpload(b, StageBenchSize)
	s := open(b)
	baseliner, ok := s.(PendingBaseliner)
	if !ok {
		b.Fatalf("%T has no CopyPendingBaseline", s)
	}
	var last []storage.PendingChange
	var stageRate float64
	b.Run("Stage", func(b *testing.B) {
		var cs osmdata.Changeset
		for b.Loop() {
			b.StopTimer()
			var err error
			if cs, err = s.CreateChangeset(ctx, storage.NewChangeset{UID: ana, User: "ana"}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if last, err = stageCreates(ctx, s, cs.ID, ana, els); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		stageRate = float64(len(els)) * float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(stageRate, "elements/s")
		checkStaged(b, s, cs.ID, last)
		b.StartTimer()
	})
	b.Run("CopyBaseline", func(b *testing.B) {
		if last == nil {
			b.Skip("Stage did not run")
		}
		// The same rows under an unused changeset id, so that they do not
		// collide with the staged ones.
		rows := slices.Clone(last)
		for i := range rows {
			rows[i].Changeset += 1 << 40
		}
		var total time.Duration
		for b.Loop() {
			d, err := baseliner.CopyPendingBaseline(ctx, rows)
			if err != nil {
				b.Fatal(err)
			}
			total += d
		}
		rate := float64(len(rows)) * float64(b.N) / total.Seconds()
		b.ReportMetric(rate, "elements/s")
		if stageRate > 0 {
			b.Logf("staged %.0f elements/s, plain insert %.0f elements/s: staging takes %.2f× the insert", stageRate, rate, rate/stageRate)
		}
	})
}

func checkStaged(b *testing.B, s storage.Store, cs int64, want []storage.PendingChange) {
	ctx := context.Background()
	got, err := s.ChangesetChanges(ctx, cs)
	if err != nil {
		b.Fatal(err)
	}
	if len(got) != len(want) {
		b.Fatalf("changeset %d holds %d pending changes after staging %d", cs, len(got), len(want))
	}
	i := len(want) - 1 // a way, with its node list
	if diff := cmp.Diff(want[i], got[i], pendingOpts); diff != "" {
		b.Fatalf("staged change %d read back (-staged +read):\n%s", i, diff)
	}
	c, err := s.Changeset(ctx, cs)
	if err != nil || c.NumChanges != len(want) {
		b.Fatalf("changeset %d: %d changes, %v; want %d", cs, c.NumChanges, err, len(want))
	}
	refs, err := s.Pending(ana).PendingReferencing(ctx, osmdata.Node, want[i].Element.Nodes[:1])
	if err != nil || !slices.ContainsFunc(refs, func(p storage.PendingChange) bool { return p.Element.ID == want[i].Element.ID }) {
		b.Fatalf("the staged way %d is not found by its first node: %v, %v", want[i].Element.ID, describe(refs), err)
	}
}
