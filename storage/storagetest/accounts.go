package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// RunAccounts runs the conformance tests of storage.Accounts: accounts
// beside imported users, API tokens, OAuth clients and grants, server
// secrets and web sessions. A backend's test file calls it as it calls
// Run:
//
//	func TestAccounts(t *testing.T) { storagetest.RunAccounts(t, open) }
func RunAccounts(t *testing.T, open Opener) {
	t.Helper()
	t.Run("CreateAccount", func(t *testing.T) { t.Parallel(); testCreateAccount(t, open) })
	t.Run("AccountsBesideImportedUsers", func(t *testing.T) { t.Parallel(); testAccountsBesideImport(t, open) })
	t.Run("APITokens", func(t *testing.T) { t.Parallel(); testAPITokens(t, open) })
	t.Run("OAuthClients", func(t *testing.T) { t.Parallel(); testOAuthClients(t, open) })
	t.Run("OAuthGrants", func(t *testing.T) { t.Parallel(); testOAuthGrants(t, open) })
	t.Run("ServerSecret", func(t *testing.T) { t.Parallel(); testServerSecret(t, open) })
	t.Run("WebSessions", func(t *testing.T) { t.Parallel(); testWebSessions(t, open) })
	t.Run("PurgeExpiredSignIns", func(t *testing.T) { t.Parallel(); testPurgeExpiredSignIns(t, open) })
}

// closeTo says whether got is within a minute of want: the store sets
// creation times from its own clock.
func closeTo(got, want time.Time) bool {
	d := got.Sub(want)
	return d > -time.Minute && d < time.Minute
}

func mustCreateAccount(t *testing.T, s storage.Accounts, name, role string) storage.Account {
	t.Helper()
	a, err := s.CreateAccount(context.Background(), storage.NewAccount{DisplayName: name, Role: role})
	if err != nil {
		t.Fatalf("create account %q: %v", name, err)
	}
	return a
}

func testCreateAccount(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	before := mustNextIDs(t, s)

	want := storage.NewAccount{DisplayName: "Élodie Reviewer", Role: "reviewer", Trusted: true,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"}
	a, err := s.CreateAccount(ctx, want)
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	if a.ID < before.User {
		t.Errorf("account id %d, want one from the user sequence (next was %d)", a.ID, before.User)
	}
	if got := mustNextIDs(t, s).User; got <= a.ID {
		t.Errorf("next user id %d after creating account %d: the sequence did not advance", got, a.ID)
	}
	if a.DisplayName != want.DisplayName || a.Role != want.Role || !a.Trusted || a.PasswordHash != want.PasswordHash {
		t.Errorf("created %+v, want the fields of %+v", a, want)
	}
	if !closeTo(a.CreatedAt, time.Now()) || a.CreatedAt.Location() != time.UTC {
		t.Errorf("created at %v, want now in UTC", a.CreatedAt)
	}

	byID, err := s.Account(ctx, a.ID)
	if err != nil {
		t.Fatalf("account %d: %v", a.ID, err)
	}
	if diff := cmp.Diff(a, byID); diff != "" {
		t.Errorf("Account(%d) differs from what CreateAccount returned (-created +read):\n%s", a.ID, diff)
	}
	// Sign-in names are looked up up to case, beyond ASCII too.
	for _, name := range []string{"Élodie Reviewer", "élodie reviewer", "ÉLODIE REVIEWER"} {
		got, err := s.AccountByName(ctx, name)
		if err != nil {
			t.Errorf("AccountByName(%q): %v", name, err)
			continue
		}
		if got.ID != a.ID {
			t.Errorf("AccountByName(%q) = account %d, want %d", name, got.ID, a.ID)
		}
	}
	for _, name := range []string{"Élodie", "Élodie Reviewer ", "elodie reviewer"} {
		if _, err := s.AccountByName(ctx, name); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("AccountByName(%q) = %v, want ErrNotFound", name, err)
		}
	}
	if _, err := s.Account(ctx, a.ID+1000); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Account of an unknown id = %v, want ErrNotFound", err)
	}

	// One account per name up to case.
	for _, name := range []string{"Élodie Reviewer", "ÉLODIE reviewer"} {
		_, err := s.CreateAccount(ctx, storage.NewAccount{DisplayName: name, Role: "contributor"})
		if !errors.Is(err, storage.ErrNameTaken) {
			t.Errorf("second account named %q: %v, want ErrNameTaken", name, err)
		}
	}
	// Without a password an account exists but cannot sign in with one.
	b := mustCreateAccount(t, s, "bob", "contributor")
	if b.PasswordHash != "" || b.Trusted || b.ID == a.ID {
		t.Errorf("second account %+v: want no password, not trusted, a new id", b)
	}
}

