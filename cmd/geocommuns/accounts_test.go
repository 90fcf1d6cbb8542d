package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// runWithStdin runs the binary with stdin as its standard input.
func runWithStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = os.Environ()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		res.exit = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("run geocommuns %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// tokenLine is what user add and token create print on stdout: the token
// alone.
var tokenLine = regexp.MustCompile(`^gcpat_[A-Za-z0-9_-]{43}\n$`)

var tokenID = regexp.MustCompile(`API token (\d+)`)

// authGet reads path from the server with an Authorization header.
func (s *serveProcess) authGet(t *testing.T, path, authorization string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestAccountCommands adds users, creates and revokes API tokens and
// registers OAuth applications with the built binary, against a running
// `geocommuns serve` on the same dataset, on both backends.
func TestAccountCommands(t *testing.T) {
	for _, backend := range backendNames(t) {
		t.Run(backend, func(t *testing.T) {
			ds := newDataset(t, backend)
			cmd := func(args ...string) result { return runBinary(t, nil, append(args, ds.flags...)...) }

			const password = "tr0ub4dor&3 with spaces"
			added := runWithStdin(t, password+"\n", append([]string{"user", "add", "Carol Reviewer", "--role", "reviewer", "--trusted", "--password-stdin"}, ds.flags...)...)
			if added.exit != 0 || !tokenLine.MatchString(added.stdout) {
				t.Fatalf("user add: exit %d, stdout %q, stderr %s; want the token alone on stdout", added.exit, added.stdout, added.stderr)
			}
			first := strings.TrimSpace(added.stdout)
			firstID := tokenID.FindStringSubmatch(added.stderr)
			if firstID == nil || !strings.Contains(added.stderr, "reviewer, trusted, with a password") {
				t.Errorf("user add said %q", added.stderr)
			}
			noPassword := cmd("user", "add", "dave", "--role", "contributor")
			if noPassword.exit != 0 || !tokenLine.MatchString(noPassword.stdout) {
				t.Fatalf("user add without a password: exit %d, %q %s", noPassword.exit, noPassword.stdout, noPassword.stderr)
			}

			s := startServe(t, ds.flags...)
			details := func(authorization string) (int, string) {
				status, body := s.authGet(t, "/api/0.6/user/details.json", authorization)
				if status != http.StatusOK {
					return status, body
				}
				var d struct {
					User struct {
						DisplayName string   `json:"display_name"`
						Roles       []string `json:"roles"`
					} `json:"user"`
				}
				if err := json.Unmarshal([]byte(body), &d); err != nil {
					t.Fatal(err)
				}
				return status, d.User.DisplayName + " " + strings.Join(d.User.Roles, ",")
			}
			if status, who := details("Bearer " + first); status != http.StatusOK || who != "Carol Reviewer moderator" {
				t.Errorf("the token of user add: %d %q, want Carol Reviewer, a moderator to OSM clients", status, who)
			}
			basic := "Basic " + basicCredentials("carol reviewer", password)
			if status, who := details(basic); status != http.StatusOK || who != "Carol Reviewer moderator" {
				t.Errorf("the password read from stdin: %d %q", status, who)
			}
			if status, _ := details("Basic " + basicCredentials("dave", "")); status != http.StatusUnauthorized {
				t.Errorf("an account without a password signed in: %d", status)
			}

			// Token commands run while serve runs, as an operator would.
			created := cmd("token", "create", "--user", "Carol Reviewer")
			if created.exit != 0 || !tokenLine.MatchString(created.stdout) {
				t.Fatalf("token create: exit %d, %q %s", created.exit, created.stdout, created.stderr)
			}
			second := strings.TrimSpace(created.stdout)
			secondID := tokenID.FindStringSubmatch(created.stderr)
			if second == first || secondID == nil {
				t.Fatalf("token create gave %q (%s)", second, created.stderr)
			}
			if status, _ := details("Bearer " + second); status != http.StatusOK {
				t.Errorf("the created token: %d", status)
			}

			if r := cmd("token", "revoke", first); r.exit != 0 {
				t.Fatalf("token revoke TOKEN: exit %d, %s", r.exit, r.stderr)
			}
			if status, body := details("Bearer " + first); status != http.StatusUnauthorized || body != "token_revoked" {
				t.Errorf("a token revoked by itself: %d %q, want 401 token_revoked", status, body)
			}
			if status, _ := details("Bearer " + second); status != http.StatusOK {
				t.Errorf("revoking one token broke another: %d", status)
			}
			if r := cmd("token", "revoke", secondID[1]); r.exit != 0 {
				t.Fatalf("token revoke ID: exit %d, %s", r.exit, r.stderr)
			}
			if status, body := details("Bearer " + second); status != http.StatusUnauthorized || body != "token_revoked" {
				t.Errorf("a token revoked by id: %d %q, want 401 token_revoked", status, body)
			}

			public := cmd("oauth-app", "add", "Web editor", "--redirect-uri", "https://editor.example/land.html")
			clientID := regexp.MustCompile(`^client_id=([A-Za-z0-9_-]{43})\n$`).FindStringSubmatch(public.stdout)
			if public.exit != 0 || clientID == nil {
				t.Fatalf("oauth-app add: exit %d, stdout %q, stderr %s", public.exit, public.stdout, public.stderr)
			}
			confidential := cmd("oauth-app", "add", "Bot", "--redirect-uri", "https://bot.example/cb",
				"--redirect-uri", "http://127.0.0.1:8111/cb", "--confidential", "--scopes", "read_prefs")
			if confidential.exit != 0 || !regexp.MustCompile(`^client_id=\S{43}\nclient_secret=\S{43}\n$`).MatchString(confidential.stdout) {
				t.Fatalf("oauth-app add --confidential: exit %d, stdout %q, stderr %s", confidential.exit, confidential.stdout, confidential.stderr)
			}
			// The server knows the application: its authorization request
			// goes on to the sign-in page.
			authorize := s.base + "/oauth2/authorize?" + url.Values{
				"client_id": {clientID[1]}, "redirect_uri": {"https://editor.example/land.html"}, "response_type": {"code"},
				"scope": {"write_api"}, "state": {"a-long-enough-state"},
				"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"},
			}.Encode()
			noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := noRedirect.Get(authorize)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/oauth2/sign_in?") {
				t.Errorf("authorization request of the registered application: %d to %q, want the sign-in page", resp.StatusCode, loc)
			}

			for _, c := range []struct {
				args []string
				exit int
				says string
			}{
				{[]string{"user", "add", "carol reviewer"}, 1, "exists already"},
				{[]string{"user", "add", "erin", "--role", "owner"}, 2, "unknown role"},
				{[]string{"user", "add", "erin", "--password", "x", "--password-stdin"}, 2, "not both"},
				{[]string{"user", "add"}, 2, "usage"},
				{[]string{"user", "add", "a/b"}, 1, "may not contain"},
				{[]string{"token", "create"}, 2, "--user"},
				{[]string{"token", "create", "--user", "nobody"}, 1, "no user"},
				{[]string{"token", "revoke", "gcpat_never-issued"}, 1, "no such API token"},
				{[]string{"token", "revoke", "999999"}, 1, "no API token has id 999999"},
				{[]string{"oauth-app", "add", "x"}, 2, "--redirect-uri"},
				{[]string{"oauth-app", "add", "x", "--redirect-uri", "/relative"}, 1, "must be absolute"},
				{[]string{"oauth-app", "add", "x", "--redirect-uri", "http://editor.example/land.html"}, 1, "plain http"},
				{[]string{"oauth-app", "add", "x", "--redirect-uri", "https://x.example/", "--scopes", "write_all"}, 1, "unknown scope"},
			} {
				r := cmd(c.args...)
				if r.exit != c.exit || !strings.Contains(r.stderr, c.says) || r.stdout != "" {
					t.Errorf("geocommuns %s: exit %d, stdout %q, stderr %q; want exit %d saying %q",
						strings.Join(c.args, " "), r.exit, r.stdout, r.stderr, c.exit, c.says)
				}
			}

			if code := s.stop(t); code != 0 {
				t.Errorf("serve exited %d", code)
			}
			logs := s.log()
			for what, secret := range map[string]string{"password": password, "first token": first, "second token": second} {
				if strings.Contains(logs, secret) {
					t.Errorf("the %s is in serve's log", what)
				}
			}
		})
	}
}

func basicCredentials(user, password string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	req.SetBasicAuth(user, password)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}
