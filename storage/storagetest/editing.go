package storagetest

import (
	"context"
	"time"
)

// Backdater is implemented by stores that can move a changeset's times
// into the past (both backends do, as a method for tests and
// operations): the suite needs changesets that are due to close without
// waiting an hour.
type Backdater interface {
	// BackdateChangeset moves created_at, the open window's start and
	// closed_at of changeset id d into the past.
	BackdateChangeset(ctx context.Context, id int64, d time.Duration) error
}
