package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage"
)

// DefaultContributors is the issue's number of concurrent contributors.
const DefaultContributors = 16

// loadSizes is how much the load scenario does.
type loadSizes struct {
	contributors int
	// rounds is how many changesets each contributor makes under load,
	// soloRounds how many the lone contributor of the baseline makes.
	rounds, soloRounds int
}

var (
	issueLoadRounds = loadSizes{rounds: 20, soloRounds: 50}
	quickLoadRounds = loadSizes{rounds: 4, soloRounds: 10}
)

func runLoad(ctx context.Context, env *environment, b backend) ([]Result, error) {
	sizes := issueLoadRounds
	if env.quick {
		sizes = quickLoadRounds
	}
	sizes.contributors = env.contributors
	if sizes.contributors <= 0 {
		sizes.contributors = DefaultContributors
	}
	return measureLoad(ctx, b, sizes)
}

// loadRig is one server as serve runs it (merge job, sweeper, the default
// review configuration's Gate, no write rate limit) on a loopback
// listener, and a client pool with a connection for every contributor.
type loadRig struct {
	store  storage.Store
	url    string
	client *http.Client
	watch  *mergeWatch
	stop   func()
}

func startLoadServer(ctx context.Context, store storage.Store, contributors int) (*loadRig, error) {
	seq, err := store.LastMergeSeq(ctx)
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	srv := server.New(server.Config{Review: review.DefaultConfig(), WriteRate: 0}, store, logger)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(serveCtx, ln) }()
	// The timeout is a guard against a server that hangs (as one did, its
	// connection pool deadlocked), not a speed requirement.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: contributors + 2}, Timeout: feedPatience}
	rig := &loadRig{store: store, url: "http://" + ln.Addr().String(), client: client}
	watchCtx, stopWatch := context.WithCancel(ctx)
	rig.stop = func() {
		stopWatch()
		client.CloseIdleConnections()
		stopServe()
		if err := <-served; err != nil {
			fmt.Fprintf(os.Stderr, "bench: load server: %v\n", err)
		}
	}
	// The stream's own client: it holds its connection for the whole run.
	if rig.watch, err = watchMerges(watchCtx, &http.Client{}, rig.url, seq); err != nil {
		rig.stop()
		return nil, err
	}
	return rig, nil
}

// newContributors creates n trusted accounts, each with an API token, so
// that the Gate approves their clean changesets at once.
func (rig *loadRig) newContributors(ctx context.Context, n, firstUser int, t *timings) ([]*loadClient, error) {
	out := make([]*loadClient, n)
	for i := range out {
		acct, err := rig.store.CreateAccount(ctx, storage.NewAccount{
			DisplayName: fmt.Sprintf("load-%d-%s", firstUser+i, randomSuffix()), Role: string(auth.RoleContributor), Trusted: true})
		if err != nil {
			return nil, fmt.Errorf("create account: %w", err)
		}
		token, _, err := auth.CreateAPIToken(ctx, rig.store, acct.ID)
		if err != nil {
			return nil, fmt.Errorf("API token of %s: %w", acct.DisplayName, err)
		}
		out[i] = &loadClient{base: rig.url, client: rig.client, token: token, user: firstUser + i, t: t}
	}
	return out, nil
}

// loadRun is what a set of contributors did: their changesets, and what
// their elements must be once everything merged.
type loadRun struct {
	changesets []int64
	elements   map[osmdata.Key]madeElement
	elapsed    time.Duration
}

