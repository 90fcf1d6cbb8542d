package oauth

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ory/fosite"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/storage"
)

// The flow in a browser: the editor sends the user to
// /oauth2/authorize; fosite checks the client, redirect URI, scopes and
// PKCE parameters; a browser not signed in is sent to /oauth2/sign_in and
// back; the consent page lists the scopes; allowing issues the code
// (fosite) and redirects to the client.

// authorize is GET (show the consent page) and POST (the user's decision)
// of /oauth2/authorize.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var decision, formCSRF string
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "malformed form", http.StatusBadRequest)
			return
		}
		decision, formCSRF = r.PostForm.Get("decision"), r.PostForm.Get("csrf_token")
		// fosite reads the authorization request from r.Form: the query
		// only, as on the GET that showed the page, so that nothing the
		// page posted is taken for a request parameter or stored.
		r.Form, r.PostForm = r.URL.Query(), url.Values{}
	}
	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		s.logFailure(r, err)
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	// fosite checks PKCE when it issues the code, after consent; a public
	// client's request without it is refused before the user is asked
	// anything.
	if err := requirePKCE(ar); err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	acc, err := s.signedInAccount(r)
	if errors.Is(err, storage.ErrNotFound) {
		http.Redirect(w, r, "/oauth2/sign_in?"+url.Values{"return_to": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if r.Method == http.MethodGet {
		s.showConsent(w, r, ar, acc)
		return
	}
	if err := s.checkCSRF(r, formCSRF); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	if decision != "allow" {
		s.provider.WriteAuthorizeError(ctx, w, ar, fosite.ErrAccessDenied.WithHint("The user refused the application access."))
		return
	}
	// Consent is to every scope asked, as on openstreetmap.org; fosite
	// has checked that the client may ask for them.
	for _, scope := range ar.GetRequestedScopes() {
		ar.GrantScope(scope)
	}
	session := &fosite.DefaultSession{Subject: strconv.FormatInt(acc.ID, 10), Username: acc.DisplayName}
	resp, err := s.provider.NewAuthorizeResponse(ctx, ar, session)
	if err != nil {
		s.logFailure(r, err)
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// requirePKCE refuses a public client's authorization request without an
// S256 code challenge, as fosite's PKCE handler would.
func requirePKCE(ar fosite.AuthorizeRequester) error {
	if !ar.GetClient().IsPublic() {
		return nil
	}
	form := ar.GetRequestForm()
	if form.Get("code_challenge") == "" {
		return fosite.ErrInvalidRequest.WithHint("Clients must include a code_challenge when performing the authorize code flow, but it is missing.")
	}
	if form.Get("code_challenge_method") != "S256" {
		return fosite.ErrInvalidRequest.WithHint("Clients must use code_challenge_method=S256.")
	}
	return nil
}

type scopeLine struct{ Name, Description string }

func (s *Server) showConsent(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, acc storage.Account) {
	token, err := s.csrfToken(w, r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	client, err := s.accounts.OAuthClient(r.Context(), ar.GetClient().GetID())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var scopes []scopeLine
	for _, sc := range ar.GetRequestedScopes() {
		desc := auth.ScopeDescriptions[sc]
		if desc == "" {
			desc = sc
		}
		scopes = append(scopes, scopeLine{sc, desc})
	}
	s.render(w, consentPage, map[string]any{
		"Client": client.Name, "User": acc.DisplayName, "Scopes": scopes,
		"Action": r.URL.RequestURI(), "CSRF": token,
	})
}

// signInPage is the sign-in form.
func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) {
	s.showSignIn(w, r, http.StatusOK, "", "")
}

func (s *Server) showSignIn(w http.ResponseWriter, r *http.Request, status int, name, problem string) {
	token, err := s.csrfToken(w, r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.renderStatus(w, status, signInPage, map[string]any{
		"ReturnTo": returnTo(r), "CSRF": token, "Name": name, "Problem": problem,
	})
}

// returnTo is where to go after signing in: an authorization request of
// this server, and nowhere else (no open redirect).
func returnTo(r *http.Request) string {
	v := r.FormValue("return_to")
	if !strings.HasPrefix(v, "/oauth2/authorize?") {
		return ""
	}
	return v
}

// signIn checks the user name and password. The password goes nowhere but
// the hash comparison: the form posts here, not to /oauth2/authorize, so
// it never enters an authorization request.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	if err := s.checkCSRF(r, r.PostForm.Get("csrf_token")); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	name, password := r.PostForm.Get("username"), r.PostForm.Get("password")
	// The API's own check: the same argon2id comparison, the same answer
	// for an unknown name and a wrong password.
	id, err := (&auth.Authenticator{Accounts: s.accounts}).SignIn(r.Context(), name, password)
	if errors.Is(err, auth.ErrBadPassword) {
		s.showSignIn(w, r, http.StatusUnauthorized, name, "Sorry, could not log in with those details.")
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.startSession(w, r, id.UserID); err != nil {
		s.serverError(w, r, err)
		return
	}
	next := returnTo(r)
	if next == "" {
		s.render(w, signedInPage, map[string]any{"User": id.DisplayName})
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signOut ends the browser's session.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	if err := s.checkCSRF(r, r.PostForm.Get("csrf_token")); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	if err := s.endSession(w, r); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/oauth2/sign_in", http.StatusSeeOther)
}

func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Logger.Error("sign-in page failed", "path", r.URL.Path, "err", err)
	http.Error(w, "Internal server error; the server's log has the details.", http.StatusInternalServerError)
}

func (s *Server) render(w http.ResponseWriter, page *template.Template, data map[string]any) {
	s.renderStatus(w, http.StatusOK, page, data)
}

func (s *Server) renderStatus(w http.ResponseWriter, status int, page *template.Template, data map[string]any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// No other site may frame these pages (clickjacking the consent).
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := page.Execute(w, data); err != nil {
		s.cfg.Logger.Info("page cut short", "err", err)
	}
}

const pageHead = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{block "title" .}}geocommuns{{end}}</title>
<style>body{font-family:sans-serif;max-width:28em;margin:3em auto;padding:0 1em}label{display:block;margin:.8em 0}
input[type=text],input[type=password]{width:100%;padding:.4em}button{padding:.5em 1.2em;margin-right:.5em}
.problem{color:#a00}</style></head><body>`

var signInPage = template.Must(template.New("sign_in").Parse(pageHead + `
<h1>Sign in to geocommuns</h1>
{{if .Problem}}<p class="problem">{{.Problem}}</p>{{end}}
<form method="post" action="/oauth2/sign_in">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<input type="hidden" name="return_to" value="{{.ReturnTo}}">
<label>User name <input type="text" name="username" value="{{.Name}}" autocomplete="username" autofocus required></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form></body></html>`))

var consentPage = template.Must(template.New("consent").Parse(pageHead + `
<h1>Authorize access to your account</h1>
<p><strong>{{.Client}}</strong> asks to act as <strong>{{.User}}</strong>. It will be able to:</p>
<ul>{{range .Scopes}}<li>{{.Description}} ({{.Name}})</li>{{end}}</ul>
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<button type="submit" name="decision" value="allow">Authorize</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></body></html>`))

var signedInPage = template.Must(template.New("signed_in").Parse(pageHead + `
<h1>Signed in</h1><p>You are signed in as <strong>{{.User}}</strong>.</p></body></html>`))
