package webapp_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/auth/oauth"
	gcserver "github.com/geocommuns/geocommuns/server"
)

type feature struct {
	Type     string `json:"type"`
	Geometry *struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
		Geometries  json.RawMessage `json:"geometries"`
	} `json:"geometry"`
	Properties struct {
		Key     string            `json:"key"`
		Version int               `json:"version"`
		Tags    map[string]string `json:"tags"`
		Side    string            `json:"side"`
	} `json:"properties"`
}

func (f *feature) point(t *testing.T) [2]float64 {
	t.Helper()
	var p [2]float64
	if f == nil || f.Geometry == nil || f.Geometry.Type != "Point" || json.Unmarshal(f.Geometry.Coordinates, &p) != nil {
		t.Fatalf("feature %+v is no Point", f)
	}
	return p
}

func (f *feature) line(t *testing.T) [][2]float64 {
	t.Helper()
	var l [][2]float64
	if f == nil || f.Geometry == nil || f.Geometry.Type != "LineString" || json.Unmarshal(f.Geometry.Coordinates, &l) != nil {
		t.Fatalf("feature %+v is no LineString", f)
	}
	return l
}

type detail struct {
	Changeset struct {
		ID    int64      `json:"id"`
		UID   int64      `json:"uid"`
		State string     `json:"state"`
		BBox  []float64  `json:"bbox"`
		Tags  tagsByName `json:"tags"`
	} `json:"changeset"`
	Scopes []struct {
		Scope      string   `json:"scope"`
		ApprovedBy []string `json:"approved_by"`
	} `json:"scopes"`
	Elements []struct {
		Key     string   `json:"key"`
		Action  string   `json:"action"`
		Old     *feature `json:"old"`
		New     *feature `json:"new"`
		Current *feature `json:"current"`
		Tags    []struct {
			Key string  `json:"key"`
			Old *string `json:"old"`
			New *string `json:"new"`
		} `json:"tags"`
	} `json:"elements"`
	Context struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	} `json:"context"`
	Events []struct {
		Kind    string `json:"kind"`
		Actor   string `json:"actor"`
		Comment string `json:"comment"`
		State   string `json:"state"`
	} `json:"events"`
	CanDecide bool `json:"can_decide"`
	IsAuthor  bool `json:"is_author"`
}

type tagsByName map[string]string

type queue struct {
	Items []struct {
		ID      int64    `json:"id"`
		UID     int64    `json:"uid"`
		Comment string   `json:"comment"`
		State   string   `json:"state"`
		Scopes  []string `json:"scopes"`
		Mine    bool     `json:"mine"`
		Changes int      `json:"changes"`
	} `json:"items"`
	Counts map[string]int `json:"counts"`
}

func (q queue) ids() []int64 {
	var out []int64
	for _, it := range q.Items {
		out = append(out, it.ID)
	}
	return out
}

