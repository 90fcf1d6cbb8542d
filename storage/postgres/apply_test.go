package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

func TestApplyAppendsVersions(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	els := importSample(t, s)
	node2, way10, way11 := els[1], els[5], els[6]

	moved := node2
	moved.Version, moved.Lat, moved.Lon, moved.Changeset = 2, 450000000, 50000000, 30
	shorter := way10
	shorter.Version, shorter.Nodes, shorter.Changeset = 2, []int64{1, 2}, 30
	gone := osmdata.Element{Type: osmdata.Way, ID: 11, Version: way11.Version + 1, Visible: false, Changeset: 30, UID: 100, User: "alice_renamed", Timestamp: ts("2023-01-01T00:00:00Z")}
	created := osmdata.Element{Type: osmdata.Node, ID: 6, Version: 1, Visible: true, Changeset: 30, UID: 100, User: "alice_renamed", Timestamp: ts("2023-01-01T00:00:00Z"), Lat: 1, Lon: 1}
	edited := created
	edited.Version, edited.Tags = 2, osmdata.Tags{{Key: "b", Value: "2"}, {Key: "a", Value: "1"}}
	if err := s.Apply(ctx, []osmdata.Element{moved, shorter, gone, created, edited}); err != nil {
		t.Fatal(err)
	}

	history, err := s.History(ctx, osmdata.Node, 6)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]osmdata.Element{created, edited}, history); d != "" {
		t.Errorf("history of node 6 (-want +got):\n%s", d)
	}
	history, err = s.History(ctx, osmdata.Node, 2)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]osmdata.Element{node2, moved}, history); d != "" {
		t.Errorf("history of node 2 (-want +got):\n%s", d)
	}
	v1, err := s.ElementVersion(ctx, osmdata.Node, 2, 1)
	if err != nil || !cmp.Equal(v1, node2) {
		t.Errorf("node 2 v1: %+v, %v; want the imported version", v1, err)
	}
	if _, err := s.ElementVersion(ctx, osmdata.Node, 2, 3); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("node 2 v3: %v, want ErrNotFound", err)
	}

	current, err := s.CurrentElements(ctx, osmdata.Way, []int64{10, 11})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]osmdata.Element{shorter, gone}, current); d != "" {
		t.Errorf("current ways (-want +got):\n%s", d)
	}

	// The moved node is found at its new place only (its tile changed).
	at := func(lat, lon int32) []int64 {
		got, err := s.NodesInBox(ctx, osmdata.Box{MinLat: lat, MinLon: lon, MaxLat: lat, MaxLon: lon}, 10)
		if err != nil {
			t.Fatal(err)
		}
		return ids(got)
	}
	if got := at(450000000, 50000000); !cmp.Equal(got, []int64{2}) {
		t.Errorf("nodes at node 2's new place: %v, want [2]", got)
	}
	if got := at(10500000, 20500000); len(got) != 0 {
		t.Errorf("nodes at node 2's old place: %v, want none", got)
	}

	// Way 10 no longer uses node 3, and deleted way 11 uses nothing.
	got, err := s.WaysUsingNodes(ctx, []int64{3, 999, 2})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]int64{10}, ids(got)); d != "" {
		t.Errorf("ways using nodes 3, 999, 2 (-want +got):\n%s", d)
	}
	got, err = s.RelationsWithMembers(ctx, osmdata.Way, []int64{11})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]int64{21}, ids(got)); d != "" {
		t.Errorf("relations with way 11: relation 21 still names it (-want +got):\n%s", d)
	}

	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (storage.Counts{Nodes: 5, Ways: 1, Relations: 3, Versions: 16, Changesets: 4, Users: 2}); c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
}

func TestApplyRefusesVersionGaps(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	els := importSample(t, s)
	relation20 := els[8]

	stale := relation20 // version 1 again
	err := s.Apply(ctx, []osmdata.Element{stale})
	if !errors.Is(err, storage.ErrVersionConflict) || !strings.Contains(err.Error(), "relation 20: version 1 given, current is 1") {
		t.Errorf("apply relation 20 v1 again: %v, want a version conflict naming relation 20", err)
	}

	// A good version before a bad one: nothing of the batch is written.
	good := osmdata.Element{Type: osmdata.Node, ID: 50, Version: 1, Visible: true, Changeset: 31, Timestamp: ts("2023-01-01T00:00:00Z")}
	skipped := good
	skipped.ID = 51
	skipped.Version = 2
	err = s.Apply(ctx, []osmdata.Element{good, skipped})
	if !errors.Is(err, storage.ErrVersionConflict) || !strings.Contains(err.Error(), "node 51: version 2 given") {
		t.Errorf("apply node 51 v2 as its first version: %v, want a version conflict naming node 51", err)
	}
	if got, _ := s.CurrentElements(ctx, osmdata.Node, []int64{50}); len(got) != 0 {
		t.Errorf("node 50 was written by a refused batch")
	}
	if c, _ := s.Counts(ctx); c.Versions != 11 {
		t.Errorf("%d versions after refused applies, want 11", c.Versions)
	}
}

func TestApplyWithoutImport(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	node := osmdata.Element{Type: osmdata.Node, ID: 1, Version: 1, Visible: true, Changeset: 1, UID: 5, User: "x", Timestamp: ts("2024-01-01T00:00:00Z")}
	way := osmdata.Element{Type: osmdata.Way, ID: 1, Version: 1, Visible: true, Changeset: 1, UID: 5, User: "x", Timestamp: ts("2024-01-01T00:00:00Z"), Nodes: []int64{1, 1}}
	if err := s.Apply(ctx, []osmdata.Element{node, way}); err != nil {
		t.Fatal(err)
	}
	got, err := s.WaysUsingNodes(ctx, []int64{1})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]osmdata.Element{way}, got); d != "" {
		t.Errorf("ways using node 1 (-want +got):\n%s", d)
	}
	// The dataset has elements now, so an import is refused.
	if _, err := s.Import(ctx, &sliceSource{elements: sample()}); !errors.Is(err, storage.ErrNotEmpty) {
		t.Errorf("import after apply: %v, want ErrNotEmpty", err)
	}
}
