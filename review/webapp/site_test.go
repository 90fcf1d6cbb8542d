package webapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/review"
	gcserver "github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// The web app's server side over real HTTP, served by the real server
// wiring (gcserver.New, its authentication middleware and merge job) on
// both backends.

var backends = []struct {
	name string
	open func(t *testing.T) storage.Store
}{
	{"sqlite", func(t *testing.T) storage.Store {
		s, err := sqlite.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t *testing.T) storage.Store { return pgtest.Open(t, pgtest.Config(t)) }},
}

// place is the imported neighbourhood: a street (way 10 on nodes 1 and
// 2), a bench (node 3) and a waste basket (node 4), in Paris.
const place = `<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="webapp test">
 <node id="1" version="1" changeset="1" timestamp="2024-01-01T00:00:00Z" user="mapper" uid="1" lat="48.8500000" lon="2.3500000"/>
 <node id="2" version="1" changeset="1" timestamp="2024-01-01T00:00:00Z" user="mapper" uid="1" lat="48.8500000" lon="2.3510000"/>
 <node id="3" version="1" changeset="1" timestamp="2024-01-01T00:00:00Z" user="mapper" uid="1" lat="48.8504000" lon="2.3505000">
  <tag k="amenity" v="bench"/>
 </node>
 <node id="4" version="1" changeset="1" timestamp="2024-01-01T00:00:00Z" user="mapper" uid="1" lat="48.8506000" lon="2.3507000">
  <tag k="amenity" v="waste_basket"/>
 </node>
 <way id="10" version="1" changeset="1" timestamp="2024-01-01T00:00:00Z" user="mapper" uid="1">
  <nd ref="1"/><nd ref="2"/>
  <tag k="highway" v="residential"/><tag k="name" v="Rue d'Essai"/>
 </way>
</osm>
`

const apiPassword = "correct horse battery staple"

// site is one served dataset and its accounts.
type apiSite struct {
	t     *testing.T
	base  string
	store storage.Store
	uids  map[string]int64
}

// logBuffer is a log sink the server writes from many goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newAPISite imports the place, adds the accounts (all with apiPassword as password) and
// serves the dataset with its jobs running, so that approvals merge.
func newAPISite(t *testing.T, store storage.Store, cfg gcserver.Config, accounts map[string]auth.Role) *apiSite {
	t.Helper()
	path := filepath.Join(t.TempDir(), "place.osm")
	if err := os.WriteFile(path, []byte(place), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := osmfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := store.Import(context.Background(), f); err != nil {
		t.Fatalf("import the place: %v", err)
	}
	s := &apiSite{t: t, store: store, uids: map[string]int64{}}
	for name, role := range accounts {
		acc, _, err := auth.AddUser(context.Background(), store, auth.NewUser{Name: name, Role: role, Password: apiPassword})
		if err != nil {
			t.Fatalf("add %s: %v", name, err)
		}
		s.uids[name] = acc.ID
	}
	if cfg.MergePoll == 0 {
		cfg.MergePoll = 200 * time.Millisecond
	}
	if cfg.Review == nil {
		cfg.Review = review.DefaultConfig()
	}
	logs := &logBuffer{}
	srv := gcserver.New(cfg, store, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
		if t.Failed() {
			t.Logf("server warnings and errors:\n%s", logs)
		}
	})
	s.base = "http://" + ln.Addr().String()
	return s
}

// osm makes an OSM API call with who's password ("" for anonymous).
func (s *apiSite) osm(who, method, path, body string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if who != "" {
		req.SetBasicAuth(who, apiPassword)
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/xml")
	}
	return do(s.t, http.DefaultClient, req)
}

