package osmapi

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http/httptest"
	"testing"

	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmapi"
)

// TestThirdPartyClient points github.com/paulmach/osm/osmapi, unmodified,
// at the server: a real client that parses openstreetmap.org's replies
// must parse ours.
func TestThirdPartyClient(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store := b.open(t)
			loadDataset(t, store)
			srv := httptest.NewServer(newMux(&API{Reader: store}))
			defer srv.Close()

			ds := osmapi.NewDatasource(srv.Client())
			ds.BaseURL = srv.URL + "/api/0.6"
			ctx := context.Background()

			node, err := ds.Node(ctx, 2)
			if err != nil {
				t.Fatalf("node 2: %v", err)
			}
			if node.Version != 2 || node.Lat != 1 || node.Lon != 1 || node.User != "foo_renamed" ||
				node.Tags.Find("baz") != "bar3" || node.Timestamp.Format("2006-01-02T15:04:05Z") != "2012-10-01T00:00:00Z" {
				t.Errorf("node 2 as the client reads it: %+v", node)
			}

			_, err = ds.Node(ctx, 3)
			if _, ok := err.(*osmapi.GoneError); !ok {
				t.Errorf("deleted node 3: %v, want the client's GoneError", err)
			}
			_, err = ds.Node(ctx, 4)
			if !ds.NotFound(err) {
				t.Errorf("missing node 4: %v, want the client's NotFoundError", err)
			}

			way, err := ds.Way(ctx, 1)
			if err != nil {
				t.Fatalf("way 1: %v", err)
			}
			if len(way.Nodes) != 2 || way.Nodes[0].ID != 1 || way.Nodes[1].ID != 2 || way.Tags.Find("highway") != "residential" {
				t.Errorf("way 1 as the client reads it: %+v", way)
			}

			full, err := ds.WayFull(ctx, 1)
			if err != nil {
				t.Fatalf("way 1 full: %v", err)
			}
			if len(full.Nodes) != 2 || len(full.Ways) != 1 || full.Nodes[1].Lat != 1 {
				t.Errorf("way 1 full: %d nodes, %d ways", len(full.Nodes), len(full.Ways))
			}

			rel, err := ds.Relation(ctx, 1)
			if err != nil {
				t.Fatalf("relation 1: %v", err)
			}
			if len(rel.Members) != 2 || rel.Members[0].Type != osm.TypeNode || rel.Members[0].Role != "stop" ||
				rel.Members[1].Type != osm.TypeWay || rel.Members[1].Ref != 1 {
				t.Errorf("relation 1 as the client reads it: %+v", rel.Members)
			}

			relFull, err := ds.RelationFull(ctx, 6)
			if err != nil {
				t.Fatalf("relation 6 full: %v", err)
			}
			if len(relFull.Nodes) != 2 || len(relFull.Ways) != 1 || len(relFull.Relations) != 1 {
				t.Errorf("relation 6 full: %d nodes, %d ways, %d relations", len(relFull.Nodes), len(relFull.Ways), len(relFull.Relations))
			}

			history, err := ds.NodeHistory(ctx, 3)
			if err != nil {
				t.Fatalf("node 3 history: %v", err)
			}
			if len(history) != 2 || !history[0].Visible || history[1].Visible || history[1].Version != 2 {
				t.Errorf("node 3 history as the client reads it: %+v", history)
			}

			v1, err := ds.NodeVersion(ctx, 2, 1)
			if err != nil || v1.Lat != 0.5 {
				t.Errorf("node 2 v1: %+v, %v", v1, err)
			}

			m, err := ds.Map(ctx, &osm.Bounds{MinLat: -0.0005, MaxLat: 0.0005, MinLon: -0.0005, MaxLon: 0.0005})
			if err != nil {
				t.Fatalf("map: %v", err)
			}
			if m.Bounds == nil || m.Bounds.MaxLat != 0.0005 || len(m.Nodes) != 3 || len(m.Ways) != 2 || len(m.Relations) != 3 {
				t.Errorf("map as the client reads it: bounds %+v, %d nodes, %d ways, %d relations",
					m.Bounds, len(m.Nodes), len(m.Ways), len(m.Relations))
			}

			ways, err := ds.NodeWays(ctx, 1)
			if err != nil || len(ways) != 2 {
				t.Errorf("ways of node 1: %d, %v", len(ways), err)
			}
			rels, err := ds.WayRelations(ctx, 1)
			if err != nil || len(rels) != 2 {
				t.Errorf("relations of way 1: %d, %v", len(rels), err)
			}
			nodes, err := ds.Nodes(ctx, []osm.NodeID{1, 2})
			if err != nil || len(nodes) != 2 {
				t.Errorf("nodes 1,2: %d, %v", len(nodes), err)
			}
		})
	}
}

