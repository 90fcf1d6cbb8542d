package editing

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// These tests call the Service as the Connect handlers do, with
// operations rather than an osmChange document, on the embedded
// backend; the OSM API's tests (editing/osmapi) drive the same service
// over HTTP on both backends.

var author = &auth.Identity{UserID: 42, DisplayName: "author", Scopes: auth.AllScopes}

func newService(t *testing.T) *Service {
	t.Helper()
	store, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	s, err := NewService(store, Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func node(id int64, cs int64, lat, lon float64, tags ...osmdata.Tag) osmdata.Element {
	return osmdata.Element{Type: osmdata.Node, ID: id, Changeset: cs, Lat: osmdata.RoundCoordToFixed(lat), Lon: osmdata.RoundCoordToFixed(lon), Tags: tags}
}

// TestUploadChecksWithoutParser: operations that reach the service
// without the osmChange parser (Connect's structured changes) get the
// same checks, with cgimap's texts less the parser's position.
func TestUploadChecksWithoutParser(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	cs, err := s.CreateChangeset(ctx, author, nil)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 256)
	way := func(nodes ...int64) osmdata.Element {
		return osmdata.Element{Type: osmdata.Way, ID: -1, Changeset: cs.ID, Nodes: nodes}
	}
	manyNodes := make([]int64, 2001)
	for i := range manyNodes {
		manyNodes[i] = -1
	}
	cases := []struct {
		name string
		op   Operation
		want string
	}{
		{"key too long", Operation{Action: storage.Create, Element: node(-1, cs.ID, 1, 1, osmdata.Tag{Key: long, Value: "v"})},
			"Key has more than 255 unicode characters in Node -1"},
		{"value too long", Operation{Action: storage.Create, Element: node(-1, cs.ID, 1, 1, osmdata.Tag{Key: "k", Value: long})},
			"Value has more than 255 unicode characters in Node -1"},
		{"duplicate key", Operation{Action: storage.Create, Element: node(-1, cs.ID, 1, 1, osmdata.Tag{Key: "k", Value: "a"}, osmdata.Tag{Key: "k", Value: "b"})},
			"Node -1 has duplicate tags with key k"},
		{"latitude", Operation{Action: storage.Create, Element: node(-1, cs.ID, 91, 1)}, "Latitude outside of valid range"},
		{"longitude", Operation{Action: storage.Create, Element: node(-1, cs.ID, 1, -181)}, "Longitude outside of valid range"},
		{"way without nodes", Operation{Action: storage.Create, Element: way()}, "Precondition failed: Way -1 must have at least one node"},
		{"way over 2,000 nodes", Operation{Action: storage.Create, Element: way(manyNodes...)},
			"You tried to add 2001 nodes to way -1, however only 2000 are allowed"},
		{"positive placeholder", Operation{Action: storage.Create, Element: node(5, cs.ID, 1, 1)},
			"Placeholder IDs must be negative for created elements."},
		{"changeset mismatch", Operation{Action: storage.Create, Element: node(-1, cs.ID+100, 1, 1)},
			fmt.Sprintf("Changeset mismatch: Provided %d but only %d is allowed", cs.ID+100, cs.ID)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Upload(ctx, author, cs.ID, []Operation{c.op})
			e := AsError(err)
			if e == nil || e.Message != c.want {
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}
	if _, err := s.Upload(ctx, nil, cs.ID, nil); AsError(err) == nil || AsError(err).Kind != ErrUnauthorized {
		t.Errorf("anonymous upload: %v", err)
	}
}

// TestVersionMismatchDetails: Connect reports the element and both
// versions of a mismatch.
func TestVersionMismatchDetails(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	cs, err := s.CreateChangeset(ctx, author, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Upload(ctx, author, cs.ID, []Operation{{Action: storage.Create, Element: node(-1, cs.ID, 1, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Entries[0].NewID
	e := node(id, cs.ID, 2, 2)
	e.Version = 4
	_, err = s.Upload(ctx, author, cs.ID, []Operation{{Action: storage.Modify, Element: e}})
	got := AsError(err)
	if got == nil || got.Kind != ErrVersionMismatch || !got.HasElement || got.Element != (osmdata.Key{Type: osmdata.Node, ID: id}) ||
		got.Provided != 4 || got.Server != 1 {
		t.Errorf("mismatch error %+v", got)
	}
}

// TestSweeperRun: Run sweeps at once and then every period, and stops
// with its context. A changeset holding 10,000 changes is due.
func TestSweeperRun(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	full, err := s.CreateChangeset(ctx, author, nil)
	if err != nil {
		t.Fatal(err)
	}
	open, err := s.CreateChangeset(ctx, author, nil)
	if err != nil {
		t.Fatal(err)
	}
	ops := make([]Operation, storage.MaxChangesetChanges)
	for i := range ops {
		ops[i] = Operation{Action: storage.Create, Element: node(-int64(i+1), full.ID, 1, 1)}
	}
	if _, err := s.Upload(ctx, author, full.ID, ops); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.NewSweeper(10 * time.Millisecond).Run(runCtx)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := s.Changeset(ctx, full.ID)
		if err != nil {
			t.Fatal(err)
		}
		// A full changeset reads as closed at once; the sweep is what
		// submits it.
		if c.ReviewState == osmdata.ReviewSubmitted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sweeper did not close the full changeset")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if c, err := s.Changeset(ctx, open.ID); err != nil || !c.Open {
		t.Errorf("a changeset that is not due: %+v, %v", c, err)
	}
	if _, err := s.CloseChangeset(ctx, author, full.ID); AsError(err) == nil || AsError(err).Kind != ErrChangesetClosed {
		t.Errorf("closing the swept changeset again: %v, want closed", err)
	}
}
