package bus_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// dataset is a store that merges changesets through the editing service,
// as a trusted contributor's uploads do in serve.
type dataset struct {
	t     testing.TB
	store storage.Store
	svc   *editing.Service
	who   *auth.Identity
	// placed counts the nodes mergeNodes made, so that the next one's
	// position follows.
	placed int
}

func openSQLite(t testing.TB) storage.Store {
	s, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newDataset(t testing.TB, store storage.Store) *dataset {
	svc, err := editing.NewService(store, editing.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := store.CreateAccount(context.Background(), storage.NewAccount{DisplayName: "mapper", Role: string(auth.RoleContributor), Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	who := &auth.Identity{UserID: acc.ID, DisplayName: "mapper", Role: auth.RoleContributor, Trusted: true, Scopes: auth.AllScopes}
	return &dataset{t: t, store: store, svc: svc, who: who}
}

// merge uploads the operations in one changeset, closes and merges it,
// and returns its outbox entry.
func (d *dataset) merge(ops ...editing.Operation) storage.OutboxEntry {
	d.t.Helper()
	ctx := context.Background()
	cs, err := d.svc.CreateChangeset(ctx, d.who, osmdata.Tags{{Key: "comment", Value: "bus test"}})
	if err != nil {
		d.t.Fatal(err)
	}
	for i := range ops {
		ops[i].Element.Changeset = cs.ID
	}
	if _, err := d.svc.Upload(ctx, d.who, cs.ID, ops); err != nil {
		d.t.Fatalf("upload to changeset %d: %v", cs.ID, err)
	}
	// An upload that fills the changeset has closed it already.
	if len(ops) < storage.MaxChangesetChanges {
		if _, err := d.svc.CloseChangeset(ctx, d.who, cs.ID); err != nil {
			d.t.Fatal(err)
		}
	}
	entry, err := d.store.Merge(ctx, cs.ID)
	if err != nil {
		d.t.Fatalf("merge changeset %d: %v", cs.ID, err)
	}
	return entry
}

// mergeNodes merges n changesets of one new node each, the i-th node
// mergeNodes ever made at nodePosition(i).
func (d *dataset) mergeNodes(n int) {
	d.t.Helper()
	for range n {
		lat, lon := nodePosition(d.placed)
		d.merge(createNode(-1, lat, lon, osmdata.Tag{Key: "name", Value: fmt.Sprintf("node %d", d.placed)}))
		d.placed++
	}
}

// nodePosition spreads nodes over the globe, negative longitudes too.
func nodePosition(i int) (lat, lon float64) {
	return float64(i%170) - 85, float64((i*37)%360) - 180
}

func createNode(placeholder int64, lat, lon float64, tags ...osmdata.Tag) editing.Operation {
	return editing.Operation{Action: storage.Create, Element: osmdata.Element{Type: osmdata.Node, ID: placeholder,
		Lat: osmdata.RoundCoordToFixed(lat), Lon: osmdata.RoundCoordToFixed(lon), Tags: tags}}
}
