package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/storage"
)

// testPurgeExpiredSignIns purges twice: with a cut-off a day ago, as
// serve does, then an hour ahead, which also reaches what was revoked
// just now. Each purge takes what ended before its cut-off and nothing
// else, and says how much it took.
func testPurgeExpiredSignIns(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	a := mustCreateAccount(t, s, "alice", "contributor")
	if err := s.CreateOAuthClient(ctx, storage.OAuthClient{ID: "app", Name: "app",
		RedirectURIs: []string{"https://app.example/cb"}, Scopes: []string{"write_api"}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	grant := func(kind storage.OAuthGrantKind, sig string, expires time.Duration) {
		t.Helper()
		g := storage.OAuthGrant{Kind: kind, Signature: sig, RequestID: "request-" + sig, ClientID: "app", UserID: a.ID,
			RequestedAt: now.Add(expires - 10*time.Minute), ExpiresAt: now.Add(expires),
			Scopes: []string{"write_api"}, GrantedScopes: []string{"write_api"}, Session: []byte(`{}`)}
		if err := s.CreateOAuthGrant(ctx, g); err != nil {
			t.Fatalf("store %s %s: %v", kind, sig, err)
		}
	}
	session := func(name string, expires time.Duration) {
		t.Helper()
		if err := s.CreateWebSession(ctx, storage.WebSession{Hash: tokenHash(name), UserID: a.ID, ExpiresAt: now.Add(expires)}); err != nil {
			t.Fatalf("store web session %s: %v", name, err)
		}
	}
	const day = 24 * time.Hour
	grant(storage.GrantAuthorizationCode, "code-of-last-week", -7*day)
	grant(storage.GrantPKCE, "code-of-last-week", -7*day)
	grant(storage.GrantAccessToken, "access-expired-two-days-ago", -2*day)
	grant(storage.GrantAccessToken, "access-expired-an-hour-ago", -time.Hour)
	// A code exchanged a minute ago: until it expires, its reuse must be
	// seen as a reuse.
	grant(storage.GrantAuthorizationCode, "code-used-just-now", 9*time.Minute)
	if err := s.UseOAuthGrant(ctx, storage.GrantAuthorizationCode, "code-used-just-now"); err != nil {
		t.Fatal(err)
	}
	grant(storage.GrantAccessToken, "access-revoked-just-now", 365*day)
	if err := s.RevokeOAuthGrants(ctx, storage.GrantAccessToken, "request-access-revoked-just-now"); err != nil {
		t.Fatal(err)
	}
	grant(storage.GrantAccessToken, "access-live", 365*day)
	grant(storage.GrantAuthorizationCode, "code-live", 12*time.Hour)
	session("session-expired-two-days-ago", -2*day)
	session("session-expired-an-hour-ago", -time.Hour)
	session("session-live", 12*time.Hour)

	type grantKey struct {
		kind storage.OAuthGrantKind
		sig  string
	}
	check := func(step string, goneGrants, keptGrants []grantKey, goneSessions, keptSessions []string) {
		t.Helper()
		for _, k := range goneGrants {
			if _, err := s.OAuthGrant(ctx, k.kind, k.sig); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s: %s %s reads back with %v, want ErrNotFound", step, k.kind, k.sig, err)
			}
		}
		for _, k := range keptGrants {
			if g, err := s.OAuthGrant(ctx, k.kind, k.sig); err != nil || g.Signature != k.sig {
				t.Errorf("%s: %s %s reads back as %+v, %v; want it kept", step, k.kind, k.sig, g, err)
			}
		}
		for _, name := range goneSessions {
			if _, err := s.WebSession(ctx, tokenHash(name)); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("%s: web session %s reads back with %v, want ErrNotFound", step, name, err)
			}
		}
		for _, name := range keptSessions {
			if _, err := s.WebSession(ctx, tokenHash(name)); err != nil {
				t.Errorf("%s: web session %s: %v, want it kept", step, name, err)
			}
		}
	}
	purge := func(step string, before time.Time, want storage.PurgedSignIns) {
		t.Helper()
		got, err := s.PurgeExpiredSignIns(ctx, before)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if got != want {
			t.Errorf("%s purged %+v, want %+v", step, got, want)
		}
	}

	purge("the purge of what ended a day ago", now.Add(-day), storage.PurgedSignIns{OAuthGrants: 3, WebSessions: 1})
	check("after the purge of what ended a day ago",
		[]grantKey{
			{storage.GrantAuthorizationCode, "code-of-last-week"},
			{storage.GrantPKCE, "code-of-last-week"},
			{storage.GrantAccessToken, "access-expired-two-days-ago"},
		},
		[]grantKey{
			{storage.GrantAccessToken, "access-expired-an-hour-ago"},
			{storage.GrantAuthorizationCode, "code-used-just-now"},
			{storage.GrantAccessToken, "access-revoked-just-now"},
			{storage.GrantAccessToken, "access-live"},
			{storage.GrantAuthorizationCode, "code-live"},
		},
		[]string{"session-expired-two-days-ago"},
		[]string{"session-expired-an-hour-ago", "session-live"})
	if g, err := s.OAuthGrant(ctx, storage.GrantAuthorizationCode, "code-used-just-now"); err != nil || !g.Used {
		t.Errorf("the used code reads back as %+v, %v; want it still used", g, err)
	}
	if err := s.UseOAuthGrant(ctx, storage.GrantAuthorizationCode, "code-used-just-now"); !errors.Is(err, storage.ErrGrantUsed) {
		t.Errorf("reusing the code after the purge = %v, want ErrGrantUsed", err)
	}

	purge("the same purge again", now.Add(-day), storage.PurgedSignIns{})

	purge("the purge of what ends within the hour", now.Add(time.Hour), storage.PurgedSignIns{OAuthGrants: 3, WebSessions: 1})
	check("after the purge of what ends within the hour",
		[]grantKey{
			{storage.GrantAccessToken, "access-expired-an-hour-ago"},
			{storage.GrantAuthorizationCode, "code-used-just-now"},
			{storage.GrantAccessToken, "access-revoked-just-now"},
		},
		[]grantKey{
			{storage.GrantAccessToken, "access-live"},
			{storage.GrantAuthorizationCode, "code-live"},
		},
		[]string{"session-expired-an-hour-ago"},
		[]string{"session-live"})
}
