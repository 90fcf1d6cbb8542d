package subscribe_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
	"github.com/geocommuns/geocommuns/storage/sqlite"
	"github.com/geocommuns/geocommuns/sync/subscribe"
)

var backends = []struct {
	name string
	open func(t testing.TB) storage.Store
}{
	{"sqlite", func(t testing.TB) storage.Store {
		s, err := sqlite.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t testing.TB) storage.Store { return pgtest.Open(t, pgtest.Config(t)) }},
}

func forEachBackend(t *testing.T, test func(t *testing.T, w *world)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			test(t, newWorld(t, b.open(t)))
		})
	}
}

// world is one dataset with a contributor who edits it through the
// editing service, and merges through the store.
type world struct {
	t     testing.TB
	store storage.Store
	svc   *editing.Service
	who   *auth.Identity
}

func newWorld(t testing.TB, store storage.Store) *world {
	svc, err := editing.NewService(store, editing.Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Not trusted: a serve process's merge job leaves the changesets to
	// the test, which merges them itself, so that merge_seq is known.
	acc, err := store.CreateAccount(context.Background(), storage.NewAccount{DisplayName: "mapper", Role: string(auth.RoleContributor)})
	if err != nil {
		t.Fatal(err)
	}
	who := &auth.Identity{UserID: acc.ID, DisplayName: "mapper", Role: auth.RoleContributor, Scopes: auth.AllScopes}
	return &world{t: t, store: store, svc: svc, who: who}
}

// merge uploads ops in a new changeset, closes and merges it, and
// returns the merge's outbox row and the upload's diff.
func (w *world) merge(ops ...editing.Operation) (storage.OutboxEntry, *editing.DiffResult) {
	w.t.Helper()
	ctx := context.Background()
	cs, err := w.svc.CreateChangeset(ctx, w.who, osmdata.Tags{{Key: "comment", Value: "subscribe test"}})
	if err != nil {
		w.t.Fatal(err)
	}
	for i := range ops {
		ops[i].Element.Changeset = cs.ID
	}
	res, err := w.svc.Upload(ctx, w.who, cs.ID, ops)
	if err != nil {
		w.t.Fatalf("upload: %v", err)
	}
	if _, err := w.svc.CloseChangeset(ctx, w.who, cs.ID); err != nil {
		w.t.Fatal(err)
	}
	entry, err := w.store.Merge(ctx, cs.ID)
	if err != nil {
		w.t.Fatalf("merge changeset %d: %v", cs.ID, err)
	}
	return entry, res
}

// mergeNode creates a node at lat, lon in a merge of its own.
func (w *world) mergeNode(lat, lon float64, tags ...osmdata.Tag) (seq, id int64) {
	w.t.Helper()
	e, res := w.merge(createNode(-1, lat, lon, tags...))
	return e.Seq, res.Entries[0].NewID
}

func createNode(placeholder int64, lat, lon float64, tags ...osmdata.Tag) editing.Operation {
	return editing.Operation{Action: storage.Create, Element: osmdata.Element{Type: osmdata.Node, ID: placeholder,
		Lat: osmdata.RoundCoordToFixed(lat), Lon: osmdata.RoundCoordToFixed(lon), Tags: tags}}
}

func op(action storage.Action, e osmdata.Element) editing.Operation {
	return editing.Operation{Action: action, Element: e}
}

// serve runs geocommuns' whole server (server.New) on a real listener
// and returns its base URL and a shutdown that returns Serve's error.
func (w *world) serve(cfg server.Config) (string, func() error) {
	w.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.New(cfg, w.store, nil).Serve(ctx, ln) }()
	stop := sync.OnceValue(func() error {
		cancel()
		return <-done
	})
	w.t.Cleanup(func() {
		if err := stop(); err != nil {
			w.t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), stop
}

// serveSubscribe serves the Subscribe handler alone with cfg, for the
// behaviour a server's defaults make slow to reach (batch boundaries,
// periodic markers).
func (w *world) serveSubscribe(cfg subscribe.Config) string {
	w.t.Helper()
	sub := subscribe.New(w.store.(subscribe.Source), cfg)
	mux := http.NewServeMux()
	mux.Handle(sub.Handler())
	hs := httptest.NewServer(mux)
	w.t.Cleanup(func() { sub.Shutdown(); hs.Close() })
	return hs.URL
}

// subscription is one client's stream, read in the background.
type subscription struct {
	events chan *geocommunsv1.SubscribeResponse
	done   chan error
	cancel context.CancelFunc
}

func subscribeTo(t testing.TB, url string, req *geocommunsv1.SubscribeRequest) *subscription {
	t.Helper()
	client := geocommunsv1connect.NewSyncServiceClient(http.DefaultClient, url)
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := client.Subscribe(ctx, connect.NewRequest(req))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &subscription{events: make(chan *geocommunsv1.SubscribeResponse, 10_000), done: make(chan error, 1), cancel: cancel}
	go func() {
		defer close(s.events)
		for stream.Receive() {
			s.events <- stream.Msg()
		}
		s.done <- stream.Err()
		stream.Close()
	}()
	t.Cleanup(cancel)
	return s
}

// patience bounds how long a test waits for what must come; it is a
// guard against hanging, not a speed requirement.
const patience = 60 * time.Second

// next returns the next event, failing the test if the stream ends or
// nothing comes.
func (s *subscription) next(t testing.TB) *geocommunsv1.SubscribeResponse {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatalf("stream ended: %v", <-s.done)
		}
		return ev
	case <-time.After(patience):
		t.Fatal("no event")
	}
	return nil
}

// changesUpTo reads events until the change with merge_seq last,
// returning the changes (whole merges; parts joined by the caller) and
// failing on a marker when markers are not expected.
func (s *subscription) changesUpTo(t testing.TB, last int64) []*geocommunsv1.MergedChange {
	t.Helper()
	var out []*geocommunsv1.MergedChange
	for {
		ev := s.next(t)
		c := ev.GetChange()
		if c == nil {
			t.Fatalf("unexpected event %v", ev)
		}
		out = append(out, c)
		if c.GetMergeSeq() >= last {
			return out
		}
	}
}

// connectCode is err's Connect code, failing if err is not one.
func connectCode(t testing.TB, err error) connect.Code {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("not a Connect error: %v", err)
	}
	return ce.Code()
}

// checkSeqs fails unless the changes are merges from..to, in order,
// each once.
func checkSeqs(t testing.TB, got []*geocommunsv1.MergedChange, from, to int64) {
	t.Helper()
	if len(got) != int(to-from+1) {
		t.Errorf("got %d changes, want merges %d..%d", len(got), from, to)
	}
	for i, c := range got {
		if want := from + int64(i); c.GetMergeSeq() != want {
			t.Fatalf("change %d is merge %d, want %d (seqs: %v)", i, c.GetMergeSeq(), want, seqs(got))
		}
	}
}

func seqs(cs []*geocommunsv1.MergedChange) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.GetMergeSeq()
	}
	return out
}

func tag(k string, v any) osmdata.Tag { return osmdata.Tag{Key: k, Value: fmt.Sprint(v)} }
