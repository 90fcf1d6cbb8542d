package bench

import (
	"bytes"
	"context"
	"fmt"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/review/validate"
	"github.com/geocommuns/geocommuns/storage"
)

// validateTarget is the target on PostgreSQL for validating one
// 10,000-element changeset (reading its neighbourhood and running the
// rules).
const validateTarget = 500 * time.Millisecond

// validateSizes are the sizes of the changesets validated, a curve up to
// the 10,000; quickValidateSizes are --quick's.
var (
	validateSizes      = []int{100, 1000, 10000}
	quickValidateSizes = []int{100, 300, 1000}
)

// validateTargetSize is the size the target is set at.
const validateTargetSize = 10000

func runValidate(ctx context.Context, env *environment, b backend) ([]Result, error) {
	sizes := validateSizes
	if env.quick {
		sizes = quickValidateSizes
	}
	return measureValidate(ctx, env, b, sizes)
}

// measureValidate imports Andorra and validates one changeset of each
// size (validateOne), each by an author of its own so that none stacks on
// another.
func measureValidate(ctx context.Context, env *environment, b backend, sizes []int) ([]Result, error) {
	store, svc, _, cleanup, err := openAndorraEditor(ctx, env, b)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	elements, err := readAll(env.file(andorraFile))
	if err != nil {
		return nil, err
	}
	var results []Result
	for _, size := range sizes {
		acct, err := store.CreateAccount(ctx, storage.NewAccount{DisplayName: "bench-" + randomSuffix(), Role: string(auth.RoleContributor)})
		if err != nil {
			return nil, fmt.Errorf("create account: %w", err)
		}
		who := &auth.Identity{UserID: acct.ID, DisplayName: acct.DisplayName, Role: auth.RoleContributor, Scopes: auth.AllScopes}
		rs, err := validateOne(ctx, env, b, store, svc, who, elements, size)
		if err != nil {
			return nil, fmt.Errorf("validate %d elements: %w", size, err)
		}
		results = append(results, rs...)
	}
	return results, nil
}

// validateOne stages one changeset of size operations that give the
// rules work (validationUpload), and times review.LoadInput then Validate
// with the default rules, beside the bare reads of the same data: the
// changeset's pending rows and the same NodesInBox calls LoadInput made.
// Before any figure is posted it checks the findings: some name elements,
// and every one that does names one the changeset touched.
func validateOne(ctx context.Context, env *environment, b backend, store storage.Store, svc *editing.Service, who *auth.Identity,
	elements []osmdata.Element, size int) ([]Result, error) {
	cs, err := stageForValidation(ctx, elements, svc, who, size)
	if err != nil {
		return nil, err
	}
	validator, err := validate.New(validate.Default())
	if err != nil {
		return nil, fmt.Errorf("default validator: %w", err)
	}

	// A first run through a recording store, which warms the caches as
	// the timed run finds them and tells the baseline which boxes to read.
	rec := &recordingStore{Store: store, calls: map[string]int{}}
	in, err := review.LoadInput(ctx, rec, cs.id)
	if err != nil {
		return nil, fmt.Errorf("LoadInput through the recording store: %w", err)
	}
	checkedFindings, err := checkFindings(in, validator.Validate(in), len(cs.pending))
	if err != nil {
		return nil, fmt.Errorf("self-check: %w", err)
	}

	name := fmt.Sprintf("validate %d elements", len(cs.pending))
	var results []Result
	for range env.repeat {
		resetPeakRSS()
		var load, check time.Duration
		var report validate.Report
		pprof.Do(ctx, pprof.Labels("bench", name, "backend", b.name()), func(ctx context.Context) {
			start := time.Now()
			in, err = review.LoadInput(ctx, store, cs.id)
			load = time.Since(start)
			if err == nil {
				report = validator.Validate(in)
				check = time.Since(start) - load
			}
		})
		peak := peakRSSMB()
		if err != nil {
			return nil, fmt.Errorf("LoadInput: %w", err)
		}
		if len(report.Findings) != checkedFindings {
			return nil, fmt.Errorf("self-check: the timed run found %d findings, the checked one %d", len(report.Findings), checkedFindings)
		}
		baseline, err := bareReads(ctx, store, cs, rec.boxes)
		if err != nil {
			return nil, fmt.Errorf("bare reads baseline: %w", err)
		}
		elapsed := load + check
		r := Result{
			Scenario: name, Backend: b.name(), Metric: "LoadInput + Validate", Value: elapsed.Seconds(), Unit: "s",
			BaselineName: fmt.Sprintf("s bare reads (ChangesetChanges + %d NodesInBox)", len(rec.boxes)),
			Baseline:     baseline.Seconds(), Ratio: elapsed.Seconds() / baseline.Seconds(), PeakMB: peak,
			Series: "validate one changeset", Size: float64(len(cs.pending)),
			Note: fmt.Sprintf("load %.0f ms (%d reads; before %d/%d/%d, after %d/%d/%d n/w/r), rules %.0f ms, %d findings, risk %d",
				ms(load), rec.total(), len(in.Before.Nodes), len(in.Before.Ways), len(in.Before.Relations),
				len(in.After.Nodes), len(in.After.Ways), len(in.After.Relations), ms(check), len(report.Findings), report.Risk),
		}
		if b.name() == "postgres" && len(cs.pending) == validateTargetSize {
			r.Target = fmt.Sprintf("< %.1f s", validateTarget.Seconds())
			r.Met = boolPtr(elapsed < validateTarget)
		}
		results = append(results, r)
	}
	return results, nil
}