// contribute runs every client's rounds at once, each client waiting for
// its changeset to merge before it makes the next (which retags what the
// last one created), and returns once all merged, or the first failure
// once every client has stopped.
func (rig *loadRig) contribute(ctx context.Context, clients []*loadClient, rounds int) (loadRun, error) {
	var mu sync.Mutex
	var failures []error
	run := loadRun{elements: map[osmdata.Key]madeElement{}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for _, c := range clients {
		wg.Go(func() {
			var previous []madeElement
			for n := 1; n <= rounds; n++ {
				id, made, err := c.round(ctx, n, previous)
				closed := time.Now()
				if err == nil {
					err = rig.watch.wait(ctx, id)
				}
				if err != nil {
					if ctx.Err() == nil {
						err = fmt.Errorf("contributor %d, changeset %d: %w", c.user, n, rig.explain(err, id))
						c.t.fail(err)
						mu.Lock()
						failures = append(failures, err)
						mu.Unlock()
					}
					cancel()
					return
				}
				c.t.add(kindMerged, time.Since(closed))
				mu.Lock()
				run.changesets = append(run.changesets, id)
				for _, m := range made {
					run.elements[m.key] = m
				}
				mu.Unlock()
				previous = made
			}
		})
	}
	wg.Wait()
	run.elapsed = time.Since(start)
	if len(failures) > 0 {
		return run, fmt.Errorf("errors under load: %w", failures[0])
	}
	return run, nil
}

// explain adds the changeset's review state to a failed wait.
func (rig *loadRig) explain(err error, id int64) error {
	if id == 0 {
		return err
	}
	cs, cerr := rig.store.Changeset(context.Background(), id)
	if cerr != nil {
		return err
	}
	return fmt.Errorf("%w (changeset %d is %q)", err, id, cs.ReviewState)
}

// measureLoad runs sizes.contributors trusted contributors at once, each
// making sizes.rounds changesets of ten elements over the OSM API (create,
// upload, close) and waiting for each to merge (the Gate approves it, the
// merge job merges it) before the next. Its baseline, on the same server
// just after: one contributor alone making sizes.soloRounds changesets
// the same way, for the rate (the ratio says what concurrency gains when
// one merge job merges one changeset at a time) and for each request's
// latency (the ratio is what contention costs it). Not the capabilities
// call at the same number of clients: contributors spend most of their
// time waiting for their merges, so far fewer of their requests are in
// flight at once than a flood of capabilities calls puts there. Every
// request must succeed and every changeset merge, with every element as
// uploaded.
func measureLoad(ctx context.Context, b backend, sizes loadSizes) ([]Result, error) {
	store, cleanup, err := b.open(ctx)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	rig, err := startLoadServer(ctx, store, sizes.contributors)
	if err != nil {
		return nil, err
	}
	defer rig.stop()
	seqBefore, err := store.LastMergeSeq(ctx)
	if err != nil {
		return nil, err
	}

	load := newTimings()
	clients, err := rig.newContributors(ctx, sizes.contributors, 1, load)
	if err != nil {
		return nil, err
	}
	resetPeakRSS()
	var run loadRun
	name := fmt.Sprintf("load %d contributors", sizes.contributors)
	run, err = rig.contribute(ctx, clients, sizes.rounds)
	peak := peakRSSMB()
	if err != nil {
		return nil, err
	}

	solo := newTimings()
	soloClients, err := rig.newContributors(ctx, 1, sizes.contributors+1, solo)
	if err != nil {
		return nil, err
	}
	soloRun, err := rig.contribute(ctx, soloClients, sizes.soloRounds)
	if err != nil {
		return nil, err
	}

	failures := slices.Concat(load.errors, solo.errors)
	if len(failures) > 0 {
		return nil, fmt.Errorf("%d errors under load (the first: %s)", len(failures), failures[0])
	}
	if err := checkLoad(ctx, store, rig.watch, seqBefore, []loadRun{run, soloRun}); err != nil {
		return nil, fmt.Errorf("self-check: %w", err)
	}

	rate := float64(len(run.changesets)) / run.elapsed.Seconds()
	soloRate := float64(len(soloRun.changesets)) / soloRun.elapsed.Seconds()
	out := []Result{{
		Scenario: name, Backend: b.name(), Metric: "changesets merged/s", Value: rate, Unit: "changesets/s",
		BaselineName: "changesets/s of one contributor alone", Baseline: soloRate, Ratio: rate / soloRate, PeakMB: peak,
		Note: fmt.Sprintf("%d changesets of ~10 elements in %.1f s (upload, close, Gate, merge); alone: %d in %.1f s",
			len(run.changesets), run.elapsed.Seconds(), len(soloRun.changesets), soloRun.elapsed.Seconds()),
	}}
	for _, kind := range []requestKind{kindCreate, kindUpload, kindClose, kindMerged} {
		took := load.took[kind]
		for _, q := range []struct {
			name string
			q    float64
		}{{"p50", 0.5}, {"p99", 0.99}} {
			v, bv := ms(percentile(took, q.q)), ms(percentile(solo.took[kind], q.q))
			r := Result{
				Scenario: name, Backend: b.name(), Metric: string(kind) + " " + q.name, Value: v, Unit: "ms",
				BaselineName: "ms " + q.name + " of one contributor alone", Baseline: bv, Ratio: v / bv, PeakMB: peak,
				Note: fmt.Sprintf("%d requests; alone %d", len(took), len(solo.took[kind])),
			}
			if q.name == "p50" {
				r.Samples = msSamples(took)
			}
			out = append(out, r)
		}
	}
	errs := Result{
		Scenario: name, Backend: b.name(), Metric: "errors", Value: 0, Unit: "errors", PeakMB: peak,
		Note: fmt.Sprintf("%d requests, %d changesets, every one merged; alone: %d requests, %d changesets",
			requestCount(load), len(run.changesets), requestCount(solo), len(soloRun.changesets)),
	}
	if b.name() == "postgres" {
		errs.Target, errs.Met = "0 errors", boolPtr(true)
	}
	return append(out, errs), nil
}

func requestCount(t *timings) int {
	n := 0
	for kind, took := range t.took {
		if kind != kindMerged {
			n += len(took)
		}
	}
	return n
}

// checkLoad checks that every changeset of the runs merged, each exactly
// once and nothing else, that merge_seq went up by one per changeset with
// no gap (the Subscribe stream's order), and that every element is what
// its contributor last uploaded, at the version expected.
func checkLoad(ctx context.Context, store storage.Store, watch *mergeWatch, seqBefore int64, runs []loadRun) error {
	want := map[int64]bool{}
	elements := map[osmdata.Key]madeElement{}
	for _, r := range runs {
		for _, id := range r.changesets {
			want[id] = true
		}
		maps.Copy(elements, r.elements)
	}
	last, err := store.LastMergeSeq(ctx)
	if err != nil {
		return err
	}
	if last != seqBefore+int64(len(want)) {
		return fmt.Errorf("merge_seq went from %d to %d for %d changesets", seqBefore, last, len(want))
	}
	got := watch.snapshot()
	if _, err := checkArrivals("Subscribe", got, seqBefore+1, last); err != nil {
		return err
	}
	seen := map[int64]bool{}
	for _, a := range got {
		id := a.change.GetChangeset()
		if !want[id] || seen[id] && a.part == 1 {
			return fmt.Errorf("merge_seq %d merged changeset %d, which is not one of the run's or merged twice", a.seq, id)
		}
		seen[id] = true
	}
	for id := range want {
		cs, err := store.Changeset(ctx, id)
		if err != nil {
			return err
		}
		if cs.ReviewState != osmdata.ReviewMerged {
			return fmt.Errorf("changeset %d is %q, want merged", id, cs.ReviewState)
		}
	}
	return checkLoadElements(ctx, store, elements)
}

// checkLoadElements reads every element the contributors made from the
// store and compares it with what they uploaded last.
func checkLoadElements(ctx context.Context, store storage.Store, elements map[osmdata.Key]madeElement) error {
	byType := map[osmdata.ElementType][]int64{}
	for k := range elements {
		byType[k.Type] = append(byType[k.Type], k.ID)
	}
	var problems []string
	for t, ids := range byType {
		cur, err := store.CurrentElements(ctx, t, ids)
		if err != nil {
			return err
		}
		if len(cur) != len(ids) {
			return fmt.Errorf("the store has %d of the %d %ss the contributors made", len(cur), len(ids), t)
		}
		for _, e := range cur {
			m := elements[e.Key()]
			got := madeElement{key: e.Key(), version: e.Version, tags: e.Tags, nodes: e.Nodes}
			if t == osmdata.Node {
				got.lat, got.lon = e.Lat, e.Lon
			}
			if !e.Visible {
				problems = append(problems, fmt.Sprintf("%s is deleted", e.Key()))
			} else if d := cmp.Diff(m, got, cmp.AllowUnexported(madeElement{}), cmpopts.EquateEmpty(),
				cmpopts.SortSlices(func(a, b osmdata.Tag) bool { return a.Key < b.Key })); d != "" {
				problems = append(problems, fmt.Sprintf("%s differs from the upload (-uploaded +stored):\n%s", e.Key(), d))
			}
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return errors.New(strings.Join(problems[:min(len(problems), 3)], "\n"))
	}
	return nil
}
