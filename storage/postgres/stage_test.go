package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

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