// TestCapabilities reads the capabilities and versions documents as a
// client would. paulmach/osm's client has no capabilities call, so they
// are decoded here, into the fields JOSM and iD read.
func TestCapabilities(t *testing.T) {
	store := openSQLite(t)
	srv := httptest.NewServer(newMux(&API{Reader: store}))
	defer srv.Close()

	type limit struct {
		Maximum string `xml:"maximum,attr"`
	}
	type capabilitiesDoc struct {
		Version string `xml:"version,attr"`
		API     struct {
			Version struct {
				Minimum string `xml:"minimum,attr"`
				Maximum string `xml:"maximum,attr"`
			} `xml:"version"`
			Area        limit `xml:"area"`
			Tracepoints struct {
				PerPage string `xml:"per_page,attr"`
			} `xml:"tracepoints"`
			Waynodes        limit `xml:"waynodes"`
			RelationMembers limit `xml:"relationmembers"`
			Changesets      struct {
				MaximumElements string `xml:"maximum_elements,attr"`
			} `xml:"changesets"`
			Timeout struct {
				Seconds string `xml:"seconds,attr"`
			} `xml:"timeout"`
			Status struct {
				Database string `xml:"database,attr"`
				API      string `xml:"api,attr"`
				GPX      string `xml:"gpx,attr"`
			} `xml:"status"`
		} `xml:"api"`
		Blacklist []struct {
			Regex string `xml:"regex,attr"`
		} `xml:"policy>imagery>blacklist"`
	}
	for _, path := range []string{"/api/capabilities", "/api/0.6/capabilities"} {
		var caps capabilitiesDoc
		resp, body := do(t, srv, "", path, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/xml; charset=utf-8" {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if err := xml.Unmarshal(body, &caps); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		a := caps.API
		got := []string{caps.Version, a.Version.Minimum, a.Version.Maximum, a.Area.Maximum, a.Tracepoints.PerPage,
			a.Waynodes.Maximum, a.RelationMembers.Maximum, a.Changesets.MaximumElements, a.Timeout.Seconds,
			a.Status.Database, a.Status.API, a.Status.GPX}
		want := []string{"0.6", "0.6", "0.6", "0.25", "5000", "2000", "32000", "10000", "300", "online", "online", "online"}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: got %v, want %v", path, got, want)
				break
			}
		}
		if len(caps.Blacklist) != 3 || caps.Blacklist[2].Regex != `.*\.here\.com[/:].*` {
			t.Errorf("%s: imagery blacklist %+v", path, caps.Blacklist)
		}
	}

	var jcaps struct {
		Version string `json:"version"`
		API     struct {
			Area struct {
				Maximum float64 `json:"maximum"`
			} `json:"area"`
			Waynodes struct {
				Maximum int `json:"maximum"`
			} `json:"waynodes"`
			Changesets struct {
				MaximumElements int `json:"maximum_elements"`
			} `json:"changesets"`
			Status struct {
				API string `json:"api"`
			} `json:"status"`
		} `json:"api"`
		Policy struct {
			Imagery struct {
				Blacklist []struct {
					Regex string `json:"regex"`
				} `json:"blacklist"`
			} `json:"imagery"`
		} `json:"policy"`
	}
	resp, body := do(t, srv, "", "/api/capabilities.json", nil)
	if resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("capabilities.json: Content-Type %q", resp.Header.Get("Content-Type"))
	}
	if err := json.Unmarshal(body, &jcaps); err != nil {
		t.Fatal(err)
	}
	if jcaps.Version != "0.6" || jcaps.API.Area.Maximum != 0.25 || jcaps.API.Waynodes.Maximum != 2000 ||
		jcaps.API.Changesets.MaximumElements != 10000 || jcaps.API.Status.API != "online" || len(jcaps.Policy.Imagery.Blacklist) != 3 {
		t.Errorf("capabilities.json: %+v", jcaps)
	}

	var versions struct {
		Version   *string  `xml:"version,attr"`
		Generator string   `xml:"generator,attr"`
		Versions  []string `xml:"api>version"`
	}
	_, body = do(t, srv, "", "/api/versions", nil)
	if err := xml.Unmarshal(body, &versions); err != nil {
		t.Fatal(err)
	}
	if versions.Version != nil || versions.Generator != "geocommuns" || len(versions.Versions) != 1 || versions.Versions[0] != "0.6" {
		t.Errorf("versions: %+v", versions)
	}
	var jversions struct {
		API struct {
			Versions []string `json:"versions"`
		} `json:"api"`
	}
	_, body = do(t, srv, "", "/api/versions", map[string]string{"Accept": "application/json"})
	if err := json.Unmarshal(body, &jversions); err != nil || len(jversions.API.Versions) != 1 || jversions.API.Versions[0] != "0.6" {
		t.Errorf("versions in JSON: %s (%v)", body, err)
	}
}
