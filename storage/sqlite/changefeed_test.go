package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// A merge made by another store on the same file, as a CLI command
// beside `serve` would, wakes nobody in this one: WaitMerge sees it on
// its fallback poll rather than never.
func TestWaitMergeSeesAnotherStoresMerge(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	serve, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer serve.Close()
	cli, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	type result struct {
		seq int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		seq, err := serve.WaitMerge(ctx, 0)
		done <- result{seq, err}
	}()

	c, err := cli.CreateChangeset(ctx, storage.NewChangeset{UID: 77, User: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	err = cli.Stage(ctx, c.ID, 77, func(ctx context.Context, tx storage.StageTx) error {
		return tx.WritePending(ctx, []storage.PendingChange{{Action: storage.Create, Element: osmdata.Element{
			Type: osmdata.Node, ID: 1, Version: 1, Visible: true, Lat: 1, Lon: 1}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.CloseChangeset(ctx, c.ID, 77); err != nil {
		t.Fatal(err)
	}
	entry, err := cli.Merge(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || r.seq != entry.Seq {
			t.Errorf("WaitMerge(0) beside the other store's merge %d: %d, %v", entry.Seq, r.seq, r.err)
		}
	case <-ctx.Done():
		t.Fatalf("WaitMerge still waiting after the other store's merge %d: %v", entry.Seq, ctx.Err())
	}
}
