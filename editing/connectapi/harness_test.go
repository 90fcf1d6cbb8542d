package connectapi_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"

	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// The tests run the real server (server.New, its mux and middleware) on
// a loopback listener against both backends: SQLite always, PostgreSQL
// when GEOCOMMUNS_TEST_POSTGRES names a server.

type backend struct {
	name string
	open func(t *testing.T) storage.Store
}

var backends = []backend{
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
}

func openSQLite(t *testing.T) storage.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T) storage.Store {
	t.Helper()
	return pgtest.Open(t, pgtest.Config(t))
}

// importFile imports one of paulmach/osm's real test files.
func importFile(t *testing.T, s storage.Store, rel string) {
	t.Helper()
	dir, err := osmfile.ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	f, err := osmfile.Open(filepath.Join(dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := s.Import(context.Background(), f); err != nil {
		t.Fatalf("import %s: %v", rel, err)
	}
}

// serve runs the real server over store until the test ends and returns
// its base URL.
func serve(t *testing.T, store storage.Store, cfg server.Config) string {
	t.Helper()
	srv := server.New(cfg, store, slog.New(slog.NewTextHandler(&testLog{t: t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// testLog shows the server's warnings and errors in the test's output.
type testLog struct {
	mu sync.Mutex
	t  *testing.T
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// protocolCheck fails the test when a response came over another HTTP
// version than the client is meant to speak, so that "over h2c" is a
// fact rather than a hope.
type protocolCheck struct {
	t     *testing.T
	major int
	next  http.RoundTripper
}

func (p *protocolCheck) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := p.next.RoundTrip(r)
	if err == nil && resp.ProtoMajor != p.major {
		p.t.Errorf("%s answered over %s, want HTTP/%d", r.URL.Path, resp.Proto, p.major)
	}
	return resp, err
}

// transport is one way a client reaches the server.
type transport struct {
	name string
	// opts choose the RPC protocol (Connect by default).
	opts []connect.ClientOption
	http func(t *testing.T) *http.Client
}

// transports: a Connect client over HTTP/1.1, and a gRPC client over
// unencrypted HTTP/2 with prior knowledge, which is how gRPC tools reach
// a server without TLS.
var transports = []transport{
	{"connect-http1", nil, func(t *testing.T) *http.Client {
		tr := &http.Transport{Protocols: new(http.Protocols)}
		tr.Protocols.SetHTTP1(true)
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: &protocolCheck{t: t, major: 1, next: tr}}
	}},
	{"grpc-h2c", []connect.ClientOption{connect.WithGRPC()}, func(t *testing.T) *http.Client {
		tr := &http.Transport{Protocols: new(http.Protocols)}
		tr.Protocols.SetUnencryptedHTTP2(true)
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: &protocolCheck{t: t, major: 2, next: tr}}
	}},
}

func (tr transport) mapClient(t *testing.T, base string, opts ...connect.ClientOption) geocommunsv1connect.MapServiceClient {
	return geocommunsv1connect.NewMapServiceClient(tr.http(t), base, append(append([]connect.ClientOption{}, tr.opts...), opts...)...)
}

func (tr transport) changesetClient(t *testing.T, base string, opts ...connect.ClientOption) geocommunsv1connect.ChangesetServiceClient {
	return geocommunsv1connect.NewChangesetServiceClient(tr.http(t), base, append(append([]connect.ClientOption{}, tr.opts...), opts...)...)
}
