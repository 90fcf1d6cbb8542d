package clientstest

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmapi"
)

// golang.org/x/oauth2 is the client of a full authorization-code sign-in
// with PKCE, as a native editor does it: the browser signs in and
// consents, the application exchanges the code with its verifier, and
// its client's transport then carries the access token on every call of
// an upload made over raw HTTP. paulmach/osm's osmapi, given that client,
// reads back as the author.

// xResponse is one answer over raw HTTP.
type xResponse struct {
	status int
	body   string
	header http.Header
}

func send(t *testing.T, client *http.Client, method, u, contentType, body string) xResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return xResponse{resp.StatusCode, string(b), resp.Header}
}

// diffResult is the upload's answer, its children in document order.
type diffResult struct {
	XMLName  xml.Name `xml:"diffResult"`
	Children []struct {
		XMLName    xml.Name
		OldID      string `xml:"old_id,attr"`
		NewID      string `xml:"new_id,attr"`
		NewVersion string `xml:"new_version,attr"`
	} `xml:",any"`
}

// changesetDoc is GET /changeset/ID with the review state, an attribute
// paulmach/osm's Changeset does not keep.
type changesetDoc struct {
	Changeset struct {
		ID          int64  `xml:"id,attr"`
		User        string `xml:"user,attr"`
		Open        bool   `xml:"open,attr"`
		ReviewState string `xml:"review_state,attr"`
		Tags        []struct {
			K string `xml:"k,attr"`
			V string `xml:"v,attr"`
		} `xml:"tag"`
	} `xml:"changeset"`
}

