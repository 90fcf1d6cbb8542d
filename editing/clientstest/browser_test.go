package clientstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// browser is the person at the keyboard during an OAuth 2 sign-in: it
// keeps cookies, follows the server's redirects, fills in the sign-in
// form and allows the consent form, and stops at the redirect back to the
// application (whose redirect URI nobody listens on).
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T, redirectURI string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, client: &http.Client{
		Jar:     jar,
		Timeout: clientTimeout,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), redirectURI) {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}}
}

type page struct {
	status int
	url    *url.URL
	body   string
	header http.Header
}

func (b *browser) do(method, u string, form url.Values) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("browser: %s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("browser: %s %s: %v", method, u, err)
	}
	return page{resp.StatusCode, resp.Request.URL, string(text), resp.Header}
}

var (
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
)

// submit posts the page's form as a browser would: to its action
// resolved against the page, with its hidden fields and the fields given.
func (b *browser) submit(p page, fields url.Values) page {
	b.t.Helper()
	m := formAction.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("browser: no form on %s (status %d):\n%s", p.url, p.status, p.body)
	}
	action, err := p.url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		b.t.Fatal(err)
	}
	form := url.Values{}
	for _, h := range hiddenInput.FindAllStringSubmatch(p.body, -1) {
		form.Set(h[1], html.UnescapeString(h[2]))
	}
	for k, v := range fields {
		form[k] = v
	}
	return b.do(http.MethodPost, action.String(), form)
}

// authorize follows an application's authorization URL: signs in as
// name, allows the application, and returns the URL the server sent the
// browser back to (with the code and state).
func (b *browser) authorize(authURL, name, password string) *url.URL {
	b.t.Helper()
	p := b.do(http.MethodGet, authURL, nil)
	if p.url.Path == "/oauth2/sign_in" {
		p = b.submit(p, url.Values{"username": {name}, "password": {password}})
	}
	if p.status != http.StatusOK || !strings.Contains(p.body, "Authorize access to your account") {
		b.t.Fatalf("browser: expected the consent page, got %s (status %d):\n%s", p.url, p.status, p.body)
	}
	p = b.submit(p, url.Values{"decision": {"allow"}})
	if p.status != http.StatusSeeOther && p.status != http.StatusFound {
		b.t.Fatalf("browser: consent answered %d at %s, not a redirect to the application:\n%s", p.status, p.url, p.body)
	}
	loc, err := p.url.Parse(p.header.Get("Location"))
	if err != nil {
		b.t.Fatal(err)
	}
	return loc
}

// signInWithOAuth2 runs the authorization-code flow with PKCE for the
// public application clientID, golang.org/x/oauth2 as its client and
// the browser as the user who signs in and consents, and returns the
// application's configuration and the access token it obtained.
func signInWithOAuth2(t *testing.T, base, clientID, redirectURI, name, password string) (*oauth2.Config, *oauth2.Token) {
	t.Helper()
	conf := &oauth2.Config{
		ClientID:    clientID,
		Endpoint:    oauth2.Endpoint{AuthURL: base + "/oauth2/authorize", TokenURL: base + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: redirectURI,
		Scopes:      []string{"read_prefs", "write_api"},
	}
	verifier := oauth2.GenerateVerifier()
	stateBytes := make([]byte, 16)
	rand.Read(stateBytes)
	state := hex.EncodeToString(stateBytes)
	back := newBrowser(t, redirectURI).authorize(conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), name, password)
	if back.Query().Get("state") != state || back.Query().Get("code") == "" {
		t.Fatalf("redirected to %s; want the state %s and a code", back, state)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
		t.Fatalf("the exchange gave %+v, want a bearer access token", tok)
	}
	return conf, tok
}
