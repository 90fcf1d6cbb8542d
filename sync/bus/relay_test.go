package bus_test

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/geocommuns/geocommuns/editing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/bus"
)

// startRelay runs a relay of store to the NATS at url until the returned
// function stops it (and waits for it).
func startRelay(t testing.TB, store storage.Store, url string, cfg bus.RelayConfig) (stop func()) {
	t.Helper()
	cfg.Conn, cfg.Retry = connect(t, url), 50*time.Millisecond
	relay, err := bus.NewRelay(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { relay.Run(ctx) })
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// outboxSizes maps every merge_seq to its number of elements.
func outboxSizes(t testing.TB, store storage.Store) (map[int64]int, int64) {
	t.Helper()
	entries, err := store.Outbox(context.Background(), 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[int64]int{}
	for _, e := range entries {
		sizes[e.Seq] = len(e.Versions)
	}
	return sizes, int64(len(entries))
}

func TestMergesArriveInOrder(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			url := tg.url(t)
			stream, subjects := names(t, url)
			d := newDataset(t, openSQLite(t))
			// Some merges before the relay starts (it catches up), the rest
			// while it runs.
			d.mergeNodes(20)
			startRelay(t, d.store, url, bus.RelayConfig{Stream: stream, Subjects: subjects})
			d.mergeNodes(30)
			sizes, n := outboxSizes(t, d.store)
			checkInOrder(t, receive(t, url, stream, subjects.All(), n), sizes, n)

			// The osmChange subject has the same merges, each a document an
			// OSM tool reads, with the merged node.
			osc := receiveRaw(t, url, stream, subjects.OsmChange(), int(n))
			for i, m := range osc {
				var doc struct {
					XMLName xml.Name
					Create  []struct {
						Nodes []struct {
							ID      int64 `xml:"id,attr"`
							Version int   `xml:"version,attr"`
						} `xml:"node"`
					} `xml:"create"`
				}
				if err := xml.Unmarshal(m.Data(), &doc); err != nil {
					t.Fatalf("osmChange of merge %d: %v", i+1, err)
				}
				if doc.XMLName.Local != "osmChange" || len(doc.Create) != 1 || len(doc.Create[0].Nodes) != 1 || doc.Create[0].Nodes[0].Version != 1 {
					t.Fatalf("osmChange of merge %d: %s", i+1, m.Data())
				}
			}

			// Each merge's node reaches the tile of its position.
			tiles := receiveRaw(t, url, stream, subjects.Prefix+".merges.tile.>", int(n))
			for i, m := range tiles {
				lat, lon := nodePosition(i)
				tile := bus.TileOf(bus.TileZoom, osmdata.RoundCoordToFixed(lat), osmdata.RoundCoordToFixed(lon))
				if want := subjects.Tile(tile); m.Subject() != want {
					t.Errorf("merge %d (node at %v, %v) on %s, want %s", i+1, lat, lon, m.Subject(), want)
				}
			}
		})
	}
}

// TestRelayRestartsNeitherDuplicateNorMiss stops relays at random
// moments, mid-merge too, while merges happen. With a dedup window too
// short to hide a message published twice, it shows that a relay
// resumes exactly after the stream's last message.
func TestRelayRestartsNeitherDuplicateNorMiss(t *testing.T) {
	for _, tg := range targets {
		for _, window := range []time.Duration{bus.DefaultDedupWindow, 100 * time.Millisecond} {
			t.Run(fmt.Sprintf("%s/dedup %s", tg.name, window), func(t *testing.T) {
				relayRestarts(t, tg.url(t), window)
			})
		}
	}
}

func relayRestarts(t testing.TB, url string, window time.Duration) {
	stream, subjects := names(t, url)
	d := newDataset(t, openSQLite(t))
	// A merge of many parts among the small ones, so that restarts
	// fall in the middle of a merge too.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 60 {
			if i == 30 {
				d.merge(bigNodes(8000)...)
				continue
			}
			d.mergeNodes(1)
		}
	}()
	// Relays stopped at random moments, one after the other.
	restarts := 0
	for running := true; running; restarts++ {
		select {
		case <-done:
			running = false
		default:
		}
		stop := startRelay(t, d.store, url, bus.RelayConfig{Stream: stream, Subjects: subjects, DedupWindow: window})
		time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
		stop()
	}
	startRelay(t, d.store, url, bus.RelayConfig{Stream: stream, Subjects: subjects, DedupWindow: window})
	sizes, n := outboxSizes(t, d.store)
	got := receive(t, url, stream, subjects.All(), n)
	checkInOrder(t, got, sizes, n)
	t.Logf("%d merges, %d messages on %s, relay restarted %d times", n, got.messages, subjects.All(), restarts)
	checkEveryMessageOnce(t, url, stream, subjects)
}

