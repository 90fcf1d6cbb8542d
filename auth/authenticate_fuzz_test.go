package auth_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// FuzzAuthorizationHeader reads any Authorization header as the API does
// (HTTP Basic, API tokens, Bearer tokens without an OAuth server) over
// a real SQLite store holding one account: no panic; the store never
// fails; an answer is anonymous, a rejection, or the account, and the
// account only for a header that carries its password or its token.
// {BASIC} and {TOKEN} in the input stand for ana's real credentials,
// which the fuzzer could not guess.
func FuzzAuthorizationHeader(f *testing.F) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, f.TempDir())
	if err != nil {
		f.Fatalf("open sqlite: %v", err)
	}
	f.Cleanup(func() { store.Close() })
	const password = "pässword: with colon"
	_, token, err := auth.AddUser(ctx, store, auth.NewUser{Name: "ana", Role: auth.RoleContributor, Password: password})
	if err != nil {
		f.Fatal(err)
	}
	basic := base64.StdEncoding.EncodeToString([]byte("ana:" + password))
	authn := &auth.Authenticator{Accounts: store}
	for _, h := range []string{
		"Basic {BASIC}", "basic {BASIC}", "Basic {BASIC}trailing", "Bearer {TOKEN}", "Bearer {TOKEN}x", "Bearer  {TOKEN}",
		"Basic " + base64.StdEncoding.EncodeToString([]byte("ana:wrong")), "Basic " + base64.StdEncoding.EncodeToString([]byte(":")),
		"Basic !!!", "Bearer gc_", "Bearer abc.def", "OAuth oauth_token=1", "",
	} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, header string) {
		header = strings.NewReplacer("{BASIC}", basic, "{TOKEN}", token).Replace(header)
		r := &http.Request{Header: http.Header{"Authorization": {header}}}
		id, err := authn.Authenticate(ctx, r)
		switch {
		case err != nil && !auth.IsRejection(err):
			t.Fatalf("%q: the store failed: %v", header, err)
		case err != nil && id != nil:
			t.Fatalf("%q: rejected (%v) and yet %v", header, err, id)
		case id == nil:
		case id.DisplayName != "ana":
			t.Fatalf("%q: identity %+v", header, id)
		case !strings.Contains(header, token) && !strings.Contains(header, basic[:len(basic)-4]):
			t.Fatalf("%q: ana without her password or token", header)
		}
	})
}
