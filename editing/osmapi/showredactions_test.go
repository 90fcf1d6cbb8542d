package osmapi

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/osmdata"
)

// adminReadPrefs is an administrator whose credential grants read_prefs
// only (an OAuth 2 token with that scope): openstreetmap.org lets a
// moderator read redacted versions on the role alone, whatever the
// token's scopes.
var adminReadPrefs = &auth.Identity{DisplayName: "ada-oauth", Role: auth.RoleAdmin, Scopes: []string{"read_prefs"}}

func init() { testUsers[adminReadPrefs.DisplayName] = adminReadPrefs }

// The secret versions: what a contributor should not have mapped, which
// an administrator redacts and must still be able to read to decide on
// an unredaction.
const (
	secretNodeName = "Home of Jane Doe"
	secretWayName  = "Jane Doe's driveway"
	secretLat      = 48.8566
	secretLon      = 2.3522
)

func secretVersions() []osmdata.Element {
	n1 := osmdata.Element{Type: osmdata.Node, ID: 100, Version: 1, Visible: true, Changeset: 5,
		Timestamp: at("2014-01-01T00:00:00Z"), UID: 1, User: "foo", Lat: fixed(secretLat), Lon: fixed(secretLon),
		Tags: osmdata.Tags{{Key: "name", Value: secretNodeName}}}
	n2 := n1
	n2.Version, n2.Changeset, n2.Timestamp = 2, 6, at("2014-02-01T00:00:00Z")
	n2.Lat, n2.Tags = fixed(48.86), osmdata.Tags{{Key: "amenity", Value: "bench"}}
	w1 := osmdata.Element{Type: osmdata.Way, ID: 100, Version: 1, Visible: true, Changeset: 5,
		Timestamp: at("2014-01-01T00:00:00Z"), UID: 1, User: "foo", Nodes: []int64{1, 100},
		Tags: osmdata.Tags{{Key: "name", Value: secretWayName}}}
	w2 := w1
	w2.Version, w2.Changeset, w2.Timestamp = 2, 6, at("2014-02-01T00:00:00Z")
	w2.Nodes, w2.Tags = []int64{1, 2}, osmdata.Tags{{Key: "highway", Value: "service"}}
	return []osmdata.Element{n1, n2, w1, w2}
}

// readElement is one element of a reply, as much as the test checks;
// coordinates with seven decimals, whatever the format wrote.
type readElement struct {
	Version int
	Lat     string
	Lon     string
	Name    string
	Nodes   []int64
}

// readElements parses an XML or JSON reply into its elements.
func readElements(t *testing.T, body []byte, asJSON bool) []readElement {
	t.Helper()
	var out []readElement
	if asJSON {
		var root jsonDocRoot
		if err := json.Unmarshal(body, &root); err != nil {
			t.Fatalf("parse JSON reply: %v\n%s", err, body)
		}
		for _, e := range root.Elements {
			re := readElement{Version: e.Version, Name: e.Tags["name"], Nodes: e.Nodes}
			if e.Lat != nil && e.Lon != nil {
				re.Lat, re.Lon = fmt.Sprintf("%.7f", *e.Lat), fmt.Sprintf("%.7f", *e.Lon)
			}
			out = append(out, re)
		}
		return out
	}
	var root xmlRoot
	if err := xml.Unmarshal(body, &root); err != nil {
		t.Fatalf("parse XML reply: %v\n%s", err, body)
	}
	for _, e := range root.Elements {
		re := readElement{Version: e.Version}
		if e.Lat != "" && e.Lon != "" {
			lat, latErr := strconv.ParseFloat(e.Lat, 64)
			lon, lonErr := strconv.ParseFloat(e.Lon, 64)
			if latErr != nil || lonErr != nil {
				t.Fatalf("XML coordinates %q, %q are not numbers", e.Lat, e.Lon)
			}
			re.Lat, re.Lon = fmt.Sprintf("%.7f", lat), fmt.Sprintf("%.7f", lon)
		}
		for _, tag := range e.Tags {
			if tag.K == "name" {
				re.Name = tag.V
			}
		}
		for _, nd := range e.Nodes {
			re.Nodes = append(re.Nodes, nd.Ref)
		}
		out = append(out, re)
	}
	return out
}

