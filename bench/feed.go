package bench

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/bus"
	"github.com/geocommuns/geocommuns/sync/changes"
	"github.com/geocommuns/geocommuns/sync/subscribe"
)

// The issue's targets for the feeds.
const (
	feedLatencyTarget    = 25 * time.Millisecond
	feedReplayTargetRate = 10_000.0
)

// feedSizes is how many merges the feed scenario times, and of how many
// operations each.
type feedSizes struct{ merges, perMerge int }

// issueFeedSizes are the issue's: at least 1,000 merges; ten operations
// each, as the merge scenario's small changesets.
var issueFeedSizes = feedSizes{merges: 1000, perMerge: 10}

// quickFeedSizes are --quick's: enough merges for a p99.
var quickFeedSizes = feedSizes{merges: 100, perMerge: 10}

func runFeed(ctx context.Context, env *environment, b backend) ([]Result, error) {
	if env.quick {
		return measureFeed(ctx, env, b, quickFeedSizes)
	}
	return measureFeed(ctx, env, b, issueFeedSizes)
}

// feedRig is what the scenario runs on one backend: the store, an
// embedded NATS with the relay filling it, and a Subscribe server.
type feedRig struct {
	store     storage.Store
	embedded  *bus.Embedded
	relayConn *nats.Conn
	// clientConn is an outside subscriber's: TCP to the embedded server.
	clientConn *nats.Conn
	subjects   bus.Subjects
	subscribe  *httptest.Server
}

// startFeedRig starts NATS, the relay and the Subscribe server as serve
// does (the relay connects inside the process), and returns their stop.
func startFeedRig(ctx context.Context, store storage.Store) (*feedRig, func(), error) {
	dir, err := os.MkdirTemp("", "geocommuns-bench-nats-")
	if err != nil {
		return nil, nil, fmt.Errorf("temp dir: %w", err)
	}
	var stops []func()
	stop := func() {
		for _, s := range slices.Backward(stops) {
			s()
		}
	}
	stops = append(stops, func() { os.RemoveAll(dir) })
	fail := func(err error) (*feedRig, func(), error) {
		stop()
		return nil, nil, err
	}
	rig := &feedRig{store: store}
	if rig.embedded, err = bus.StartEmbedded(bus.EmbeddedConfig{StoreDir: dir, Listen: "127.0.0.1:0"}); err != nil {
		return fail(err)
	}
	stops = append(stops, rig.embedded.Shutdown)
	if rig.relayConn, err = rig.embedded.Connect(nats.ReconnectBufSize(-1)); err != nil {
		return fail(err)
	}
	stops = append(stops, rig.relayConn.Close)
	if rig.clientConn, err = nats.Connect(rig.embedded.ClientURL()); err != nil {
		return fail(fmt.Errorf("connect to NATS at %s: %w", rig.embedded.ClientURL(), err))
	}
	stops = append(stops, rig.clientConn.Close)

	relay, err := bus.NewRelay(store, bus.RelayConfig{Conn: rig.relayConn, Subjects: rig.subjects,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return fail(err)
	}
	relayCtx, stopRelay := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { relay.Run(relayCtx) })
	stops = append(stops, func() { stopRelay(); wg.Wait() })

	sub := subscribe.New(store, subscribe.Config{})
	mux := http.NewServeMux()
	mux.Handle(sub.Handler())
	rig.subscribe = httptest.NewServer(mux)
	stops = append(stops, func() { sub.Shutdown(); rig.subscribe.Close() })
	return rig, stop, nil
}

