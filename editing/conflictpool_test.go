package editing

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
)

// TestConcurrentReuploadsIntoConflictedChangesetsOnASmallPool: uploads
// into conflicted changesets read their merge report while their
// transaction holds a connection. Read on the pool, as it once was, two
// such uploads on a pool of two connections each held one and waited for
// the other's, and all eight hung. Each must complete, and resolve its
// conflict so that the changeset merges.
func TestConcurrentReuploadsIntoConflictedChangesetsOnASmallPool(t *testing.T) {
	const contributors = 8
	cfg := pgtest.Config(t)
	u, err := url.Parse(cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", "2")
	u.RawQuery = q.Encode()
	cfg.URL = u.String()
	store := pgtest.Open(t, cfg)
	s, err := NewService(store, Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A guard against hanging the test run: a deadlock fails it.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	mustMerge := func(who *auth.Identity, cs int64) error {
		if _, err := s.CloseChangeset(ctx, who, cs); err != nil {
			t.Fatalf("close changeset %d: %v", cs, err)
		}
		_, err := store.Merge(ctx, cs)
		return err
	}
	upload := func(who *auth.Identity, cs int64, ops ...Operation) (*DiffResult, error) {
		return s.Upload(ctx, who, cs, ops)
	}

	// One node per contributor, merged as version 1.
	seeder := &auth.Identity{UserID: 1, DisplayName: "seeder", Scopes: auth.AllScopes}
	seed, err := s.CreateChangeset(ctx, seeder, nil)
	if err != nil {
		t.Fatal(err)
	}
	var creates []Operation
	for i := range contributors {
		creates = append(creates, Operation{Action: storage.Create, Element: node(int64(-1-i), seed.ID, float64(i), float64(i))})
	}
	res, err := upload(seeder, seed.ID, creates...)
	if err != nil {
		t.Fatal(err)
	}
	if err := mustMerge(seeder, seed.ID); err != nil {
		t.Fatalf("merge the seed: %v", err)
	}
	nodes := make([]int64, contributors)
	for i, e := range res.Entries {
		nodes[i] = e.NewID
	}
	moved := func(i int, cs int64, version int, tag string) Operation {
		e := node(nodes[i], cs, float64(i)+0.5, float64(i), osmdata.Tag{Key: "note", Value: tag})
		e.Version = version
		return Operation{Action: storage.Modify, Element: e}
	}

	// Each contributor edits its node from version 1 while another
	// edit of every node, from version 1 too, merges first: each
	// contributor's merge is conflicted (its base moved).
	first := &auth.Identity{UserID: 2, DisplayName: "first", Scopes: auth.AllScopes}
	firstCS, err := s.CreateChangeset(ctx, first, nil)
	if err != nil {
		t.Fatal(err)
	}
	var firstOps []Operation
	for i := range contributors {
		firstOps = append(firstOps, moved(i, firstCS.ID, 1, "first"))
	}
	if _, err := upload(first, firstCS.ID, firstOps...); err != nil {
		t.Fatal(err)
	}
	who := make([]*auth.Identity, contributors)
	changesets := make([]int64, contributors)
	for i := range contributors {
		who[i] = &auth.Identity{UserID: int64(100 + i), DisplayName: fmt.Sprintf("contributor%d", i), Scopes: auth.AllScopes}
		cs, err := s.CreateChangeset(ctx, who[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		changesets[i] = cs.ID
		if _, err := upload(who[i], cs.ID, moved(i, cs.ID, 1, "late")); err != nil {
			t.Fatal(err)
		}
	}
	if err := mustMerge(first, firstCS.ID); err != nil {
		t.Fatalf("merge the first edits: %v", err)
	}
	for i := range contributors {
		var conflict *storage.ConflictError
		if err := mustMerge(who[i], changesets[i]); !errors.As(err, &conflict) {
			t.Fatalf("merge of contributor %d's changeset %d: %v, want a conflict", i, changesets[i], err)
		}
	}

	// Every contributor re-uploads its node against the current version
	// at once.
	var wg sync.WaitGroup
	errs := make([]error, contributors)
	for i := range contributors {
		wg.Go(func() {
			_, errs[i] = upload(who[i], changesets[i], moved(i, changesets[i], 2, "resolved"))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("re-upload of contributor %d into conflicted changeset %d: %v", i, changesets[i], err)
		}
	}
	if t.Failed() {
		return
	}
	for i := range contributors {
		if err := mustMerge(who[i], changesets[i]); err != nil {
			t.Errorf("merge of contributor %d's changeset %d after its re-upload: %v", i, changesets[i], err)
		}
	}
}
