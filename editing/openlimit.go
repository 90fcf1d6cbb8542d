package editing

import (
	"context"
	"fmt"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/storage"
)

// checkOpenChangesets refuses a new changeset to a user who already has
// Limits.MaxOpenChangesets open, so that a runaway script cannot open
// changesets without end (each one waits for review once it closes).
//
// The count is read just before the create, outside its transaction:
// concurrent creates of one user can each pass it and go past the limit
// by at most the number in flight at once, which the per-user write
// burst (server.Config.WriteBurst) bounds. Counting inside the create's
// transaction would need a lock on the user's row in both stores for a
// limit that is a guard rail, not an invariant.
func (s *Service) checkOpenChangesets(ctx context.Context, who *auth.Identity) error {
	limit := s.limits.MaxOpenChangesets
	if limit <= 0 {
		return nil
	}
	open, err := s.editing.Changesets(ctx, storage.ChangesetQuery{UID: who.UserID, OnlyOpen: true, Limit: limit})
	if err != nil {
		return fmt.Errorf("count the open changesets of user %d: %w", who.UserID, err)
	}
	if len(open) >= limit {
		return newError(ErrTooManyOpenChangesets, nil, limit)
	}
	return nil
}
