package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
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
// relay, and every merge reaches the stream once, in order.
func TestBusesOfOnePostgreSQLDatasetElectOneRelay(t *testing.T) {
	url := os.Getenv("GEOCOMMUNS_TEST_NATS")
	if url == "" {
		t.Skip("needs NATS: set GEOCOMMUNS_TEST_NATS, e.g. GEOCOMMUNS_TEST_NATS=nats://127.0.0.1:4222")
	}
	id := make([]byte, 6)
	rand.Read(id)
	stream, subjects := "GCTEST_"+hex.EncodeToString(id), bus.Subjects{Prefix: "gctest" + hex.EncodeToString(id)}
	cfg := pgtest.Config(t)
	stores := []storage.Store{pgtest.Open(t, cfg), pgtest.Open(t, cfg)}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	logs := make([]*lockedBuffer, len(stores))
	for i, st := range stores {
		logs[i] = &lockedBuffer{}
		b, err := server.StartBus(server.BusConfig{URL: url, Stream: stream, Subjects: subjects}, st, slog.New(slog.NewTextHandler(logs[i], nil)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Close)
		wg.Go(func() { b.Run(ctx) })
	}
	t.Cleanup(func() { deleteStream(url, stream) })

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
	var seqs []string
	deadline := time.Now().Add(2 * time.Minute)
	for len(seqs) < merges && time.Now().Before(deadline) {
		seqs = seqs[:0]
		st, err := js.Stream(ctx, stream)
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subjects.All()}})
		if err != nil {
			t.Fatal(err)
		}
		batch, err := cons.Fetch(merges+1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			seqs = append(seqs, m.Headers().Get(bus.HeaderMergeSeq))
		}
	}
	if got := strings.Join(seqs, ","); got != "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20" {
		t.Errorf("merges on %s: %s", subjects.All(), got)
	}
	elected := 0
	for _, l := range logs {
		elected += strings.Count(l.String(), "NATS relay elected")
	}
	if elected != 1 {
		t.Errorf("%d relays elected, want 1\n%s\n%s", elected, logs[0], logs[1])
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
