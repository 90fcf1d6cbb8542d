package main

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
)

// TestServePublishesMergesToNATS: a trusted contributor's changesets
// merge in `serve`, and an outside client of the embedded NATS
// (--nats-listen) reads them from geocommuns.merges.all in order; after
// a restart on the same --data the stream goes on where it ended.
func TestServePublishesMergesToNATS(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	r := runBinary(t, nil, "user", "add", "mapper", "--trusted", "--data", data)
	if r.exit != 0 {
		t.Fatalf("user add: %d %s", r.exit, r.stderr)
	}
	m := &mapper{token: strings.TrimSpace(r.stdout), nodes: map[int64]int{}, ways: map[int64]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	natsAddr := ln.Addr().String()
	ln.Close()

	var changesets []int64
	for run, edits := range []int{3, 2} {
		s := startServe(t, "--data", data, "--nats-listen", natsAddr)
		for range edits {
			cs, err := m.edit(s.base)
			if err != nil {
				t.Fatalf("run %d: %v\n%s", run, err, s.log())
			}
			changesets = append(changesets, cs)
		}
		got := readMerges(t, "nats://"+natsAddr, len(changesets))
		for i, mc := range got {
			if mc.GetMergeSeq() != int64(i+1) || mc.GetChangeset() != changesets[i] || len(mc.GetElements()) == 0 {
				t.Errorf("run %d: message %d is merge %d of changeset %d with %d elements, want merge %d of changeset %d",
					run, i+1, mc.GetMergeSeq(), mc.GetChangeset(), len(mc.GetElements()), i+1, changesets[i])
			}
		}
		if code := s.stop(t); code != 0 {
			t.Fatalf("serve exited %d\n%s", code, s.log())
		}
	}
}

// readMerges reads geocommuns.merges.all from the start until it has n
// messages, then checks that no more follow.
func readMerges(t *testing.T, url string, n int) []*geocommunsv1.MergedChange {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	st, err := js.Stream(ctx, "GEOCOMMUNS")
	if err != nil {
		t.Fatal(err)
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"geocommuns.merges.all"}})
	if err != nil {
		t.Fatal(err)
	}
	var out []*geocommunsv1.MergedChange
	for len(out) < n && ctx.Err() == nil {
		batch, err := cons.Fetch(n-len(out), jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for msg := range batch.Messages() {
			var mc geocommunsv1.MergedChange
			if err := proto.Unmarshal(msg.Data(), &mc); err != nil {
				t.Fatal(err)
			}
			out = append(out, &mc)
		}
	}
	if len(out) < n {
		t.Fatalf("%d merges on geocommuns.merges.all, want %d", len(out), n)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter("geocommuns.merges.all"))
	if err != nil {
		t.Fatal(err)
	}
	if got := info.State.Subjects["geocommuns.merges.all"]; got != uint64(n) {
		t.Errorf("the stream holds %d messages on geocommuns.merges.all, want %d", got, n)
	}
	return out
}

// TestServeNATSFlagsContradicting: --nats-listen exposes the embedded
// server, which --nats replaces; serve says so before opening anything.
func TestServeNATSFlagsContradicting(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	code, _, stderr := runInProcess(nil, "serve", "--data", data, "--nats", "nats://127.0.0.1:4222", "--nats-listen", "127.0.0.1:0")
	if code != exitUsage || !strings.Contains(stderr, "--nats-listen exposes the embedded NATS; with --nats there is none") {
		t.Errorf("exit %d, stderr %q; want 2 and why", code, stderr)
	}
	if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dataset was opened: %v", err)
	}
}
