package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
)

// TestReadOnly: a read-only server answers reads, refuses every OSM API
// write with 405 and the methods it allows, and mounts neither the
// Connect editing procedures, the replication feed nor Subscribe.
func TestReadOnly(t *testing.T) {
	r := start(t, Config{ReadOnly: true}, nil)
	client := &http.Client{}
	if resp, body := get(t, client, r.base+"/api/0.6/map?bbox=1,42,1.1,42.1"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "<osm") {
		t.Errorf("map call: %d %s", resp.StatusCode, body)
	}
	writes := []struct{ method, path string }{
		{http.MethodPut, "/api/0.6/changeset/create"},
		{http.MethodPost, "/api/0.6/changeset/1/upload"},
		{http.MethodPut, "/api/0.6/changeset/1/close"},
		{http.MethodPut, "/api/0.6/node/1"},
		{http.MethodDelete, "/api/0.6/node/1"},
	}
	for _, w := range writes {
		resp := sendRequest(t, client, w.method, r.base+w.path, "<osm/>")
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
			t.Errorf("%s %s: %d, Allow %q; want 405 with GET, HEAD, OPTIONS", w.method, w.path, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	absent := []struct{ method, path string }{
		{http.MethodPost, geocommunsv1connect.ChangesetServiceCreateChangesetProcedure},
		{http.MethodPost, geocommunsv1connect.SyncServiceSubscribeProcedure},
		{http.MethodGet, "/replication/minute/state.txt"},
		{http.MethodGet, "/replication/dump/latest.osm.gz"},
	}
	for _, a := range absent {
		if resp := sendRequest(t, client, a.method, r.base+a.path, "{}"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", a.method, a.path, resp.StatusCode)
		}
	}
}

func sendRequest(t *testing.T, client *http.Client, method, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
