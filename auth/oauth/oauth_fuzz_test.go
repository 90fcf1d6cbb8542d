package oauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/auth/oauth"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// oauthFuzz is the authorization server of FuzzOAuthRequests: the real
// handlers over a real SQLite store, a public client (as iD and JOSM
// are) and a browser signed in as its user.
type oauthFuzz struct {
	srv       *httptest.Server
	browser   *http.Client // signed in: carries the session and CSRF cookies
	stranger  *http.Client // no cookies
	clientID  string
	redirect  string
	csrf      string
	verifier  string
	challenge string
}

// Placeholders a fuzzed query or body may hold, replaced before sending:
// the fuzzer cannot guess a client id, a CSRF token or a fresh code, and
// without them it would never reach the paths that issue codes and
// tokens.
const (
	phClient    = "{CLIENT}"
	phRedirect  = "{REDIRECT}"
	phCSRF      = "{CSRF}"
	phChallenge = "{CHALLENGE}"
	phVerifier  = "{VERIFIER}"
	phCode      = "{CODE}"
)

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func newOAuthFuzz(f *testing.F) *oauthFuzz {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, f.TempDir())
	if err != nil {
		f.Fatalf("open sqlite: %v", err)
	}
	f.Cleanup(func() { store.Close() })
	const password = "correct horse battery staple"
	if _, _, err := auth.AddUser(ctx, store, auth.NewUser{Name: "ana", Role: auth.RoleContributor, Password: password}); err != nil {
		f.Fatal(err)
	}
	x := &oauthFuzz{redirect: "http://127.0.0.1:9/callback", verifier: strings.Repeat("v3rifier-", 6)}
	sum := sha256.Sum256([]byte(x.verifier))
	x.challenge = base64.RawURLEncoding.EncodeToString(sum[:])
	client, _, err := oauth.RegisterClient(ctx, store, oauth.NewClient{Name: "fuzz editor", RedirectURIs: []string{x.redirect}})
	if err != nil {
		f.Fatal(err)
	}
	x.clientID = client.ID
	server, err := oauth.New(ctx, store, oauth.Config{})
	if err != nil {
		f.Fatal(err)
	}
	mux := http.NewServeMux()
	server.Register(mux)
	x.srv = httptest.NewServer(mux)
	f.Cleanup(x.srv.Close)

	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	jar, err := cookiejar.New(nil)
	if err != nil {
		f.Fatal(err)
	}
	x.browser = &http.Client{Jar: jar, CheckRedirect: noRedirect}
	x.stranger = &http.Client{CheckRedirect: noRedirect}

	// Sign the browser in, as a user does on the sign-in page.
	resp, err := x.browser.Get(x.srv.URL + "/oauth2/sign_in")
	if err != nil {
		f.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		f.Fatalf("no CSRF token on the sign-in page: %s", page)
	}
	x.csrf = string(m[1])
	resp, err = x.browser.PostForm(x.srv.URL+"/oauth2/sign_in", url.Values{"username": {"ana"}, "password": {password}, "csrf_token": {x.csrf}})
	if err != nil {
		f.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		f.Fatalf("sign in: %d", resp.StatusCode)
	}
	// The whole flow works, so that the fuzzer starts from a working one.
	code := x.mintCode(f)
	resp, err = x.stranger.PostForm(x.srv.URL+"/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"code_verifier": {x.verifier}, "client_id": {x.clientID}, "redirect_uri": {x.redirect}})
	if err != nil {
		f.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "access_token") {
		f.Fatalf("the flow without fuzz: %d %s", resp.StatusCode, body)
	}
	return x
}

// authorizeQuery is an authorization request of the public client with
// its PKCE challenge.
func (x *oauthFuzz) authorizeQuery() string {
	return url.Values{"response_type": {"code"}, "client_id": {x.clientID}, "redirect_uri": {x.redirect}, "scope": {"read_prefs write_api"},
		"state": {"state-of-the-fuzz"}, "code_challenge": {x.challenge}, "code_challenge_method": {"S256"}}.Encode()
}

