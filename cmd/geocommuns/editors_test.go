package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// smallExtract is a dataset the feed tests start from: two nodes and a
// way, as an imported extract has them.
const smallExtract = `<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
<node id="1" version="1" timestamp="2024-05-01T10:00:00Z" changeset="7" uid="3" user="importer" lat="42.5" lon="1.5"><tag k="amenity" v="bench"/></node>
<node id="2" version="1" timestamp="2024-05-01T10:00:00Z" changeset="7" uid="3" user="importer" lat="42.6" lon="1.6"/>
<way id="1" version="1" timestamp="2024-05-01T10:00:00Z" changeset="7" uid="3" user="importer"><nd ref="1"/><nd ref="2"/><tag k="highway" v="path"/></way>
</osm>
`

// importSmallExtract writes smallExtract under dir, imports it into ds
// and returns the file's path.
func importSmallExtract(t *testing.T, ds dataset, dir string) string {
	t.Helper()
	initial := filepath.Join(dir, "initial.osm")
	if err := os.WriteFile(initial, []byte(smallExtract), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runBinary(t, nil, append([]string{"import"}, append(ds.flags, initial)...)...); r.exit != 0 {
		t.Fatalf("import: %d %s", r.exit, r.stderr)
	}
	return initial
}

// trustedMappers adds n trusted accounts (mapper0…) with `user add` and
// returns an editor for each, signed in with the account's API token.
func trustedMappers(t *testing.T, flags []string, n int) []*mapper {
	t.Helper()
	clients := make([]*mapper, n)
	for i := range clients {
		r := runBinary(t, nil, append([]string{"user", "add", fmt.Sprintf("mapper%d", i), "--trusted"}, flags...)...)
		if r.exit != 0 {
			t.Fatalf("user add: %d %s", r.exit, r.stderr)
		}
		clients[i] = &mapper{token: strings.TrimSpace(r.stdout), nodes: map[int64]int{}, ways: map[int64]int{}}
	}
	return clients
}