func testAccountsBesideImport(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	n := newNode(1, 1, deg(45), deg(5))
	n.UID, n.User = 4242, "Imported Mapper"
	w := newWay(2, 1, []int64{1})
	w.UID, w.User, w.Changeset = 4242, "Imported Mapper", 1002
	mustImport(t, s, []osmdata.Element{n, w})

	// An imported contributor is a user but no account.
	if _, err := s.Account(ctx, 4242); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Account of an imported user = %v, want ErrNotFound", err)
	}
	if _, err := s.AccountByName(ctx, "Imported Mapper"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("AccountByName of an imported user = %v, want ErrNotFound", err)
	}
	if _, err := s.CreateAccount(ctx, storage.NewAccount{DisplayName: "Imported Mapper", Role: "contributor"}); !errors.Is(err, storage.ErrNameTaken) {
		t.Errorf("an account with an imported user's name: %v, want ErrNameTaken", err)
	}
	a := mustCreateAccount(t, s, "Newcomer", "contributor")
	if a.ID <= 4242 {
		t.Errorf("account id %d, want above the largest imported uid 4242", a.ID)
	}
	count, err := s.ChangesetCount(ctx, 4242)
	if err != nil {
		t.Fatal(err)
	}
	if count != 2 {
		t.Errorf("ChangesetCount of the imported user = %d, want 2", count)
	}
	if count, err := s.ChangesetCount(ctx, a.ID); err != nil || count != 0 {
		t.Errorf("ChangesetCount of the new account = %d, %v; want 0", count, err)
	}
}

func tokenHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func testAPITokens(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	a := mustCreateAccount(t, s, "alice", "contributor")

	hash := tokenHash("first token")
	tok, err := s.CreateAPIToken(ctx, a.ID, hash)
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	if tok.UserID != a.ID || !bytes.Equal(tok.Hash, hash) || !tok.RevokedAt.IsZero() || !closeTo(tok.CreatedAt, time.Now()) || !tok.ExpiresAt.IsZero() {
		t.Errorf("created token %+v: want user %d, the hash, not revoked, created now, no expiry", tok, a.ID)
	}
	// An expiring token keeps its expiry in whole seconds.
	expires := time.Now().Add(90*time.Minute + 700*time.Millisecond)
	second, err := s.CreateAPITokenUntil(ctx, a.ID, tokenHash("second token"), expires)
	if err != nil {
		t.Fatalf("create second token: %v", err)
	}
	if second.ID == tok.ID {
		t.Errorf("two tokens share id %d", tok.ID)
	}
	if want := expires.UTC().Truncate(time.Second); !second.ExpiresAt.Equal(want) {
		t.Errorf("token created to expire at %v expires at %v", want, second.ExpiresAt)
	}
	if got, err := s.APIToken(ctx, tokenHash("second token")); err != nil || !got.ExpiresAt.Equal(second.ExpiresAt) {
		t.Errorf("the expiring token reads back as %+v, %v; want it expiring at %v", got, err, second.ExpiresAt)
	}
	if _, err := s.CreateAPIToken(ctx, a.ID, hash); err == nil {
		t.Error("a second token with the same hash was stored")
	}

	got, err := s.APIToken(ctx, hash)
	if err != nil {
		t.Fatalf("look the token up: %v", err)
	}
	if diff := cmp.Diff(tok, got); diff != "" {
		t.Errorf("APIToken differs from CreateAPIToken (-created +read):\n%s", diff)
	}
	if _, err := s.APIToken(ctx, tokenHash("never issued")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("APIToken of an unknown hash = %v, want ErrNotFound", err)
	}

	revoked, err := s.RevokeAPIToken(ctx, tok.ID)
	if err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if revoked.RevokedAt.IsZero() || !closeTo(revoked.RevokedAt, time.Now()) {
		t.Errorf("revoked token's RevokedAt = %v, want now", revoked.RevokedAt)
	}
	if got, err := s.APIToken(ctx, hash); err != nil || !got.RevokedAt.Equal(revoked.RevokedAt) {
		t.Errorf("the revoked token reads back as %+v, %v; want it revoked at %v", got, err, revoked.RevokedAt)
	}
	if got, err := s.APIToken(ctx, second.Hash); err != nil || !got.RevokedAt.IsZero() {
		t.Errorf("revoking one token touched another: %+v, %v", got, err)
	}
	again, err := s.RevokeAPIToken(ctx, tok.ID)
	if err != nil || !again.RevokedAt.Equal(revoked.RevokedAt) {
		t.Errorf("revoking again = %+v, %v; want the first revocation time %v kept", again, err, revoked.RevokedAt)
	}
	if _, err := s.RevokeAPIToken(ctx, second.ID+1000); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("revoking an unknown id = %v, want ErrNotFound", err)
	}
}