func TestGolangOAuth2(t *testing.T) {
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			const redirectURI = "http://127.0.0.1:9/geocommuns-callback"
			var clientID string
			s := newSession(t, backend, "Élise Mapper", func(ds dataset) {
				clientID = addPublicApp(t, ds, "Go editor", redirectURI)
			})
			base := s.server.Base

			conf, tok := signInWithOAuth2(t, base, clientID, redirectURI, s.author, s.password)
			client := conf.Client(ctx, tok)
			api := base + "/api/0.6"

			details := send(t, client, http.MethodGet, api+"/user/details.json", "", "")
			var d struct {
				User struct {
					DisplayName string `json:"display_name"`
				} `json:"user"`
			}
			if err := json.Unmarshal([]byte(details.body), &d); details.status != http.StatusOK || err != nil || d.User.DisplayName != s.author {
				t.Fatalf("user details with the access token: %d %s; want %s", details.status, details.body, s.author)
			}

			created := send(t, client, http.MethodPut, api+"/changeset/create", "text/xml",
				`<osm><changeset><tag k="comment" v="x/oauth2: a hiking route to the café"/><tag k="created_by" v="clientstest"/></changeset></osm>`)
			cs, err := strconv.ParseInt(created.body, 10, 64)
			if created.status != http.StatusOK || err != nil {
				t.Fatalf("changeset/create: %d %q", created.status, created.body)
			}
			upload := send(t, client, http.MethodPost, fmt.Sprintf("%s/changeset/%d/upload", api, cs), "text/xml",
				strings.ReplaceAll(`<osmChange version="0.6" generator="clientstest">
 <create>
  <node id="-1" changeset="CS" lat="43.6051" lon="1.4451"><tag k="amenity" v="drinking_water"/></node>
  <node id="-2" changeset="CS" lat="43.6053" lon="1.4453"/>
  <way id="-1" changeset="CS"><nd ref="-1"/><nd ref="-2"/><tag k="highway" v="path"/></way>
  <relation id="-1" changeset="CS"><member type="way" ref="-1" role=""/><member type="node" ref="101" role="destination"/><tag k="type" v="route"/><tag k="route" v="hiking"/></relation>
 </create>
 <modify>
  <way id="201" version="1" changeset="CS"><nd ref="101"/><nd ref="102"/><nd ref="-1"/><tag k="highway" v="service"/><tag k="surface" v="asphalt"/></way>
  <node id="101" version="3" changeset="CS" lat="43.6" lon="1.44"><tag k="amenity" v="cafe"/><tag k="name" v="Le Café du Coin"/></node>
 </modify>
 <delete>
  <node id="103" version="2" changeset="CS"/>
 </delete>
</osmChange>`, `"CS"`, fmt.Sprintf(`"%d"`, cs)))
			if upload.status != http.StatusOK {
				t.Fatalf("upload: %d %s\n%s", upload.status, upload.body, s.server.Log())
			}
			var dr diffResult
			if err := xml.Unmarshal([]byte(upload.body), &dr); err != nil {
				t.Fatalf("diffResult %q: %v", upload.body, err)
			}
			var got []string
			newIDs := map[string]int64{}
			for _, c := range dr.Children {
				got = append(got, fmt.Sprintf("%s %s", c.XMLName.Local, c.OldID))
				if id, err := strconv.ParseInt(c.NewID, 10, 64); err == nil && strings.HasPrefix(c.OldID, "-") {
					newIDs[c.XMLName.Local+c.OldID] = id
				}
			}
			if want := []string{"node -1", "node -2", "way -1", "relation -1", "way 201", "node 101", "node 103"}; !slices.Equal(got, want) {
				t.Fatalf("diffResult children %v, want %v in document order:\n%s", got, want, upload.body)
			}
			for i, want := range []string{"1", "1", "1", "1", "2", "4", ""} {
				if c := dr.Children[i]; c.NewVersion != want || (i == 6) != (c.NewID == "") {
					t.Errorf("diffResult %s %s: new_id %q new_version %q; want version %q", c.XMLName.Local, c.OldID, c.NewID, c.NewVersion, want)
				}
			}
			water, corner2 := osm.NodeID(newIDs["node-1"]), osm.NodeID(newIDs["node-2"])
			path, route := osm.WayID(newIDs["way-1"]), osm.RelationID(newIDs["relation-1"])
			if closed := send(t, client, http.MethodPut, fmt.Sprintf("%s/changeset/%d/close", api, cs), "", ""); closed.status != http.StatusOK {
				t.Fatalf("close: %d %s", closed.status, closed.body)
			}

			// The author reads back with paulmach/osm's osmapi over the
			// OAuth 2 client.
			readCtx, cancelRead := context.WithTimeout(ctx, clientTimeout)
			defer cancelRead()
			author := datasource(base, client)
			const who = "the author"
			if n, err := author.Node(readCtx, water); err != nil {
				t.Errorf("%s: node %d: %v", who, water, err)
			} else if n.Version != 1 || n.Tags.Find("amenity") != "drinking_water" || n.User != s.author || int64(n.ChangesetID) != cs {
				t.Errorf("%s reads node %d v%d %v by %q in %d", who, n.ID, n.Version, tagMap(n.Tags), n.User, n.ChangesetID)
			}
			if w, err := author.Way(readCtx, osm.WayID(serviceWay.ID)); err != nil {
				t.Errorf("%s: way %d: %v", who, serviceWay.ID, err)
			} else if want := []int64{101, 102, int64(water)}; w.Version != 2 || !slices.Equal(wayNodeIDs(w), want) ||
				!maps.Equal(tagMap(w.Tags), map[string]string{"highway": "service", "surface": "asphalt"}) {
				t.Errorf("%s reads way %d v%d nodes %v %v; want v2 nodes %v, surfaced", who, w.ID, w.Version, wayNodeIDs(w), tagMap(w.Tags), want)
			}
			if full, err := author.WayFull(readCtx, path); err != nil || len(full.Nodes) != 2 || len(full.Ways) != 1 ||
				full.Nodes[0].ID != water || full.Nodes[1].ID != corner2 {
				t.Errorf("%s: way %d/full: %v %v", who, path, err, full)
			}
			if r, err := author.Relation(readCtx, route); err != nil {
				t.Errorf("%s: relation %d: %v", who, route, err)
			} else if len(r.Members) != 2 || r.Members[0].Ref != int64(path) || r.Members[0].Type != osm.TypeWay ||
				r.Members[1].Ref != cafe.ID || r.Members[1].Role != "destination" || r.Tags.Find("route") != "hiking" {
				t.Errorf("%s reads relation %d: members %+v tags %v", who, r.ID, r.Members, tagMap(r.Tags))
			}
			if n, err := author.Node(readCtx, osm.NodeID(cafe.ID)); err != nil || n.Version != cafe.Version+1 || n.Tags.Find("name") != "Le Café du Coin" {
				t.Errorf("%s: the café: %v %v", who, err, n)
			}
			if _, err := author.Node(readCtx, osm.NodeID(gate.ID)); !errors.As(err, new(*osmapi.GoneError)) {
				t.Errorf("%s: the deleted gate: %v; want 410 Gone", who, err)
			}
			if ways, err := author.NodeWays(readCtx, water); err != nil || len(ways) != 2 {
				t.Errorf("%s: ways of node %d: %v %v; want the service way and the path", who, water, wayIDs(ways), err)
			}
			if m, err := author.Map(readCtx, &osm.Bounds{MinLat: 43.599, MinLon: 1.439, MaxLat: 43.615, MaxLon: 1.455}); err != nil {
				t.Errorf("%s: map: %v", who, err)
			} else {
				var got []string
				for _, n := range m.Nodes {
					got = append(got, fmt.Sprintf("n%d v%d", n.ID, n.Version))
				}
				for _, w := range m.Ways {
					got = append(got, fmt.Sprintf("w%d v%d", w.ID, w.Version))
				}
				for _, r := range m.Relations {
					got = append(got, fmt.Sprintf("r%d v%d", r.ID, r.Version))
				}
				slices.Sort(got)
				want := []string{"n101 v4", "n102 v1", fmt.Sprintf("n%d v1", water), fmt.Sprintf("n%d v1", corner2),
					"w201 v2", fmt.Sprintf("w%d v1", path), fmt.Sprintf("r%d v1", route)}
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s: map shows %v, want %v (the gate deleted)", who, got, want)
				}
			}
			if r := send(t, client, http.MethodGet, fmt.Sprintf("%s/node/%d", api, water), "", ""); r.status != http.StatusOK ||
				!strings.Contains(r.header.Get("Cache-Control"), "private") {
				t.Errorf("the author's overlaid read: %d, Cache-Control %q; want private", r.status, r.header.Get("Cache-Control"))
			}
			csRead := send(t, client, http.MethodGet, fmt.Sprintf("%s/changeset/%d", api, cs), "", "")
			var doc changesetDoc
			if err := xml.Unmarshal([]byte(csRead.body), &doc); err != nil || doc.Changeset.ID != cs || doc.Changeset.Open ||
				doc.Changeset.ReviewState != "submitted" || doc.Changeset.User != s.author {
				t.Errorf("changeset %d after close: %d %s; want closed, review_state submitted, by %s", cs, csRead.status, csRead.body, s.author)
			}

			checkAnonymousSeesFixture(t, base, []osm.FeatureID{water.FeatureID(), corner2.FeatureID(), path.FeatureID(), route.FeatureID()})
		})
	}
}
