// Package webapp serves the review web app (issue 8) at /review, from the
// same binary and origin as the API: the pages, built with npm from web/
// into dist/ and embedded, and the JSON routes they call. A web session
// (a cookie, after signing in with user name and password) authorizes
// these routes only; the OSM API and Connect never accept it (design.md).
//
// # Routes
//
// Pages and assets (no session needed; the page asks /review/api/me):
//
//	GET  /review/                 the app (index.html); its client-side routes are
//	                              /review/#/queue and /review/#/changeset/ID
//	GET  /review/assets/…         the built assets (hashed names, cached)
//
// Session:
//
//	POST   /review/api/session   {"user": "...", "password": "..."} → 200 Me and the
//	                             session cookie (HttpOnly, SameSite=Strict, Path=/review,
//	                             Secure over TLS or when configured); 401 {"error": ...}
//	DELETE /review/api/session   signs out (CSRF header required)
//	GET    /review/api/me        200 Me, or 401 without a valid session
//
// Me is {"uid": 1, "user": "rita", "role": "reviewer"|"contributor"|"admin",
// "csrf": "token"}. Every POST/DELETE but sign-in carries the header
// X-CSRF-Token: <csrf>; a missing or wrong token is 403.
//
// Data (session required, 401 otherwise):
//
//	GET  /review/api/config                {"basemap": "https://…/{z}/{x}/{y}.png" or "",
//	                                        "attribution": "…"}
//	GET  /review/api/queue?state=&min_risk=&rule=&bbox=minlon,minlat,maxlon,maxlat
//	                       &tag=k[=v]&contributor=UID&older_than=SECONDS&mine=1
//	     → {"items": [QueueItem], "counts": {"submitted": n, …}}
//	     QueueItem: {"id", "user", "uid", "comment", "state", "risk", "findings": n,
//	                 "rules": ["…"], "scopes": ["…"], "mine": bool (a scope of the
//	                 caller), "submitted_at": RFC 3339, "changes": n}
//	     A contributor gets their own changesets (any state) instead.
//	GET  /review/api/changesets/ID
//	     → {"changeset": {id, user, uid, comment, tags, state, open, created_at,
//	                      closed_at, bbox: [minlon,minlat,maxlon,maxlat] or null},
//	        "risk": n,
//	        "findings": [{"rule", "severity", "message", "elements": ["node/1", …]}],
//	        "scopes": [{"scope", "approved_by": [names]}],
//	        "elements": [{"key": "way/7", "action": "create"|"modify"|"delete",
//	                      "old": Feature|null, "new": Feature|null, "current": Feature|null,
//	                      "tags": [{"key", "old": string|null, "new": string|null}]}],
//	        "context": FeatureCollection (authoritative data around the bbox, at most
//	                   a few thousand features, without the changeset's elements),
//	        "events": [{"seq", "kind", "actor", "scope", "comment", "state", "time"}],
//	        "conflicts": [{"key", "kind", "message", "base_version", "current_version",
//	                       "fields": [{"kind", "key", "base", "current", "pending",
//	                                   "absent_in_base", "absent_in_current",
//	                                   "absent_in_pending"}]}],
//	        "can_decide": bool, "is_author": bool}
//	     Feature is GeoJSON: a node a Point, a way a LineString (Polygon when closed
//	     and area-like), a relation a GeometryCollection of its members' geometries or
//	     null geometry; properties {"key": "way/7", "version": n, "tags": {k: v},
//	     "side": "old"|"new"|"current"|"context"}.
//	     A contributor may read their own changesets only (403 otherwise).
//	POST /review/api/changesets/ID/approve          {"comment": "…"}
//	POST /review/api/changesets/ID/request_changes  {"comment": "…"} (required)
//	POST /review/api/changesets/ID/reject           {"comment": "…"} (required)
//	POST /review/api/changesets/ID/approve_elements {"elements": ["way/7"], "comment": "…"}
//	     → {"accepted": [...], "added": [{"key", "because", "reason"}], "returned": ID|0}
//	POST /review/api/changesets/ID/comment          {"text": "…"}
//	     Decisions answer 200 {"state": "approved"|…} or an error
//	     {"error": "message"} with 400 (bad input), 403 (not allowed, self-review),
//	     409 (review state), as review.Service's errors say.
//
// # What the pages promise (the browser tests rely on it)
//
//   - The language follows navigator.languages (fr or en, en otherwise):
//     <html lang="fr|en">. Every text comes from the catalogs
//     web/src/i18n/en.json and fr.json (the same keys in both).
//   - Sign-in: inputs #login-user and #login-password, button #login-submit.
//   - Queue (#/queue): one row per changeset, <tr data-changeset="ID">,
//     the caller's scopes first; j/k (or arrows) move the selection,
//     Enter opens it; #queue-count shows how many.
//   - Changeset (#/changeset/ID): the map in #map; window.geocommunsReview.map
//     is the MapLibre map; its GeoJSON layers are "created", "modified-old",
//     "modified-new", "deleted" and "context" (with -line, -fill, -point
//     suffixes where a layer draws several kinds); <body data-map-ready="true">
//     once the data is drawn (the map's first idle after loading it). The
//     tag diff per element in #elements ([data-element="way/7"]), findings in
//     #findings (a click fits the map to the element), the discussion in
//     #discussion (.comment each), the state in #state [data-state="…"],
//     the conflict report in #conflicts, the audit log in #audit.
//   - Decisions by keyboard alone: a (approve), r (request changes),
//     x (reject) open #decision-dialog with focus in #decision-comment;
//     Ctrl+Enter sends it, Escape closes it. Partial accept: checkboxes
//     [data-select="way/7"] in #elements (space toggles the focused one), then
//     p opens the dialog for approve_elements.
//   - Headless Chromium draws WebGL only with --enable-unsafe-swiftshader
//     (design.md).
//
// Errors are JSON {"error": "…"} in English; the page shows its own
// translated text for the statuses it knows and the server's message
// otherwise.
package webapp