func testOAuthClients(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	clients := []storage.OAuthClient{
		{ID: "public-id", Name: "iD", RedirectURIs: []string{"https://editor.example/land.html"},
			Scopes: []string{"read_prefs", "write_api"}},
		{ID: "confidential-id", Name: "Review bot", SecretHash: "$2a$10$abcdefghijklmnopqrstuv",
			RedirectURIs: []string{"https://bot.example/cb", "http://127.0.0.1:8111/oauth_authorization"},
			Scopes:       []string{"read_prefs"}, Confidential: true},
	}
	for _, c := range clients {
		if err := s.CreateOAuthClient(ctx, c); err != nil {
			t.Fatalf("register %s: %v", c.Name, err)
		}
	}
	for _, want := range clients {
		got, err := s.OAuthClient(ctx, want.ID)
		if err != nil {
			t.Fatalf("client %s: %v", want.ID, err)
		}
		if !closeTo(got.CreatedAt, time.Now()) {
			t.Errorf("client %s created at %v, want now", want.ID, got.CreatedAt)
		}
		want.CreatedAt = got.CreatedAt
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("client %s reads back differently (-stored +read):\n%s", want.ID, diff)
		}
	}
	if err := s.CreateOAuthClient(ctx, clients[0]); err == nil {
		t.Error("a second client with the same id was registered")
	}
	if _, err := s.OAuthClient(ctx, "unknown"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown client = %v, want ErrNotFound", err)
	}
}

