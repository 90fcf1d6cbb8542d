package subscribe_test

import (
	"context"
	"net/http"
	"testing"

	"connectrpc.com/connect"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
)

// Merges another process commits on the same PostgreSQL reach a stream
// served here, live, in order: the stream reads the shared outbox, not
// this process's own merges. The client speaks gRPC over h2c, as gRPC
// tools do.
func TestMergesOfAnotherProcess(t *testing.T) {
	cfg := pgtest.Config(t)
	serving := &world{t: t, store: pgtest.Open(t, cfg)}
	merging := newWorld(t, pgtest.Open(t, cfg))
	url, _ := serving.serve(server.Config{})

	h2c := &http.Transport{Protocols: new(http.Protocols)}
	h2c.Protocols.SetUnencryptedHTTP2(true)
	client := geocommunsv1connect.NewSyncServiceClient(&http.Client{Transport: h2c}, url, connect.WithGRPC())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := client.Subscribe(ctx, connect.NewRequest(&geocommunsv1.SubscribeRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()

	for i := range 10 {
		seq, _ := merging.mergeNode(float64(i), 0)
		if !stream.Receive() {
			t.Fatalf("stream ended: %v", stream.Err())
		}
		if got := stream.Msg().GetChange().GetMergeSeq(); got != seq {
			t.Fatalf("merge %d arrived as %d", seq, got)
		}
	}
}
