package postgres

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// TestStageLocksOnlyTheAuthor: while an upload of one author holds its
// transaction open, an upload by another author of the same dataset,
// and one by the same uid in another schema (parallel tests share one
// database's advisory locks), both complete. Were the lock wider, they
// would wait for the first upload, which waits for them: the context's
// deadline ends that wait and the test fails instead of hanging.
func TestStageLocksOnlyTheAuthor(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, other := openTestStore(t), openTestStore(t)
	mine, err := s.CreateChangeset(ctx, storage.NewChangeset{UID: 7, User: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := s.CreateChangeset(ctx, storage.NewChangeset{UID: 8, User: "bo"})
	if err != nil {
		t.Fatal(err)
	}
	elsewhere, err := other.CreateChangeset(ctx, storage.NewChangeset{UID: 7, User: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Stage(ctx, mine.ID, 7, func(ctx context.Context, tx storage.StageTx) error {
		done := make(chan error, 2)
		go func() {
			done <- s.Stage(ctx, theirs.ID, 8, func(ctx context.Context, tx storage.StageTx) error { return nil })
		}()
		go func() {
			done <- other.Stage(ctx, elsewhere.ID, 7, func(ctx context.Context, tx storage.StageTx) error { return nil })
		}()
		return errors.Join(<-done, <-done)
	})
	if err != nil {
		t.Fatalf("uploads beside a held one: %v", err)
	}
}

// TestPendingReferencingAcrossBlocks: pending_ref_blocks indexes blocks
// of 64 ids, so the candidates of a lookup include every pending way and
// relation using another id of the same block. The answer still holds
// exactly the elements whose content refers to the asked ids, of the
// asked type, on both sides of a block boundary.
func TestPendingReferencingAcrossBlocks(t *testing.T) {
	ctx := t.Context()
	s := openTestStore(t)
	cs, err := s.CreateChangeset(ctx, storage.NewChangeset{UID: 7, User: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	way := osmdata.Element{Type: osmdata.Way, ID: 10, Version: 1, Visible: true, Nodes: []int64{63, 64, 200}}
	rel := osmdata.Element{Type: osmdata.Relation, ID: 20, Version: 1, Visible: true,
		Members: []osmdata.Member{{Type: osmdata.Way, Ref: 130, Role: "outer"}, {Type: osmdata.Node, Ref: 64, Role: "label"}}}
	err = s.Stage(ctx, cs.ID, 7, func(ctx context.Context, tx storage.StageTx) error {
		return tx.WritePending(ctx, []storage.PendingChange{
			{Action: storage.Create, Element: way}, {Action: storage.Create, Element: rel},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		t    osmdata.ElementType
		ids  []int64
		want []osmdata.Key
	}{
		{osmdata.Node, []int64{63}, []osmdata.Key{way.Key()}},
		{osmdata.Node, []int64{64}, []osmdata.Key{way.Key(), rel.Key()}},
		{osmdata.Node, []int64{200}, []osmdata.Key{way.Key()}},
		{osmdata.Node, []int64{0, 62, 65, 127, 128, 199, 201}, nil},
		{osmdata.Way, []int64{130}, []osmdata.Key{rel.Key()}},
		{osmdata.Way, []int64{131, 64}, nil},
		{osmdata.Node, []int64{130}, nil},
	} {
		got, err := s.Pending(7).PendingReferencing(ctx, c.t, c.ids)
		if err != nil {
			t.Fatal(err)
		}
		var keys []osmdata.Key
		for _, p := range got {
			keys = append(keys, p.Element.Key())
		}
		if !slices.Equal(keys, c.want) {
			t.Errorf("PendingReferencing(%s %v) = %v, want %v", c.t, c.ids, keys, c.want)
		}
	}
}
