package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestAuthorizationTable walks every endpoint with every kind of caller
// and checks the status each gets: who may do what, over the built
// binary. A route or Connect procedure the server registers without a
// row here fails the test (authorization_routes_test.go), so that a new
// endpoint cannot ship without saying who may call it.
func TestAuthorizationTable(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			w := newWorld(t, backend)
			rows := authorizationRows()
			for _, r := range rows {
				for c := anonymous; c < callerCount; c++ {
					want := r.want[c]
					text := r.text[c]
					if want == 0 {
						// Rejected credentials are answered before any
						// route, with cgimap's texts (editing.Golden).
						want = http.StatusUnauthorized
						text = map[caller]string{revokedToken: "token_revoked", expiredToken: "token_expired"}[c]
					}
					got := r.do(w, c)
					w.closeOpened()
					if got.status != want || !strings.Contains(got.body, text) {
						t.Errorf("%s (%s) as %s: %d %.200q, want %d%s", r.key, r.name, c, got.status, got.body, want,
							map[bool]string{true: " with " + fmt.Sprintf("%q", text)}[text != ""])
					}
				}
			}
			signInWithPasswords(t, w)
			checkNoSecretLeaked(t, w)
		})
	}
}

// TestAuthorizationTableCoversEveryRoute: a route or procedure
// registered without a row fails here, before any server starts.
func TestAuthorizationTableCoversEveryRoute(t *testing.T) {
	checkEveryRouteHasARow(t, authorizationRows())
}

// A row is one endpoint called one way.
type row struct {
	// key is the route as the server registers it: "METHOD /pattern"
	// for the OSM API, the procedure's path for Connect, a path
	// elsewhere.
	key string
	// name says what the call does when a route has several rows.
	name string
	// do makes the call as c, preparing first the state it needs, fresh
	// for each caller when the call changes it.
	do func(w *world, c caller) answer
	// want is the status per caller; 0 for the revoked and the expired
	// token is the 401 of rejected credentials.
	want [callerCount]int
	// text is what the answer must hold, per caller, if anything.
	text map[caller]string
}

// Statuses per caller, in the order anonymous, contributor (owner),
// another contributor, reviewer, scoped reviewer, admin.
func statuses(s ...int) [callerCount]int {
	var w [callerCount]int
	copy(w[:], s)
	return w
}

func everyone(s int) [callerCount]int { return statuses(s, s, s, s, s, s) }

// signedIn: 401 for anonymous, s for every account.
func signedIn(s int) [callerCount]int { return statuses(401, s, s, s, s, s) }

// ownerOnly: 401 for anonymous, ok for carla, who owns the changeset,
// refused for every other account, admins included, as on
// openstreetmap.org.
func ownerOnly(ok, refused int) [callerCount]int {
	return statuses(401, ok, refused, refused, refused, refused)
}

// notOwner is the text of cgimap's 409 to a user writing to another's
// changeset.
var notOwner = map[caller]string{otherContrib: "The user doesn't own that changeset", reviewer: "The user doesn't own that changeset",
	scopedReview: "The user doesn't own that changeset", admin: "The user doesn't own that changeset"}

// get is a read of a fixed path.
func get(path string) func(w *world, c caller) answer {
	return func(w *world, c caller) answer { return w.osm(c, http.MethodGet, path, "") }
}

// onOpenChangeset calls method path (with %d for a fresh open changeset
// of carla's) with body (with %d for the same changeset).
func onOpenChangeset(method, path, body string) func(w *world, c caller) answer {
	return func(w *world, c caller) answer {
		cs := w.openChangeset()
		b := body
		if strings.Contains(b, "%d") {
			b = fmt.Sprintf(body, cs)
		}
		p := path
		if strings.Contains(p, "%d") {
			p = fmt.Sprintf(path, cs)
		}
		return w.osm(c, method, p, b)
	}
}

