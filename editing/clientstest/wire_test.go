package clientstest

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// wireRecorder stands between a client and the server and keeps every
// request and reply as it crossed the wire, unchanged, so that a test can
// see what an unmodified client really sent (a gzip body, where it put
// the parameters of a token request) without wrapping the client.
type wireRecorder struct {
	URL string

	mu        sync.Mutex
	exchanges []*wireExchange
}

type wireExchange struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
	Status                 int
	ReplyHeader            http.Header
	Reply                  []byte
}

type exchangeKey struct{}

// maxRecorded bounds what is kept of one body: the tests' bodies are
// small.
const maxRecorded = 8 << 20

func newWireRecorder(t *testing.T, target string) *wireRecorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	w := &wireRecorder{}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host
		},
		ModifyResponse: func(resp *http.Response) error {
			reply, err := io.ReadAll(io.LimitReader(resp.Body, maxRecorded))
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(reply))
			if ex, ok := resp.Request.Context().Value(exchangeKey{}).(*wireExchange); ok {
				ex.Status, ex.ReplyHeader, ex.Reply = resp.StatusCode, resp.Header.Clone(), reply
			}
			return err
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRecorded))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		ex := &wireExchange{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, ex)))
		w.mu.Lock()
		w.exchanges = append(w.exchanges, ex)
		w.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	w.URL = srv.URL
	return w
}

// find returns the exchanges of method on path (nil if none).
func (w *wireRecorder) find(method string, path func(string) bool) []*wireExchange {
	w.mu.Lock()
	defer w.mu.Unlock()
	var found []*wireExchange
	for _, ex := range w.exchanges {
		if ex.Method == method && path(ex.Path) {
			found = append(found, ex)
		}
	}
	return found
}

func (w *wireRecorder) all() []*wireExchange {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]*wireExchange(nil), w.exchanges...)
}

// replyText is the reply's body as the client read it, inflated if the
// server compressed it.
func (ex *wireExchange) replyText() string {
	if ex.ReplyHeader.Get("Content-Encoding") == "gzip" {
		if zr, err := gzip.NewReader(bytes.NewReader(ex.Reply)); err == nil {
			if b, err := io.ReadAll(zr); err == nil {
				return string(b)
			}
		}
	}
	return string(ex.Reply)
}
