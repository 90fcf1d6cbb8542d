package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestCookiesNeverAuthorizeAPIWrites: the review web app's session
// cookie opens the web app's routes (with its CSRF header for writes)
// and nothing else: the OSM API and Connect answer a write carrying only
// the cookie as they answer an anonymous one (design.md, Known traps).
func TestCookiesNeverAuthorizeAPIWrites(t *testing.T) {
	w := newWorld(t, "sqlite")
	signIn := w.call(anonymous, http.MethodPost, "/review/api/session", "application/json",
		fmt.Sprintf(`{"user":"rita","password":%q}`, w.passwords["rita"]))
	if signIn.status != http.StatusOK {
		t.Fatalf("sign in to the web app: %d %s", signIn.status, signIn.body)
	}
	var session struct {
		CSRF string `json:"csrf"`
	}
	if err := json.Unmarshal([]byte(signIn.body), &session); err != nil || session.CSRF == "" {
		t.Fatalf("sign-in answer without a CSRF token: %s", signIn.body)
	}
	var cookies, values []string
	for _, c := range (&http.Response{Header: signIn.header}).Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
		values = append(values, c.Value)
	}
	if len(cookies) == 0 {
		t.Fatal("the web app set no session cookie")
	}
	cookie := strings.Join(cookies, "; ")
	withCookie := func(method, path, contentType, body string, header ...string) answer {
		return w.call(anonymous, method, path, contentType, body, append([]string{"Cookie", cookie}, header...)...)
	}

	// The cookie works where it should: the web app knows rita.
	if a := withCookie(http.MethodGet, "/review/api/me", "", ""); a.status != http.StatusOK || !strings.Contains(a.body, `"rita"`) {
		t.Fatalf("GET /review/api/me with the session cookie: %d %s", a.status, a.body)
	}

	cs := w.openChangeset()
	for _, c := range []struct{ method, path, contentType, body string }{
		{http.MethodPut, "/api/0.6/changeset/create", "text/xml", `<osm><changeset/></osm>`},
		{http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", cs), "", ""},
		{http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/comment", cs), "application/x-www-form-urlencoded", "text=hello"},
		{http.MethodPut, "/api/0.6/node/create", "text/xml", fmt.Sprintf(`<osm><node changeset="%d" lat="1" lon="1"/></osm>`, cs)},
		{http.MethodPost, changesetService + "CreateChangeset", "application/json", `{}`},
		{http.MethodPost, changesetService + "CloseChangeset", "application/json", fmt.Sprintf(`{"changesetId":%d}`, cs)},
		{http.MethodPost, reviewService + "Approve", "application/json", fmt.Sprintf(`{"changesetId":%d}`, w.submitted(westLon))},
		{http.MethodPost, reviewService + "ListQueue", "application/json", `{}`},
	} {
		// With the CSRF header too: a page of the web app could send it.
		a := withCookie(c.method, c.path, c.contentType, c.body, "X-CSRF-Token", session.CSRF)
		if a.status != http.StatusUnauthorized {
			t.Errorf("%s %s with only the web session: %d %.200q, want 401", c.method, c.path, a.status, a.body)
		}
	}

	// The web app's own writes need the CSRF header besides the cookie.
	west := w.submitted(westLon)
	approve := fmt.Sprintf("/review/api/changesets/%d/approve", west)
	if a := withCookie(http.MethodPost, approve, "application/json", `{}`); a.status != http.StatusForbidden {
		t.Errorf("POST %s without the CSRF header: %d %s, want 403", approve, a.status, a.body)
	}
	if a := withCookie(http.MethodPost, approve, "application/json", `{}`, "X-CSRF-Token", "not-"+session.CSRF); a.status != http.StatusForbidden {
		t.Errorf("POST %s with a wrong CSRF token: %d %s, want 403", approve, a.status, a.body)
	}
	if a := withCookie(http.MethodPost, approve, "application/json", `{}`, "X-CSRF-Token", session.CSRF); a.status != http.StatusOK {
		t.Errorf("POST %s with the cookie and its CSRF token: %d %s, want 200", approve, a.status, a.body)
	}
	if a := withCookie(http.MethodDelete, "/review/api/session", "", ""); a.status != http.StatusForbidden {
		t.Errorf("sign out without the CSRF header: %d %s, want 403", a.status, a.body)
	}
	checkNoSecretLeaked(t, w)
	// The sign-in answer sets the cookie; the log never shows it.
	for _, v := range values {
		if strings.Contains(w.proc.Log(), v) {
			t.Errorf("the server's log holds the session cookie %.8s…", v)
		}
	}
}
