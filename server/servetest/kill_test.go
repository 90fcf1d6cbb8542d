package servetest_test

import (
	"net/http"
	"path/filepath"
	"testing"

	"github.com/geocommuns/geocommuns/server/servetest"
)

// TestKillEndsTheServerAtOnce: after Kill the server no longer answers,
// and the Stop of the test's cleanup neither waits nor fails.
func TestKillEndsTheServerAtOnce(t *testing.T) {
	p := servetest.Start(t, servetest.Binary(t), "--data", filepath.Join(t.TempDir(), "data"))
	requireHealthy(t, p)
	p.Kill(t)
	if resp, err := http.Get(p.Base + "/api/capabilities"); err == nil {
		resp.Body.Close()
		t.Fatalf("the killed server still answers: %s", resp.Status)
	}
	if p.Log() == "" {
		t.Error("the log of the killed server is gone")
	}
}
