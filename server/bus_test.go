package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
	"github.com/geocommuns/geocommuns/sync/bus"
)

// TestBusesOfOnePostgreSQLDatasetElectOneRelay: two processes (two
// stores on one schema) publishing to the same external NATS elect one
// relay of merges and one of review events, and every merge and every
// review event reaches its stream once, in order.
func TestBusesOfOnePostgreSQLDatasetElectOneRelay(t *testing.T) {
	url := os.Getenv("GEOCOMMUNS_TEST_NATS")
	if url == "" {
		t.Skip("needs NATS: set GEOCOMMUNS_TEST_NATS, e.g. GEOCOMMUNS_TEST_NATS=nats://127.0.0.1:4222")
	}
	id := make([]byte, 6)
	rand.Read(id)
	stream, subjects := "GCTEST_"+hex.EncodeToString(id), bus.Subjects{Prefix: "gctest" + hex.EncodeToString(id)}
	reviewStream := stream + "_REVIEWS"
	cfg := pgtest.Config(t)
	stores := []storage.Store{pgtest.Open(t, cfg), pgtest.Open(t, cfg)}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	logs := make([]*lockedBuffer, len(stores))
	for i, st := range stores {
		logs[i] = &lockedBuffer{}
		b, err := server.StartBus(server.BusConfig{URL: url, Stream: stream, ReviewStream: reviewStream, Subjects: subjects}, st, slog.New(slog.NewTextHandler(logs[i], nil)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Close)
		wg.Go(func() { b.Run(ctx) })
	}
	t.Cleanup(func() { deleteStream(url, stream); deleteStream(url, reviewStream) })

	svc, err := editing.NewService(stores[0], editing.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := stores[0].CreateAccount(ctx, storage.NewAccount{DisplayName: "mapper", Role: string(auth.RoleContributor), Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	who := &auth.Identity{UserID: acc.ID, DisplayName: "mapper", Role: auth.RoleContributor, Trusted: true, Scopes: auth.AllScopes}
	const merges = 20
	for i := range merges {
		cs, err := svc.CreateChangeset(ctx, who, nil)
		if err != nil {
			t.Fatal(err)
		}
		op := editing.Operation{Action: storage.Create, Element: osmdata.Element{Type: osmdata.Node, ID: -1, Changeset: cs.ID,
			Lat: osmdata.RoundCoordToFixed(float64(i)), Lon: osmdata.RoundCoordToFixed(float64(-i))}}
		if _, err := svc.Upload(ctx, who, cs.ID, []editing.Operation{op}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CloseChangeset(ctx, who, cs.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := stores[i%2].Merge(ctx, cs.ID); err != nil {
			t.Fatal(err)
		}
	}

	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	// Reads up to n messages of subject from the start of stream, once
	// there are n (or after a bound), and returns header of each.
	read := func(stream, subject, header string, n int) []string {
		var got []string
		deadline := time.Now().Add(2 * time.Minute)
		for len(got) < n && time.Now().Before(deadline) {
			got = got[:0]
			st, err := js.Stream(ctx, stream)
			if err != nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
			if err != nil {
				t.Fatal(err)
			}
			batch, err := cons.Fetch(n+1, jetstream.FetchMaxWait(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			for m := range batch.Messages() {
				got = append(got, m.Headers().Get(header))
			}
		}
		return got
	}
	if got := strings.Join(read(stream, subjects.All(), bus.HeaderMergeSeq, merges), ","); got != "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20" {
		t.Errorf("merges on %s: %s", subjects.All(), got)
	}
	// Each changeset was submitted, then merged.
	var want []string
	for i := range 2 * merges {
		want = append(want, strconv.Itoa(i+1))
	}
	if got, w := strings.Join(read(reviewStream, subjects.Reviews(), bus.HeaderReviewSeq, 2*merges), ","), strings.Join(want, ","); got != w {
		t.Errorf("review events on %s: %s, want %s", subjects.Reviews(), got, w)
	}
	if got := len(read(reviewStream, subjects.Prefix+".reviews.merged.*", bus.HeaderReviewSeq, merges)); got != merges {
		t.Errorf("%d merged events, want %d", got, merges)
	}
	for _, relay := range []string{"NATS relay", "NATS review relay"} {
		elected := 0
		for _, l := range logs {
			elected += strings.Count(l.String(), relay+" elected")
		}
		if elected != 1 {
			t.Errorf("%d %ss elected, want 1\n%s\n%s", elected, relay, logs[0], logs[1])
		}
	}
}

func deleteStream(url, stream string) {
	nc, err := nats.Connect(url)
	if err != nil {
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	js.DeleteStream(ctx, stream)
}