// waitValidated waits until the policy has validated changeset id and
// recorded the scopes a reviewer decides for (the merge job does so after
// the submission commits).
func waitValidated(t *testing.T, b *webClient, id int64) detail {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var d detail
		b.get(fmt.Sprintf("/review/api/changesets/%d", id), &d)
		if len(d.Scopes) > 0 {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("changeset %d was not validated within 20 s", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func near(a, b [2]float64) bool { return math.Abs(a[0]-b[0]) < 1e-7 && math.Abs(a[1]-b[1]) < 1e-7 }

// theEdit creates a footpath of two new nodes, moves the bench and adds
// a tag to it, and deletes the waste basket.
const theEdit = `<osmChange version="0.6">
<create>
 <node id="-1" changeset="%d" lat="48.8501" lon="2.3501"/>
 <node id="-2" changeset="%d" lat="48.8502" lon="2.3503"/>
 <way id="-3" changeset="%d"><nd ref="-1"/><nd ref="-2"/><tag k="highway" v="footway"/></way>
</create>
<modify>
 <node id="3" version="1" changeset="%d" lat="48.8505" lon="2.3506"><tag k="amenity" v="bench"/><tag k="backrest" v="yes"/></node>
</modify>
<delete>
 <node id="4" version="1" changeset="%d" lat="48.8506" lon="2.3507"/>
</delete>
</osmChange>`

func TestWebapp(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := newAPISite(t, b.open(t), gcserver.Config{}, map[string]auth.Role{
				"alice": auth.RoleContributor, "carl": auth.RoleContributor, "rita": auth.RoleReviewer,
			})
			edit, ids := s.submit("alice", "footpath to the bench", theEdit)
			second, _ := s.submit("alice", "a second bench", `<osmChange version="0.6"><create>
				<node id="-1" changeset="%d" lat="48.8503" lon="2.3502"><tag k="amenity" v="bench"/></node></create></osmChange>`)
			partial, partialIDs := s.submit("alice", "a route and a post box", `<osmChange version="0.6"><create>
				<node id="-1" changeset="%d" lat="48.8501" lon="2.3509"><tag k="amenity" v="post_box"/></node>
				<relation id="-2" changeset="%d"><member type="way" ref="10" role=""/><member type="node" ref="1" role="stop"/>
					<tag k="type" v="route"/><tag k="route" v="bus"/></relation></create></osmChange>`)
			carls, _ := s.submit("carl", "a tree", `<osmChange version="0.6"><create>
				<node id="-1" changeset="%d" lat="48.8502" lon="2.3508"><tag k="natural" v="tree"/></node></create></osmChange>`)

			rita := s.browser()
			if m := rita.mustSignIn("rita"); m.UID != s.uids["rita"] || m.User != "rita" || m.Role != "reviewer" || m.CSRF == "" {
				t.Fatalf("rita's sign-in answered %+v", m)
			}
			for _, id := range []int64{edit, second, partial, carls} {
				waitValidated(t, rita, id)
			}

			t.Run("sign-in", func(t *testing.T) { testSignIn(t, s) })
			t.Run("csrf", func(t *testing.T) { testCSRF(t, s, edit) })
			t.Run("cookie only for the web app", func(t *testing.T) { testCookieRefusedElsewhere(t, s) })
			t.Run("queue", func(t *testing.T) { testQueue(t, s, rita, edit, second, partial, carls) })
			t.Run("detail", func(t *testing.T) { testDetail(t, s, rita, edit, ids) })
			t.Run("contributors", func(t *testing.T) { testContributorsOwnOnly(t, s, edit, carls) })
			t.Run("reject", func(t *testing.T) { testReject(t, s, rita, second) })
			t.Run("partial", func(t *testing.T) { testPartial(t, s, rita, partial, partialIDs) })
			t.Run("approve", func(t *testing.T) { testApprove(t, s, rita, edit, ids) })
			t.Run("sign-out", func(t *testing.T) { testSignOut(t, s) })
		})
	}
}

func testSignIn(t *testing.T, s *apiSite) {
	s = s.in(t)
	b := s.browser()
	if resp, _ := b.signIn("alice", "wrong password"); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("a wrong apiPassword: %d with cookies %v, want 401 and none", resp.StatusCode, resp.Cookies())
	}
	if resp, _ := b.signIn("nobody", apiPassword); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an unknown user: %d, want 401", resp.StatusCode)
	}
	if status, _ := b.call(http.MethodGet, "/review/api/me", nil, ""); status != http.StatusUnauthorized {
		t.Errorf("me without a session: %d, want 401", status)
	}
	if status, _ := b.call(http.MethodGet, "/review/api/queue", nil, ""); status != http.StatusUnauthorized {
		t.Errorf("the queue without a session: %d, want 401", status)
	}

	resp, m := b.signIn("alice", apiPassword)
	if resp.StatusCode != http.StatusOK || m.UID != s.uids["alice"] || m.Role != "contributor" {
		t.Fatalf("alice's sign-in: %d %+v", resp.StatusCode, m)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		cookie = c
	}
	if cookie == nil {
		t.Fatal("the sign-in set no cookie")
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/review" || cookie.Secure ||
		cookie.MaxAge < 3600 || cookie.MaxAge > 24*3600 {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/review, not Secure on plain HTTP, a lifetime of hours", cookie)
	}
	var again meJSON
	b.get("/review/api/me", &again)
	if again != m {
		t.Errorf("me: %+v, want what the sign-in said: %+v", again, m)
	}

	// A cookie forged from a valid one with another user id is no session.
	forged := s.browser()
	u := mustURL(t, s.base+"/review/")
	parts := strings.SplitN(cookie.Value, ".", 2)
	forged.client.Jar.SetCookies(u, []*http.Cookie{{Name: cookie.Name, Value: fmt.Sprint(s.uids["rita"]) + "." + parts[1], Path: "/review"}})
	if status, _ := forged.call(http.MethodGet, "/review/api/me", nil, ""); status != http.StatusUnauthorized {
		t.Errorf("me with a cookie whose user id was changed: %d, want 401", status)
	}

	var cfg map[string]string
	b.get("/review/api/config", &cfg)
	if cfg["basemap"] != "" {
		t.Errorf("config: %v, want no basemap when none is configured", cfg)
	}
}

