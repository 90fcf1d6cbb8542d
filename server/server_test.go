package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// syncBuffer is a log sink the server's goroutines and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running is a server serving on a real listener.
type running struct {
	srv    *Server
	base   string
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, cfg Config, setup func(*Server)) *running {
	t.Helper()
	store, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := New(cfg, store, logger)
	if setup != nil {
		setup(srv)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{srv: srv, base: "http://" + ln.Addr().String(), logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

func get(t *testing.T, client *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestHealthReadinessMetricsAndLogs(t *testing.T) {
	r := start(t, Config{}, nil)
	client := &http.Client{}

	if resp, body := get(t, client, r.base+"/healthz"); resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, client, r.base+"/readyz"); resp.StatusCode != 200 || body != "ready\n" {
		t.Errorf("/readyz: %d %q", resp.StatusCode, body)
	}
	// The OSM API is on the same mux.
	if resp, _ := get(t, client, r.base+"/api/0.6/node/1"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("node 1 of an empty dataset: %d, want 404", resp.StatusCode)
	}
	if resp, _ := get(t, client, r.base+"/api/0.6/map?bbox=0,0,0.1,0.1"); resp.StatusCode != http.StatusOK {
		t.Errorf("map of an empty dataset: %d, want 200", resp.StatusCode)
	}
	get(t, client, r.base+"/no/such/page")

	resp, metrics := get(t, client, r.base+"/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`geocommuns_http_requests_total{code="404",route="GET /api/0.6/node/{id}"} 1`,
		`geocommuns_http_requests_total{code="200",route="GET /api/0.6/map"} 1`,
		`geocommuns_http_requests_total{code="404",route="unmatched"} 1`,
		`geocommuns_http_request_duration_seconds_count{code="200",route="GET /api/0.6/map"} 1`,
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if logs := r.logs.String(); !strings.Contains(logs, `route="GET /api/0.6/node/{id}" status=404`) {
		t.Errorf("no request log line for node 1:\n%s", logs)
	}
}

func TestReadyzWhenTheStoreIsGone(t *testing.T) {
	var srv *Server
	r := start(t, Config{}, func(s *Server) { srv = s })
	srv.store.Close()
	if resp, _ := get(t, &http.Client{}, r.base+"/readyz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz with a closed store: %d, want 503", resp.StatusCode)
	}
	if resp, _ := get(t, &http.Client{}, r.base+"/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz with a closed store: %d, want 200 (the process is alive)", resp.StatusCode)
	}
}

// TestH2C speaks HTTP/2 without TLS (prior knowledge), as Connect and
// gRPC clients do, to the same listener that serves HTTP/1.1.
func TestH2C(t *testing.T) {
	r := start(t, Config{}, nil)
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	h2 := &http.Client{Transport: tr}
	resp, body := get(t, h2, r.base+"/healthz")
	if resp.ProtoMajor != 2 || body != "ok\n" {
		t.Errorf("h2c: %s %q", resp.Proto, body)
	}
	resp, _ = get(t, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{}}}, r.base+"/healthz")
	if resp.ProtoMajor != 1 {
		t.Errorf("HTTP/1.1 client answered in %s", resp.Proto)
	}
}

// TestRequestDeadline checks that a handler's context carries the
// configured deadline, and that the deadline ends a slow handler's work.
func TestRequestDeadline(t *testing.T) {
	const timeout = 200 * time.Millisecond
	type seen struct {
		left time.Duration
		err  error
	}
	got := make(chan seen, 1)
	r := start(t, Config{RequestTimeout: timeout}, func(s *Server) {
		s.Mux().HandleFunc("GET /test/slow", func(w http.ResponseWriter, req *http.Request) {
			deadline, ok := req.Context().Deadline()
			if !ok {
				got <- seen{left: -1}
				return
			}
			left := time.Until(deadline)
			<-req.Context().Done()
			got <- seen{left, req.Context().Err()}
		})
	})
	// The reply itself is cut by the write deadline; only the handler's
	// view matters here.
	if resp, err := http.Get(r.base + "/test/slow"); err == nil {
		resp.Body.Close()
	}
	s := <-got
	if s.left <= 0 || s.left > timeout {
		t.Errorf("handler saw %v left before its deadline, want within (0, %v]", s.left, timeout)
	}
	if !errors.Is(s.err, context.DeadlineExceeded) {
		t.Errorf("slow handler's context ended with %v, want DeadlineExceeded", s.err)
	}
}

// TestGracefulShutdown cancels the server while a request is in flight:
// the request completes, Serve returns nil, and the port stops answering.
func TestGracefulShutdown(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	r := start(t, Config{}, func(s *Server) {
		s.Mux().HandleFunc("GET /test/hold", func(w http.ResponseWriter, req *http.Request) {
			close(entered)
			<-release
			io.WriteString(w, "finished")
		})
	})
	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(r.base + "/test/hold")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{resp.StatusCode, string(b), err}
	}()
	<-entered
	r.cancel()
	// Shutdown closes the listener first; new connections are refused
	// while the held request still runs.
	waitRefused(t, r.base)
	close(release)
	res := <-got
	if res.err != nil || res.status != 200 || res.body != "finished" {
		t.Errorf("in-flight request during shutdown: %d %q %v", res.status, res.body, res.err)
	}
	if err := <-r.done; err != nil {
		t.Errorf("Serve after cancel: %v, want nil", err)
	}
	r.done <- nil // for the cleanup
	if !strings.Contains(r.logs.String(), "msg=stopped") {
		t.Errorf("no 'stopped' log line:\n%s", r.logs)
	}
}

func waitRefused(t *testing.T, base string) {
	t.Helper()
	addr := strings.TrimPrefix(base, "http://")
	for range 200 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s still accepts connections after cancel", addr)
}
