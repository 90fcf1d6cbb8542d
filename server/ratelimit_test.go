package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// The per-user write limit over real HTTP: a user past the burst gets
// 429 with Retry-After and cgimap's text, another user and every read go
// on meanwhile, and after Retry-After the user writes again; Connect
// writes count too and are refused resource_exhausted.
func TestWriteRateLimit(t *testing.T) {
	const burst = 3
	store, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	// One write a second: a refused user waits about a second.
	base := serveWithJobs(t, store, server.Config{WriteRate: 60, WriteBurst: burst})
	p := newReviewParty(t, store, base, map[string]auth.Role{
		"alice": auth.RoleContributor, "bob": auth.RoleContributor, "carol": auth.RoleContributor,
	})

	create := func(who string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodPut, base+"/api/0.6/changeset/create",
			strings.NewReader(`<osm><changeset><tag k="comment" v="rate limit"/></changeset></osm>`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+p.tokens[who])
		req.Header.Set("Content-Type", "text/xml")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	body := func(resp *http.Response) string {
		t.Helper()
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	var lastID string
	for i := range burst {
		resp := create("alice")
		text := body(resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("alice's create %d of a burst of %d: %d %s", i+1, burst, resp.StatusCode, text)
		}
		lastID = strings.TrimSpace(text)
	}
	resp := create("alice")
	text := body(resp)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("alice's create %d past a burst of %d: %d %s, want 429", burst+1, burst, resp.StatusCode, text)
	}
	retryAfter, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || retryAfter < 1 || retryAfter > 2 {
		t.Fatalf("Retry-After %q: want whole seconds, 1 or 2 at one write a second", resp.Header.Get("Retry-After"))
	}
	if want := editing.Golden[editing.ErrWriteRateLimited].Text; text != want || resp.Header.Get("Error") != want {
		t.Errorf("429 body %q, Error header %q; want %q", text, resp.Header.Get("Error"), want)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("429 Content-Type %q, want text/plain", ct)
	}

	// Another user is not limited by alice's writes.
	if resp := create("bob"); resp.StatusCode != http.StatusOK {
		t.Errorf("bob's create while alice is limited: %d %s", resp.StatusCode, body(resp))
	} else {
		body(resp)
	}
	// Reads are never limited, however many.
	for i := range 3 * burst {
		for _, path := range []string{"/api/0.6/changeset/" + lastID, "/api/0.6/map?bbox=0,0,0.01,0.01"} {
			if status, text := p.osm("alice", http.MethodGet, path, "", ""); status != http.StatusOK {
				t.Fatalf("alice's read %d of %s while limited: %d %s", i+1, path, status, text)
			}
		}
	}

	time.Sleep(time.Duration(retryAfter) * time.Second)
	if resp := create("alice"); resp.StatusCode != http.StatusOK {
		t.Errorf("alice's create after waiting Retry-After (%d s): %d %s", retryAfter, resp.StatusCode, body(resp))
	} else {
		body(resp)
	}

	// Connect: carol's writes count the same, and a read is not one.
	client := geocommunsv1connect.NewChangesetServiceClient(http.DefaultClient, base)
	connectCreate := func() error {
		req := connect.NewRequest(&geocommunsv1.CreateChangesetRequest{Tags: []*geocommunsv1.Tag{{Key: "comment", Value: "rate limit"}}})
		req.Header().Set("Authorization", "Bearer "+p.tokens["carol"])
		_, err := client.CreateChangeset(context.Background(), req)
		return err
	}
	for i := range burst {
		if err := connectCreate(); err != nil {
			t.Fatalf("carol's CreateChangeset %d of a burst of %d: %v", i+1, burst, err)
		}
	}
	err = connectCreate()
	if connect.CodeOf(err) != connect.CodeResourceExhausted {
		t.Fatalf("carol's CreateChangeset past the burst: %v, want resource_exhausted", err)
	}
	var cerr *connect.Error
	if errors.As(err, &cerr) && !strings.Contains(cerr.Message(), "Retry after 1 s") && !strings.Contains(cerr.Message(), "Retry after 2 s") {
		t.Errorf("resource_exhausted message %q does not say when to retry", cerr.Message())
	}
	id, _ := strconv.ParseInt(lastID, 10, 64)
	get := connect.NewRequest(&geocommunsv1.GetChangesetRequest{ChangesetId: id})
	get.Header().Set("Authorization", "Bearer "+p.tokens["carol"])
	if _, err := client.GetChangeset(context.Background(), get); err != nil {
		t.Errorf("carol's GetChangeset while limited: %v", err)
	}
}