// checkEveryMessageOnce reads the whole stream, every subject, and
// fails on a Nats-Msg-Id stored twice.
func checkEveryMessageOnce(t testing.TB, url, stream string, subjects bus.Subjects) {
	t.Helper()
	js, err := jetstream.New(connect(t, url))
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	// Every merge's messages follow each other, the last one marked.
	var seq, ended string
	for _, m := range receiveRaw(t, url, stream, subjects.Merges(), int(info.State.Msgs)) {
		id := m.Headers().Get(jetstream.MsgIDHeader)
		if seen[id] {
			t.Errorf("message %s stored twice", id)
		}
		seen[id] = true
		if s := m.Headers().Get(bus.HeaderMergeSeq); s != seq {
			if seq != "" && ended != seq {
				t.Errorf("merge %s's messages end without %s", seq, bus.HeaderMergeEnd)
			}
			seq = s
		}
		if m.Headers().Get(bus.HeaderMergeEnd) != "" {
			ended = seq
		} else if ended == seq {
			t.Errorf("message %s after the end of its merge", id)
		}
	}
	if ended != seq {
		t.Errorf("the stream's last merge %s ends without %s", seq, bus.HeaderMergeEnd)
	}
}

// bigNodes creates n nodes whose tags make the merge larger than NATS's
// default max payload (1 MB).
func bigNodes(n int) []editing.Operation {
	ops := make([]editing.Operation, n)
	note := strings.Repeat("x", 120)
	for i := range ops {
		ops[i] = createNode(int64(-1-i), float64(i%80), float64(i%170), osmdata.Tag{Key: "note", Value: fmt.Sprintf("%s %d", note, i)})
	}
	return ops
}

func TestTenThousandElementChangeArrivesWhole(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			url := tg.url(t)
			stream, subjects := names(t, url)
			d := newDataset(t, openSQLite(t))
			startRelay(t, d.store, url, bus.RelayConfig{Stream: stream, Subjects: subjects})
			entry := d.merge(bigNodes(10_000)...)
			if len(entry.Versions) != 10_000 {
				t.Fatalf("the merge wrote %d elements", len(entry.Versions))
			}
			got := receive(t, url, stream, subjects.All(), entry.Seq)
			checkInOrder(t, got, map[int64]int{entry.Seq: 10_000}, 1)
			if got.messages < 2 {
				t.Errorf("a %d-element merge came in %d message: the test does not exercise splitting", 10_000, got.messages)
			}
			seen := map[int64]bool{}
			for _, c := range got.merges[0].GetElements() {
				seen[c.GetNew().GetId()] = true
			}
			if len(seen) != 10_000 {
				t.Errorf("%d distinct elements received, want 10,000", len(seen))
			}

			// The osmChange parts together hold every element once.
			first := receiveRaw(t, url, stream, subjects.OsmChange(), 1)[0]
			parts := first.Headers().Get(bus.HeaderParts)
			var nparts int
			fmt.Sscan(parts, &nparts)
			osc := receiveRaw(t, url, stream, subjects.OsmChange(), nparts)
			ids := map[string]bool{}
			for _, m := range osc {
				var doc struct {
					Create []struct {
						Nodes []struct {
							ID string `xml:"id,attr"`
						} `xml:"node"`
					} `xml:"create"`
				}
				if err := xml.Unmarshal(m.Data(), &doc); err != nil {
					t.Fatal(err)
				}
				for _, c := range doc.Create {
					for _, n := range c.Nodes {
						if ids[n.ID] {
							t.Errorf("node %s in two osmChange parts", n.ID)
						}
						ids[n.ID] = true
					}
				}
			}
			if len(ids) != 10_000 || nparts < 2 {
				t.Errorf("osmChange: %d nodes in %d parts, want 10,000 in 2 or more", len(ids), nparts)
			}
		})
	}
}

// receiveRaw reads the first n messages of subject.
func receiveRaw(t testing.TB, url, stream, subject string, n int) []jetstream.Msg {
	t.Helper()
	nc := connect(t, url)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), receiveBound)
	defer cancel()
	// The relay makes the stream when it is elected, which may be after
	// the test's first writes: wait for it within the bound.
	st, err := js.Stream(ctx, stream)
	for errors.Is(err, jetstream.ErrStreamNotFound) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
		st, err = js.Stream(ctx, stream)
	}
	if err != nil {
		t.Fatal(err)
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatal(err)
	}
	var out []jetstream.Msg
	for len(out) < n {
		batch, err := cons.Fetch(n-len(out), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			out = append(out, m)
		}
		if ctx.Err() != nil {
			t.Fatalf("%s: %d messages of %d", subject, len(out), n)
		}
	}
	return out
}
