package osmapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/storage"
)

// GET /api/0.6/user/details and GET /api/0.6/permissions, which
// openstreetmap-website serves (cgimap does not): the layouts of
// app/views/api/users/_user.xml.builder and _user.json.jbuilder for the
// signed-in user, and of app/views/api/permissions/show.*.

// registerAccounts adds the calls about the caller. They need the
// accounts of the store; a Reader without them leaves the calls out.
func (a *API) registerAccounts(mux *http.ServeMux) {
	accounts, ok := a.Reader.(storage.Accounts)
	if !ok && a.edit != nil {
		accounts, ok = a.edit.Store(), true
	}
	if !ok {
		return
	}
	u := userCalls{api: a, accounts: accounts}
	for _, route := range []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"/api/0.6/user/details", u.details},
		{"/api/0.6/permissions", u.permissions},
	} {
		for _, p := range patternVariants(route.pattern) {
			mux.Handle("GET "+p, a.withCORS(route.h))
			for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodOptions} {
				mux.Handle(m+" "+p, http.HandlerFunc(otherMethod))
			}
		}
	}
}

type userCalls struct {
	api      *API
	accounts storage.Accounts
}

// osmRoles are the roles openstreetmap.org lists (user_roles): a
// reviewer judges other people's edits as a moderator does, an admin
// administers.
var osmRoles = map[auth.Role][]string{
	auth.RoleReviewer: {"moderator"},
	auth.RoleAdmin:    {"administrator"},
}

type jsonCount struct {
	Count int `json:"count"`
}

type jsonActiveCount struct {
	Count  int `json:"count"`
	Active int `json:"active"`
}

// jsonUser has the fields of _user.json.jbuilder for the user themself,
// in its order (no avatar, no home location: geocommuns keeps neither).
type jsonUser struct {
	ID               int64  `json:"id"`
	DisplayName      string `json:"display_name"`
	AccountCreated   string `json:"account_created"`
	Description      string `json:"description"`
	ContributorTerms struct {
		Agreed bool `json:"agreed"`
		PD     bool `json:"pd"`
	} `json:"contributor_terms"`
	Roles      []string  `json:"roles"`
	Changesets jsonCount `json:"changesets"`
	Traces     jsonCount `json:"traces"`
	Blocks     struct {
		Received jsonActiveCount  `json:"received"`
		Issued   *jsonActiveCount `json:"issued,omitempty"`
	} `json:"blocks"`
	Languages []string `json:"languages"`
	Messages  struct {
		Received struct {
			Count  int `json:"count"`
			Unread int `json:"unread"`
		} `json:"received"`
		Sent jsonCount `json:"sent"`
	} `json:"messages"`
}

// details is GET /api/0.6/user/details: the signed-in user, 401 for
// anyone else.
func (u userCalls) details(w http.ResponseWriter, r *http.Request) {
	who := auth.FromContext(r.Context())
	if who == nil {
		writeError(w, r, newError(editing.ErrNotAuthenticated))
		return
	}
	acc, err := u.accounts.Account(r.Context(), who.UserID)
	if err != nil {
		u.api.fail(w, r, fmt.Errorf("user details: %w", err))
		return
	}
	count, err := u.accounts.ChangesetCount(r.Context(), who.UserID)
	if err != nil {
		u.api.fail(w, r, fmt.Errorf("user details: %w", err))
		return
	}
	var ju jsonUser
	ju.ID, ju.DisplayName = acc.ID, acc.DisplayName
	ju.AccountCreated = acc.CreatedAt.UTC().Format(time.RFC3339)
	ju.ContributorTerms.Agreed = true
	ju.Roles = osmRoles[auth.Role(acc.Role)]
	if ju.Roles == nil {
		ju.Roles = []string{}
	}
	ju.Changesets.Count = count
	if auth.Role(acc.Role) == auth.RoleReviewer {
		ju.Blocks.Issued = &jsonActiveCount{}
	}
	ju.Languages = []string{}

	body, f, finish, ok := u.api.startReply(w, r, availableFormats, nil)
	if !ok {
		return
	}
	if f == formatJSON {
		err = json.NewEncoder(body).Encode(struct {
			jsonRoot
			User jsonUser `json:"user"`
		}{u.api.jsonRoot(), ju})
	} else {
		err = u.api.writeUserXML(body, ju)
	}
	u.api.finishSmallReply(r, finish, err)
}

