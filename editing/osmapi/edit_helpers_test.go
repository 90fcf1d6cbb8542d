package osmapi

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/storage"
)

// The editing tests drive the write calls over real HTTP on both
// backends, with the read test dataset loaded (dataset_test.go). ana and
// bo are accounts of the store and send their API tokens, which the
// accounts middleware resolves; reader stands for an OAuth 2 token
// granted read_prefs only, which takes a whole sign-in to get, so a
// test header puts that identity in the request instead.

const testUserHeader = "X-Test-User"

// The callers; newEditServer sets their user ids to their accounts'.
var (
	ana    = &auth.Identity{DisplayName: "ana", Role: auth.RoleContributor, Scopes: auth.AllScopes}
	bo     = &auth.Identity{DisplayName: "bob", Role: auth.RoleContributor, Scopes: auth.AllScopes}
	reader = &auth.Identity{DisplayName: "reader", Role: auth.RoleContributor, Scopes: []string{"read_prefs"}}
)

var testUsers = map[string]*auth.Identity{"reader": reader}

// anaPassword signs ana in with HTTP Basic.
const anaPassword = "correct horse battery staple"

func withTestIdentity(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := testUsers[r.Header.Get(testUserHeader)]; id != nil {
			r = r.WithContext(auth.WithIdentity(r.Context(), id))
		}
		next.ServeHTTP(w, r)
	})
}

// editServer is an API over one store, served over HTTP.
type editServer struct {
	t      *testing.T
	store  storage.Store
	srv    *httptest.Server
	tokens map[string]string // API token by display name
}

func newEditServer(t *testing.T, b backend, configure func(*API)) *editServer {
	t.Helper()
	store := b.open(t)
	loadDataset(t, store)
	tokens := map[string]string{}
	for _, id := range []*auth.Identity{ana, bo, reader} {
		password := ""
		if id == ana {
			password = anaPassword
		}
		acc, token, err := auth.AddUser(t.Context(), store, auth.NewUser{Name: id.DisplayName, Role: id.Role, Password: password})
		if err != nil {
			t.Fatalf("add user %s: %v", id.DisplayName, err)
		}
		id.UserID = acc.ID
		if id != reader {
			tokens[id.DisplayName] = token
		}
	}
	a := &API{Reader: store}
	if configure != nil {
		configure(a)
	}
	authn := &auth.Authenticator{Accounts: store}
	srv := httptest.NewServer(AnyOrigin.Handler(withTestIdentity(authn.Middleware(newMux(a), WriteCredentialsError))))
	t.Cleanup(srv.Close)
	return &editServer{t: t, store: store, srv: srv, tokens: tokens}
}

// answer is an answer as a client sees it.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (r answer) String() string { return fmt.Sprintf("%d %q", r.status, r.body) }

// call makes a request as who (nil: anonymous) with body and headers
// given as name, value pairs.
func (s *editServer) call(who *auth.Identity, method, path string, body []byte, headers ...string) answer {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if token, ok := s.tokens[nameOf(who)]; ok {
		req.Header.Set("Authorization", "Bearer "+token)
	} else if who != nil {
		req.Header.Set(testUserHeader, who.DisplayName)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}
}

// nameOf is who's display name, "" for an anonymous caller.
func nameOf(who *auth.Identity) string {
	if who == nil {
		return ""
	}
	return who.DisplayName
}

// openChangeset opens a changeset for who and returns its id.
func (s *editServer) openChangeset(who *auth.Identity, tags ...string) int64 {
	s.t.Helper()
	var b strings.Builder
	b.WriteString("<osm><changeset>")
	for i := 0; i+1 < len(tags); i += 2 {
		fmt.Fprintf(&b, `<tag k="%s" v="%s"/>`, tags[i], tags[i+1])
	}
	b.WriteString("</changeset></osm>")
	r := s.call(who, http.MethodPut, "/api/0.6/changeset/create", []byte(b.String()), "Content-Type", "text/xml")
	if r.status != http.StatusOK {
		s.t.Fatalf("create changeset: %s", r)
	}
	id, err := strconv.ParseInt(string(r.body), 10, 64)
	if err != nil {
		s.t.Fatalf("create changeset answered %q", r.body)
	}
	return id
}

// upload posts an osmChange document; %d in it is the changeset id.
func (s *editServer) upload(who *auth.Identity, cs int64, osc string, headers ...string) answer {
	s.t.Helper()
	body := strings.ReplaceAll(osc, "%d", strconv.FormatInt(cs, 10))
	return s.call(who, http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/upload", cs), []byte(body), headers...)
}

// mustUpload uploads and returns the diffResult.
func (s *editServer) mustUpload(who *auth.Identity, cs int64, osc string) []diffLine {
	s.t.Helper()
	r := s.upload(who, cs, osc)
	if r.status != http.StatusOK {
		s.t.Fatalf("upload to changeset %d: %s", cs, r)
	}
	return parseDiffResult(s.t, r.body)
}

// diffLine is one child of a diffResult, as clients read it.
type diffLine struct {
	Type       string
	OldID      int64
	NewID      string // "" when absent
	NewVersion string // "" when absent
}

func parseDiffResult(t *testing.T, body []byte) []diffLine {
	t.Helper()
	var doc struct {
		XMLName  xml.Name
		Children []struct {
			XMLName    xml.Name
			OldID      int64  `xml:"old_id,attr"`
			NewID      string `xml:"new_id,attr"`
			NewVersion string `xml:"new_version,attr"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("parse diffResult: %v\n%s", err, body)
	}
	if doc.XMLName.Local != "diffResult" {
		t.Fatalf("root %q, want diffResult", doc.XMLName.Local)
	}
	lines := []diffLine{}
	for _, c := range doc.Children {
		lines = append(lines, diffLine{c.XMLName.Local, c.OldID, c.NewID, c.NewVersion})
	}
	return lines
}

// newID is the new id of a diffResult line.
func newID(t *testing.T, l diffLine) int64 {
	t.Helper()
	id, err := strconv.ParseInt(l.NewID, 10, 64)
	if err != nil {
		t.Fatalf("diffResult line %+v has no new_id", l)
	}
	return id
}

func gzipped(t *testing.T, data string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// get reads path as who and returns the elements of the document.
func (s *editServer) get(who *auth.Identity, path string) (answer, parsedDoc) {
	s.t.Helper()
	r := s.call(who, http.MethodGet, path, nil)
	if r.status != http.StatusOK {
		return r, parsedDoc{}
	}
	if strings.Contains(path, ".json") {
		return r, parseJSONDoc(s.t, r.body)
	}
	return r, parseXMLDoc(s.t, r.body)
}
