package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// openDatasetStore opens, creating it if needed, the store a dataset's
// flags name, as the binary would.
func openDatasetStore(t *testing.T, ds dataset) storage.Store {
	t.Helper()
	ctx := t.Context()
	flags := map[string]string{}
	for i := 0; i+1 < len(ds.flags); i += 2 {
		flags[ds.flags[i]] = ds.flags[i+1]
	}
	var (
		st  storage.Store
		err error
	)
	if url, ok := flags["--postgres"]; ok {
		st, err = postgres.Open(ctx, postgres.Config{URL: url, Schema: flags["--schema"]})
	} else {
		st, err = sqlite.Open(ctx, flags["--data"])
	}
	if err != nil {
		t.Fatalf("open the %s dataset: %v", ds.name, err)
	}
	return st
}

// TestServePurgesEndedSignInsOnStart leaves sign-in state behind as a
// server running for days would (an editor's used code, tokens and a web
// session expired two days ago, others an hour ago or still live), then
// starts `geocommuns serve`: at once, without waiting for its hourly
// round, it deletes what ended over a day ago, says so in its log, and
// keeps the rest.
func TestServePurgesEndedSignInsOnStart(t *testing.T) {
	for _, backend := range backendNames(t) {
		t.Run(backend, func(t *testing.T) {
			ds := newDataset(t, backend)
			ctx := context.Background()
			st := openDatasetStore(t, ds)
			alice, err := st.CreateAccount(ctx, storage.NewAccount{DisplayName: "alice", Role: "contributor"})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.CreateOAuthClient(ctx, storage.OAuthClient{ID: "editor", Name: "editor",
				RedirectURIs: []string{"https://editor.example/cb"}, Scopes: []string{"write_api"}}); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC().Truncate(time.Second)
			const day = 24 * time.Hour
			grant := func(kind storage.OAuthGrantKind, sig string, expires time.Duration) {
				t.Helper()
				if err := st.CreateOAuthGrant(ctx, storage.OAuthGrant{Kind: kind, Signature: sig, RequestID: "request-" + sig,
					ClientID: "editor", UserID: alice.ID, RequestedAt: now.Add(expires - 10*time.Minute), ExpiresAt: now.Add(expires),
					Scopes: []string{"write_api"}, GrantedScopes: []string{"write_api"}, Session: []byte(`{}`)}); err != nil {
					t.Fatal(err)
				}
			}
			grant(storage.GrantAuthorizationCode, "code-two-days-ago", -2*day)
			if err := st.UseOAuthGrant(ctx, storage.GrantAuthorizationCode, "code-two-days-ago"); err != nil {
				t.Fatal(err)
			}
			grant(storage.GrantAccessToken, "access-expired-two-days-ago", -2*day)
			grant(storage.GrantAccessToken, "access-expired-an-hour-ago", -time.Hour)
			grant(storage.GrantAccessToken, "access-live", 365*day)
			for name, expires := range map[string]time.Duration{"session-expired-two-days-ago": -2 * day, "session-live": 12 * time.Hour} {
				if err := st.CreateWebSession(ctx, storage.WebSession{Hash: []byte(name), UserID: alice.ID, ExpiresAt: now.Add(expires)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}

			s := startServe(t, ds.flags...)
			const purgedLine = "msg=\"purged ended sign-in state\" oauth_grants=2 web_sessions=1"
			deadline := time.Now().Add(time.Minute)
			for !strings.Contains(s.log(), purgedLine) {
				if time.Now().After(deadline) {
					t.Fatalf("serve did not log %q within a minute of starting:\n%s", purgedLine, s.log())
				}
				time.Sleep(50 * time.Millisecond)
			}

			st = openDatasetStore(t, ds)
			defer st.Close()
			for _, k := range []struct {
				kind storage.OAuthGrantKind
				sig  string
				kept bool
			}{
				{storage.GrantAuthorizationCode, "code-two-days-ago", false},
				{storage.GrantAccessToken, "access-expired-two-days-ago", false},
				{storage.GrantAccessToken, "access-expired-an-hour-ago", true},
				{storage.GrantAccessToken, "access-live", true},
			} {
				_, err := st.OAuthGrant(ctx, k.kind, k.sig)
				if k.kept && err != nil {
					t.Errorf("%s %s after serve started: %v, want it kept", k.kind, k.sig, err)
				}
				if !k.kept && !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("%s %s after serve started: %v, want it purged (ErrNotFound)", k.kind, k.sig, err)
				}
			}
			if _, err := st.WebSession(ctx, []byte("session-expired-two-days-ago")); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("the web session expired two days ago: %v, want it purged (ErrNotFound)", err)
			}
			if _, err := st.WebSession(ctx, []byte("session-live")); err != nil {
				t.Errorf("the live web session: %v, want it kept", err)
			}
			if code := s.stop(t); code != 0 {
				t.Errorf("serve exited %d after SIGTERM\n%s", code, s.log())
			}
		})
	}
}