// onElement modifies or deletes an element carla created in an open
// changeset of hers, citing that changeset.
func onElement(method, typ string) func(w *world, c caller) answer {
	return func(w *world, c caller) answer {
		cs, node := w.createdNode()
		body := fmt.Sprintf(`<osm><node id="%d" version="1" changeset="%d" lat="42.56" lon="1.2"/></osm>`, node, cs)
		path := fmt.Sprintf("/api/0.6/node/%d", node)
		switch typ {
		case "way":
			// A way of carla's pending node, then the write on it.
			way := w.mustOSM(contributor, http.MethodPut, "/api/0.6/way/create",
				fmt.Sprintf(`<osm><way changeset="%d"><nd ref="%d"/><nd ref="3"/></way></osm>`, cs, node))
			body = fmt.Sprintf(`<osm><way id="%s" version="1" changeset="%d"><nd ref="%d"/><nd ref="4"/></way></osm>`, strings.TrimSpace(way), cs, node)
			path = "/api/0.6/way/" + strings.TrimSpace(way)
		case "relation":
			rel := w.mustOSM(contributor, http.MethodPut, "/api/0.6/relation/create",
				fmt.Sprintf(`<osm><relation changeset="%d"><member type="node" ref="%d" role=""/><tag k="type" v="site"/></relation></osm>`, cs, node))
			body = fmt.Sprintf(`<osm><relation id="%s" version="1" changeset="%d"><member type="node" ref="2" role=""/><tag k="type" v="site"/></relation></osm>`, strings.TrimSpace(rel), cs)
			path = "/api/0.6/relation/" + strings.TrimSpace(rel)
		}
		return w.osm(c, method, path, body)
	}
}

// rpc calls a Connect procedure with a message made for it.
func rpc(procedure string, msg func(w *world) map[string]any) func(w *world, c caller) answer {
	return func(w *world, c caller) answer { return w.connect(c, procedure, msg(w)) }
}

func fixed(m map[string]any) func(*world) map[string]any {
	return func(*world) map[string]any { return m }
}

// onSubmitted gives a fresh submitted changeset at lon.
func onSubmitted(lon string, extra map[string]any) func(*world) map[string]any {
	return func(w *world) map[string]any {
		cs, node := w.submittedNode(lon)
		m := map[string]any{"changesetId": cs}
		for k, v := range extra {
			m[k] = v
			if v == "the created node" {
				m[k] = []map[string]any{{"type": "ELEMENT_TYPE_NODE", "id": node}}
			}
		}
		return m
	}
}

const (
	reviewService    = "/geocommuns.v1.ReviewService/"
	changesetService = "/geocommuns.v1.ChangesetService/"
	mapService       = "/geocommuns.v1.MapService/"
)

