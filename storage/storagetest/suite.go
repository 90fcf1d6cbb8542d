// Package storagetest is the conformance suite every storage backend must
// pass, in the manner of riverqueue/river's riverdrivertest: one set of
// behaviours, run unchanged against PostgreSQL and SQLite.
package storagetest

import (
	"testing"

	"github.com/geocommuns/geocommuns/storage"
)

// Opener returns a new, empty, migrated store that is private to the test
// and removed by t.Cleanup.
type Opener func(t *testing.T) storage.Store

// Run runs every conformance test against the backend that open creates.
func Run(t *testing.T, open Opener) {
	t.Helper()
}
