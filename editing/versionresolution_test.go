package editing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// These tests follow an editor through design.md's version resolution
// after a merge: it keeps the versions its diffResults gave (provisional
// ones) and cites them in its next changeset, while the merge gave the
// elements other, final versions and other users' merges went on from
// those. They run on both backends.

const postgresVariable = "GEOCOMMUNS_TEST_POSTGRES"

var nonIdentifier = regexp.MustCompile(`[^a-z0-9_]+`)

// backends open a new, empty store for the test: SQLite always,
// PostgreSQL (in a schema of its own, dropped afterwards) when
// GEOCOMMUNS_TEST_POSTGRES names a server.
var backends = []struct {
	name string
	open func(t testing.TB) storage.Store
}{
	{"sqlite", func(t testing.TB) storage.Store {
		s, err := sqlite.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t testing.TB) storage.Store {
		url := os.Getenv(postgresVariable)
		if url == "" {
			t.Skipf("PostgreSQL tests need a server: set %s, e.g. %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable", postgresVariable, postgresVariable)
		}
		name := nonIdentifier.ReplaceAllString(strings.ToLower(t.Name()), "_")
		if len(name) > 40 {
			name = name[len(name)-40:]
		}
		suffix := make([]byte, 4)
		rand.Read(suffix)
		s, err := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: "t_editing_" + name + "_" + hex.EncodeToString(suffix)})
		if err != nil {
			t.Fatalf("open postgres: %v", err)
		}
		t.Cleanup(func() {
			if err := s.DropSchema(context.Background()); err != nil {
				t.Errorf("drop the test schema: %v", err)
			}
			s.Close()
		})
		return s
	}},
}

type elementSlice struct{ els []osmdata.Element }

func (s *elementSlice) Next() (*osmdata.Element, error) {
	if len(s.els) == 0 {
		return nil, io.EOF
	}
	e := &s.els[0]
	s.els = s.els[1:]
	return e, nil
}

var otherUser = &auth.Identity{UserID: 43, DisplayName: "other", Scopes: auth.AllScopes}

// mergeFlow is a store with three imported nodes and a service on it.
type mergeFlow struct {
	t     *testing.T
	ctx   context.Context
	store storage.Store
	merge storage.Merger
	svc   *Service
}

func newMergeFlow(t *testing.T, open func(t testing.TB) storage.Store) *mergeFlow {
	t.Helper()
	store := open(t)
	m, ok := store.(storage.Merger)
	if !ok {
		t.Fatalf("the %T store does not merge", store)
	}
	var els []osmdata.Element
	for id := int64(1); id <= 3; id++ {
		e := node(id, 1, float64(id), float64(id), osmdata.Tag{Key: "name", Value: fmt.Sprintf("imported %d", id)})
		e.Version, e.Visible, e.UID, e.User = 1, true, 1, "mapper"
		els = append(els, e)
	}
	if _, err := store.Import(t.Context(), &elementSlice{els}); err != nil {
		t.Fatalf("import: %v", err)
	}
	svc, err := NewService(store, Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &mergeFlow{t: t, ctx: t.Context(), store: store, merge: m, svc: svc}
}

func (f *mergeFlow) open(who *auth.Identity) int64 {
	f.t.Helper()
	cs, err := f.svc.CreateChangeset(f.ctx, who, nil)
	if err != nil {
		f.t.Fatalf("create changeset: %v", err)
	}
	return cs.ID
}

func (f *mergeFlow) upload(who *auth.Identity, cs int64, ops ...Operation) *DiffResult {
	f.t.Helper()
	res, err := f.svc.Upload(f.ctx, who, cs, ops)
	if err != nil {
		f.t.Fatalf("upload to changeset %d: %v", cs, err)
	}
	return res
}

// closeAndMerge closes the changeset (which submits it) and merges it.
func (f *mergeFlow) closeAndMerge(who *auth.Identity, cs int64) error {
	f.t.Helper()
	if _, err := f.svc.CloseChangeset(f.ctx, who, cs); err != nil {
		f.t.Fatalf("close changeset %d: %v", cs, err)
	}
	_, err := f.merge.Merge(f.ctx, cs)
	return err
}

func (f *mergeFlow) mustMerge(who *auth.Identity, cs int64) {
	f.t.Helper()
	if err := f.closeAndMerge(who, cs); err != nil {
		f.t.Fatalf("merge changeset %d: %v", cs, err)
	}
}

// history checks that an element's versions are 1..len(names), the
// latest one named last.
func (f *mergeFlow) history(id int64, names ...string) {
	f.t.Helper()
	h, err := f.store.History(f.ctx, osmdata.Node, id)
	if err != nil {
		f.t.Fatalf("history of node %d: %v", id, err)
	}
	var got []string
	for _, e := range h {
		name, _ := e.Tags.Get("name")
		got = append(got, fmt.Sprintf("v%d %s", e.Version, name))
	}
	var want []string
	for i, n := range names {
		want = append(want, fmt.Sprintf("v%d %s", i+1, n))
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		f.t.Errorf("history of node %d: %s; want %s", id, strings.Join(got, ", "), strings.Join(want, ", "))
	}
}

func named(id int64, cs int64, version int, name string) Operation {
	e := node(id, cs, float64(id), float64(id), osmdata.Tag{Key: "name", Value: name})
	e.Version = version
	if id < 0 {
		return Operation{Action: storage.Create, Element: e}
	}
	return Operation{Action: storage.Modify, Element: e}
}

// firstChangeset is the author's first changeset, merged: two uploads,
// so that the elements changed in both get provisional versions above
// their final ones. It returns the id of the node it created. The
// author's editor now holds node 1 at v3, node 2 at v3, node 3 at v2
// and the created node at v2; the dataset has node 1 and 2 at v2, node 3
// at v2 and the created node at v1.
func (f *mergeFlow) firstChangeset() int64 {
	f.t.Helper()
	cs := f.open(author)
	res := f.upload(author, cs,
		named(-1, cs, 0, "created"),
		named(1, cs, 1, "author 1a"),
		named(2, cs, 1, "author 2a"),
		named(3, cs, 1, "author 3"))
	created := res.Entries[0].NewID
	res = f.upload(author, cs,
		named(created, cs, 1, "created twice"),
		named(1, cs, 2, "author 1b"),
		named(2, cs, 2, "author 2b"))
	for i, want := range []int{2, 3, 3} {
		if got := res.Entries[i].NewVersion; got != want {
			f.t.Fatalf("second upload, entry %d: provisional version %d, want %d", i, got, want)
		}
	}
	f.mustMerge(author, cs)
	f.history(1, "imported 1", "author 1b")
	f.history(created, "created twice")
	return created
}

// TestCitingOwnMergedVersions (a): the author cites the provisional
// versions of its merged changeset that nobody else moved on from; the
// upload builds on what the merge made of them, and the next merge gives
// gapless versions.
func TestCitingOwnMergedVersions(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f := newMergeFlow(t, b.open)
			created := f.firstChangeset()

			cs := f.open(author)
			res := f.upload(author, cs,
				named(1, cs, 3, "author 1c"),        // provisional v3, final v2
				named(created, cs, 2, "created 3x"), // provisional v2, final v1
				named(3, cs, 2, "author 3b"))        // provisional v2 is final v2 too
			for i, want := range []int{4, 3, 3} {
				if got := res.Entries[i].NewVersion; got != want {
					t.Errorf("entry %d: provisional version %d, want %d", i, got, want)
				}
			}
			f.mustMerge(author, cs)
			f.history(1, "imported 1", "author 1b", "author 1c")
			f.history(created, "created twice", "created 3x")
			f.history(3, "imported 3", "author 3", "author 3b")
		})
	}
}