// measureFeed imports Andorra, stages sizes.merges+1 small changesets as
// the merge scenario does, starts the feeds with a NATS subscriber and a
// Subscribe client listening, and merges the changesets one by one,
// waiting after each until both clients have it: the first merge warms
// the paths up (connections, the relay's stream) and is not timed. Then
// it measures the bare baselines and a full replay, and checks that
// every merge arrived exactly once and in order on every path, and that
// a sampled merge is what the outbox holds, before posting a figure.
func measureFeed(ctx context.Context, env *environment, b backend, sizes feedSizes) ([]Result, error) {
	elements, err := readAll(env.file(andorraFile))
	if err != nil {
		return nil, err
	}
	store, svc, who, cleanup, err := openAndorraEditor(ctx, env, b)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	pool := newEditPool(elements)
	staged := make([]stagedChangeset, sizes.merges+1)
	for i := range staged {
		if staged[i], err = stageForMerge(ctx, svc, store, who, pool, sizes.perMerge, fmt.Sprintf("feed bench: %d", i)); err != nil {
			return nil, err
		}
	}
	seqBefore, err := store.LastMergeSeq(ctx)
	if err != nil {
		return nil, err
	}

	rig, stopRig, err := startFeedRig(ctx, store)
	if err != nil {
		return nil, err
	}
	defer stopRig()
	natsGot, natsSub, err := listenNATS(rig.clientConn, rig.subjects)
	if err != nil {
		return nil, err
	}
	defer natsSub.Unsubscribe()
	streamCtx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	subGot, err := listenSubscribe(streamCtx, "Subscribe", rig.subscribe.Client(), rig.subscribe.URL, seqBefore)
	if err != nil {
		return nil, err
	}

	returned := make(map[int64]storage.OutboxEntry, len(staged))
	committed := make(map[int64]time.Time, len(staged))
	for _, cs := range staged {
		entry, err := store.Merge(ctx, cs.id)
		// Taken once Merge has returned, so slightly after the commit:
		// the latencies below leave out the return from Merge.
		at := time.Now()
		if err != nil {
			return nil, fmt.Errorf("merge changeset %d: %w", cs.id, err)
		}
		returned[entry.Seq], committed[entry.Seq] = entry, at
		if err := natsGot.waitFor(ctx, entry.Seq); err != nil {
			return nil, err
		}
		if err := subGot.waitFor(ctx, entry.Seq); err != nil {
			return nil, err
		}
	}
	first, last := seqBefore+1, seqBefore+int64(len(staged))
	stopStream()

	// Self-checks: each path got every merge once and in order, and the
	// middle merge as the outbox holds it.
	natsArrivals, subArrivals := natsGot.snapshot(), subGot.snapshot()
	natsAt, err := checkArrivals(natsGot.path, natsArrivals, first, last)
	if err != nil {
		return nil, fmt.Errorf("self-check: %w", err)
	}
	subAt, err := checkArrivals(subGot.path, subArrivals, first, last)
	if err != nil {
		return nil, fmt.Errorf("self-check: %w", err)
	}
	sample := first + int64(len(staged))/2
	if err := checkSampledMerge(ctx, store, returned[sample], map[string][]arrival{
		natsGot.path: natsArrivals, subGot.path: subArrivals}); err != nil {
		return nil, fmt.Errorf("self-check: %w", err)
	}

	natsLatency, natsEarly := latencies(committed, natsAt, first+1, last)
	subLatency, subEarly := latencies(committed, subAt, first+1, last)

	// Baselines, measured now on the same machine, same NATS server.
	bareNATS, err := natsRoundTrips(rig.relayConn, rig.clientConn, "bench.bare", sizes.merges, medianSize(natsArrivals))
	if err != nil {
		return nil, err
	}
	pgURL, notifyNote := env.postgresURL, "NOTIFY on PostgreSQL (--postgres)"
	if p, ok := b.(postgresBackend); ok {
		pgURL, notifyNote = p.url, ""
	}
	var bareNotify []time.Duration
	if pgURL == "" {
		notifyNote = "no NOTIFY baseline: give --postgres"
	} else if bareNotify, err = notifyRoundTrips(ctx, pgURL, sizes.merges, medianSize(natsArrivals)); err != nil {
		return nil, err
	}

	replay, err := replayAll(ctx, rig.subscribe.Client(), rig.subscribe.URL, last)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	if _, err := checkArrivals("replay", replay.got, 1, last); err != nil {
		return nil, fmt.Errorf("self-check: %w", err)
	}
	if err := checkSampledMerge(ctx, store, returned[sample], map[string][]arrival{"replay": replay.got}); err != nil {
		return nil, fmt.Errorf("self-check: %w", err)
	}
	bareElapsed, bareElements, err := bareReplay(ctx, store, last)
	if err != nil {
		return nil, fmt.Errorf("bare replay: %w", err)
	}
	if bareElements != replay.elements {
		return nil, fmt.Errorf("self-check: replay sent %d element changes, the outbox names %d", replay.elements, bareElements)
	}

	name := fmt.Sprintf("feed %d merges × %d", len(staged)-1, sizes.perMerge)
	var out []Result
	latencyRows := func(path string, got []time.Duration, early int, baseName string, base []time.Duration, note string) {
		if early > 0 {
			note = strings.TrimSuffix(fmt.Sprintf("%d of %d arrived before Merge returned (counted as 0 ms); %s", early, len(got), note), "; ")
		}
		for _, q := range []struct {
			name   string
			q      float64
			target bool
		}{{"p50", 0.5, false}, {"p99", 0.99, true}} {
			v := ms(percentile(got, q.q))
			r := Result{Scenario: name, Backend: b.name(), Metric: "commit → " + path + " " + q.name, Value: v, Unit: "ms", Note: note}
			if len(base) > 0 {
				r.BaselineName = "ms " + baseName + " " + q.name
				r.Baseline = ms(percentile(base, q.q))
				r.Ratio = v / r.Baseline
			}
			if q.target {
				r.Target = fmt.Sprintf("≤ %.0f ms", ms(feedLatencyTarget))
				r.Met = boolPtr(percentile(got, q.q) <= feedLatencyTarget)
			} else {
				// The distribution, once per path, for --plots.
				for _, d := range got {
					r.Samples = append(r.Samples, ms(d))
				}
			}
			out = append(out, r)
		}
	}
	latencyRows("NATS subscriber", natsLatency, natsEarly, "bare NATS pub→recv", bareNATS,
		fmt.Sprintf("%d merges; bare NATS of %d-byte messages", len(natsLatency), medianSize(natsArrivals)))
	latencyRows("Subscribe RPC", subLatency, subEarly, "bare NOTIFY round trip", bareNotify, notifyNote)

	rate := float64(replay.elements) / replay.elapsed.Seconds()
	bareRate := float64(bareElements) / bareElapsed.Seconds()
	out = append(out, Result{
		Scenario: name, Backend: b.name(), Metric: "replay from merge_seq 0", Value: rate, Unit: "changes/s",
		BaselineName: "changes/s bare Outbox+Load", Baseline: bareRate, Ratio: rate / bareRate,
		Target: fmt.Sprintf("≥ %.0f changes/s", feedReplayTargetRate), Met: boolPtr(rate >= feedReplayTargetRate),
		Note: fmt.Sprintf("%d merges (%.0f merges/s), %d element changes in %.0f ms", replay.merges,
			float64(replay.merges)/replay.elapsed.Seconds(), replay.elements, ms(replay.elapsed)),
	})
	return out, nil
}

