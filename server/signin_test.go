package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/auth/oauth"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// Sign-in over real HTTP, on both backends: golang.org/x/oauth2 is the
// client of the authorization-code flow with PKCE, a cookie jar and the
// sign-in and consent forms play the browser, and the token then reads
// /api/0.6/user/details and /api/0.6/permissions. The dataset is opened
// twice, as two server processes would, and a flow begun on one server
// finishes on the other.

const postgresVariable = "GEOCOMMUNS_TEST_POSTGRES"

// dataset is one test's store, opened as many times as asked, and a dump
// of every row of every table as text.
type dataset struct {
	open func(t *testing.T) storage.Store
	dump func(t *testing.T) string
}

var nonIdentifier = regexp.MustCompile(`[^a-z0-9_]+`)

func sqliteDataset(t *testing.T) dataset {
	dir := t.TempDir()
	return dataset{
		open: func(t *testing.T) storage.Store {
			s, err := sqlite.Open(context.Background(), dir)
			if err != nil {
				t.Fatalf("open sqlite: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		dump: func(t *testing.T) string {
			db, err := sql.Open("sqlite", sqlite.Path(dir)+"?_pragma=query_only(1)")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			tables := queryStrings(t, db, `SELECT name FROM sqlite_master WHERE type = 'table'`)
			var b strings.Builder
			for _, table := range tables {
				rows, err := db.Query(`SELECT * FROM "` + table + `"`)
				if err != nil {
					t.Fatal(err)
				}
				cols, _ := rows.Columns()
				for rows.Next() {
					vals := make([]any, len(cols))
					ptrs := make([]any, len(cols))
					for i := range vals {
						ptrs[i] = &vals[i]
					}
					if err := rows.Scan(ptrs...); err != nil {
						t.Fatal(err)
					}
					for _, v := range vals {
						if bs, ok := v.([]byte); ok {
							v = string(bs)
						}
						fmt.Fprintf(&b, "%v\t", v)
					}
					b.WriteString("\n")
				}
				rows.Close()
			}
			return b.String()
		},
	}
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func postgresDataset(t *testing.T) dataset {
	url := os.Getenv(postgresVariable)
	if url == "" {
		t.Skipf("PostgreSQL tests need a server: set %s, e.g. %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable", postgresVariable, postgresVariable)
	}
	name := nonIdentifier.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	schema := "t_signin_" + name + "_" + hex.EncodeToString(suffix)
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	return dataset{
		open: func(t *testing.T) storage.Store {
			s, err := postgres.Open(context.Background(), postgres.Config{URL: url, Schema: schema})
			if err != nil {
				t.Fatalf("open postgres: %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		dump: func(t *testing.T) string {
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, schema)
			if err != nil {
				t.Fatal(err)
			}
			tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, table := range tables {
				// A row as text shows bytea as hex: check the raw bytes too.
				q := fmt.Sprintf(`SELECT t::text FROM %s.%s t`, pgx.Identifier{schema}.Sanitize(), pgx.Identifier{table}.Sanitize())
				rows, err := conn.Query(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range lines {
					b.WriteString(l + "\n")
					if decoded := decodeByteaHex(l); decoded != "" {
						b.WriteString(decoded + "\n")
					}
				}
			}
			return b.String()
		},
	}
}

var byteaHex = regexp.MustCompile(`\\\\x([0-9a-f]+)`)

// decodeByteaHex turns the bytea columns of a row's text back into their
// bytes, so that a secret stored raw in a bytea column would be found.
func decodeByteaHex(row string) string {
	var b strings.Builder
	for _, m := range byteaHex.FindAllStringSubmatch(row, -1) {
		if raw, err := hex.DecodeString(m[1]); err == nil {
			b.Write(raw)
			b.WriteString("\n")
		}
	}
	return b.String()
}

var datasets = []struct {
	name string
	new  func(t *testing.T) dataset
}{
	{"sqlite", sqliteDataset},
	{"postgres", postgresDataset},
}

// lockedBuffer is a log sink the server writes from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServer serves store over real HTTP, logging everything at debug
// level into logs.
func startServer(t *testing.T, store storage.Store, cfg server.Config, logs io.Writer) string {
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := httptest.NewServer(server.New(cfg, store, logger).Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

// browser is a person's browser: it keeps cookies, follows the server's
// own redirects, and stops at the redirect to the client application.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T, stopAt ...string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, client: &http.Client{
		Jar: jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			for _, prefix := range stopAt {
				if strings.HasPrefix(req.URL.String(), prefix) {
					return http.ErrUseLastResponse
				}
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

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{resp.StatusCode, resp.Request.URL, string(body), resp.Header}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
)

// form reads the page's form as a browser would submit it: its action
// resolved against the page, and its hidden fields.
func (p page) form(t *testing.T) (string, url.Values) {
	t.Helper()
	m := formAction.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no form on %s (status %d):\n%s", p.url, p.status, p.body)
	}
	action, err := p.url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	values := url.Values{}
	for _, h := range hiddenInput.FindAllStringSubmatch(p.body, -1) {
		values.Set(h[1], html.UnescapeString(h[2]))
	}
	return action.String(), values
}

// signIn submits the sign-in page p.
func (b *browser) signIn(p page, name, password string) page {
	b.t.Helper()
	if p.url.Path != "/oauth2/sign_in" {
		b.t.Fatalf("expected the sign-in page, got %s (status %d)", p.url, p.status)
	}
	action, form := p.form(b.t)
	form.Set("username", name)
	form.Set("password", password)
	return b.post(action, form)
}

// consent answers the consent page p.
func (b *browser) consent(p page, decision string) page {
	b.t.Helper()
	if p.status != http.StatusOK || !strings.Contains(p.body, "Authorize access to your account") {
		b.t.Fatalf("expected the consent page, got %s (status %d):\n%s", p.url, p.status, p.body)
	}
	action, form := p.form(b.t)
	form.Set("decision", decision)
	return b.post(action, form)
}

// redirected returns where the server sent the browser back to the
// client application.
func redirected(t *testing.T, p page) *url.URL {
	t.Helper()
	if p.status != http.StatusSeeOther {
		t.Fatalf("expected a redirect to the application, got status %d at %s:\n%s", p.status, p.url, p.body)
	}
	loc, err := url.Parse(p.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

const (
	editorRedirect = "https://editor.example/land.html"
	botRedirect    = "https://bot.example/callback"
	alicePassword  = "correct horse battery staple"
)

// fixture is what every sign-in test starts from.
type fixture struct {
	ds            dataset
	store         storage.Store
	alice         storage.Account
	aliceAPIToken string
	editor        storage.OAuthClient
	bot           storage.OAuthClient
	botSecret     string
}

func newFixture(t *testing.T, newDataset func(*testing.T) dataset) *fixture {
	ctx := context.Background()
	f := &fixture{ds: newDataset(t)}
	f.store = f.ds.open(t)
	var err error
	f.alice, f.aliceAPIToken, err = auth.AddUser(ctx, f.store, auth.NewUser{Name: "Alice Mapper", Role: auth.RoleContributor, Password: alicePassword})
	if err != nil {
		t.Fatal(err)
	}
	f.editor, _, err = oauth.RegisterClient(ctx, f.store, oauth.NewClient{Name: "Web editor", RedirectURIs: []string{editorRedirect}})
	if err != nil {
		t.Fatal(err)
	}
	f.bot, f.botSecret, err = oauth.RegisterClient(ctx, f.store, oauth.NewClient{Name: "Review bot",
		RedirectURIs: []string{botRedirect}, Scopes: []string{auth.ScopeReadPrefs}, Confidential: true})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) editorConfig(base string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:    f.editor.ID,
		Endpoint:    oauth2.Endpoint{AuthURL: base + "/oauth2/authorize", TokenURL: base + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: editorRedirect,
		Scopes:      []string{auth.ScopeReadPrefs, auth.ScopeWriteAPI},
	}
}

// authorize runs the browser's part of the flow and returns the code.
func authorize(t *testing.T, b *browser, conf *oauth2.Config, state string, opts ...oauth2.AuthCodeOption) string {
	t.Helper()
	p := b.get(conf.AuthCodeURL(state, opts...))
	if p.url.Path == "/oauth2/sign_in" {
		p = b.signIn(p, "alice mapper", alicePassword)
	}
	loc := redirected(t, b.consent(p, "allow"))
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != conf.RedirectURL {
		t.Fatalf("redirected to %s, want the registered %s", got, conf.RedirectURL)
	}
	if loc.Query().Get("state") != state {
		t.Errorf("state %q came back as %q", state, loc.Query().Get("state"))
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in the redirect %s", loc)
	}
	return code
}

// apiGet reads an API path with client, returning status, body and
// headers.
func apiGet(t *testing.T, client *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body), resp.Header
}

func bearerClient(token string) *http.Client {
	return oauth2.NewClient(context.Background(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token, TokenType: "Bearer"}))
}

type userDetails struct {
	User struct {
		ID          int64    `json:"id"`
		DisplayName string   `json:"display_name"`
		Roles       []string `json:"roles"`
	} `json:"user"`
}

type permissions struct {
	Permissions []string `json:"permissions"`
}

func decodeJSON[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return v
}

// check401 asserts openstreetmap.org's answer to refused credentials.
func check401(t *testing.T, what string, status int, body string, h http.Header, wantText string) {
	t.Helper()
	if status != http.StatusUnauthorized || body != wantText {
		t.Errorf("%s: %d %q, want 401 %q", what, status, body, wantText)
	}
	if got := h.Get("WWW-Authenticate"); got != `Basic realm="Web Password", charset="UTF-8"` {
		t.Errorf("%s: WWW-Authenticate %q, want cgimap's", what, got)
	}
}

func TestOAuthAuthorizationCodeWithPKCE(t *testing.T) {
	for _, d := range datasets {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t, d.new)
			var logs lockedBuffer
			// Two servers over the dataset, each with its own connections,
			// as two processes behind one address would be.
			serverA := startServer(t, f.store, server.Config{}, &logs)
			serverB := startServer(t, f.ds.open(t), server.Config{}, &logs)

			b := newBrowser(t, editorRedirect, botRedirect)
			verifier := oauth2.GenerateVerifier()
			code := authorize(t, b, f.editorConfig(serverA), "state-0123456789", oauth2.S256ChallengeOption(verifier))
			tok, err := f.editorConfig(serverB).Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange the code on the other server: %v", err)
			}
			if !strings.EqualFold(tok.TokenType, "bearer") || tok.AccessToken == "" {
				t.Fatalf("token %+v: want a bearer access token", tok)
			}
			if got := strings.Fields(fmt.Sprint(tok.Extra("scope"))); !slices.Equal(got, []string{"read_prefs", "write_api"}) {
				t.Errorf("token scopes %v, want read_prefs write_api", got)
			}

			client := f.editorConfig(serverA).Client(ctx, tok)
			for _, base := range []string{serverA, serverB} {
				status, body, _ := apiGet(t, client, base+"/api/0.6/user/details.json")
				if status != http.StatusOK {
					t.Fatalf("user details with the OAuth token: %d %s", status, body)
				}
				details := decodeJSON[userDetails](t, body)
				if details.User.ID != f.alice.ID || details.User.DisplayName != "Alice Mapper" {
					t.Errorf("user details %+v, want Alice Mapper, id %d", details.User, f.alice.ID)
				}
				status, body, _ = apiGet(t, client, base+"/api/0.6/permissions.json")
				if got := decodeJSON[permissions](t, body).Permissions; status != http.StatusOK || !slices.Equal(got, []string{"allow_read_prefs", "allow_write_api"}) {
					t.Errorf("permissions of the token: %d %v, want exactly the granted allow_read_prefs, allow_write_api", status, got)
				}
			}
			status, body, _ := apiGet(t, client, serverA+"/api/0.6/user/details")
			if status != http.StatusOK || !strings.Contains(body, `display_name="Alice Mapper"`) || !strings.Contains(body, `<contributor-terms agreed="true" pd="false"/>`) {
				t.Errorf("user details in XML: %d\n%s", status, body)
			}

			t.Run("Write", func(t *testing.T) {
				// The token's write_api scope lets it open a changeset; a
				// token without it, or no token, may not.
				create := func(client *http.Client) (int, string) {
					req, _ := http.NewRequest(http.MethodPut, serverB+"/api/0.6/changeset/create",
						strings.NewReader(`<osm><changeset><tag k="created_by" v="signin test"/></changeset></osm>`))
					resp, err := client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					body, _ := io.ReadAll(resp.Body)
					return resp.StatusCode, string(body)
				}
				if status, body := create(client); status != http.StatusOK || strings.Trim(body, "0123456789") != "" {
					t.Errorf("changeset/create with the OAuth token: %d %q, want 200 and an id", status, body)
				}
				readOnly := &oauth2.Config{ClientID: f.bot.ID, ClientSecret: f.botSecret, RedirectURL: botRedirect,
					Endpoint: oauth2.Endpoint{AuthURL: serverA + "/oauth2/authorize", TokenURL: serverA + "/oauth2/token"},
					Scopes:   []string{auth.ScopeReadPrefs}}
				tok, err := readOnly.Exchange(ctx, authorize(t, b, readOnly, "state-read-only"))
				if err != nil {
					t.Fatal(err)
				}
				if status, body := create(readOnly.Client(ctx, tok)); status != http.StatusUnauthorized || body != "You have not granted the modify map permission" {
					t.Errorf("changeset/create with a read_prefs token: %d %q, want cgimap's 401", status, body)
				}
				if status, body := create(http.DefaultClient); status != http.StatusUnauthorized || body != "User is not authorized" {
					t.Errorf("changeset/create without credentials: %d %q, want cgimap's 401", status, body)
				}
			})
			t.Run("VerifierMismatch", func(t *testing.T) {
				code := authorize(t, b, f.editorConfig(serverA), "state-verifier-mismatch", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
				_, err := f.editorConfig(serverA).Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
				checkOAuthError(t, err, "invalid_grant")
			})
			t.Run("CodeUsedTwice", func(t *testing.T) {
				verifier := oauth2.GenerateVerifier()
				code := authorize(t, b, f.editorConfig(serverA), "state-code-twice", oauth2.S256ChallengeOption(verifier))
				first, err := f.editorConfig(serverA).Exchange(ctx, code, oauth2.VerifierOption(verifier))
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.editorConfig(serverB).Exchange(ctx, code, oauth2.VerifierOption(verifier))
				checkOAuthError(t, err, "invalid_grant")
				// RFC 6749 §4.1.2: what the code gave is revoked too.
				status, body, h := apiGet(t, bearerClient(first.AccessToken), serverA+"/api/0.6/user/details")
				check401(t, "the token of a code used twice", status, body, h, "token_revoked")
			})
			t.Run("PublicClientWithoutPKCE", func(t *testing.T) {
				verifier := oauth2.GenerateVerifier()
				for name, opts := range map[string][]oauth2.AuthCodeOption{
					"no challenge": nil,
					// The plain method sends the verifier itself.
					"plain challenge": {oauth2.SetAuthURLParam("code_challenge", verifier), oauth2.SetAuthURLParam("code_challenge_method", "plain")},
					"no method":       {oauth2.SetAuthURLParam("code_challenge", verifier)},
				} {
					loc := redirected(t, b.get(f.editorConfig(serverA).AuthCodeURL("state-without-pkce", opts...)))
					if loc.Query().Get("error") != "invalid_request" || loc.Query().Get("code") != "" {
						t.Errorf("authorization with %s redirected to %s, want error=invalid_request and no code", name, loc)
					}
				}
			})
			t.Run("RedirectURIMismatch", func(t *testing.T) {
				conf := f.editorConfig(serverA)
				for _, wrong := range []string{"https://attacker.example/land.html", editorRedirect + "?x=1", "https://editor.example/land.html/"} {
					conf.RedirectURL = wrong
					p := b.get(conf.AuthCodeURL("state-wrong-redirect", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
					if p.status != http.StatusBadRequest || p.header.Get("Location") != "" || !strings.Contains(p.body, "invalid_request") {
						t.Errorf("redirect URI %s: status %d, Location %q, body %s; want 400 invalid_request and no redirect",
							wrong, p.status, p.header.Get("Location"), p.body)
					}
				}
			})
			t.Run("Deny", func(t *testing.T) {
				p := b.get(f.editorConfig(serverA).AuthCodeURL("state-deny", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
				loc := redirected(t, b.consent(p, "deny"))
				if loc.Query().Get("error") != "access_denied" || loc.Query().Get("code") != "" {
					t.Errorf("denied consent redirected to %s, want error=access_denied", loc)
				}
			})
			t.Run("ScopeNotAllowed", func(t *testing.T) {
				conf := f.editorConfig(serverA)
				conf.Scopes = []string{"write_api", "write_everything"}
				p := b.get(conf.AuthCodeURL("state-bad-scope", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
				if loc := redirected(t, p); loc.Query().Get("error") != "invalid_scope" {
					t.Errorf("an unknown scope redirected to %s, want error=invalid_scope", loc)
				}
			})
			t.Run("ConfidentialClient", func(t *testing.T) {
				for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
					conf := &oauth2.Config{ClientID: f.bot.ID, ClientSecret: f.botSecret, RedirectURL: botRedirect,
						Endpoint: oauth2.Endpoint{AuthURL: serverA + "/oauth2/authorize", TokenURL: serverB + "/oauth2/token", AuthStyle: style},
						Scopes:   []string{auth.ScopeReadPrefs}}
					code := authorize(t, b, conf, "state-confidential")
					tok, err := conf.Exchange(ctx, code)
					if err != nil {
						t.Fatalf("auth style %v: %v", style, err)
					}
					_, body, _ := apiGet(t, bearerClient(tok.AccessToken), serverA+"/api/0.6/permissions.json")
					if got := decodeJSON[permissions](t, body).Permissions; !slices.Equal(got, []string{"allow_read_prefs"}) {
						t.Errorf("permissions %v, want allow_read_prefs", got)
					}
					code = authorize(t, b, conf, "state-confidential-wrong-secret")
					conf.ClientSecret = "not the secret"
					_, err = conf.Exchange(ctx, code)
					checkOAuthError(t, err, "invalid_client")
				}
			})
			t.Run("Revoke", func(t *testing.T) {
				verifier := oauth2.GenerateVerifier()
				code := authorize(t, b, f.editorConfig(serverA), "state-revoke", oauth2.S256ChallengeOption(verifier))
				tok, err := f.editorConfig(serverA).Exchange(ctx, code, oauth2.VerifierOption(verifier))
				if err != nil {
					t.Fatal(err)
				}
				resp, err := http.PostForm(serverB+"/oauth2/revoke", url.Values{"token": {tok.AccessToken}, "client_id": {f.editor.ID}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("revoke: status %d", resp.StatusCode)
				}
				status, body, h := apiGet(t, bearerClient(tok.AccessToken), serverA+"/api/0.6/map?bbox=1,1,1.001,1.001")
				check401(t, "a revoked OAuth token", status, body, h, "token_revoked")
			})

			// Nothing secret reached the tables or the logs.
			secrets := map[string]string{
				"password": alicePassword, "API token": f.aliceAPIToken, "access token": tok.AccessToken,
				"authorization code": code, "PKCE verifier": verifier, "client secret": f.botSecret,
			}
			for _, c := range b.client.Jar.Cookies(mustParse(t, serverA+"/oauth2/")) {
				secrets["cookie "+c.Name] = c.Value
			}
			tables, logged := f.ds.dump(t), logs.String()
			if !strings.Contains(tables, "Alice Mapper") {
				t.Fatalf("the table dump misses the account: %.500s", tables)
			}
			for what, secret := range secrets {
				if strings.Contains(tables, secret) {
					t.Errorf("the %s is stored in clear", what)
				}
				if strings.Contains(logged, secret) {
					t.Errorf("the %s is in the server's log", what)
				}
			}
		})
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func checkOAuthError(t *testing.T, err error, want string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want the OAuth error %s", err, want)
	}
	if re.ErrorCode != want {
		t.Errorf("OAuth error %q (%s), want %q", re.ErrorCode, re.ErrorDescription, want)
	}
}

func TestCredentials(t *testing.T) {
	for _, d := range datasets {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d.new)
			base := startServer(t, f.store, server.Config{}, io.Discard)
			get := func(path string, set func(*http.Request)) (int, string, http.Header) {
				req, _ := http.NewRequest(http.MethodGet, base+path, nil)
				set(req)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(body), resp.Header
			}
			basic := func(user, password string) func(*http.Request) {
				return func(r *http.Request) { r.SetBasicAuth(user, password) }
			}
			header := func(v string) func(*http.Request) {
				return func(r *http.Request) { r.Header.Set("Authorization", v) }
			}

			for _, c := range []struct {
				name string
				set  func(*http.Request)
			}{
				{"Basic", basic("Alice Mapper", alicePassword)},
				{"Basic, name in another case", basic("ALICE MAPPER", alicePassword)},
				{"API token", header("Bearer " + f.aliceAPIToken)},
			} {
				status, body, _ := get("/api/0.6/user/details.json", c.set)
				if status != http.StatusOK || decodeJSON[userDetails](t, body).User.ID != f.alice.ID {
					t.Errorf("%s: %d %s, want Alice's details", c.name, status, body)
				}
				_, body, _ = get("/api/0.6/permissions.json", c.set)
				if got := decodeJSON[permissions](t, body).Permissions; len(got) != len(auth.AllScopes) {
					t.Errorf("%s: permissions %v, want all of them", c.name, got)
				}
			}

			for _, c := range []struct {
				name, want string
				set        func(*http.Request)
			}{
				{"wrong password", "Incorrect user or password", basic("Alice Mapper", "wrong")},
				{"unknown user", "Incorrect user or password", basic("Nobody", alicePassword)},
				{"unknown API token", "invalid_token", header("Bearer " + auth.APITokenPrefix + "never-issued")},
				{"unknown OAuth token", "invalid_token", header("Bearer ory_at_unknown.signature")},
			} {
				// Refused credentials are refused on reads as well, as
				// cgimap does.
				for _, path := range []string{"/api/0.6/user/details", "/api/0.6/map?bbox=1,1,1.001,1.001"} {
					status, body, h := get(path, c.set)
					check401(t, c.name+" on "+path, status, body, h, c.want)
				}
			}

			// Unreadable credentials leave the request anonymous, as in
			// cgimap's test_basicauth.cpp and test_oauth2.cpp.
			for _, v := range []string{"Basic ", "Basic ZGVtbw==", "Basic ZGVtbzo=", "Basic TotalCrapData==", "Bearer 6!#c23.-;<<>>", "Digest x"} {
				status, body, h := get("/api/0.6/user/details", header(v))
				check401(t, "anonymous ("+v+") user details", status, body, h, "Couldn't authenticate you")
				status, body, _ = get("/api/0.6/permissions.json", header(v))
				if got := decodeJSON[permissions](t, body).Permissions; status != http.StatusOK || len(got) != 0 {
					t.Errorf("anonymous (%s) permissions: %d %v, want 200 and none", v, status, got)
				}
			}

			// A revoked API token fails from then on; another one of the
			// same user does not.
			ctx := context.Background()
			other, _, err := auth.CreateAPIToken(ctx, f.store, f.alice.ID)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := f.store.APIToken(ctx, auth.HashAPIToken(f.aliceAPIToken))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.store.RevokeAPIToken(ctx, tok.ID); err != nil {
				t.Fatal(err)
			}
			status, body, h := get("/api/0.6/user/details", header("Bearer "+f.aliceAPIToken))
			check401(t, "revoked API token", status, body, h, "token_revoked")
			if status, _, _ := get("/api/0.6/user/details", header("Bearer "+other)); status != http.StatusOK {
				t.Errorf("another token of the same user: %d, want 200", status)
			}
		})
	}
}

func TestOAuthTokenExpires(t *testing.T) {
	for _, d := range datasets {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := newFixture(t, d.new)
			base := startServer(t, f.store, server.Config{OAuth: oauth.Config{AccessTokenLifespan: time.Second}}, io.Discard)
			b := newBrowser(t, editorRedirect)
			verifier := oauth2.GenerateVerifier()
			code := authorize(t, b, f.editorConfig(base), "state-expiring", oauth2.S256ChallengeOption(verifier))
			tok, err := f.editorConfig(base).Exchange(ctx, code, oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			// Poll until the token is past its second, then check the
			// answer; the deadline only bounds a broken expiry.
			deadline := time.Now().Add(30 * time.Second)
			for {
				status, body, h := apiGet(t, bearerClient(tok.AccessToken), base+"/api/0.6/user/details")
				if status == http.StatusOK {
					if time.Now().After(deadline) {
						t.Fatal("the token is still accepted long after its lifetime")
					}
					time.Sleep(200 * time.Millisecond)
					continue
				}
				check401(t, "an expired token", status, body, h, "token_expired")
				break
			}
		})
	}
}

func TestSignInPage(t *testing.T) {
	for _, d := range datasets {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, d.new)
			base := startServer(t, f.store, server.Config{}, io.Discard)
			b := newBrowser(t, editorRedirect)
			authURL := f.editorConfig(base).AuthCodeURL("state-sign-in", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))

			p := b.get(authURL)
			refused := b.signIn(p, "Alice Mapper", "not her password")
			if refused.status != http.StatusUnauthorized || !strings.Contains(refused.body, "could not log in") {
				t.Errorf("wrong password: status %d, want 401 and the sign-in page again:\n%s", refused.status, refused.body)
			}
			if again := b.get(authURL); again.url.Path != "/oauth2/sign_in" {
				t.Errorf("after a refused sign-in the browser reached %s, want the sign-in page", again.url)
			}

			// A form posted without the browser's CSRF token (another
			// site's) is refused.
			action, form := p.form(t)
			form.Set("csrf_token", "forged")
			form.Set("username", "Alice Mapper")
			form.Set("password", alicePassword)
			if forged := b.post(action, form); forged.status != http.StatusForbidden {
				t.Errorf("sign-in with a forged CSRF token: status %d, want 403", forged.status)
			}
			if forged := newBrowser(t).post(action, form); forged.status != http.StatusForbidden {
				t.Errorf("sign-in from a browser without the CSRF cookie: status %d, want 403", forged.status)
			}

			consent := b.signIn(b.get(authURL), "Alice Mapper", alicePassword)
			if !strings.Contains(consent.body, "Web editor") || !strings.Contains(consent.body, "Modify the map (write_api)") ||
				!strings.Contains(consent.body, "Read user preferences (read_prefs)") {
				t.Errorf("the consent page does not name the application and its scopes:\n%s", consent.body)
			}
			if consent.header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("the consent page may be framed: X-Frame-Options %q", consent.header.Get("X-Frame-Options"))
			}
			action, form = consent.form(t)
			form.Set("csrf_token", "forged")
			form.Set("decision", "allow")
			if forged := b.post(action, form); forged.status != http.StatusForbidden {
				t.Errorf("consent with a forged CSRF token: status %d, want 403", forged.status)
			}

			// The session cookie signs in the pages only: the API ignores
			// it (design.md).
			for _, c := range b.client.Jar.Cookies(mustParse(t, base+"/oauth2/")) {
				req, _ := http.NewRequest(http.MethodGet, base+"/api/0.6/user/details", nil)
				req.AddCookie(c)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("the API accepted the %s cookie: status %d", c.Name, resp.StatusCode)
				}
			}
			if len(b.client.Jar.Cookies(mustParse(t, base+"/api/"))) != 0 {
				t.Error("the sign-in cookies are sent to the API")
			}
		})
	}
}