// checkFindings makes sure validation did its work: there are findings
// about elements, and each of them names at least one element the
// changeset touched, or a way whose shape it changed by moving one of its
// nodes (rules report what the changeset introduced, never a neighbour's
// problem alone). It returns the number of findings.
func checkFindings(in *validate.Input, report validate.Report, changes int) (int, error) {
	if len(in.Changes) != changes {
		return 0, fmt.Errorf("LoadInput has %d changes, the changeset %d", len(in.Changes), changes)
	}
	touched := make(map[osmdata.Key]bool, len(in.Changes))
	for _, c := range in.Changes {
		e := c.New
		if e == nil {
			e = c.Old
		}
		if e == nil {
			return 0, fmt.Errorf("a change with neither old nor new version")
		}
		touched[e.Key()] = true
	}
	for _, snap := range []*validate.Snapshot{in.Before, in.After} {
		for _, w := range snap.Ways {
			for _, id := range w.Nodes {
				if touched[osmdata.Key{Type: osmdata.Node, ID: id}] {
					touched[w.Key()] = true
					break
				}
			}
		}
	}
	aboutElements := 0
	for _, f := range report.Findings {
		if len(f.Elements) == 0 {
			continue
		}
		aboutElements++
		names := false
		for _, k := range f.Elements {
			names = names || touched[k]
		}
		if !names {
			return 0, fmt.Errorf("finding %q (%s) names only elements the changeset left as they were: %v", f.Rule, f.Message, f.Elements)
		}
	}
	if aboutElements == 0 {
		return 0, fmt.Errorf("no finding names an element (%d findings in all): the rules did no work", len(report.Findings))
	}
	return len(report.Findings), nil
}

// bareReads times what LoadInput cannot do without: the changeset's
// pending rows and the nodes of the same boxes, one read each as
// LoadInput made them.
func bareReads(ctx context.Context, store storage.Store, cs stagedChangeset, boxes []osmdata.Box) (time.Duration, error) {
	start := time.Now()
	changes, err := store.ChangesetChanges(ctx, cs.id)
	if err != nil {
		return 0, err
	}
	nodes := 0
	for _, box := range boxes {
		found, err := store.NodesInBox(ctx, box, maxNodesPerBox)
		if err != nil {
			return 0, err
		}
		nodes += len(found)
	}
	elapsed := time.Since(start)
	if len(changes) != len(cs.pending) {
		return 0, fmt.Errorf("%d pending changes read, %d staged", len(changes), len(cs.pending))
	}
	if len(boxes) > 0 && nodes == 0 {
		return 0, fmt.Errorf("the %d boxes around the changeset hold no node", len(boxes))
	}
	return elapsed, nil
}

// maxNodesPerBox is the limit LoadInput passes to NodesInBox: all of
// them.
const maxNodesPerBox = 1<<31 - 2