// TestCitingOwnMergedVersionAfterOthers (b): after another user's merge
// made node 2 v3, the author's editor still cites its own provisional
// v3 of node 2. That must not be taken for the other user's v3: either
// the upload is refused, or (design.md) it builds on the author's merged
// change, and its merge then finds that node 2 moved on. The other
// user's edit stays.
func TestCitingOwnMergedVersionAfterOthers(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f := newMergeFlow(t, b.open)
			f.firstChangeset()

			theirs := f.open(otherUser)
			f.upload(otherUser, theirs, named(2, theirs, 2, "other 2"))
			f.mustMerge(otherUser, theirs)
			f.history(2, "imported 2", "author 2b", "other 2")

			cs := f.open(author)
			// As an editor sends it: an osmChange document.
			doc := fmt.Sprintf(`<osmChange version="0.6" generator="test"><modify>
				<node id="2" version="3" changeset="%d" lat="2" lon="2"><tag k="name" v="author 2c"/></node>
				</modify></osmChange>`, cs)
			_, err := f.svc.UploadOsmChange(f.ctx, author, cs, strings.NewReader(doc))
			if e := AsError(err); e != nil && e.Kind == ErrVersionMismatch {
				f.history(2, "imported 2", "author 2b", "other 2")
				return
			}
			if err != nil {
				t.Fatalf("upload: %v", err)
			}
			err = f.closeAndMerge(author, cs)
			var conflict *storage.ConflictError
			if !errors.As(err, &conflict) {
				t.Fatalf("merge: %v; want a conflict on node 2 (the author's upload was based on the other user's v3)", err)
			}
			node2 := osmdata.Key{Type: osmdata.Node, ID: 2}
			if len(conflict.Conflicts) != 1 || conflict.Conflicts[0].Element != node2 || conflict.Conflicts[0].Kind != storage.ConflictBaseMoved {
				t.Errorf("conflicts %+v; want one, base moved on node 2", conflict.Conflicts)
			}
			f.history(2, "imported 2", "author 2b", "other 2")
		})
	}
}

// TestCitingVersionNeverHad (c): a version the author was never given
// and that is not the current one is OSM's 409.
func TestCitingVersionNeverHad(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f := newMergeFlow(t, b.open)
			f.firstChangeset()
			cs := f.open(author)
			for _, c := range []struct {
				id      int64
				version int
				want    string
			}{
				{3, 5, "Version mismatch: Provided 5, server had: 2 of Node 3"},
				// Node 1's v1 is history, and the author was given v2 and
				// v3 only.
				{1, 1, "Version mismatch: Provided 1, server had: 2 of Node 1"},
			} {
				_, err := f.svc.Upload(f.ctx, author, cs, []Operation{named(c.id, cs, c.version, "never")})
				if e := AsError(err); e == nil || e.Kind != ErrVersionMismatch || e.Message != c.want {
					t.Errorf("node %d v%d: got %v, want 409 %q", c.id, c.version, err, c.want)
				}
			}
		})
	}
}