func authorizationRows() []row {
	var rows []row
	add := func(key, name string, do func(*world, caller) answer, want [callerCount]int, text ...map[caller]string) {
		r := row{key: key, name: name, do: do, want: want}
		if len(text) > 0 {
			r.text = text[0]
		}
		rows = append(rows, r)
	}

	// --- OSM API reads: open to anyone, the overlay aside.
	for key, path := range map[string]string{
		"GET /api/0.6/map":                     "/api/0.6/map?bbox=1.0,42.4,1.4,42.7",
		"GET /api/capabilities":                "/api/capabilities",
		"GET /api/0.6/capabilities":            "/api/0.6/capabilities",
		"GET /api/versions":                    "/api/versions",
		"GET /api/0.6/node/{id}":               "/api/0.6/node/1",
		"GET /api/0.6/node/{id}/history":       "/api/0.6/node/1/history",
		"GET /api/0.6/node/{id}/{version}":     "/api/0.6/node/1/1",
		"GET /api/0.6/node/{id}/ways":          "/api/0.6/node/3/ways",
		"GET /api/0.6/node/{id}/relations":     "/api/0.6/node/1/relations",
		"GET /api/0.6/nodes":                   "/api/0.6/nodes?nodes=1,2",
		"GET /api/0.6/way/{id}":                "/api/0.6/way/10",
		"GET /api/0.6/way/{id}/history":        "/api/0.6/way/10/history",
		"GET /api/0.6/way/{id}/{version}":      "/api/0.6/way/10/1",
		"GET /api/0.6/way/{id}/full":           "/api/0.6/way/10/full",
		"GET /api/0.6/way/{id}/relations":      "/api/0.6/way/10/relations",
		"GET /api/0.6/ways":                    "/api/0.6/ways?ways=10",
		"GET /api/0.6/relation/{id}":           "/api/0.6/relation/20",
		"GET /api/0.6/relation/{id}/history":   "/api/0.6/relation/20/history",
		"GET /api/0.6/relation/{id}/{version}": "/api/0.6/relation/20/1",
		"GET /api/0.6/relation/{id}/full":      "/api/0.6/relation/20/full",
		"GET /api/0.6/relation/{id}/relations": "/api/0.6/relation/20/relations",
		"GET /api/0.6/relations":               "/api/0.6/relations?relations=20",
		"GET /api/0.6/changesets":              "/api/0.6/changesets",
	} {
		add(key, "read", get(path), everyone(http.StatusOK))
	}
	// The changeset reads, on a changeset of carla's.
	for key, path := range map[string]string{
		"GET /api/0.6/changeset/{id}":            "/api/0.6/changeset/%d",
		"GET /api/0.6/changeset/{id}/download":   "/api/0.6/changeset/%d/download",
		"GET /api/0.6/changeset/{id}/conflicts":  "/api/0.6/changeset/%d/conflicts",
		"GET /api/0.6/changeset/{id}/review_log": "/api/0.6/changeset/%d/review_log",
	} {
		add(key, "read of an open changeset", onOpenChangeset(http.MethodGet, path, ""), everyone(http.StatusOK))
	}
	// The calls about the caller.
	add("GET /api/0.6/user/details", "the caller's account", get("/api/0.6/user/details"), signedIn(http.StatusOK),
		map[caller]string{anonymous: "Couldn't authenticate you", contributor: `display_name="carla"`, admin: `display_name="adam"`})
	add("GET /api/0.6/permissions", "the caller's permissions", get("/api/0.6/permissions"), everyone(http.StatusOK),
		map[caller]string{contributor: "allow_write_api"})

	// --- OSM API writes: a signed-in user; the changeset's owner only.
	changesetBody := `<osm><changeset><tag k="comment" v="x"/></changeset></osm>`
	add("PUT /api/0.6/changeset/create", "create a changeset", func(w *world, c caller) answer {
		return w.osm(c, http.MethodPut, "/api/0.6/changeset/create", changesetBody)
	}, signedIn(http.StatusOK))
	add("POST /api/0.6/changesets", "create a changeset", func(w *world, c caller) answer {
		return w.osm(c, http.MethodPost, "/api/0.6/changesets", changesetBody)
	}, signedIn(http.StatusOK))
	add("PUT /api/0.6/changeset/{id}", "update carla's changeset",
		onOpenChangeset(http.MethodPut, "/api/0.6/changeset/%d", changesetBody), ownerOnly(http.StatusOK, http.StatusConflict), notOwner)
	add("PUT /api/0.6/changeset/{id}/close", "close carla's changeset",
		onOpenChangeset(http.MethodPut, "/api/0.6/changeset/%d/close", ""), ownerOnly(http.StatusOK, http.StatusConflict), notOwner)
	add("POST /api/0.6/changeset/{id}/upload", "upload to carla's changeset",
		onOpenChangeset(http.MethodPost, "/api/0.6/changeset/%d/upload",
			`<osmChange version="0.6"><create><node id="-1" changeset="%d" lat="42.55" lon="1.2"/></create></osmChange>`),
		ownerOnly(http.StatusOK, http.StatusConflict), notOwner)
	for _, typ := range []string{"node", "way", "relation"} {
		create := map[string]string{
			"node":     `<osm><node changeset="%d" lat="42.55" lon="1.2"/></osm>`,
			"way":      `<osm><way changeset="%d"><nd ref="3"/><nd ref="4"/></way></osm>`,
			"relation": `<osm><relation changeset="%d"><member type="node" ref="1" role=""/><tag k="type" v="site"/></relation></osm>`,
		}[typ]
		add("PUT /api/0.6/"+typ+"/create", "create in carla's changeset",
			onOpenChangeset(http.MethodPut, "/api/0.6/"+typ+"/create", create), ownerOnly(http.StatusOK, http.StatusConflict), notOwner)
		add("PUT /api/0.6/"+typ+"/{id}", "modify in carla's changeset",
			onElement(http.MethodPut, typ), ownerOnly(http.StatusOK, http.StatusConflict), notOwner)
		add("DELETE /api/0.6/"+typ+"/{id}", "delete in carla's changeset",
			onElement(http.MethodDelete, typ), ownerOnly(http.StatusOK, http.StatusConflict), notOwner)
	}

	// --- The discussion: any signed-in user.
	add("POST /api/0.6/changeset/{id}/comment", "comment on carla's changeset",
		func(w *world, c caller) answer {
			return w.call(c, http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/comment", w.openChangeset()),
				"application/x-www-form-urlencoded", "text=hello")
		}, signedIn(http.StatusOK))
	add("POST /api/0.6/changeset/{id}/subscribe", "subscribe to carla's changeset",
		onOpenChangeset(http.MethodPost, "/api/0.6/changeset/%d/subscribe", ""), signedIn(http.StatusOK))
	add("POST /api/0.6/changeset/{id}/unsubscribe", "unsubscribe from a changeset one follows",
		func(w *world, c caller) answer {
			cs := w.openChangeset()
			if c != anonymous && c < revokedToken {
				w.mustOSM(c, http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/subscribe", cs), "")
			}
			return w.osm(c, http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/unsubscribe", cs), "")
		}, signedIn(http.StatusOK))

	// --- Connect: MapService reads are open.
	add(mapService+"GetMap", "read", rpc(mapService+"GetMap", fixed(map[string]any{
		"bbox": map[string]any{"minLatE7": 424000000, "minLonE7": 10000000, "maxLatE7": 427000000, "maxLonE7": 14000000}})), everyone(http.StatusOK))
	add(mapService+"GetElement", "read", rpc(mapService+"GetElement", fixed(map[string]any{"type": "ELEMENT_TYPE_NODE", "id": 1})), everyone(http.StatusOK))
	add(mapService+"GetHistory", "read", rpc(mapService+"GetHistory", fixed(map[string]any{"type": "ELEMENT_TYPE_NODE", "id": 1})), everyone(http.StatusOK))

	// ChangesetService: writes as on the OSM API, with its text; Connect
	// says permission_denied (403) where the OSM API says 409.
	add(changesetService+"CreateChangeset", "create", rpc(changesetService+"CreateChangeset", fixed(map[string]any{
		"tags": []map[string]string{{"key": "comment", "value": "x"}}})), signedIn(http.StatusOK))
	add(changesetService+"UploadChanges", "upload to carla's changeset", func(w *world, c caller) answer {
		cs := w.openChangeset()
		return w.connect(c, changesetService+"UploadChanges", map[string]any{"changesetId": cs, "osmChange": bytesField(fmt.Sprintf(
			`<osmChange version="0.6"><create><node id="-1" changeset="%d" lat="42.55" lon="1.2"/></create></osmChange>`, cs))})
	}, ownerOnly(http.StatusOK, http.StatusForbidden), notOwner)
	add(changesetService+"CloseChangeset", "close carla's changeset", func(w *world, c caller) answer {
		return w.connect(c, changesetService+"CloseChangeset", map[string]any{"changesetId": w.openChangeset()})
	}, ownerOnly(http.StatusOK, http.StatusForbidden), notOwner)
	add(changesetService+"GetChangeset", "read", func(w *world, c caller) answer {
		return w.connect(c, changesetService+"GetChangeset", map[string]any{"changesetId": w.openChangeset()})
	}, everyone(http.StatusOK))
	add(changesetService+"ListChangesets", "read", rpc(changesetService+"ListChangesets", fixed(map[string]any{})), everyone(http.StatusOK))

	// ReviewService: reviewers decide within their scopes, never on their
	// own changesets; the contributor withdraws.
	reviewers := statuses(401, 403, 403, 200, 200, 200)
	inScope := statuses(401, 403, 403, 200, 200, 200)
	outOfScope := statuses(401, 403, 403, 200, 403, 200)
	add(reviewService+"ListQueue", "the queue", rpc(reviewService+"ListQueue", fixed(map[string]any{})), reviewers)
	add(reviewService+"GetReview", "a submitted changeset", rpc(reviewService+"GetReview", onSubmitted(westLon, nil)), everyone(http.StatusOK))
	add(reviewService+"ListAuditLog", "a submitted changeset", rpc(reviewService+"ListAuditLog", onSubmitted(westLon, nil)), everyone(http.StatusOK))
	add(reviewService+"Assign", "take a submitted changeset", rpc(reviewService+"Assign", onSubmitted(westLon, nil)), reviewers)
	for _, d := range []struct {
		name  string
		extra map[string]any
	}{
		{"Approve", nil},
		{"RequestChanges", map[string]any{"comment": "please fix"}},
		{"Reject", map[string]any{"comment": "no"}},
		{"ApproveElements", map[string]any{"elements": "the created node"}},
	} {
		add(reviewService+d.name, "in the scope", rpc(reviewService+d.name, onSubmitted(westLon, d.extra)), inScope)
		add(reviewService+d.name, "out of the scope", rpc(reviewService+d.name, onSubmitted(eastLon, d.extra)), outOfScope)
	}
	add(reviewService+"Withdraw", "carla's submitted changeset", rpc(reviewService+"Withdraw", onSubmitted(westLon, nil)),
		statuses(401, 200, 403, 403, 403, 403))
	add(reviewService+"Comment", "on a submitted changeset", rpc(reviewService+"Comment", onSubmitted(westLon, map[string]any{"text": "hello"})),
		signedIn(http.StatusOK))
	// Anyone signed in may propose a revert: it is a new changeset of
	// theirs, reviewed like any other (review_service.proto).
	add(reviewService+"Revert", "a merged changeset", func(w *world, c caller) answer {
		return w.connect(c, reviewService+"Revert", map[string]any{"changesetId": w.merged(), "comment": "revert"})
	}, signedIn(http.StatusOK))

	// --- Sync: the change feed is public.
	add("/geocommuns.v1.SyncService/Subscribe", "open the stream", subscribeHeaders, everyone(http.StatusOK))

	// --- Replication, health and metrics: public.
	// (The rows above merged changesets; serve cuts a file per merge.)
	add("GET /replication/minute/state.txt", "read", get("/replication/minute/state.txt"), everyone(http.StatusOK))
	add("GET /replication/minute/{aaa}/{bbb}/{file}", "the first file", get("/replication/minute/000/000/001.osc.gz"), everyone(http.StatusOK))
	add("GET /healthz", "probe", get("/healthz"), everyone(http.StatusOK))
	add("GET /readyz", "probe", get("/readyz"), everyone(http.StatusOK))
	add("GET /metrics", "scrape", get("/metrics"), everyone(http.StatusOK))

	// --- The review web app: its pages are public; its JSON routes take
	// its session cookie only, so no API credential opens them
	// (authorization_cookies_test.go signs in with the cookie).
	add("GET /review/{$}", "the page", get("/review/"), everyone(http.StatusOK))
	add("GET /review/api/me", "with API credentials only", get("/review/api/me"), everyone(http.StatusUnauthorized))
	add("GET /review/api/queue", "with API credentials only", get("/review/api/queue"), everyone(http.StatusUnauthorized))
	add("POST /review/api/changesets/{id}/approve", "with API credentials only", func(w *world, c caller) answer {
		return w.call(c, http.MethodPost, fmt.Sprintf("/review/api/changesets/%d/approve", w.submitted(westLon)), "application/json", "{}")
	}, everyone(http.StatusUnauthorized))

	// --- OAuth 2: the authorization server reads no API credentials
	// (a confidential client's Basic is its own), so a revoked or expired
	// token changes nothing there.
	oauth := func(s int) [callerCount]int {
		w := everyone(s)
		w[revokedToken], w[expiredToken] = s, s
		return w
	}
	add("GET /oauth2/sign_in", "the page", get("/oauth2/sign_in"), oauth(http.StatusOK))
	add("POST /oauth2/token", "no grant", func(w *world, c caller) answer {
		return w.call(c, http.MethodPost, "/oauth2/token", "application/x-www-form-urlencoded", "grant_type=authorization_code&code=nothing")
	}, oauth(http.StatusBadRequest), map[caller]string{anonymous: "invalid_request"})

	// --- Administration: redaction of a historical version, admins only
	// (openstreetmap-website's moderators); 403 for every other account.
	// The rows above read version 1 before it is redacted here.
	for _, typ := range []string{"node", "way", "relation"} {
		add("POST /api/0.6/"+typ+"/{id}/{version}/redact", "redact version 1", func(w *world, c caller) answer {
			return w.osm(c, http.MethodPost, w.historical(typ)+"/redact?redaction=1", "")
		}, statuses(401, 403, 403, 403, 403, 200))
	}
	return rows
}
