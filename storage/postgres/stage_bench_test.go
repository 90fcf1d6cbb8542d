package postgres

import (
	"testing"

	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/storagetest"
)

// BenchmarkStaging: a 10,000-element upload of creates from Andorra
// staged, beside a plain COPY of the same rows into pending_changes.
func BenchmarkStaging(b *testing.B) {
	testURL(b)
	storagetest.BenchmarkStaging(b, func(tb testing.TB) storage.Store { return openTestStore(tb) })
}

var (
	_ storagetest.Backdater        = (*Store)(nil)
	_ storagetest.PendingBaseliner = (*Store)(nil)
)
