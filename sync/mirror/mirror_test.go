package mirror_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
	"github.com/geocommuns/geocommuns/storage/sqlite"
	"github.com/geocommuns/geocommuns/sync/mirror"
	"github.com/geocommuns/geocommuns/sync/replication"
	"github.com/geocommuns/geocommuns/sync/subscribe"
)

// TestMirrorFollowsInPartsAndResumes: a copy starts from the source's
// dump, applies a merge the source sends in many parts (its message
// limit is tiny) and a merge of modifies and a delete, ends equal to the
// source, refuses to apply a merge again, and resumes after a stop
// without importing anew. The copy is on each backend.
func TestMirrorFollowsInPartsAndResumes(t *testing.T) {
	targets := []struct {
		name string
		open func(t *testing.T) storage.Store
	}{
		{"sqlite", openSQLite},
		{"postgres", func(t *testing.T) storage.Store { return pgtest.Open(t, pgtest.Config(t)) }},
	}
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			ctx := context.Background()
			src := newSource(t)
			first := src.merge(t, createNodes(3)...)
			url := src.serve(t)
			replica := target.open(t)

			run := startMirror(t, replica, url)
			waitPosition(t, replica, first)

			big := src.merge(t, createNodes(300)...)
			nodes := currentNodes(t, src.store)
			last := src.merge(t,
				editing.Operation{Action: storage.Modify, Element: moved(nodes[0])},
				editing.Operation{Action: storage.Modify, Element: moved(nodes[1])},
				editing.Operation{Action: storage.Delete, Element: nodes[2]})
			waitPosition(t, replica, last)
			if big <= first {
				t.Fatalf("merge_seq %d after %d", big, first)
			}
			sameExport(t, src.store, replica)

			m := replica.(storage.Mirror)
			if err := m.ApplyMirrored(ctx, last, nil); !errors.Is(err, storage.ErrMergeApplied) {
				t.Errorf("ApplyMirrored of merge %d again: %v, want ErrMergeApplied", last, err)
			}
			conflicting := nodes[0]
			conflicting.Version = 99
			if err := m.ApplyMirrored(ctx, last+1, []osmdata.Element{conflicting}); !errors.Is(err, storage.ErrVersionConflict) {
				t.Errorf("ApplyMirrored of a conflicting version: %v, want ErrVersionConflict", err)
			}
			if pos, _, _ := m.MirrorPosition(ctx); pos.MergeSeq != last {
				t.Errorf("a refused merge moved the position to %d", pos.MergeSeq)
			}

			if err := run.stop(); err != nil {
				t.Fatalf("mirror: %v", err)
			}
			after := src.merge(t, createNodes(2)...)
			run = startMirror(t, replica, url)
			waitPosition(t, replica, after)
			if err := run.stop(); err != nil {
				t.Fatalf("mirror after restart: %v", err)
			}
			sameExport(t, src.store, replica)
		})
	}
}

func openSQLite(t *testing.T) storage.Store {
	s, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// source is a dataset edited through the editing service and merged
// through the store, so that each merge_seq is known.
type source struct {
	store *sqlite.Store
	svc   *editing.Service
	who   *auth.Identity
}

func newSource(t *testing.T) *source {
	store := openSQLite(t).(*sqlite.Store)
	svc, err := editing.NewService(store, editing.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := store.CreateAccount(context.Background(), storage.NewAccount{DisplayName: "mapper", Role: string(auth.RoleContributor)})
	if err != nil {
		t.Fatal(err)
	}
	return &source{store: store, svc: svc,
		who: &auth.Identity{UserID: acc.ID, DisplayName: "mapper", Role: auth.RoleContributor, Scopes: auth.AllScopes}}
}

func (s *source) merge(t *testing.T, ops ...editing.Operation) int64 {
	t.Helper()
	ctx := context.Background()
	cs, err := s.svc.CreateChangeset(ctx, s.who, osmdata.Tags{{Key: "comment", Value: "mirror test"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range ops {
		ops[i].Element.Changeset = cs.ID
	}
	if _, err := s.svc.Upload(ctx, s.who, cs.ID, ops); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if _, err := s.svc.CloseChangeset(ctx, s.who, cs.ID); err != nil {
		t.Fatal(err)
	}
	entry, err := s.store.Merge(ctx, cs.ID)
	if err != nil {
		t.Fatalf("merge changeset %d: %v", cs.ID, err)
	}
	return entry.Seq
}

// serve serves what a mirror reads of `geocommuns serve`: the dump and
// Subscribe, whose messages hold 2,000 bytes at most.
func (s *source) serve(t *testing.T) string {
	mux := http.NewServeMux()
	(&replication.Handler{Store: s.store, Dataset: s.store}).Register(mux)
	sub := subscribe.New(s.store, subscribe.Config{MaxMessageBytes: 2000})
	mux.Handle(sub.Handler())
	hs := httptest.NewServer(mux)
	t.Cleanup(func() { sub.Shutdown(); hs.Close() })
	return hs.URL
}

func createNodes(n int) []editing.Operation {
	ops := make([]editing.Operation, n)
	for i := range ops {
		ops[i] = editing.Operation{Action: storage.Create, Element: osmdata.Element{Type: osmdata.Node, ID: -int64(i + 1),
			Lat: osmdata.RoundCoordToFixed(42 + float64(i)/1000), Lon: osmdata.RoundCoordToFixed(1.5),
			Tags: osmdata.Tags{{Key: "name", Value: "a node with a name long enough to fill parts"}}}}
	}
	return ops
}

func moved(e osmdata.Element) osmdata.Element {
	e.Lat += 10
	e.Tags = osmdata.Tags{{Key: "moved", Value: "yes"}}
	return e
}

func currentNodes(t *testing.T, st storage.Store) []osmdata.Element {
	t.Helper()
	var nodes []osmdata.Element
	err := st.Export(context.Background(), func(e *osmdata.Element) error {
		nodes = append(nodes, *e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return nodes
}

func sameExport(t *testing.T, want, got storage.Store) {
	t.Helper()
	w, g := currentNodes(t, want), currentNodes(t, got)
	if len(w) != len(g) {
		t.Fatalf("the copy has %d elements, the source %d", len(g), len(w))
	}
	for i := range w {
		if !reflect.DeepEqual(w[i], g[i]) {
			t.Fatalf("element %d differs:\nsource %+v\ncopy   %+v", i, w[i], g[i])
		}
	}
}

type running struct {
	cancel context.CancelFunc
	done   chan error
}

func startMirror(t *testing.T, st storage.Store, url string) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- mirror.Run(ctx, st, mirror.Config{Source: url, MinBackoff: 10 * time.Millisecond})
	}()
	t.Cleanup(cancel)
	return r
}

func (r *running) stop() error {
	r.cancel()
	return <-r.done
}

// waitPosition waits until the copy holds merge seq; it guards against
// hanging, it does not time anything.
func waitPosition(t *testing.T, st storage.Store, seq int64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		pos, _, err := st.(storage.Mirror).MirrorPosition(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if pos.Imported && pos.MergeSeq >= seq {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the copy is at %+v, not merge %d, after a minute", pos, seq)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