func (a *API) writeUserXML(w io.Writer, u jsonUser) error {
	roles := ""
	for _, role := range u.Roles {
		roles += fmt.Sprintf("      <%s/>\n", role)
	}
	issued := ""
	if u.Blocks.Issued != nil {
		issued = fmt.Sprintf("      <issued count=\"%d\" active=\"%d\"/>\n", u.Blocks.Issued.Count, u.Blocks.Issued.Active)
	}
	_, err := fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<osm%s>
  <user id="%d" display_name="%s" account_created="%s">
    <description>%s</description>
    <contributor-terms agreed="%t" pd="%t"/>
    <roles>
%s    </roles>
    <changesets count="%d"/>
    <traces count="%d"/>
    <blocks>
      <received count="%d" active="%d"/>
%s    </blocks>
    <languages>
    </languages>
    <messages>
      <received count="%d" unread="%d"/>
      <sent count="%d"/>
    </messages>
  </user>
</osm>
`, a.rootAttributes(true), u.ID, xmlEscape(u.DisplayName), u.AccountCreated, xmlEscape(u.Description),
		u.ContributorTerms.Agreed, u.ContributorTerms.PD, roles, u.Changesets.Count, u.Traces.Count,
		u.Blocks.Received.Count, u.Blocks.Received.Active, issued,
		u.Messages.Received.Count, u.Messages.Received.Unread, u.Messages.Sent.Count)
	return err
}

// permissions is GET /api/0.6/permissions: what the caller's credential
// grants, as allow_<scope>; nothing for an anonymous caller.
func (u userCalls) permissions(w http.ResponseWriter, r *http.Request) {
	names := []string{}
	if who := auth.FromContext(r.Context()); who != nil {
		for _, s := range who.Scopes {
			names = append(names, "allow_"+s)
		}
	}
	body, f, finish, ok := u.api.startReply(w, r, availableFormats, nil)
	if !ok {
		return
	}
	var err error
	if f == formatJSON {
		err = json.NewEncoder(body).Encode(struct {
			jsonRoot
			Permissions []string `json:"permissions"`
		}{u.api.jsonRoot(), names})
	} else {
		list := ""
		for _, n := range names {
			list += fmt.Sprintf("    <permission name=\"%s\"/>\n", xmlEscape(n))
		}
		_, err = fmt.Fprintf(body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<osm%s>\n  <permissions>\n%s  </permissions>\n</osm>\n",
			u.api.rootAttributes(true), list)
	}
	u.api.finishSmallReply(r, finish, err)
}

// jsonRoot is app/views/api/_root_attributes.json.jbuilder.
type jsonRoot struct {
	Version     string `json:"version"`
	Generator   string `json:"generator"`
	Copyright   string `json:"copyright"`
	Attribution string `json:"attribution"`
	License     string `json:"license"`
}

func (a *API) jsonRoot() jsonRoot {
	h := a.header()
	return jsonRoot{apiVersion, h.Generator, h.Copyright, h.Attribution, h.License}
}

// CredentialsErrorKind is the golden row of a rejection of credentials
// (auth.ErrBadPassword, auth.ErrInvalidToken, …); false for any other
// error, such as a store that could not check them.
func CredentialsErrorKind(err error) (editing.ErrorKind, bool) {
	for _, k := range []struct {
		err  error
		kind errorKind
	}{
		{auth.ErrBadPassword, editing.ErrIncorrectPassword},
		{auth.ErrInvalidToken, editing.ErrInvalidToken},
		{auth.ErrTokenExpired, editing.ErrTokenExpired},
		{auth.ErrTokenRevoked, editing.ErrTokenRevoked},
	} {
		if errors.Is(err, k.err) {
			return k.kind, true
		}
	}
	return 0, false
}

// WriteCredentialsError answers a request whose credentials were
// rejected with openstreetmap.org's 401, or a 500 when they could not be
// checked.
func WriteCredentialsError(w http.ResponseWriter, r *http.Request, err error) {
	corsHeaders(w, r)
	if kind, ok := CredentialsErrorKind(err); ok {
		writeError(w, r, newError(kind))
		return
	}
	writeError(w, r, internalError(err))
}