// TestShowRedactions: an administrator (openstreetmap.org's moderator)
// who adds ?show_redactions=true to a version read or a history reads a
// redacted version whole, in XML and JSON; anyone else who adds it gets
// exactly the answer they get without it (openstreetmap-website's
// test/controllers/api/old_nodes_controller_test.rb
// test_show_redacted_moderator, test_show_redacted_normal_user,
// test_show_redacted_unauthorised and the test_index_redacted_ ones).
// After an unredaction the plain read shows the version to everyone.
func TestShowRedactions(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newEditServer(t, b, nil)
			if err := s.store.Apply(t.Context(), secretVersions()); err != nil {
				t.Fatalf("apply the secret versions: %v", err)
			}
			accounts := map[auth.Role]*auth.Identity{}
			for name, role := range map[string]auth.Role{"carla": auth.RoleContributor, "rex": auth.RoleReviewer, "ada": auth.RoleAdmin} {
				acc, token, err := auth.AddUser(t.Context(), s.store, auth.NewUser{Name: name, Role: role})
				if err != nil {
					t.Fatalf("add user %s: %v", name, err)
				}
				accounts[role] = &auth.Identity{UserID: acc.ID, DisplayName: name, Role: role, Scopes: auth.AllScopes}
				s.tokens[name] = token
			}
			admin := accounts[auth.RoleAdmin]
			// The callers for whom the parameter changes nothing.
			others := []*auth.Identity{nil, accounts[auth.RoleContributor], accounts[auth.RoleReviewer]}
			admins := []*auth.Identity{admin, adminReadPrefs}

			for _, typ := range []string{"node", "way"} {
				if r := s.call(admin, http.MethodPost, "/api/0.6/"+typ+"/100/1/redact?redaction=1", nil); r.status != http.StatusOK {
					t.Fatalf("redact %s 100 v1 as the admin: %s", typ, r)
				}
			}

			secret := map[string]readElement{
				"node": {Version: 1, Lat: "48.8566000", Lon: "2.3522000", Name: secretNodeName},
				"way":  {Version: 1, Name: secretWayName, Nodes: []int64{1, 100}},
			}
			for _, typ := range []string{"node", "way"} {
				for _, suffix := range []string{"", ".json"} {
					version := "/api/0.6/" + typ + "/100/1" + suffix
					history := "/api/0.6/" + typ + "/100/history" + suffix
					asJSON := suffix == ".json"

					for _, who := range append(slices.Clone(others), admins...) {
						if r := s.call(who, http.MethodGet, version, nil); r.status != http.StatusForbidden || len(r.body) != 0 {
							t.Errorf("GET %s as %s = %s, want 403 with an empty body", version, nameOf(who), r)
						}
					}
					for _, who := range others {
						without := s.call(who, http.MethodGet, history, nil)
						for _, param := range []string{"?show_redactions=true", "?show_redactions=1"} {
							if r := s.call(who, http.MethodGet, version+param, nil); r.status != http.StatusForbidden || len(r.body) != 0 {
								t.Errorf("GET %s as %s = %s, want the 403 with an empty body they get without the parameter", version+param, nameOf(who), r)
							}
							with := s.call(who, http.MethodGet, history+param, nil)
							if with.status != http.StatusOK || !bytes.Equal(with.body, without.body) {
								t.Errorf("GET %s as %s = %s, want what they get without the parameter: %s", history+param, nameOf(who), with, without)
							}
						}
						if got := readElements(t, without.body, asJSON); len(got) != 1 || got[0].Version != 2 {
							t.Errorf("GET %s as %s = versions %+v, want version 2 only", history, nameOf(who), got)
						}
					}

					for _, who := range admins {
						r := s.call(who, http.MethodGet, version+"?show_redactions=true", nil)
						if r.status != http.StatusOK {
							t.Errorf("GET %s?show_redactions=true as %s = %s, want 200", version, nameOf(who), r)
						} else if got := readElements(t, r.body, asJSON); len(got) != 1 || !equalRead(got[0], secret[typ]) {
							t.Errorf("GET %s?show_redactions=true as %s = %+v, want the redacted version whole: %+v", version, nameOf(who), got, secret[typ])
						}
						// Only "true" shows them, as openstreetmap-website compares.
						if r := s.call(who, http.MethodGet, version+"?show_redactions=1", nil); r.status != http.StatusForbidden {
							t.Errorf("GET %s?show_redactions=1 as %s = %s, want 403", version, nameOf(who), r)
						}
						r = s.call(who, http.MethodGet, history+"?show_redactions=true", nil)
						if r.status != http.StatusOK {
							t.Errorf("GET %s?show_redactions=true as %s = %s, want 200", history, nameOf(who), r)
							continue
						}
						got := readElements(t, r.body, asJSON)
						if len(got) != 2 || !equalRead(got[0], secret[typ]) || got[1].Version != 2 {
							t.Errorf("GET %s?show_redactions=true as %s = %+v, want the redacted version 1 whole, then version 2", history, nameOf(who), got)
						}
						if plain := readElements(t, s.call(who, http.MethodGet, history, nil).body, asJSON); len(plain) != 1 || plain[0].Version != 2 {
							t.Errorf("GET %s as %s without the parameter = %+v, want version 2 only", history, nameOf(who), plain)
						}
					}
				}
			}

			// The multi-fetch is left as it was: a redacted version is not
			// there, parameter or not.
			if r := s.call(admin, http.MethodGet, "/api/0.6/nodes?nodes=100v1&show_redactions=true", nil); r.status != http.StatusNotFound {
				t.Errorf("GET /api/0.6/nodes?nodes=100v1&show_redactions=true as the admin = %s, want 404", r)
			}

			for _, typ := range []string{"node", "way"} {
				if r := s.call(admin, http.MethodPost, "/api/0.6/"+typ+"/100/1/redact", nil); r.status != http.StatusOK {
					t.Fatalf("unredact %s 100 v1 as the admin: %s", typ, r)
				}
				for _, suffix := range []string{"", ".json"} {
					path := "/api/0.6/" + typ + "/100/1" + suffix
					r := s.call(nil, http.MethodGet, path, nil)
					if r.status != http.StatusOK {
						t.Errorf("GET %s anonymously after the unredaction = %s, want 200", path, r)
					} else if got := readElements(t, r.body, suffix == ".json"); len(got) != 1 || !equalRead(got[0], secret[typ]) {
						t.Errorf("GET %s anonymously after the unredaction = %+v, want %+v", path, got, secret[typ])
					}
				}
			}
		})
	}
}

func equalRead(a, b readElement) bool {
	return a.Version == b.Version && a.Lat == b.Lat && a.Lon == b.Lon && a.Name == b.Name && slices.Equal(a.Nodes, b.Nodes)
}
