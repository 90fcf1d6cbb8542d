package clientstest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmapi"
)

// paulmach/osm's osmapi is the Go reader of these tests. It sends no
// credentials of its own, so over a plain http.Client it is the anonymous
// reader every test asks whether the author's pending work leaked; over
// an OAuth 2 client (x_oauth2_test.go) it reads as the author.

func datasource(base string, client *http.Client) *osmapi.Datasource {
	return &osmapi.Datasource{BaseURL: base + "/api/0.6", Client: client}
}

// anonymous is a reader without credentials.
func anonymous(base string) *osmapi.Datasource {
	return datasource(base, &http.Client{Timeout: 30 * time.Second})
}

func tagMap(tags osm.Tags) map[string]string {
	m := tags.Map()
	if m == nil {
		m = map[string]string{}
	}
	return m
}

func checkNode(t *testing.T, who string, n *osm.Node, want fixtureNode) {
	t.Helper()
	if int64(n.ID) != want.ID || n.Version != want.Version || !n.Visible || !maps.Equal(tagMap(n.Tags), want.Tags) ||
		n.Lat != want.Lat || n.Lon != want.Lon {
		t.Errorf("%s reads node %d v%d visible=%t at %v,%v %v; want v%d at %v,%v %v",
			who, n.ID, n.Version, n.Visible, n.Lat, n.Lon, tagMap(n.Tags), want.Version, want.Lat, want.Lon, want.Tags)
	}
}

func wayNodeIDs(w *osm.Way) []int64 {
	ids := make([]int64, len(w.Nodes))
	for i, wn := range w.Nodes {
		ids[i] = int64(wn.ID)
	}
	return ids
}

// checkAnonymousSeesFixture asserts that a reader without credentials
// sees the imported dataset exactly as it was, through every read the
// author's overlay touches (element, multi-fetch, full, ways of a node,
// map, in XML through paulmach/osm's osmapi and in JSON over plain GETs),
// and none of the elements the author created (404).
func checkAnonymousSeesFixture(t *testing.T, base string, created []osm.FeatureID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	anon := anonymous(base)
	const who = "an anonymous reader"

	for _, want := range []fixtureNode{cafe, corner, gate} {
		n, err := anon.Node(ctx, osm.NodeID(want.ID))
		if err != nil {
			t.Errorf("%s: node %d: %v", who, want.ID, err)
			continue
		}
		checkNode(t, who, n, want)
	}
	nodes, err := anon.Nodes(ctx, []osm.NodeID{osm.NodeID(cafe.ID), osm.NodeID(gate.ID)})
	if err != nil || len(nodes) != 2 || nodes[0].Version != cafe.Version || nodes[1].Version != gate.Version || !nodes[1].Visible {
		t.Errorf("%s: nodes?nodes=%d,%d: %v %v; want the imported versions %d and %d", who, cafe.ID, gate.ID, nodeVersions(nodes), err, cafe.Version, gate.Version)
	}
	w, err := anon.Way(ctx, osm.WayID(serviceWay.ID))
	if err != nil {
		t.Errorf("%s: way %d: %v", who, serviceWay.ID, err)
	} else if w.Version != serviceWay.Version || !slices.Equal(wayNodeIDs(w), serviceWay.Nodes) || !maps.Equal(tagMap(w.Tags), serviceWay.Tags) {
		t.Errorf("%s reads way %d v%d nodes %v %v; want the imported v%d %v %v", who, w.ID, w.Version, wayNodeIDs(w), tagMap(w.Tags),
			serviceWay.Version, serviceWay.Nodes, serviceWay.Tags)
	}
	full, err := anon.WayFull(ctx, osm.WayID(serviceWay.ID))
	if err != nil || len(full.Ways) != 1 || len(full.Nodes) != 2 {
		t.Errorf("%s: way %d/full: %v; want the way and its two imported nodes", who, serviceWay.ID, err)
	} else {
		checkNode(t, who+" (way/full)", full.Nodes[0], cafe)
	}
	ways, err := anon.NodeWays(ctx, osm.NodeID(cafe.ID))
	if err != nil || len(ways) != 1 || int64(ways[0].ID) != serviceWay.ID || ways[0].Version != serviceWay.Version {
		t.Errorf("%s: node %d/ways: %v (%v); want only the imported way %d v%d", who, cafe.ID, wayIDs(ways), err, serviceWay.ID, serviceWay.Version)
	}

	// The map around the fixture and everything the clients add nearby.
	m, err := anon.Map(ctx, &osm.Bounds{MinLat: 43.599, MinLon: 1.439, MaxLat: 43.615, MaxLon: 1.455})
	if err != nil {
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
		want := []string{"n101 v3", "n102 v1", "n103 v2", "w201 v1"}
		if !slices.Equal(got, want) {
			t.Errorf("%s: map shows %v; want only the imported %v", who, got, want)
		}
	}

	for _, id := range created {
		var err error
		switch id.Type() {
		case osm.TypeNode:
			_, err = anon.Node(ctx, id.NodeID())
		case osm.TypeWay:
			_, err = anon.Way(ctx, id.WayID())
		case osm.TypeRelation:
			_, err = anon.Relation(ctx, id.RelationID())
		}
		if nf := (*osmapi.NotFoundError)(nil); !errors.As(err, &nf) {
			t.Errorf("%s: %s created by the author: %v; want 404", who, id, err)
		}
		if status, body := plainGet(t, base, fmt.Sprintf("/api/0.6/%s/%d.json", id.Type(), id.Ref())); status != http.StatusNotFound {
			t.Errorf("%s: %s.json created by the author: %d %.300s; want 404", who, id, status, body)
		}
	}
}

func nodeVersions(nodes osm.Nodes) []string {
	var s []string
	for _, n := range nodes {
		s = append(s, fmt.Sprintf("n%d v%d visible=%t", n.ID, n.Version, n.Visible))
	}
	return s
}

func wayIDs(ways osm.Ways) []string {
	var s []string
	for _, w := range ways {
		s = append(s, fmt.Sprintf("w%d v%d", w.ID, w.Version))
	}
	return s
}

// plainGet reads path without credentials, as a browser or curl would.
func plainGet(t *testing.T, base, path string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(body)
}