// TestSecureCookiesAndBasemap: a server behind a TLS proxy marks the
// cookie Secure, and the page reads the basemap it was given.
func TestSecureCookiesAndBasemap(t *testing.T) {
	const tiles = "https://data.geopf.fr/wmts?layer=ORTHOIMAGERY&TileMatrix={z}&TileCol={x}&TileRow={y}"
	s := newAPISite(t, backends[0].open(t), gcserver.Config{
		OAuth:  oauth.Config{SecureCookies: true},
		Webapp: gcserver.WebappConfig{Basemap: tiles, Attribution: "IGN"},
	}, map[string]auth.Role{"rita": auth.RoleReviewer})
	b := s.browser()
	resp, _ := b.signIn("rita", apiPassword)
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 1 || !resp.Cookies()[0].Secure {
		t.Fatalf("sign-in behind TLS: %d %v, want a Secure cookie", resp.StatusCode, resp.Cookies())
	}
	// The jar keeps Secure cookies from plain HTTP; send it by hand.
	req, _ := http.NewRequest(http.MethodGet, s.base+"/review/api/config", nil)
	req.AddCookie(resp.Cookies()[0])
	status, body := do(t, http.DefaultClient, req)
	var cfg map[string]string
	if status != http.StatusOK || json.Unmarshal([]byte(body), &cfg) != nil || cfg["basemap"] != tiles || cfg["attribution"] != "IGN" {
		t.Errorf("config: %d %s, want the basemap %s credited to IGN", status, body, tiles)
	}

	// The pages may fetch and draw the basemap's tiles, from its origin
	// only; a server without a basemap names no origin but its own.
	checkPolicy(t, s.base, "https://data.geopf.fr")
	plain := newAPISite(t, backends[0].open(t), gcserver.Config{}, map[string]auth.Role{"rita": auth.RoleReviewer})
	checkPolicy(t, plain.base, "")
}

// checkPolicy checks the Content-Security-Policy of the page: scripts and styles from the server alone, tiles (images and
// fetches) from the server and tileOrigin.
func checkPolicy(t *testing.T, base, tileOrigin string) {
	t.Helper()
	tiles := ""
	if tileOrigin != "" {
		tiles = " " + tileOrigin
	}
	want := map[string]string{
		"default-src":     "'none'",
		"script-src":      "'self'",
		"style-src":       "'self'",
		"img-src":         "'self' data: blob:" + tiles,
		"connect-src":     "'self'" + tiles,
		"worker-src":      "blob:",
		"frame-ancestors": "'none'",
		"base-uri":        "'none'",
	}
	for _, path := range []string{"/review/"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		directives := map[string]string{}
		for _, d := range strings.Split(resp.Header.Get("Content-Security-Policy"), ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
			directives[name] = value
		}
		for name, value := range want {
			if directives[name] != value {
				t.Errorf("GET %s: Content-Security-Policy %s %q, want %q (policy %q)", path, name, directives[name], value,
					resp.Header.Get("Content-Security-Policy"))
			}
		}
	}
}

