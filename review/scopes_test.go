package review

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review/validate"
)

func loadScopes(t *testing.T) *Config {
	t.Helper()
	c, err := LoadConfig("testdata/scopes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func node(id int64, lon, lat float64, tags ...string) *osmdata.Element {
	e := &osmdata.Element{Type: osmdata.Node, ID: id, Lon: osmdata.CoordToFixed(lon), Lat: osmdata.CoordToFixed(lat), Visible: true}
	for i := 0; i+1 < len(tags); i += 2 {
		e.Tags = append(e.Tags, osmdata.Tag{Key: tags[i], Value: tags[i+1]})
	}
	return e
}

func snapshotOf(elems ...*osmdata.Element) *validate.Snapshot {
	s := &validate.Snapshot{Nodes: map[int64]*osmdata.Element{}, Ways: map[int64]*osmdata.Element{}, Relations: map[int64]*osmdata.Element{}}
	for _, e := range elems {
		switch e.Type {
		case osmdata.Node:
			s.Nodes[e.ID] = e
		case osmdata.Way:
			s.Ways[e.ID] = e
		case osmdata.Relation:
			s.Relations[e.ID] = e
		}
	}
	return s
}

func TestScopesFor(t *testing.T) {
	c := loadScopes(t)
	if got := time.Duration(c.Policy.EscalateAfter); got != 48*time.Hour {
		t.Errorf("escalate_after = %v, want 48h", got)
	}
	inVella := node(1, 1.52, 42.50, "amenity", "cafe")
	escaldesAddress := node(2, 1.56, 42.51, "addr:housenumber", "3")
	escaldesShop := node(3, 1.56, 42.51, "shop", "bakery")
	outside := node(4, 1.40, 42.55, "addr:housenumber", "9")
	// A road from outside into Andorra la Vella, no vertex inside: only
	// its segment crosses the area's edge.
	n5, n6 := node(5, 1.48, 42.50), node(6, 1.55, 42.50)
	road := &osmdata.Element{Type: osmdata.Way, ID: 10, Nodes: []int64{5, 6}, Visible: true,
		Tags: osmdata.Tags{{Key: "highway", Value: "residential"}}}
	snap := snapshotOf(inVella, escaldesAddress, escaldesShop, outside, n5, n6, road)
	cases := []struct {
		name    string
		changes []validate.Change
		want    []string
	}{
		{"node in a commune", []validate.Change{{New: inVella}}, []string{"andorra-la-vella"}},
		{"address in the thematic scope", []validate.Change{{New: escaldesAddress}}, []string{"escaldes-addresses"}},
		{"other tags there go to the fallback", []validate.Change{{New: escaldesShop}}, []string{FallbackScope}},
		{"outside every area", []validate.Change{{New: outside}}, []string{FallbackScope}},
		{"a deletion counts where it was", []validate.Change{{Old: inVella}}, []string{"andorra-la-vella"}},
		{"moved out of the commune: old geometry counts", []validate.Change{{Old: inVella, New: node(1, 1.40, 42.55, "amenity", "cafe")}}, []string{"andorra-la-vella"}},
		{"a way crossing the edge", []validate.Change{{New: road}}, []string{"andorra-la-vella"}},
		{"two scopes and the fallback", []validate.Change{{New: inVella}, {New: escaldesAddress}, {New: outside}},
			[]string{"andorra-la-vella", "escaldes-addresses", FallbackScope}},
	}
	for _, tc := range cases {
		in := &validate.Input{Changes: tc.changes, Before: snap, After: snap}
		got := c.ScopesFor(in)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: scopes %v, want %v", tc.name, got, want)
		}
	}
}

func TestScopesOf(t *testing.T) {
	c := loadScopes(t)
	for _, tc := range []struct {
		name, role string
		want       []string
	}{
		{"alice", RoleReviewer, []string{"andorra-la-vella", "escaldes-addresses"}},
		{"bob", RoleReviewer, []string{"escaldes-addresses"}},
		{"carol", RoleReviewer, []string{FallbackScope}},
		{"dave", RoleReviewer, nil},
		{"eve", RoleAdmin, []string{"andorra-la-vella", "escaldes-addresses", FallbackScope}},
	} {
		if got := c.ScopesOf(tc.name, tc.role); !slices.Equal(got, tc.want) {
			t.Errorf("ScopesOf(%s, %s) = %v, want %v", tc.name, tc.role, got, tc.want)
		}
	}
	if got := DefaultConfig().ScopesOf("dave", RoleReviewer); !slices.Equal(got, []string{FallbackScope}) {
		t.Errorf("without configured fallback reviewers, every reviewer reviews the fallback scope; got %v", got)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "policy:\n  aproovals_required: 2\n", "line 2"},
		{"bad duration", "policy:\n  escalate_after: two days\n", "line 2"},
		{"duplicate scope", "scopes:\n  - name: a\n  - name: a\n", "scope 2"},
		{"missing area", "scopes:\n  - name: a\n    area: nowhere.geojson\n", "nowhere.geojson"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
		if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %q", tc.name, err, tc.want)
		}
	}
}