func do(t *testing.T, client *http.Client, req *http.Request) (int, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

type diffResult struct {
	Entries []struct {
		XMLName xml.Name
		OldID   int64 `xml:"old_id,attr"`
		NewID   int64 `xml:"new_id,attr"`
	} `xml:",any"`
}

// submit opens a changeset for who, uploads osc (%d: the changeset id),
// closes it, and returns the changeset and the new id of each
// placeholder id ("node/-1": 123).
func (s *apiSite) submit(who, comment, osc string) (int64, map[string]int64) {
	s.t.Helper()
	status, body := s.osm(who, http.MethodPut, "/api/0.6/changeset/create",
		`<osm><changeset><tag k="comment" v="`+comment+`"/></changeset></osm>`)
	if status != http.StatusOK {
		s.t.Fatalf("create changeset: %d %s", status, body)
	}
	id, err := strconv.ParseInt(body, 10, 64)
	if err != nil {
		s.t.Fatalf("create changeset answered %q", body)
	}
	status, body = s.osm(who, http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/upload", id),
		strings.ReplaceAll(osc, "%d", strconv.FormatInt(id, 10)))
	if status != http.StatusOK {
		s.t.Fatalf("upload to changeset %d: %d %s", id, status, body)
	}
	var res diffResult
	if err := xml.Unmarshal([]byte(body), &res); err != nil {
		s.t.Fatalf("diffResult %q: %v", body, err)
	}
	ids := map[string]int64{}
	for _, e := range res.Entries {
		ids[fmt.Sprintf("%s/%d", e.XMLName.Local, e.OldID)] = e.NewID
	}
	if status, body := s.osm(who, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", id), ""); status != http.StatusOK {
		s.t.Fatalf("close changeset %d: %d %s", id, status, body)
	}
	return id, ids
}

// browser is one person's browser on the web app: its cookie jar, and
// the CSRF token its page read from the sign-in.
type webClient struct {
	t      *testing.T
	base   string
	client *http.Client
	csrf   string
}

func (s *apiSite) browser() *webClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return &webClient{t: s.t, base: s.base, client: &http.Client{Jar: jar}}
}

type meJSON struct {
	UID  int64  `json:"uid"`
	User string `json:"user"`
	Role string `json:"role"`
	CSRF string `json:"csrf"`
}

// signIn posts the sign-in form's JSON and keeps the CSRF token of a
// successful one.
func (b *webClient) signIn(user, pw string) (*http.Response, meJSON) {
	b.t.Helper()
	body, _ := json.Marshal(map[string]string{"user": user, "password": pw})
	req, err := http.NewRequest(http.MethodPost, b.base+"/review/api/session", bytes.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m meJSON
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			b.t.Fatalf("sign-in answer: %v", err)
		}
		b.csrf = m.CSRF
	}
	return resp, m
}

func (b *webClient) mustSignIn(user string) meJSON {
	b.t.Helper()
	resp, m := b.signIn(user, apiPassword)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("%s signs in: %d", user, resp.StatusCode)
	}
	return m
}

// call makes a request of the page: JSON body when body is not nil, the
// session's CSRF header when csrf is not "".
func (b *webClient) call(method, path string, body any, csrf string) (int, []byte) {
	b.t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			b.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, b.base+path, r)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	status, text := do(b.t, b.client, req)
	return status, []byte(text)
}

// get reads a JSON route into v, failing on any status but 200.
func (b *webClient) get(path string, v any) {
	b.t.Helper()
	status, body := b.call(http.MethodGet, path, nil, "")
	if status != http.StatusOK {
		b.t.Fatalf("GET %s: %d %s", path, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		b.t.Fatalf("GET %s: %v in %s", path, err, body)
	}
}

// post sends a state-changing request with the session's CSRF token.
func (b *webClient) post(path string, body any) (int, []byte) {
	b.t.Helper()
	return b.call(http.MethodPost, path, body, b.csrf)
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// in is the site as test t uses it: failures end t, not its parent.
func (s *apiSite) in(t *testing.T) *apiSite {
	c := *s
	c.t = t
	return &c
}

// in is the browser as test t uses it.
func (b *webClient) in(t *testing.T) *webClient {
	c := *b
	c.t = t
	return &c
}
