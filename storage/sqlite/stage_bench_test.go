package sqlite_test

import (
	"context"
	"testing"

	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/sqlite"
	"github.com/geocommuns/geocommuns/storage/storagetest"
)

// BenchmarkStaging: a 10,000-element upload of creates from Andorra
// staged, beside a plain prepared INSERT of the same rows.
func BenchmarkStaging(b *testing.B) {
	storagetest.BenchmarkStaging(b, func(tb testing.TB) storage.Store {
		s, err := sqlite.Open(context.Background(), tb.TempDir())
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	})
}

var (
	_ storagetest.Backdater        = (*sqlite.Store)(nil)
	_ storagetest.PendingBaseliner = (*sqlite.Store)(nil)
)
