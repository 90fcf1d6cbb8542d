package editing

import (
	"context"
	"fmt"
	"testing"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// BenchmarkUploadAfterMerge stages 9,999 node modifies that cite the
// current versions, by an author without a merged changeset ("new") and
// by one whose merged changeset gave every cited version ("merged",
// which merges each upload between iterations, untimed), so that version
// resolution reads the author's merged changes for all of them. Compare
// the two elements/s figures: the read of merged changes is what
// separates them.
func BenchmarkUploadAfterMerge(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			for _, merged := range []bool{false, true} {
				name := "new"
				if merged {
					name = "merged"
				}
				b.Run(name, func(b *testing.B) { benchUploadAfterMerge(b, be.open(b), merged) })
			}
		})
	}
}

func benchUploadAfterMerge(b *testing.B, store storage.Store, merged bool) {
	// One short of a full changeset, which the editor could not close.
	const n = storage.MaxChangesetChanges - 1
	els := make([]osmdata.Element, n)
	for i := range els {
		e := node(int64(i+1), 1, 1+float64(i)*1e-5, 1, osmdata.Tag{Key: "name", Value: "imported"})
		e.Version, e.Visible, e.UID, e.User = 1, true, 1, "mapper"
		els[i] = e
	}
	ctx := context.Background()
	if _, err := store.Import(ctx, &elementSlice{els}); err != nil {
		b.Fatal(err)
	}
	svc, err := NewService(store, Limits{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	m, ok := store.(storage.Merger)
	if !ok {
		b.Fatalf("the %T store does not merge", store)
	}
	version := 1
	upload := func(who *auth.Identity, i int) *DiffResult {
		cs, err := svc.CreateChangeset(ctx, who, nil)
		if err != nil {
			b.Fatal(err)
		}
		ops := make([]Operation, n)
		for j := range ops {
			e := node(int64(j+1), cs.ID, 1+float64(j)*1e-5, 1, osmdata.Tag{Key: "name", Value: fmt.Sprint("upload ", i)})
			e.Version = version
			ops[j] = Operation{Action: storage.Modify, Element: e}
		}
		b.StartTimer()
		res, err := svc.Upload(ctx, who, cs.ID, ops)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Entries) != n || res.Entries[n-1].NewVersion != version+1 {
			b.Fatalf("staged %d entries, the last at v%d", len(res.Entries), res.Entries[n-1].NewVersion)
		}
		return res
	}
	mergeAll := func(who *auth.Identity, cs int64) {
		if _, err := svc.CloseChangeset(ctx, who, cs); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Merge(ctx, cs); err != nil {
			b.Fatal(err)
		}
		version++
	}
	b.StopTimer()
	if merged {
		// The author's first merged changeset, so that the timed uploads
		// all cite versions it (and then each previous one) gave.
		mergeAll(author, upload(author, 0).Changeset.ID)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !merged {
			who := &auth.Identity{UserID: int64(1000 + i), DisplayName: fmt.Sprint("new ", i), Scopes: auth.AllScopes}
			upload(who, i)
			continue
		}
		mergeAll(author, upload(author, i).Changeset.ID)
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "elements/s")
}
