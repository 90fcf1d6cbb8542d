package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime/pprof"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/storage"
)

// The issue's targets for the merge on PostgreSQL.
const (
	mergeBigTarget       = 500 * time.Millisecond
	mergeSmallTargetRate = 200.0
)

// mergeSizes is how much the merge scenario stages and merges.
type mergeSizes struct {
	bigs      []int // operations of each big changeset, merged one after another: a curve
	small     int   // number of small changesets
	smallSize int   // operations of each small changeset
}

// mergeTargetSize is the size of the changeset the issue's merge target
// is set at.
const mergeTargetSize = 10000

// issueMergeSizes are the issue's: one changeset of 10,000 elements (with
// 100 and 1,000 before it, for the curve) and 1,000 of 10.
var issueMergeSizes = mergeSizes{bigs: []int{100, 1000, mergeTargetSize}, small: 1000, smallSize: 10}

// quickMergeSizes are --quick's: the same curve up to 1,000, 100 small.
var quickMergeSizes = mergeSizes{bigs: []int{100, 300, 1000}, small: 100, smallSize: 10}

// stagedChangeset is a changeset staged and submitted through the editing
// service, with the pending changes the store holds for it.
type stagedChangeset struct {
	id      int64
	author  *auth.Identity
	pending []storage.PendingChange
}

// mergedChangeset is a staged changeset beside what its Merge returned.
type mergedChangeset struct {
	stagedChangeset
	entry storage.OutboxEntry
}

func runMerge(ctx context.Context, env *environment, b backend) ([]Result, error) {
	if env.quick {
		return measureMerge(ctx, env, b, quickMergeSizes)
	}
	return measureMerge(ctx, env, b, issueMergeSizes)
}

// measureMerge imports Andorra, stages changesets as the HTTP API does
// (an osmChange upload, then close, which submits), and times
// storage.Merger.Merge: first of the big changesets, smallest first, then
// of many small ones one after another. Every element of every merge is checked against
// what was uploaded (checkMerges) before a figure is posted.
func measureMerge(ctx context.Context, env *environment, b backend, sizes mergeSizes) ([]Result, error) {
	store, svc, who, cleanup, err := openAndorraEditor(ctx, env, b)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	// Everything is staged before anything is timed, so that Andorra in
	// memory (a hundred megabytes the uploads are built from) is garbage
	// by then: the garbage collector would otherwise mark it again during
	// the timed merges, which a server process does not have to.
	bigs, small, err := stageAll(ctx, env, store, svc, who, sizes)
	if err != nil {
		return nil, err
	}

	var results []Result
	var finals [][]osmdata.Element
	for _, big := range bigs {
		r, f, err := mergeBig(ctx, b, store, big)
		if err != nil {
			return nil, fmt.Errorf("merge of %d elements: %w", len(big.pending), err)
		}
		results, finals = append(results, r), append(finals, f)
	}
	smallResult, err := mergeSmall(ctx, b, store, svc, who, small, sizes)
	if err != nil {
		return nil, fmt.Errorf("merges of %d changesets of %d elements: %w", sizes.small, sizes.smallSize, err)
	}
	// The big merges' baseline imports Andorra into a store of its own and
	// drops it: work heavy enough to slow whatever the database does next,
	// so it comes after every timed merge.
	baselines, err := applyBaseline(ctx, env, b, finals)
	if err != nil {
		return nil, fmt.Errorf("apply baseline: %w", err)
	}
	for i, baseline := range baselines {
		r := &results[i]
		r.Baseline, r.Ratio = baseline.Seconds(), r.Value/baseline.Seconds()
		r.Note += fmt.Sprintf(", Apply %.1f ms", ms(baseline))
	}
	return append(results, smallResult), nil
}

