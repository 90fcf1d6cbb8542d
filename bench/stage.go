package bench

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/storage"
)

const andorraFile = "testdata/andorra-latest.osm.bz2"

// stageTargetRate is the target for staging on PostgreSQL.
const stageTargetRate = 50000.0

// stageSize is the number of operations of the largest staged upload:
// the most one changeset may hold, and the size the target is set at.
const stageSize = 10000

// stageSizes are the sizes of the staged uploads, a curve from a small
// edit to the largest changeset (the 100, 1,000 and 10,000).
var stageSizes = []int{100, 1000, stageSize}

// stageRuns is how many uploads of a size are measured, the median
// posted: a small upload takes milliseconds, which one scheduling hiccup
// on a shared machine doubles.
func stageRuns(size int) int {
	switch {
	case size <= 100:
		return 5
	case size <= 1000:
		return 3
	}
	return 1
}

// pendingBaseliner is the plain bulk copy of pending rows each backend
// offers as the anchor for staging figures.
type pendingBaseliner interface {
	CopyPendingBaseline(ctx context.Context, changes []storage.PendingChange) (time.Duration, error)
}

// runStage imports Andorra, then stages uploads through the editing
// service, exactly as POST /changeset/ID/upload does after reading the
// body, at each of stageSizes: creates (ways of Andorra with their nodes,
// renumbered as placeholders) and mixed modifies and deletes of existing
// elements. Each is timed from the osmChange bytes to the commit, checked
// against what the store then holds, and set beside a plain bulk copy of
// the same pending rows.
func runStage(ctx context.Context, env *environment, b backend) ([]Result, error) {
	elements, err := readAll(env.file(andorraFile))
	if err != nil {
		return nil, err
	}
	store, cleanup, err := b.open(ctx)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	src, err := osmfile.OpenAll([]string{env.file(andorraFile)})
	if err != nil {
		return nil, err
	}
	_, err = store.Import(ctx, src)
	src.Close()
	if err != nil {
		return nil, fmt.Errorf("import andorra: %w", err)
	}
	svc, err := editing.NewService(store, editing.Limits{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	var results []Result
	for range env.repeat {
		for _, u := range []struct {
			series string
			build  func([]osmdata.Element, int64, int) ([]byte, int, error)
		}{
			{"creates", buildCreateUpload},
			{"modifies/deletes", buildMixedUpload},
		} {
			for _, size := range stageSizes {
				r, err := stageSeries(ctx, b, store, svc, elements, u.series, size, u.build)
				if err != nil {
					return nil, fmt.Errorf("stage %d %s: %w", size, u.series, err)
				}
				results = append(results, r)
			}
		}
	}
	return results, nil
}

// stageSeries measures stageRuns(size) uploads of size operations, each
// by a fresh author (so that a modify/delete upload cites the
// authoritative versions rather than stacking on an earlier one), and
// posts the median rate beside the median of their baselines.
func stageSeries(ctx context.Context, b backend, store storage.Store, svc *editing.Service, elements []osmdata.Element,
	series string, size int, build func([]osmdata.Element, int64, int) ([]byte, int, error)) (Result, error) {
	name := fmt.Sprintf("stage %s %s", formatCount(float64(size)), series)
	var runs []Result
	for range stageRuns(size) {
		acct, err := store.CreateAccount(ctx, storage.NewAccount{DisplayName: "bench-" + randomSuffix(), Role: string(auth.RoleContributor)})
		if err != nil {
			return Result{}, fmt.Errorf("create account: %w", err)
		}
		who := &auth.Identity{UserID: acct.ID, DisplayName: acct.DisplayName, Role: auth.RoleContributor, Scopes: auth.AllScopes}
		r, err := stageOne(ctx, b, store, svc, who, elements, name, func(els []osmdata.Element, cs int64) ([]byte, int, error) {
			return build(els, cs, size)
		})
		if err != nil {
			return Result{}, err
		}
		runs = append(runs, r)
	}
	r := medianRun(runs)
	r.Series, r.Size = "stage "+series, float64(size)
	if len(runs) > 1 {
		r.Note = fmt.Sprintf("median of %d uploads; %s", len(runs), r.Note)
	}
	if b.name() == "postgres" && size == stageSize {
		r.Target = fmt.Sprintf("≥ %.0f el/s", stageTargetRate)
		r.Met = boolPtr(r.Value >= stageTargetRate)
	}
	return r, nil
}

// medianRun is the run of median value, with the median of the runs'
// baselines beside it and the highest peak.
func medianRun(runs []Result) Result {
	byValue := slices.Clone(runs)
	slices.SortFunc(byValue, func(a, b Result) int { return cmp.Compare(a.Value, b.Value) })
	r := byValue[len(byValue)/2]
	baselines := make([]float64, len(runs))
	for i, x := range runs {
		baselines[i] = x.Baseline
		r.PeakMB = max(r.PeakMB, x.PeakMB)
	}
	slices.Sort(baselines)
	r.Baseline = baselines[len(baselines)/2]
	r.Ratio = r.Value / r.Baseline
	return r
}

func stageOne(ctx context.Context, b backend, store storage.Store, svc *editing.Service, who *auth.Identity,
	elements []osmdata.Element, name string, build func([]osmdata.Element, int64) ([]byte, int, error)) (Result, error) {
	cs, err := svc.CreateChangeset(ctx, who, osmdata.Tags{{Key: "comment", Value: name}})
	if err != nil {
		return Result{}, err
	}
	doc, ops, err := build(elements, cs.ID)
	if err != nil {
		return Result{}, err
	}
	resetPeakRSS()
	var diff *editing.DiffResult
	var elapsed time.Duration
	// The labels let a CPU profile of the run (--cpuprofile) focus on the
	// timed upload.
	pprof.Do(ctx, pprof.Labels("bench", name, "backend", b.name()), func(ctx context.Context) {
		start := time.Now()
		diff, err = svc.UploadOsmChange(ctx, who, cs.ID, bytes.NewReader(doc))
		elapsed = time.Since(start)
	})
	peak := peakRSSMB()
	if err != nil {
		return Result{}, fmt.Errorf("upload: %w", err)
	}
	// Self-check: one diffResult line per operation, one pending row per
	// element, and the changeset's count.
	if len(diff.Entries) != ops {
		return Result{}, fmt.Errorf("diffResult has %d entries for %d operations", len(diff.Entries), ops)
	}
	staged, err := store.ChangesetChanges(ctx, cs.ID)
	if err != nil {
		return Result{}, err
	}
	if len(staged) != ops {
		return Result{}, fmt.Errorf("the store holds %d pending changes for %d operations on distinct elements", len(staged), ops)
	}
	after, err := store.Changeset(ctx, cs.ID)
	if err != nil {
		return Result{}, err
	}
	if after.NumChanges != ops {
		return Result{}, fmt.Errorf("changeset counts %d changes, %d were uploaded", after.NumChanges, ops)
	}
	if err := checkStagedSample(diff, staged); err != nil {
		return Result{}, err
	}

	pb, ok := store.(pendingBaseliner)
	if !ok {
		return Result{}, fmt.Errorf("the %s store has no CopyPendingBaseline", b.name())
	}
	// The baseline copies the very rows the upload produced, renumbered
	// into a changeset of their own so they do not collide.
	baseline, err := pb.CopyPendingBaseline(ctx, rebase(staged))
	if err != nil {
		return Result{}, fmt.Errorf("pending copy baseline: %w", err)
	}
	rate := float64(ops) / elapsed.Seconds()
	baseRate := float64(ops) / baseline.Seconds()
	return Result{
		Scenario: name, Backend: b.name(), Metric: "elements/s", Value: rate, Unit: "el/s",
		BaselineName: "el/s plain COPY", Baseline: baseRate, Ratio: rate / baseRate, PeakMB: peak,
		Note: fmt.Sprintf("%d operations (%d bytes of osmChange) in %.1f ms, COPY %.1f ms", ops, len(doc), ms(elapsed), ms(baseline)),
	}, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// checkStagedSample compares what the diffResult promised with what the
// store staged, for every element.
func checkStagedSample(diff *editing.DiffResult, staged []storage.PendingChange) error {
	byKey := make(map[osmdata.Key]storage.PendingChange, len(staged))
	for _, p := range staged {
		byKey[p.Element.Key()] = p
	}
	for _, d := range diff.Entries {
		p, ok := byKey[osmdata.Key{Type: d.Type, ID: d.NewID}]
		if !ok {
			return fmt.Errorf("diffResult names %s %d, which was not staged", d.Type, d.NewID)
		}
		if p.Element.Version != d.NewVersion {
			return fmt.Errorf("%s %d: diffResult says version %d, staged %d", d.Type, d.NewID, d.NewVersion, p.Element.Version)
		}
		if p.Action != d.Action {
			return fmt.Errorf("%s %d: diffResult says %s, staged %s", d.Type, d.NewID, d.Action, p.Action)
		}
	}
	return nil
}

// rebase moves pending rows to an unused changeset id and fresh Seq
// numbers so that the baseline copy inserts them beside the real ones.
func rebase(changes []storage.PendingChange) []storage.PendingChange {
	out := make([]storage.PendingChange, len(changes))
	for i, c := range changes {
		c.Changeset = -c.Changeset
		c.Element.Changeset = c.Changeset
		c.Seq = -int64(i + 1)
		out[i] = c
	}
	return out
}

// buildCreateUpload writes an osmChange of Andorra's ways with their nodes
// as new elements with placeholder ids: nodes first, then the ways citing
// them, until size operations.
func buildCreateUpload(elements []osmdata.Element, changeset int64, size int) ([]byte, int, error) {
	nodes := map[int64]*osmdata.Element{}
	for i := range elements {
		if elements[i].Type == osmdata.Node {
			nodes[elements[i].ID] = &elements[i]
		}
	}
	placeholder := map[int64]int64{}
	var creates []osmdata.Element
	next := int64(-1)
	for i := range elements {
		w := &elements[i]
		if w.Type != osmdata.Way {
			continue
		}
		var fresh []int64
		for _, id := range w.Nodes {
			if _, ok := placeholder[id]; !ok && nodes[id] != nil {
				fresh = append(fresh, id)
			}
		}
		if len(creates)+len(unique(fresh))+1 > size {
			break
		}
		var refs []int64
		for _, id := range w.Nodes {
			n := nodes[id]
			if n == nil {
				continue // dangling in the extract
			}
			ph, ok := placeholder[id]
			if !ok {
				ph = next
				next--
				placeholder[id] = ph
				c := *n
				c.ID, c.Version, c.Changeset = ph, 0, changeset
				creates = append(creates, c)
			}
			refs = append(refs, ph)
		}
		if len(refs) < 2 {
			continue
		}
		c := *w
		c.ID, c.Version, c.Changeset, c.Nodes = next, 0, changeset, refs
		next--
		creates = append(creates, c)
	}
	// Fill up to exactly size with untagged nodes.
	for i := range elements {
		if len(creates) >= size {
			break
		}
		if n := &elements[i]; n.Type == osmdata.Node {
			if _, used := placeholder[n.ID]; !used {
				c := *n
				c.ID, c.Version, c.Changeset = next, 0, changeset
				next--
				placeholder[n.ID] = c.ID
				creates = append(creates, c)
			}
		}
	}
	var buf bytes.Buffer
	w := osmdata.NewChangeWriter(&buf, osmdata.DocumentHeader{Generator: "geocommuns bench"})
	for i := range creates {
		if err := w.WriteChange(osmdata.ActionCreate, &creates[i]); err != nil {
			return nil, 0, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), len(creates), nil
}

// buildMixedUpload writes an osmChange that modifies and deletes existing
// Andorra elements: every node not used by a way or relation is deleted
// (up to a third of the upload), and nodes and ways are modified (moved
// by one unit, retagged) up to size operations.
func buildMixedUpload(elements []osmdata.Element, changeset int64, size int) ([]byte, int, error) {
	used := map[int64]bool{}
	for i := range elements {
		for _, id := range elements[i].Nodes {
			used[id] = true
		}
		for _, m := range elements[i].Members {
			if m.Type == osmdata.Node {
				used[m.Ref] = true
			}
		}
	}
	var buf bytes.Buffer
	w := osmdata.NewChangeWriter(&buf, osmdata.DocumentHeader{Generator: "geocommuns bench"})
	ops, deletes := 0, 0
	for i := range elements {
		if ops >= size {
			break
		}
		e := elements[i]
		e.Changeset = changeset
		switch {
		case e.Type == osmdata.Node && !used[e.ID] && deletes < size/3:
			if err := w.WriteChange(osmdata.ActionDelete, &e); err != nil {
				return nil, 0, err
			}
			deletes++
		case e.Type == osmdata.Node && i%3 == 0:
			e.Lat++
			if err := w.WriteChange(osmdata.ActionModify, &e); err != nil {
				return nil, 0, err
			}
		case e.Type == osmdata.Way:
			e.Tags = append(append(osmdata.Tags{}, e.Tags...), osmdata.Tag{Key: "check_date", Value: "2026-11-29"})
			if err := w.WriteChange(osmdata.ActionModify, &e); err != nil {
				return nil, 0, err
			}
		default:
			continue
		}
		ops++
	}
	if err := w.Close(); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), ops, nil
}

func unique(ids []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
