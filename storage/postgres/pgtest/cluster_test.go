package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/storage"
)

// The private cluster stops and starts as a test needs, and what a client
// sees meanwhile is what the postgres backend recognizes as
// storage.ErrUnavailable: the session a fast stop ends (57P01), the
// connection refused while it is down, the session an immediate stop
// cuts. A statement's own error is not.
func TestClusterStopsAndStarts(t *testing.T) {
	ctx := context.Background()
	c := StartCluster(t)
	conn, err := pgx.Connect(ctx, c.URL)
	if err != nil {
		t.Fatalf("connect to the new cluster: %v\n%s", err, c.Log())
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "SELECT * FROM no_such_table")
	if err == nil || storage.IsUnavailable(err) {
		t.Errorf("a statement error: %v; unavailable: %v, want a plain error", err, storage.IsUnavailable(err))
	}

	if err := c.Stop("fast"); err != nil {
		t.Fatal(err)
	}
	if c.Running() {
		t.Fatal("pg_ctl status says the stopped cluster runs")
	}
	_, err = conn.Exec(ctx, "SELECT 1")
	if err == nil {
		t.Fatal("a session outlived the fast stop")
	}
	if !storage.IsUnavailable(err) {
		t.Errorf("the session the stop ended failed with %q (%T), which is not storage.ErrUnavailable", err, err)
	}
	_, err = pgx.Connect(ctx, c.URL)
	if err == nil {
		t.Fatal("connected to the stopped cluster")
	}
	if !storage.IsUnavailable(err) {
		t.Errorf("connecting to the stopped cluster failed with %q, which is not storage.ErrUnavailable", err)
	}

	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	url, err := c.CreateDatabase(ctx, "after_restart")
	if err != nil {
		t.Fatal(err)
	}
	again, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect after the restart: %v", err)
	}
	defer again.Close(ctx)
	var one int
	if err := again.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 after the restart: %d, %v", one, err)
	}

	// An immediate stop kills the server's processes: the session sees
	// its socket cut (a bare EOF or reset from pgx), not a 57P01.
	if err := c.Stop("immediate"); err != nil {
		t.Fatal(err)
	}
	_, err = again.Exec(ctx, "SELECT 1")
	if err == nil {
		t.Fatal("a session outlived the immediate stop")
	}
	if !storage.IsUnavailable(err) {
		t.Errorf("the session the immediate stop cut failed with %q (%T), which is not storage.ErrUnavailable", err, err)
	}
	if err := c.Start(); err != nil {
		t.Fatalf("start after an immediate stop (crash recovery): %v", err)
	}
}