func testOAuthGrants(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	a := mustCreateAccount(t, s, "alice", "contributor")
	if err := s.CreateOAuthClient(ctx, storage.OAuthClient{ID: "app", Name: "app",
		RedirectURIs: []string{"https://app.example/cb"}, Scopes: []string{"read_prefs", "write_api"}}); err != nil {
		t.Fatal(err)
	}
	requested := time.Now().UTC().Truncate(time.Second)
	grant := func(kind storage.OAuthGrantKind, sig, request string) storage.OAuthGrant {
		return storage.OAuthGrant{
			Kind: kind, Signature: sig, RequestID: request, ClientID: "app", UserID: a.ID,
			RequestedAt: requested, ExpiresAt: requested.Add(10 * time.Minute),
			Scopes: []string{"read_prefs", "write_api"}, GrantedScopes: []string{"write_api"},
			Form:    "code_challenge=abc&code_challenge_method=S256&redirect_uri=https%3A%2F%2Fapp.example%2Fcb",
			Session: []byte(`{"subject":"alice"}`),
		}
	}
	grants := []storage.OAuthGrant{
		grant(storage.GrantAuthorizationCode, "code-1", "request-1"),
		grant(storage.GrantPKCE, "code-1", "request-1"),
		grant(storage.GrantAccessToken, "access-1", "request-1"),
		grant(storage.GrantAccessToken, "access-2", "request-2"),
		grant(storage.GrantRefreshToken, "refresh-1", "request-1"),
	}
	for _, g := range grants {
		if err := s.CreateOAuthGrant(ctx, g); err != nil {
			t.Fatalf("store %s %s: %v", g.Kind, g.Signature, err)
		}
	}
	for _, want := range grants {
		got, err := s.OAuthGrant(ctx, want.Kind, want.Signature)
		if err != nil {
			t.Fatalf("%s %s: %v", want.Kind, want.Signature, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s %s reads back differently (-stored +read):\n%s", want.Kind, want.Signature, diff)
		}
	}
	if _, err := s.OAuthGrant(ctx, storage.GrantAccessToken, "code-1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a code's signature read as an access token: %v, want ErrNotFound", err)
	}

	// A code is used once, even by exchanges racing each other.
	errs := race(8, func(int) error { return s.UseOAuthGrant(ctx, storage.GrantAuthorizationCode, "code-1") })
	var won, lost int
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, storage.ErrGrantUsed):
			lost++
		default:
			t.Errorf("racing use: %v", err)
		}
	}
	if won != 1 || lost != len(errs)-1 {
		t.Errorf("of %d racing uses of one code %d won and %d saw ErrGrantUsed, want 1 and %d", len(errs), won, lost, len(errs)-1)
	}
	if g, err := s.OAuthGrant(ctx, storage.GrantAuthorizationCode, "code-1"); err != nil || !g.Used {
		t.Errorf("the used code reads back as %+v, %v; want Used", g, err)
	}
	if err := s.UseOAuthGrant(ctx, storage.GrantAuthorizationCode, "missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("using a missing code = %v, want ErrNotFound", err)
	}

	// Revoking one authorization's access tokens leaves the others.
	if err := s.RevokeOAuthGrants(ctx, storage.GrantAccessToken, "request-1"); err != nil {
		t.Fatal(err)
	}
	for sig, wantRevoked := range map[string]bool{"access-1": true, "access-2": false} {
		g, err := s.OAuthGrant(ctx, storage.GrantAccessToken, sig)
		if err != nil {
			t.Fatal(err)
		}
		if revoked := !g.RevokedAt.IsZero(); revoked != wantRevoked {
			t.Errorf("access token %s revoked = %v, want %v", sig, revoked, wantRevoked)
		}
		if wantRevoked && !closeTo(g.RevokedAt, time.Now()) {
			t.Errorf("access token %s revoked at %v, want now", sig, g.RevokedAt)
		}
	}
	if g, err := s.OAuthGrant(ctx, storage.GrantRefreshToken, "refresh-1"); err != nil || !g.RevokedAt.IsZero() {
		t.Errorf("revoking access tokens revoked the refresh token: %+v, %v", g, err)
	}

	if err := s.DeleteOAuthGrant(ctx, storage.GrantPKCE, "code-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OAuthGrant(ctx, storage.GrantPKCE, "code-1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("deleted grant = %v, want ErrNotFound", err)
	}
	if _, err := s.OAuthGrant(ctx, storage.GrantAuthorizationCode, "code-1"); err != nil {
		t.Errorf("deleting the PKCE grant of a code deleted the code: %v", err)
	}
	if err := s.DeleteOAuthGrant(ctx, storage.GrantPKCE, "code-1"); err != nil {
		t.Errorf("deleting a missing grant: %v", err)
	}
}

func testServerSecret(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	first, err := s.ServerSecret(ctx, "oauth", []byte("first candidate"))
	if err != nil {
		t.Fatal(err)
	}
	if string(first) != "first candidate" {
		t.Errorf("first ServerSecret = %q, want the candidate", first)
	}
	second, err := s.ServerSecret(ctx, "oauth", []byte("second candidate"))
	if err != nil || string(second) != "first candidate" {
		t.Errorf("second ServerSecret = %q, %v; want the first one kept", second, err)
	}
	// Processes starting together agree on one secret.
	got := make([][]byte, 8)
	errs := race(len(got), func(i int) error {
		var err error
		got[i], err = s.ServerSecret(ctx, "csrf", fmt.Appendf(nil, "candidate %d", i))
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("racing ServerSecret: %v", err)
		}
		if !bytes.Equal(got[i], got[0]) {
			t.Errorf("racing ServerSecret calls got %q and %q", got[0], got[i])
		}
	}
}

func testWebSessions(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	a := mustCreateAccount(t, s, "alice", "contributor")
	expires := time.Now().UTC().Add(12 * time.Hour).Truncate(time.Second)
	hash := tokenHash("cookie")
	if err := s.CreateWebSession(ctx, storage.WebSession{Hash: hash, UserID: a.ID, ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
	got, err := s.WebSession(ctx, hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != a.ID || !got.ExpiresAt.Equal(expires) || !bytes.Equal(got.Hash, hash) || !closeTo(got.CreatedAt, time.Now()) {
		t.Errorf("web session reads back as %+v; want user %d, expiring %v, created now", got, a.ID, expires)
	}
	if _, err := s.WebSession(ctx, tokenHash("other cookie")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown web session = %v, want ErrNotFound", err)
	}
	if err := s.DeleteWebSession(ctx, hash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WebSession(ctx, hash); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("deleted web session = %v, want ErrNotFound", err)
	}
	if err := s.DeleteWebSession(ctx, hash); err != nil {
		t.Errorf("deleting a missing web session: %v", err)
	}
}