func testCSRF(t *testing.T, s *apiSite, edit int64) {
	s = s.in(t)
	b := s.browser()
	b.mustSignIn("carl")
	path := fmt.Sprintf("/review/api/changesets/%d/comment", edit)
	if status, _ := b.call(http.MethodPost, path, map[string]string{"text": "no token"}, ""); status != http.StatusForbidden {
		t.Errorf("a comment without the CSRF header: %d, want 403", status)
	}
	if status, _ := b.call(http.MethodPost, path, map[string]string{"text": "wrong token"}, b.csrf+"x"); status != http.StatusForbidden {
		t.Errorf("a comment with a wrong CSRF header: %d, want 403", status)
	}
	other := s.browser()
	other.mustSignIn("alice")
	if status, _ := b.call(http.MethodPost, path, map[string]string{"text": "another session's token"}, other.csrf); status != http.StatusForbidden {
		t.Errorf("a comment with another session's CSRF token: %d, want 403", status)
	}
	if status, _ := b.call(http.MethodDelete, "/review/api/session", nil, ""); status != http.StatusForbidden {
		t.Errorf("sign-out without the CSRF header: %d, want 403", status)
	}
	if status, _ := b.call(http.MethodGet, "/review/api/me", nil, ""); status != http.StatusOK {
		t.Errorf("me after a refused sign-out: %d, want still signed in", status)
	}
	// A request the browser marks as coming from another site is refused
	// even with the token.
	req, _ := http.NewRequest(http.MethodPost, s.base+path, strings.NewReader(`{"text":"cross-site"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if status, _ := do(t, b.client, req); status != http.StatusForbidden {
		t.Errorf("a cross-site comment: %d, want 403", status)
	}
	if status, body := b.post(path, map[string]string{"text": "with the token"}); status != http.StatusOK {
		t.Errorf("a comment with the CSRF header: %d %s, want 200", status, body)
	}
}

// testCookieRefusedElsewhere: the web session authorizes /review/api
// only; the OSM API and Connect take the same user's apiPassword, never the
// cookie.
func testCookieRefusedElsewhere(t *testing.T, s *apiSite) {
	s = s.in(t)
	b := s.browser()
	b.mustSignIn("rita")
	// The jar sends cookies by path: hand the session to every path, as a
	// browser would if the cookie's Path did not fence it in.
	var session *http.Cookie
	for _, c := range b.client.Jar.Cookies(mustURL(t, s.base+"/review/api/me")) {
		session = &http.Cookie{Name: c.Name, Value: c.Value}
	}
	if session == nil {
		t.Fatal("no session cookie in the jar")
	}
	create := func(withCookie, withPassword bool) int {
		req, _ := http.NewRequest(http.MethodPut, s.base+"/api/0.6/changeset/create",
			strings.NewReader(`<osm><changeset><tag k="comment" v="cookie"/></changeset></osm>`))
		req.Header.Set("Content-Type", "text/xml")
		if withCookie {
			req.AddCookie(session)
		}
		if withPassword {
			req.SetBasicAuth("rita", apiPassword)
		}
		status, _ := do(t, http.DefaultClient, req)
		return status
	}
	if status := create(true, false); status != http.StatusUnauthorized {
		t.Errorf("changeset/create with the web session only: %d, want 401", status)
	}
	if status := create(false, true); status != http.StatusOK {
		t.Errorf("changeset/create with rita's apiPassword: %d, want 200", status)
	}
	listQueue := func(withCookie, withPassword bool) int {
		req, _ := http.NewRequest(http.MethodPost, s.base+"/geocommuns.v1.ReviewService/ListQueue", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		if withCookie {
			req.AddCookie(session)
		}
		if withPassword {
			req.SetBasicAuth("rita", apiPassword)
		}
		status, _ := do(t, http.DefaultClient, req)
		return status
	}
	if status := listQueue(true, false); status != http.StatusUnauthorized {
		t.Errorf("ReviewService/ListQueue with the web session only: %d, want 401", status)
	}
	if status := listQueue(false, true); status != http.StatusOK {
		t.Errorf("ReviewService/ListQueue with rita's apiPassword: %d, want 200", status)
	}
}

func testQueue(t *testing.T, s *apiSite, rita *webClient, edit, second, partial, carls int64) {
	s = s.in(t)
	rita = rita.in(t)
	var q queue
	rita.get("/review/api/queue", &q)
	if got := q.ids(); len(got) != 4 || !slices.Contains(got, edit) || !slices.Contains(got, second) || !slices.Contains(got, partial) || !slices.Contains(got, carls) {
		t.Fatalf("rita's queue: %v, want the four submitted changesets %d, %d, %d, %d", got, edit, second, partial, carls)
	}
	if q.Counts["submitted"] != 4 {
		t.Errorf("queue counts: %v, want 4 submitted", q.Counts)
	}
	for _, it := range q.Items {
		if it.State != "submitted" || !it.Mine || len(it.Scopes) == 0 {
			t.Errorf("queue item %+v: want submitted, needing rita's scope", it)
		}
		if it.ID == edit && (it.Comment != "footpath to the bench" || it.UID != s.uids["alice"] || it.Changes != 5) {
			t.Errorf("queue item of the edit: %+v, want alice's comment and 5 changes", it)
		}
	}
	rita.get(fmt.Sprintf("/review/api/queue?contributor=%d", s.uids["carl"]), &q)
	if got := q.ids(); !slices.Equal(got, []int64{carls}) {
		t.Errorf("queue of carl's changesets: %v, want [%d]", got, carls)
	}
	rita.get("/review/api/queue?state=rejected", &q)
	if len(q.Items) != 0 {
		t.Errorf("rejected changesets before any rejection: %v", q.ids())
	}
	rita.get("/review/api/queue?tag=natural=tree", &q)
	if got := q.ids(); !slices.Equal(got, []int64{carls}) {
		t.Errorf("queue of changesets touching natural=tree: %v, want [%d]", got, carls)
	}
	rita.get("/review/api/queue?bbox=2.35075,48.85015,2.35085,48.85025", &q)
	if got := q.ids(); !slices.Equal(got, []int64{carls}) {
		t.Errorf("queue of changesets around the tree: %v, want [%d]", got, carls)
	}
	for _, bad := range []string{"state=pending", "min_risk=-1", "bbox=1,2,3", "tag==x", "contributor=rita"} {
		if status, _ := rita.call(http.MethodGet, "/review/api/queue?"+bad, nil, ""); status != http.StatusBadRequest {
			t.Errorf("queue?%s: %d, want 400", bad, status)
		}
	}

	// A contributor's list is their own changesets.
	alice := s.browser()
	alice.mustSignIn("alice")
	alice.get("/review/api/queue", &q)
	if got := q.ids(); len(got) != 3 || !slices.Contains(got, edit) || !slices.Contains(got, second) || !slices.Contains(got, partial) {
		t.Errorf("alice's list: %v, want her changesets %d, %d and %d", got, edit, second, partial)
	}
}

func testDetail(t *testing.T, s *apiSite, rita *webClient, edit int64, ids map[string]int64) {
	s = s.in(t)
	rita = rita.in(t)
	var d detail
	rita.get(fmt.Sprintf("/review/api/changesets/%d", edit), &d)
	if d.Changeset.ID != edit || d.Changeset.UID != s.uids["alice"] || d.Changeset.State != "submitted" || len(d.Changeset.BBox) != 4 {
		t.Errorf("changeset: %+v", d.Changeset)
	}
	if !d.CanDecide || d.IsAuthor {
		t.Errorf("rita on alice's changeset: can_decide=%v is_author=%v, want true, false", d.CanDecide, d.IsAuthor)
	}
	elements := map[string]int{}
	for i, e := range d.Elements {
		elements[e.Key] = i
	}
	wayKey := fmt.Sprintf("way/%d", ids["way/-3"])
	a, b := fmt.Sprintf("node/%d", ids["node/-1"]), fmt.Sprintf("node/%d", ids["node/-2"])
	for _, k := range []string{wayKey, a, b, "node/3", "node/4"} {
		if _, ok := elements[k]; !ok {
			t.Fatalf("elements %v lack %s", elements, k)
		}
	}
	if len(d.Elements) != 5 {
		t.Errorf("%d elements, want 5", len(d.Elements))
	}

	way := d.Elements[elements[wayKey]]
	if way.Action != "create" || way.Old != nil || way.Current != nil || way.New == nil {
		t.Fatalf("the created way: %+v, want new only", way)
	}
	if line := way.New.line(t); len(line) != 2 || !near(line[0], [2]float64{2.3501, 48.8501}) || !near(line[1], [2]float64{2.3503, 48.8502}) {
		t.Errorf("the created way's line: %v, want its two new nodes", line)
	}
	if way.New.Properties.Side != "new" || way.New.Properties.Tags["highway"] != "footway" || way.New.Properties.Key != wayKey {
		t.Errorf("the created way's properties: %+v", way.New.Properties)
	}

	bench := d.Elements[elements["node/3"]]
	if bench.Action != "modify" {
		t.Errorf("the bench: %s, want modify", bench.Action)
	}
	if p := bench.Old.point(t); !near(p, [2]float64{2.3505, 48.8504}) || bench.Old.Properties.Version != 1 || bench.Old.Properties.Side != "old" {
		t.Errorf("the bench before: %v %+v, want v1 at its imported place", p, bench.Old.Properties)
	}
	if p := bench.New.point(t); !near(p, [2]float64{2.3506, 48.8505}) || bench.New.Properties.Tags["backrest"] != "yes" {
		t.Errorf("the bench after: %v %+v, want moved with backrest=yes", p, bench.New.Properties)
	}
	if p := bench.Current.point(t); !near(p, [2]float64{2.3505, 48.8504}) {
		t.Errorf("the bench now: %v, want still at its imported place", p)
	}
	var added bool
	for _, tc := range bench.Tags {
		if tc.Key == "backrest" && tc.Old == nil && tc.New != nil && *tc.New == "yes" {
			added = true
		}
		if tc.Key == "amenity" && (tc.Old == nil || tc.New == nil || *tc.Old != "bench" || *tc.New != "bench") {
			t.Errorf("amenity in the tag diff: %+v, want bench on both sides", tc)
		}
	}
	if !added {
		t.Errorf("the bench's tag diff %+v lacks backrest added", bench.Tags)
	}

	basket := d.Elements[elements["node/4"]]
	if basket.Action != "delete" || basket.New != nil {
		t.Errorf("the waste basket: %s with new %+v, want delete and no new", basket.Action, basket.New)
	}
	if p := basket.Old.point(t); !near(p, [2]float64{2.3507, 48.8506}) || basket.Old.Properties.Tags["amenity"] != "waste_basket" {
		t.Errorf("the waste basket before: %v %+v", p, basket.Old.Properties)
	}
	if p := basket.Current.point(t); !near(p, [2]float64{2.3507, 48.8506}) {
		t.Errorf("the waste basket now: %v, want still there until the merge", p)
	}

	// The street around it, and none of the changeset's own elements.
	var street bool
	for _, f := range d.Context.Features {
		if f.Properties.Side != "context" {
			t.Errorf("context feature %s on side %q", f.Properties.Key, f.Properties.Side)
		}
		if _, own := elements[f.Properties.Key]; own {
			t.Errorf("the context draws the changeset's own %s", f.Properties.Key)
		}
		if f.Properties.Key == "way/10" {
			street = true
			if line := f.line(t); len(line) != 2 || !near(line[0], [2]float64{2.35, 48.85}) {
				t.Errorf("the street: %v", line)
			}
		}
	}
	if d.Context.Type != "FeatureCollection" || !street {
		t.Errorf("context %s of %d features lacks the street way/10", d.Context.Type, len(d.Context.Features))
	}

	if status, _ := rita.call(http.MethodGet, "/review/api/changesets/999999", nil, ""); status != http.StatusNotFound {
		t.Errorf("an unknown changeset: %d, want 404", status)
	}
}

func testContributorsOwnOnly(t *testing.T, s *apiSite, edit, carls int64) {
	s = s.in(t)
	carl := s.browser()
	carl.mustSignIn("carl")
	if status, _ := carl.call(http.MethodGet, fmt.Sprintf("/review/api/changesets/%d", edit), nil, ""); status != http.StatusForbidden {
		t.Errorf("carl reads alice's changeset: %d, want 403", status)
	}
	var d detail
	carl.get(fmt.Sprintf("/review/api/changesets/%d", carls), &d)
	if !d.IsAuthor || d.CanDecide {
		t.Errorf("carl on his own changeset: is_author=%v can_decide=%v, want true, false", d.IsAuthor, d.CanDecide)
	}
	if status, _ := carl.post(fmt.Sprintf("/review/api/changesets/%d/approve", edit), map[string]string{}); status != http.StatusForbidden {
		t.Errorf("carl approves alice's changeset: %d, want 403", status)
	}
	var q queue
	carl.get("/review/api/queue", &q)
	if got := q.ids(); !slices.Equal(got, []int64{carls}) {
		t.Errorf("carl's list: %v, want only his %d", got, carls)
	}
}

func testReject(t *testing.T, s *apiSite, rita *webClient, second int64) {
	s = s.in(t)
	rita = rita.in(t)
	path := fmt.Sprintf("/review/api/changesets/%d/reject", second)
	if status, _ := rita.post(path, map[string]string{"comment": "  "}); status != http.StatusBadRequest {
		t.Errorf("a reject without a comment: %d, want 400", status)
	}
	const why = "There is already a bench two metres away."
	status, body := rita.post(path, map[string]string{"comment": why})
	var res map[string]string
	if status != http.StatusOK || json.Unmarshal(body, &res) != nil || res["state"] != "rejected" {
		t.Fatalf("rita rejects changeset %d: %d %s, want 200 rejected", second, status, body)
	}
	if status, _ := rita.post(path, map[string]string{"comment": why}); status != http.StatusConflict {
		t.Errorf("rejecting a rejected changeset again: %d, want 409", status)
	}

	alice := s.browser()
	alice.mustSignIn("alice")
	var d detail
	alice.get(fmt.Sprintf("/review/api/changesets/%d", second), &d)
	if d.Changeset.State != "rejected" {
		t.Errorf("alice's changeset %d is %q, want rejected", second, d.Changeset.State)
	}
	if !slices.ContainsFunc(d.Events, func(e struct {
		Kind    string `json:"kind"`
		Actor   string `json:"actor"`
		Comment string `json:"comment"`
		State   string `json:"state"`
	}) bool {
		return e.Actor == "rita" && e.Comment == why && e.State == "rejected"
	}) {
		t.Errorf("alice's events %+v lack rita's rejection with its comment", d.Events)
	}
}

func testApprove(t *testing.T, s *apiSite, rita *webClient, edit int64, ids map[string]int64) {
	s = s.in(t)
	rita = rita.in(t)
	alice := s.browser()
	alice.mustSignIn("alice")
	if status, _ := alice.post(fmt.Sprintf("/review/api/changesets/%d/approve", edit), map[string]string{}); status != http.StatusForbidden {
		t.Errorf("alice approves her own changeset: %d, want 403", status)
	}
	status, body := rita.post(fmt.Sprintf("/review/api/changesets/%d/approve", edit), map[string]string{"comment": "Thanks!"})
	if status != http.StatusOK || !strings.Contains(string(body), `"approved"`) && !strings.Contains(string(body), `"merged"`) {
		t.Fatalf("rita approves: %d %s", status, body)
	}
	// The merge job merges it; then anybody's map has the footpath and
	// the moved bench, and no waste basket.
	deadline := time.Now().Add(20 * time.Second)
	for {
		status, body := s.osm("", http.MethodGet, "/api/0.6/map.json?bbox=2.3495,48.8495,2.3515,48.8510", "")
		var doc struct {
			Elements []struct {
				Type string            `json:"type"`
				ID   int64             `json:"id"`
				Tags map[string]string `json:"tags"`
			} `json:"elements"`
		}
		if status != http.StatusOK || json.Unmarshal([]byte(body), &doc) != nil {
			t.Fatalf("map: %d %s", status, body)
		}
		var way, backrest, basket bool
		for _, e := range doc.Elements {
			way = way || e.Type == "way" && e.ID == ids["way/-3"]
			backrest = backrest || e.Type == "node" && e.ID == 3 && e.Tags["backrest"] == "yes"
			basket = basket || e.Type == "node" && e.ID == 4
		}
		if way && backrest && !basket {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("20 s after the approval the map has footpath=%v backrest=%v waste basket=%v: %s", way, backrest, basket, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var d detail
	rita.get(fmt.Sprintf("/review/api/changesets/%d", edit), &d)
	if d.Changeset.State != "merged" || d.CanDecide {
		t.Errorf("after the merge: state %q can_decide=%v, want merged and nothing to decide", d.Changeset.State, d.CanDecide)
	}
}

func testSignOut(t *testing.T, s *apiSite) {
	s = s.in(t)
	b := s.browser()
	b.mustSignIn("rita")
	if status, _ := b.call(http.MethodDelete, "/review/api/session", nil, b.csrf); status != http.StatusNoContent {
		t.Errorf("sign-out: %d, want 204", status)
	}
	if status, _ := b.call(http.MethodGet, "/review/api/me", nil, ""); status != http.StatusUnauthorized {
		t.Errorf("me after signing out: %d, want 401", status)
	}
}

// TestPages: the app and its assets are served without a session.
func TestPages(t *testing.T) {
	s := newAPISite(t, backends[0].open(t), gcserver.Config{}, nil)
	status, body := s.osm("", http.MethodGet, "/review/", "")
	if status != http.StatusOK || !strings.Contains(body, "<html") {
		t.Errorf("/review/: %d %.200s", status, body)
	}
	if status, _ := s.osm("", http.MethodGet, "/review/no-such-file.js", ""); status != http.StatusNotFound {
		t.Errorf("a file the build does not have: %d, want 404", status)
	}
	if status, _ := s.osm("", http.MethodGet, "/review/api/no-such-route", ""); status != http.StatusNotFound {
		t.Errorf("an unknown API route: %d, want 404", status)
	}
}

// TestCatalogsHaveTheSameKeys: every text of the pages exists in both
// languages.
func TestCatalogsHaveTheSameKeys(t *testing.T) {
	dir := filepath.Join("..", "..", "web", "src", "i18n")
	read := func(lang string) map[string]bool {
		data, err := os.ReadFile(filepath.Join(dir, lang+".json"))
		if os.IsNotExist(err) {
			t.Skipf("%s has no %s.json yet: the front end's catalogs are not written", dir, lang)
		}
		if err != nil {
			t.Fatal(err)
		}
		var catalog map[string]any
		if err := json.Unmarshal(data, &catalog); err != nil {
			t.Fatalf("%s.json: %v", lang, err)
		}
		keys := map[string]bool{}
		flatten("", catalog, keys)
		if len(keys) == 0 {
			t.Fatalf("%s.json has no messages", lang)
		}
		return keys
	}
	en, fr := read("en"), read("fr")
	for k := range en {
		if !fr[k] {
			t.Errorf("fr.json lacks %q", k)
		}
	}
	for k := range fr {
		if !en[k] {
			t.Errorf("en.json lacks %q", k)
		}
	}
}

// flatten collects the dotted keys of a catalog's leaves, whether it is
// flat or nested.
func flatten(prefix string, v map[string]any, into map[string]bool) {
	for k, sub := range v {
		if m, ok := sub.(map[string]any); ok {
			flatten(prefix+k+".", m, into)
			continue
		}
		into[prefix+k] = true
	}
}

// testPartial: a relation is drawn from its members, and a partial
// accept approves the post box and returns the route to its author.
func testPartial(t *testing.T, s *apiSite, rita *webClient, id int64, ids map[string]int64) {
	s = s.in(t)
	rita = rita.in(t)
	route, box := fmt.Sprintf("relation/%d", ids["relation/-2"]), fmt.Sprintf("node/%d", ids["node/-1"])
	var d detail
	rita.get(fmt.Sprintf("/review/api/changesets/%d", id), &d)
	var drawn bool
	for _, e := range d.Elements {
		if e.Key != route {
			continue
		}
		drawn = true
		g := e.New.Geometry
		var parts []struct {
			Type string `json:"type"`
		}
		if g == nil || g.Type != "GeometryCollection" || json.Unmarshal(g.Geometries, &parts) != nil ||
			len(parts) != 2 || parts[0].Type != "LineString" || parts[1].Type != "Point" {
			t.Errorf("the route's geometry: %+v, want its street and its stop", g)
		}
	}
	if !drawn {
		t.Fatalf("the detail lacks %s", route)
	}

	path := fmt.Sprintf("/review/api/changesets/%d/approve_elements", id)
	if status, _ := rita.post(path, map[string]any{"elements": []string{"node/0"}, "comment": "x"}); status != http.StatusBadRequest {
		t.Errorf("a partial accept of a malformed key: %d, want 400", status)
	}
	status, body := rita.post(path, map[string]any{"elements": []string{box}, "comment": "The route needs its other stops."})
	var res struct {
		Accepted []string `json:"accepted"`
		Returned int64    `json:"returned"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &res) != nil || !slices.Equal(res.Accepted, []string{box}) || res.Returned == 0 {
		t.Fatalf("partial accept of %s: %d %s, want it accepted and the route returned", box, status, body)
	}
	var returned detail
	rita.get(fmt.Sprintf("/review/api/changesets/%d", res.Returned), &returned)
	if returned.Changeset.State != "changes_requested" || len(returned.Elements) != 1 || returned.Elements[0].Key != route {
		t.Errorf("the returned changeset %d: %s with %+v, want changes_requested holding the route", res.Returned, returned.Changeset.State, returned.Elements)
	}
}