// stageAll stages the big changesets and the small ones from Andorra's
// elements, which it drops when it returns.
func stageAll(ctx context.Context, env *environment, store storage.Store, svc *editing.Service, who *auth.Identity,
	sizes mergeSizes) ([]stagedChangeset, []stagedChangeset, error) {
	elements, err := readAll(env.file(andorraFile))
	if err != nil {
		return nil, nil, err
	}
	pool := newEditPool(elements)
	bigs := make([]stagedChangeset, len(sizes.bigs))
	for i, n := range sizes.bigs {
		if bigs[i], err = stageForMerge(ctx, svc, store, who, pool, n, fmt.Sprintf("merge bench: %d elements", n)); err != nil {
			return nil, nil, err
		}
	}
	small := make([]stagedChangeset, sizes.small)
	for i := range small {
		if small[i], err = stageForMerge(ctx, svc, store, who, pool, sizes.smallSize, fmt.Sprintf("merge bench: small %d", i+1)); err != nil {
			return nil, nil, err
		}
	}
	return bigs, small, nil
}

// openAndorraEditor opens a new store of b with Andorra imported, the
// editing service over it and a contributor to stage changesets as: where
// the merge, feed and validate scenarios start. cleanup drops the store.
func openAndorraEditor(ctx context.Context, env *environment, b backend) (storage.Store, *editing.Service, *auth.Identity, func(), error) {
	store, cleanup, err := b.open(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	fail := func(err error) (storage.Store, *editing.Service, *auth.Identity, func(), error) {
		cleanup()
		return nil, nil, nil, nil, err
	}
	if err := importAndorra(ctx, env, store); err != nil {
		return fail(err)
	}
	svc, err := editing.NewService(store, editing.Limits{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return fail(err)
	}
	acct, err := store.CreateAccount(ctx, storage.NewAccount{DisplayName: "bench-" + randomSuffix(), Role: string(auth.RoleContributor)})
	if err != nil {
		return fail(fmt.Errorf("create account: %w", err))
	}
	who := &auth.Identity{UserID: acct.ID, DisplayName: acct.DisplayName, Role: auth.RoleContributor, Scopes: auth.AllScopes}
	return store, svc, who, cleanup, nil
}

func importAndorra(ctx context.Context, env *environment, store storage.Store) error {
	src, err := osmfile.OpenAll([]string{env.file(andorraFile)})
	if err != nil {
		return err
	}
	defer src.Close()
	if _, err := store.Import(ctx, src); err != nil {
		return fmt.Errorf("import andorra: %w", err)
	}
	return nil
}

// mergeBig times the merge of the big changeset cs, and returns its final
// versions for its baseline (applyBaseline): store.Apply of the same
// final versions into another store at the same state (Andorra just
// imported), the store's plain bulk write of those versions, without the
// merge's reads, checks and records. Apply also rewrites the
// reverse-lookup rows (the nodes of ways, the members of relations) of
// everything it touches, which the merge skips where they do not change,
// so on a changeset of retags the merge may take less time than its
// baseline.
func mergeBig(ctx context.Context, b backend, store storage.Store, cs stagedChangeset) (Result, []osmdata.Element, error) {
	seqBefore, err := store.LastMergeSeq(ctx)
	if err != nil {
		return Result{}, nil, err
	}
	name := fmt.Sprintf("merge %d elements", len(cs.pending))
	resetPeakRSS()
	var entry storage.OutboxEntry
	var elapsed time.Duration
	pprof.Do(ctx, pprof.Labels("bench", name, "backend", b.name()), func(ctx context.Context) {
		start := time.Now()
		entry, err = store.Merge(ctx, cs.id)
		elapsed = time.Since(start)
	})
	peak := peakRSSMB()
	if err != nil {
		return Result{}, nil, err
	}
	finals, err := checkMerges(ctx, store, seqBefore, []mergedChangeset{{cs, entry}})
	if err != nil {
		return Result{}, nil, fmt.Errorf("self-check: %w", err)
	}
	r := Result{
		Scenario: name, Backend: b.name(), Metric: "merge time", Value: elapsed.Seconds(), Unit: "s",
		BaselineName: "s store.Apply of the same versions", PeakMB: peak,
		Series: "merge one changeset", Size: float64(len(cs.pending)),
		Note: fmt.Sprintf("%d final versions in %.1f ms", len(finals), ms(elapsed)),
	}
	if b.name() == "postgres" && len(cs.pending) == mergeTargetSize {
		r.Target = fmt.Sprintf("< %.1f s", mergeBigTarget.Seconds())
		r.Met = boolPtr(elapsed < mergeBigTarget)
	}
	return r, finals, nil
}

// applyBaseline imports Andorra into a fresh store, which is then where
// the merged store was before its first merge, and times store.Apply of
// each merge's final versions there, in the order of the merges (they
// touch disjoint elements, so each finds the state its merge found).
func applyBaseline(ctx context.Context, env *environment, b backend, finals [][]osmdata.Element) ([]time.Duration, error) {
	store, cleanup, err := b.open(ctx)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if err := importAndorra(ctx, env, store); err != nil {
		return nil, err
	}
	var out []time.Duration
	for _, f := range finals {
		before, err := store.Counts(ctx)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		err = store.Apply(ctx, f)
		elapsed := time.Since(start)
		if err != nil {
			return nil, err
		}
		after, err := store.Counts(ctx)
		if err != nil {
			return nil, err
		}
		if got := after.Versions - before.Versions; got != int64(len(f)) {
			return nil, fmt.Errorf("Apply of %d versions added %d", len(f), got)
		}
		out = append(out, elapsed)
	}
	return out, nil
}

// mergeSmall times merging the small changesets one after another. Its
// baseline is the rate of the store's cheapest write transaction
// (UpdateChangesetTags: lock one changeset row, update it, commit) on the
// same store: a merge is one transaction too, so the commit and round
// trips every transaction pays bound the merge rate from above, and the
// ratio shows what the merge's own work costs on top.
func mergeSmall(ctx context.Context, b backend, store storage.Store, svc *editing.Service, who *auth.Identity,
	staged []stagedChangeset, sizes mergeSizes) (Result, error) {
	seqBefore, err := store.LastMergeSeq(ctx)
	if err != nil {
		return Result{}, err
	}
	name := fmt.Sprintf("merge %d × %d elements", sizes.small, sizes.smallSize)
	merged := make([]mergedChangeset, len(staged))
	var elapsed time.Duration
	pprof.Do(ctx, pprof.Labels("bench", name, "backend", b.name()), func(ctx context.Context) {
		start := time.Now()
		for i, cs := range staged {
			var entry storage.OutboxEntry
			if entry, err = store.Merge(ctx, cs.id); err != nil {
				return
			}
			merged[i] = mergedChangeset{cs, entry}
		}
		elapsed = time.Since(start)
	})
	if err != nil {
		return Result{}, err
	}
	if _, err := checkMerges(ctx, store, seqBefore, merged); err != nil {
		return Result{}, fmt.Errorf("self-check: %w", err)
	}
	txRate, err := oneRowTransactionRate(ctx, svc, who, sizes.small)
	if err != nil {
		return Result{}, fmt.Errorf("one-row transaction baseline: %w", err)
	}
	rate := float64(len(merged)) / elapsed.Seconds()
	r := Result{
		Scenario: name, Backend: b.name(), Metric: "merges/s", Value: rate, Unit: "merges/s",
		BaselineName: "one-row tx/s", Baseline: txRate, Ratio: rate / txRate,
		Note: fmt.Sprintf("%d merges in %.0f ms (%.2f ms each)", len(merged), ms(elapsed), ms(elapsed)/float64(len(merged))),
	}
	if b.name() == "postgres" {
		r.Target = fmt.Sprintf("≥ %.0f merges/s", mergeSmallTargetRate)
		r.Met = boolPtr(rate >= mergeSmallTargetRate)
	}
	return r, nil
}

// oneRowTransactionRate times n tag updates of one open changeset of who,
// each its own transaction, and checks the last one stuck.
func oneRowTransactionRate(ctx context.Context, svc *editing.Service, who *auth.Identity, n int) (float64, error) {
	cs, err := svc.CreateChangeset(ctx, who, osmdata.Tags{{Key: "comment", Value: "merge bench: baseline"}})
	if err != nil {
		return 0, err
	}
	store := svc.Store()
	start := time.Now()
	for i := range n {
		if _, err := store.UpdateChangesetTags(ctx, cs.ID, who.UserID, osmdata.Tags{{Key: "comment", Value: fmt.Sprintf("baseline %d", i)}}); err != nil {
			return 0, err
		}
	}
	elapsed := time.Since(start)
	after, err := store.Changeset(ctx, cs.ID)
	if err != nil {
		return 0, err
	}
	if want := fmt.Sprintf("baseline %d", n-1); len(after.Tags) != 1 || after.Tags[0].Value != want {
		return 0, fmt.Errorf("changeset %d has tags %v after the updates, want comment=%s", cs.ID, after.Tags, want)
	}
	return float64(n) / elapsed.Seconds(), nil
}

// stageForMerge opens a changeset, uploads n operations from the pool as
// one osmChange and closes it, which submits it for review, as a
// contributor's editor does through the API. It checks that every
// operation was staged.
func stageForMerge(ctx context.Context, svc *editing.Service, store storage.Store, who *auth.Identity, pool *editPool, n int, comment string) (stagedChangeset, error) {
	cs, err := svc.CreateChangeset(ctx, who, osmdata.Tags{{Key: "comment", Value: comment}})
	if err != nil {
		return stagedChangeset{}, err
	}
	doc, err := pool.upload(cs.ID, n)
	if err != nil {
		return stagedChangeset{}, err
	}
	diff, err := svc.UploadOsmChange(ctx, who, cs.ID, bytes.NewReader(doc))
	if err != nil {
		return stagedChangeset{}, fmt.Errorf("upload to changeset %d: %w", cs.ID, err)
	}
	if len(diff.Entries) != n {
		return stagedChangeset{}, fmt.Errorf("changeset %d: diffResult has %d entries for %d operations", cs.ID, len(diff.Entries), n)
	}
	if err := submit(ctx, svc, who, cs.ID); err != nil {
		return stagedChangeset{}, err
	}
	pending, err := store.ChangesetChanges(ctx, cs.ID)
	if err != nil {
		return stagedChangeset{}, err
	}
	if len(pending) != n {
		return stagedChangeset{}, fmt.Errorf("changeset %d holds %d pending changes for %d operations on distinct elements", cs.ID, len(pending), n)
	}
	return stagedChangeset{id: cs.ID, author: who, pending: pending}, nil
}

// submit closes changeset id as its author does, or, once it holds the
// most changes a changeset may (the author's close is then refused, as
// OSM refuses it), as the auto-close sweeper does, unless the upload
// already submitted it.
func submit(ctx context.Context, svc *editing.Service, who *auth.Identity, id int64) error {
	store := svc.Store()
	cs, err := store.Changeset(ctx, id)
	if err != nil {
		return err
	}
	switch {
	case cs.ReviewState == osmdata.ReviewSubmitted:
	case osmdata.ChangesetOpen(&cs, time.Now()):
		if _, err := svc.CloseChangeset(ctx, who, id); err != nil {
			return fmt.Errorf("close changeset %d: %w", id, err)
		}
	default:
		if _, err := store.CloseDueChangesets(ctx); err != nil {
			return fmt.Errorf("auto-close changeset %d: %w", id, err)
		}
	}
	cs, err = store.Changeset(ctx, id)
	if err != nil {
		return err
	}
	if cs.ReviewState != osmdata.ReviewSubmitted {
		return fmt.Errorf("changeset %d is %q after closing, want submitted", id, cs.ReviewState)
	}
	return nil
}
