package server_test

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/server/servetest"
)

// TestCORSOffUnlessConfigured: by default no answer carries a CORS
// header, so that no page of another origin reads what the API answers
// its visitor's browser; `serve --cors-origins` allows the origins it
// lists (or all, '*'), with cgimap's answers to them.
func TestCORSOffUnlessConfigured(t *testing.T) {
	binary := servetest.Binary(t)
	const editor, evil = "https://ideditor.example", "https://evil.example"
	type probe struct {
		method, path, origin string
		preflight            bool
	}
	// allowOrigin is the Access-Control-Allow-Origin each probe gets, and
	// the status of a preflight.
	call := func(t *testing.T, base string, p probe) (allow string, status int) {
		t.Helper()
		req, err := http.NewRequest(p.method, base+p.path, strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", p.origin)
		if p.preflight {
			req.Header.Set("Access-Control-Request-Method", "PUT")
			req.Header.Set("Access-Control-Request-Headers", "authorization")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for k := range resp.Header {
			if strings.HasPrefix(k, "Access-Control-") && resp.Header.Get("Access-Control-Allow-Origin") == "" {
				t.Errorf("%s %s from %s: %s without Access-Control-Allow-Origin", p.method, p.path, p.origin, k)
			}
		}
		return resp.Header.Get("Access-Control-Allow-Origin"), resp.StatusCode
	}
	read := func(origin string) probe { return probe{http.MethodGet, "/api/0.6/capabilities", origin, false} }
	preflight := func(origin string) probe { return probe{http.MethodOptions, "/api/0.6/changeset/create", origin, true} }
	token := func(origin string) probe { return probe{http.MethodOptions, "/oauth2/token", origin, true} }

	for _, c := range []struct {
		name  string
		flags []string
		// want is the Access-Control-Allow-Origin per probe; "" none.
		want map[probe]string
	}{
		{"default", nil, map[probe]string{
			read(editor): "", read(evil): "", preflight(editor): "", token(editor): "",
		}},
		{"one origin", []string{"--cors-origins", editor}, map[probe]string{
			read(editor): editor, read(evil): "", preflight(editor): editor, preflight(evil): "", token(editor): "*", token(evil): "",
		}},
		{"any origin", []string{"--cors-origins", "*"}, map[probe]string{
			read(editor): editor, read(evil): evil, preflight(evil): evil, token(evil): "*",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := servetest.Start(t, binary, append([]string{"--data", filepath.Join(t.TempDir(), "data")}, c.flags...)...)
			for pr, want := range c.want {
				allow, status := call(t, p.Base, pr)
				if allow != want {
					t.Errorf("%s %s from %s: Access-Control-Allow-Origin %q, want %q", pr.method, pr.path, pr.origin, allow, want)
				}
				// A refused preflight is an OPTIONS like another: 405 on
				// the API.
				if pr.preflight && pr.path != "/oauth2/token" {
					wantStatus := http.StatusOK
					if want == "" {
						wantStatus = http.StatusMethodNotAllowed
					}
					if status != wantStatus {
						t.Errorf("preflight of %s from %s: %d, want %d", pr.path, pr.origin, status, wantStatus)
					}
				}
			}
		})
	}
	// A malformed origin is refused rather than allowing nothing silently.
	out, err := exec.Command(binary, "serve", "--data", filepath.Join(t.TempDir(), "data"), "--cors-origins", "ideditor.example").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--cors-origins") {
		t.Errorf("serve --cors-origins ideditor.example: %v %s, want a refusal naming the flag", err, out)
	}
}