// latencies gives commit → arrival of merges from..to, and how many
// arrived before Merge returned (counted as zero).
func latencies(committed, arrived map[int64]time.Time, from, to int64) ([]time.Duration, int) {
	out := make([]time.Duration, 0, to-from+1)
	early := 0
	for seq := from; seq <= to; seq++ {
		d := arrived[seq].Sub(committed[seq])
		if d < 0 {
			early++
			d = 0
		}
		out = append(out, d)
	}
	return out, early
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func medianSize(got []arrival) int {
	sizes := make([]int, 0, len(got))
	for _, x := range got {
		sizes = append(sizes, x.size)
	}
	if len(sizes) == 0 {
		return 0
	}
	slices.Sort(sizes)
	return sizes[len(sizes)/2]
}

// checkSampledMerge checks that each path delivered merge entry.Seq as
// the outbox holds it: the row equals what Merge returned, and every
// path's message equals the row's versions loaded from the store.
func checkSampledMerge(ctx context.Context, store storage.Store, entry storage.OutboxEntry, paths map[string][]arrival) error {
	rows, err := store.Outbox(ctx, entry.Seq-1, 1)
	if err != nil {
		return err
	}
	if len(rows) != 1 || rows[0].Seq != entry.Seq {
		return fmt.Errorf("outbox has no row for merge_seq %d", entry.Seq)
	}
	if d := cmp.Diff(entry, rows[0]); d != "" {
		return fmt.Errorf("outbox row %d differs from what Merge returned (-returned +stored):\n%s", entry.Seq, d)
	}
	loaded, err := changes.Load(ctx, store, rows)
	if err != nil {
		return err
	}
	want := changes.ToProto(loaded[0])
	if len(want.GetElements()) != len(entry.Versions) {
		return fmt.Errorf("merge_seq %d: loaded %d element changes, the outbox names %d", entry.Seq, len(want.GetElements()), len(entry.Versions))
	}
	for path, got := range paths {
		m := wholeMerge(got, entry.Seq)
		if m == nil {
			return fmt.Errorf("%s: merge_seq %d never arrived", path, entry.Seq)
		}
		if !proto.Equal(m, want) {
			return fmt.Errorf("%s: merge_seq %d differs from the outbox:\ngot  %v\nwant %v", path, entry.Seq, m, want)
		}
		for i, v := range entry.Versions {
			e := m.GetElements()[i].GetNew()
			if e.GetId() != v.Element.ID || int(e.GetVersion()) != v.NewVersion {
				return fmt.Errorf("%s: merge_seq %d element %d is %d v%d, the outbox names %v v%d", path, entry.Seq, i, e.GetId(), e.GetVersion(), v.Element, v.NewVersion)
			}
		}
	}
	return nil
}
