package bus_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
	"github.com/geocommuns/geocommuns/sync/bus"
)

// BenchmarkMergeToSubscriber measures merge commit → a NATS subscriber
// of merges.all receiving it through the relay (embedded NATS), beside
// a bare NATS publish → receive on the same server in the same run; the
// ratio is what the outbox, the wake-up and the relay add.
func BenchmarkMergeToSubscriber(b *testing.B) {
	for _, backend := range []struct {
		name string
		open func(t testing.TB) storage.Store
	}{
		{"sqlite", openSQLite},
		{"postgres", func(t testing.TB) storage.Store { return pgtest.Open(t, pgtest.Config(t)) }},
	} {
		b.Run(backend.name, func(b *testing.B) {
			url := startEmbedded(b, b.TempDir(), "127.0.0.1:0").ClientURL()
			stream, subjects := names(b, url)
			d := newDataset(b, backend.open(b))
			startRelay(b, d.store, url, bus.RelayConfig{Stream: stream, Subjects: subjects})
			nc := connect(b, url)
			got := make(chan *nats.Msg, 64)
			if _, err := nc.ChanSubscribe(subjects.All(), got); err != nil {
				b.Fatal(err)
			}
			bareSubject := subjects.Prefix + ".bare"
			bareGot := make(chan *nats.Msg, 1)
			if _, err := nc.ChanSubscribe(bareSubject, bareGot); err != nil {
				b.Fatal(err)
			}
			nc.Flush()
			pub := connect(b, url)
			var merged, bare []time.Duration
			b.ResetTimer()
			for b.Loop() {
				entry := d.merge(createNode(-1, 1, 1))
				committed := time.Now()
				want := strconv.FormatInt(entry.Seq, 10)
				for msg := range got {
					if msg.Header.Get(bus.HeaderMergeSeq) == want {
						break
					}
				}
				merged = append(merged, time.Since(committed))

				start := time.Now()
				if err := pub.Publish(bareSubject, []byte(want)); err != nil {
					b.Fatal(err)
				}
				<-bareGot
				bare = append(bare, time.Since(start))
			}
			b.StopTimer()
			p50, p99 := percentile(merged, 0.5), percentile(merged, 0.99)
			b.ReportMetric(ms(p50), "merge-p50-ms")
			b.ReportMetric(ms(p99), "merge-p99-ms")
			b.ReportMetric(ms(percentile(bare, 0.5)), "bare-p50-ms")
			b.ReportMetric(ms(percentile(bare, 0.99)), "bare-p99-ms")
			b.ReportMetric(float64(p50)/float64(percentile(bare, 0.5)), "p50-ratio")
		})
	}
}

func percentile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
