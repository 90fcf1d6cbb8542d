package osmapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestParseCORSOrigins(t *testing.T) {
	for _, c := range []struct {
		list    string
		allowed []string
		refused []string
	}{
		{"", nil, []string{"https://ideditor.example", "null"}},
		{"*", []string{"https://ideditor.example", "http://localhost:8111"}, nil},
		{"https://ideditor.example, http://LOCALHOST:8111/", []string{"https://ideditor.example", "http://localhost:8111"},
			[]string{"http://ideditor.example", "https://ideditor.example:444", "https://evil.example", "null"}},
	} {
		p, err := ParseCORSOrigins(c.list)
		if err != nil {
			t.Fatalf("ParseCORSOrigins(%q): %v", c.list, err)
		}
		for _, o := range c.allowed {
			if !p.Allows(o) {
				t.Errorf("%q does not allow %s", c.list, o)
			}
		}
		for _, o := range append(c.refused, "") {
			if p.Allows(o) {
				t.Errorf("%q allows %q", c.list, o)
			}
		}
	}
	for _, bad := range []string{"ideditor.example", "https://a.example/path", "https://a.example,*", "ftp://a.example", "https://user@a.example"} {
		if _, err := ParseCORSOrigins(bad); err == nil {
			t.Errorf("ParseCORSOrigins(%q) accepted it", bad)
		}
	}
}

// Without a policy (serve without --cors-origins) no reply says anything
// of CORS, whatever the Origin, and a preflight is an OPTIONS request
// like another: 405.
func TestCORSOffByDefault(t *testing.T) {
	mux := http.NewServeMux()
	(&API{Reader: openSQLite(t)}).Register(mux)
	for _, policy := range []func(http.Handler) http.Handler{
		func(h http.Handler) http.Handler { return h },
		CORSPolicy{}.Handler,
		mustCORS(t, "https://ideditor.example").Handler,
	} {
		srv := httptest.NewServer(policy(mux))
		for _, req := range []map[string]string{
			{"Origin": "https://evil.example"},
			{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
		} {
			method := http.MethodGet
			if req["Access-Control-Request-Method"] != "" {
				method = http.MethodOptions
			}
			resp, _ := do(t, srv, method, "/api/0.6/capabilities", req)
			for k := range resp.Header {
				if len(k) > 15 && k[:15] == "Access-Control-" {
					t.Errorf("%s with %v: %s: %s", method, req, k, resp.Header.Get(k))
				}
			}
			if method == http.MethodOptions && resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("preflight from a refused origin: %d, want 405", resp.StatusCode)
			}
		}
		srv.Close()
	}
}

func mustCORS(t *testing.T, list string) CORSPolicy {
	t.Helper()
	p, err := ParseCORSOrigins(list)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