// recordingStore counts the reads LoadInput makes and keeps the boxes it
// reads nodes in.
type recordingStore struct {
	storage.Store
	mu    sync.Mutex
	calls map[string]int
	boxes []osmdata.Box
}

func (r *recordingStore) count(name string) {
	r.mu.Lock()
	r.calls[name]++
	r.mu.Unlock()
}

func (r *recordingStore) total() int {
	n := 0
	for _, c := range r.calls {
		n += c
	}
	return n
}

func (r *recordingStore) NodesInBox(ctx context.Context, box osmdata.Box, limit int) ([]osmdata.Element, error) {
	r.mu.Lock()
	r.boxes = append(r.boxes, box)
	r.mu.Unlock()
	r.count("NodesInBox")
	return r.Store.NodesInBox(ctx, box, limit)
}

func (r *recordingStore) CurrentElements(ctx context.Context, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error) {
	r.count("CurrentElements")
	return r.Store.CurrentElements(ctx, t, ids)
}

func (r *recordingStore) WaysUsingNodes(ctx context.Context, ids []int64) ([]osmdata.Element, error) {
	r.count("WaysUsingNodes")
	return r.Store.WaysUsingNodes(ctx, ids)
}

func (r *recordingStore) RelationsWithMembers(ctx context.Context, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error) {
	r.count("RelationsWithMembers")
	return r.Store.RelationsWithMembers(ctx, t, ids)
}

func (r *recordingStore) Changeset(ctx context.Context, id int64) (osmdata.Changeset, error) {
	r.count("Changeset")
	return r.Store.Changeset(ctx, id)
}

func (r *recordingStore) Changesets(ctx context.Context, q storage.ChangesetQuery) ([]osmdata.Changeset, error) {
	r.count("Changesets")
	return r.Store.Changesets(ctx, q)
}

func (r *recordingStore) ChangesetChanges(ctx context.Context, id int64) ([]storage.PendingChange, error) {
	r.count("ChangesetChanges")
	return r.Store.ChangesetChanges(ctx, id)
}

func (r *recordingStore) ChangesetParents(ctx context.Context, id int64) ([]int64, error) {
	r.count("ChangesetParents")
	return r.Store.ChangesetParents(ctx, id)
}

// MergedChangesetCount passes the optional storage.AuthorStats through.
func (r *recordingStore) MergedChangesetCount(ctx context.Context, uid int64) (int, error) {
	r.count("MergedChangesetCount")
	stats, ok := r.Store.(storage.AuthorStats)
	if !ok {
		return 0, fmt.Errorf("the store (%T) has no storage.AuthorStats", r.Store)
	}
	return stats.MergedChangesetCount(ctx, uid)
}

// stageForValidation uploads validationUpload as one changeset and
// submits it, checking that every operation was staged.
func stageForValidation(ctx context.Context, elements []osmdata.Element, svc *editing.Service, who *auth.Identity, size int) (stagedChangeset, error) {
	cs, err := svc.CreateChangeset(ctx, who, osmdata.Tags{{Key: "comment", Value: fmt.Sprintf("validate bench: %d elements", size)}})
	if err != nil {
		return stagedChangeset{}, err
	}
	doc, err := validationUpload(elements, cs.ID, size)
	if err != nil {
		return stagedChangeset{}, err
	}
	diff, err := svc.UploadOsmChange(ctx, who, cs.ID, bytes.NewReader(doc))
	if err != nil {
		return stagedChangeset{}, fmt.Errorf("upload to changeset %d: %w", cs.ID, err)
	}
	if len(diff.Entries) != size {
		return stagedChangeset{}, fmt.Errorf("changeset %d: diffResult has %d entries for %d operations", cs.ID, len(diff.Entries), size)
	}
	if err := submit(ctx, svc, who, cs.ID); err != nil {
		return stagedChangeset{}, err
	}
	pending, err := svc.Store().ChangesetChanges(ctx, cs.ID)
	if err != nil {
		return stagedChangeset{}, err
	}
	if len(pending) != size {
		return stagedChangeset{}, fmt.Errorf("changeset %d holds %d pending changes for %d operations on distinct elements", cs.ID, len(pending), size)
	}
	return stagedChangeset{id: cs.ID, author: who, pending: pending}, nil
}
