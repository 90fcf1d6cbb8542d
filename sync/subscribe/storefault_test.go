package subscribe_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/jackc/pgx/v5"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
)

// A fault of the store that is no outage (here an outbox row naming a
// version the store does not hold) ends the stream with Internal, not
// with the Unavailable of an outage (TestPostgresRestartUnderLoad): a
// client retrying it from its last merge_seq would meet it for ever.
func TestStoreFaultEndsTheStreamAsInternal(t *testing.T) {
	ctx := context.Background()
	cfg := pgtest.Config(t)
	w := newWorld(t, pgtest.Open(t, cfg))
	w.mergeNode(1, 1)
	seq, _ := w.mergeNode(2, 2)
	db, err := pgx.Connect(ctx, cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, `UPDATE `+pgx.Identifier{cfg.Schema, "outbox"}.Sanitize()+
		` SET new_versions = '{99}' WHERE merge_seq = $1`, seq); err != nil {
		t.Fatal(err)
	}

	url, _ := w.serve(server.Config{})
	sub := subscribeTo(t, url, &geocommunsv1.SubscribeRequest{})
	deadline := time.After(patience)
	for ended := false; !ended; {
		select {
		case _, ok := <-sub.events:
			ended = !ok
		case <-deadline:
			t.Fatalf("the stream went on past merge %d, whose version 99 does not exist", seq)
		}
	}
	err = <-sub.done
	if code := connectCode(t, err); code != connect.CodeInternal || strings.Contains(err.Error(), "unavailable") {
		t.Errorf("stream over a broken outbox row ended with %v (%v), want internal", code, err)
	}
}
