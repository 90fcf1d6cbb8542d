package editing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// BenchmarkUploadCreates stages 10,000 node creates with placeholder ids
// per iteration, as one Service.Upload, and reports elements/s. The
// geocommuns bench command compares such uploads with a plain COPY.
func BenchmarkUploadCreates(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		store, err := sqlite.Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer store.Close()
		benchUpload(b, store)
	})
	b.Run("postgres", func(b *testing.B) {
		url := os.Getenv("GEOCOMMUNS_TEST_POSTGRES")
		if url == "" {
			b.Skip("set GEOCOMMUNS_TEST_POSTGRES")
		}
		suffix := make([]byte, 4)
		rand.Read(suffix)
		store, err := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: "b_editing_" + hex.EncodeToString(suffix)})
		if err != nil {
			b.Fatal(err)
		}
		defer func() { store.DropSchema(context.Background()); store.Close() }()
		benchUpload(b, store)
	})
}

func benchUpload(b *testing.B, store storage.Store) {
	s, err := NewService(store, Limits{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	const n = 10000
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cs, err := s.CreateChangeset(ctx, author, nil)
		if err != nil {
			b.Fatal(err)
		}
		ops := make([]Operation, n)
		for j := range ops {
			ops[j] = Operation{Action: storage.Create, Element: node(-int64(j+1), cs.ID, 1+float64(j)*1e-5, 1)}
		}
		b.StartTimer()
		res, err := s.Upload(ctx, author, cs.ID, ops)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Entries) != n || res.Changeset.NumChanges != n {
			b.Fatalf("staged %d entries, %d changes", len(res.Entries), res.Changeset.NumChanges)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "elements/s")
}