// mintCode is the user's consent to an authorization request: a fresh
// code for the verifier.
func (x *oauthFuzz) mintCode(t testing.TB) string {
	resp, err := x.browser.PostForm(x.srv.URL+"/oauth2/authorize?"+x.authorizeQuery(), url.Values{"decision": {"allow"}, "csrf_token": {x.csrf}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("consent gave %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

// The error codes of RFC 6749 (4.1.2.1 for the authorization endpoint,
// 5.2 for the token endpoint) and RFC 7009 2.2.1 (revocation).
var (
	authorizeErrors = []string{"invalid_request", "unauthorized_client", "access_denied", "unsupported_response_type", "invalid_scope", "server_error", "temporarily_unavailable"}
	tokenErrors     = []string{"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope"}
	revokeErrors    = append(slices.Clone(tokenErrors), "unsupported_token_type")
)

// FuzzOAuthRequests sends any query and form body to /oauth2/token,
// /oauth2/revoke and /oauth2/authorize (GET and POST), from the
// signed-in browser or from a stranger: never a 5xx nor a panic; an
// error of the token and revocation endpoints is a JSON object whose
// "error" is one of RFC 6749's (RFC 7009's) codes; a token is issued
// only for a fresh code with its PKCE verifier, its client and its
// redirect URI; a code only on the signed-in user's consent (decision
// allow, the browser's CSRF token) to a request with an S256 challenge;
// a redirect to the client carries a code or an RFC 6749 error.
func FuzzOAuthRequests(f *testing.F) {
	x := newOAuthFuzz(f)
	valid := url.Values{"grant_type": {"authorization_code"}, "code": {phCode}, "code_verifier": {phVerifier},
		"client_id": {phClient}, "redirect_uri": {phRedirect}}
	authorize := "response_type=code&client_id={CLIENT}&redirect_uri={REDIRECT}&scope=read_prefs&state=state-of-the-fuzz&code_challenge={CHALLENGE}&code_challenge_method=S256"
	for _, s := range []struct {
		endpoint    uint8
		query, body string
	}{
		{0, "", strings.NewReplacer("%7B", "{", "%7D", "}").Replace(valid.Encode())},
		{0, strings.NewReplacer("%7B", "{", "%7D", "}").Replace(valid.Encode()), ""},
		{0, "", "grant_type=authorization_code&code={CODE}&code_verifier=wrong-verifier-wrong-verifier-wrong-verifier-0&client_id={CLIENT}&redirect_uri={REDIRECT}"},
		{0, "", "grant_type=authorization_code&code={CODE}&client_id={CLIENT}&redirect_uri={REDIRECT}"},
		{0, "", "grant_type=password&username=ana&password=x&client_id={CLIENT}"},
		{0, "", "grant_type=client_credentials&client_id={CLIENT}&scope=write_api"},
		{0, "", "grant_type=refresh_token&refresh_token=abc.def&client_id={CLIENT}"},
		{1, "", "token=abc.def&client_id={CLIENT}"},
		{1, "", "token={CODE}&token_type_hint=access_token&client_id={CLIENT}"},
		{2, authorize, ""},
		{2, "response_type=token&client_id={CLIENT}&redirect_uri={REDIRECT}&state=state-of-the-fuzz", ""},
		{3, authorize, "decision=allow&csrf_token={CSRF}"},
		{3, authorize, "decision=allow&csrf_token=forged"},
		{3, "response_type=code&client_id={CLIENT}&redirect_uri={REDIRECT}&state=state-of-the-fuzz", "decision=allow&csrf_token={CSRF}"},
		{3, authorize + "&code_challenge_method=plain", "decision=deny&csrf_token={CSRF}"},
	} {
		f.Add(s.endpoint, true, s.query, s.body)
		f.Add(s.endpoint, false, s.query, s.body)
	}
	f.Fuzz(func(t *testing.T, endpoint uint8, signedIn bool, query, body string) {
		code := ""
		if strings.Contains(query+body, phCode) {
			code = x.mintCode(t)
		}
		fill := strings.NewReplacer(phClient, x.clientID, phRedirect, x.redirect, phCSRF, x.csrf,
			phChallenge, x.challenge, phVerifier, x.verifier, phCode, code)
		query, body = fill.Replace(query), fill.Replace(body)
		method, path := http.MethodPost, "/oauth2/token"
		switch endpoint % 4 {
		case 1:
			path = "/oauth2/revoke"
		case 2:
			method, path = http.MethodGet, "/oauth2/authorize"
		case 3:
			path = "/oauth2/authorize"
		}
		target := x.srv.URL + path
		if query != "" {
			target += "?" + query
		}
		req, err := http.NewRequest(method, target, strings.NewReader(body))
		if err != nil {
			return // not a request a client can send
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		client := x.stranger
		if signedIn {
			client = x.browser
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		describe := func() string {
			return fmt.Sprintf("%s %s?%s body %q (signed in: %v): %d %s %s", method, path, query, body, signedIn, resp.StatusCode, resp.Header.Get("Location"), answer)
		}
		if resp.StatusCode >= 500 {
			t.Fatalf("%s", describe())
		}
		// What the server read: the body's form, or the query's when the
		// body is empty (queryAsForm); as net/http parses them, keeping
		// the pairs before a malformed one.
		form, _ := url.ParseQuery(body)
		if path == "/oauth2/token" && strings.TrimSpace(body) == "" {
			form, _ = url.ParseQuery(query)
		}
		switch path {
		case "/oauth2/token":
			if resp.StatusCode == http.StatusOK {
				if form.Get("grant_type") != "authorization_code" || code == "" || form.Get("code") != code ||
					form.Get("code_verifier") != x.verifier || form.Get("client_id") != x.clientID || form.Get("redirect_uri") != x.redirect {
					t.Fatalf("a token without its grant: %s", describe())
				}
				var tok struct {
					AccessToken string `json:"access_token"`
					TokenType   string `json:"token_type"`
				}
				if err := json.Unmarshal(answer, &tok); err != nil || tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
					t.Fatalf("a token answer that is none (%v): %s", err, describe())
				}
				return
			}
			checkJSONError(t, resp, answer, tokenErrors, describe)
		case "/oauth2/revoke":
			if resp.StatusCode != http.StatusOK {
				checkJSONError(t, resp, answer, revokeErrors, describe)
			}
		case "/oauth2/authorize":
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil || !strings.HasPrefix(loc.String(), x.redirect) {
				return // a page, the sign-in page, or an error shown rather than sent to a client it cannot trust
			}
			got := loc.Query()
			if got.Get("code") == "" {
				if !slices.Contains(authorizeErrors, got.Get("error")) {
					t.Fatalf("a redirect to the client with neither code nor RFC 6749 error: %s", describe())
				}
				return
			}
			q, _ := url.ParseQuery(query)
			if method != http.MethodPost || !signedIn || form.Get("decision") != "allow" || form.Get("csrf_token") != x.csrf ||
				q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("client_id") != x.clientID {
				t.Fatalf("a code without the user's consent to a PKCE request: %s", describe())
			}
		}
	})
}

// checkJSONError: an error answer of the token or revocation endpoint
// is RFC 6749's JSON object with one of the codes.
func checkJSONError(t *testing.T, resp *http.Response, answer []byte, codes []string, describe func() string) {
	t.Helper()
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		t.Fatalf("an error as %q: %s", resp.Header.Get("Content-Type"), describe())
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(answer, &e); err != nil || !slices.Contains(codes, e.Error) {
		t.Fatalf("an error that is no RFC 6749 error (%v): %s", err, describe())
	}
}
