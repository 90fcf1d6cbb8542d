package osmapi

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// The tests run against both backends: SQLite always, PostgreSQL when
// GEOCOMMUNS_TEST_POSTGRES names a server, each test in a schema of its
// own that is dropped afterwards.

type backend struct {
	name string
	open func(t *testing.T) storage.Store
}

var backends = []backend{
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
}

func openSQLite(t *testing.T) storage.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T) storage.Store {
	t.Helper()
	return pgtest.Open(t, pgtest.Config(t))
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func fixed(deg float64) int32 { return osmdata.RoundCoordToFixed(deg) }

// The dataset follows cgimap's test data (test/node.testcore,
// test/relation_full.testcore): a node with history, a deleted node, way
// and relation, self- and mutually-referencing relations, a large id.
// A way also names a node the dataset lacks, as extracts do.
func datasetSnapshot() []osmdata.Element {
	node := func(id int64, cs int64, when string, lat, lon float64, tags ...osmdata.Tag) osmdata.Element {
		return osmdata.Element{Type: osmdata.Node, ID: id, Version: 1, Visible: true, Changeset: cs,
			Timestamp: at(when), UID: 1, User: "foo", Lat: fixed(lat), Lon: fixed(lon), Tags: tags}
	}
	way := func(id int64, nodes ...int64) osmdata.Element {
		return osmdata.Element{Type: osmdata.Way, ID: id, Version: 1, Visible: true, Changeset: 1,
			Timestamp: at("2012-12-01T00:00:00Z"), UID: 1, User: "foo", Nodes: nodes}
	}
	rel := func(id int64, members ...osmdata.Member) osmdata.Element {
		return osmdata.Element{Type: osmdata.Relation, ID: id, Version: 1, Visible: true, Changeset: 1,
			Timestamp: at("2013-01-13T00:00:00Z"), UID: 1, User: "foo", Members: members}
	}
	r1 := rel(1, osmdata.Member{Type: osmdata.Node, Ref: 2, Role: "stop"}, osmdata.Member{Type: osmdata.Way, Ref: 1, Role: "forward"})
	r1.Tags = osmdata.Tags{{Key: "ref", Value: "W8"}, {Key: "type", Value: "route"}}
	w1 := way(1, 1, 2)
	w1.Tags = osmdata.Tags{{Key: "highway", Value: "residential"}}
	return []osmdata.Element{
		node(1, 1, "2012-09-25T00:00:00Z", 0, 0),
		node(2, 1, "2012-09-25T00:00:00Z", 0.5, 0.5),
		node(3, 3, "2012-09-25T00:00:59Z", 0, 0),
		node(6, 1, "2012-09-26T00:00:00Z", 0.0001, -0.0001),
		node(8589934592, 4, "2013-10-20T00:00:00Z", 3, 3),
		w1,
		way(2, 1, 2),
		way(3, 1, 999, 3),
		r1,
		rel(2, osmdata.Member{Type: osmdata.Node, Ref: 1}),
		rel(4, osmdata.Member{Type: osmdata.Relation, Ref: 1}),
		rel(5, osmdata.Member{Type: osmdata.Relation, Ref: 5}),
		rel(6, osmdata.Member{Type: osmdata.Way, Ref: 1}),
		rel(7, osmdata.Member{Type: osmdata.Relation, Ref: 8}),
		rel(8, osmdata.Member{Type: osmdata.Relation, Ref: 7}),
	}
}

// datasetEdits are applied after the import: a second version of node 2
// with tags out of alphabetical order and a renamed user, a second
// version of relation 6, and deletions.
func datasetEdits() []osmdata.Element {
	n2 := osmdata.Element{Type: osmdata.Node, ID: 2, Version: 2, Visible: true, Changeset: 3,
		Timestamp: at("2012-10-01T00:00:00Z"), UID: 1, User: "foo_renamed", Lat: fixed(1), Lon: fixed(1),
		Tags: osmdata.Tags{{Key: "foo", Value: "bar1"}, {Key: "bar", Value: "bar2"}, {Key: "baz", Value: "bar3"}}}
	deleted := func(t osmdata.ElementType, id int64, when string) osmdata.Element {
		return osmdata.Element{Type: t, ID: id, Version: 2, Visible: false, Changeset: 3, Timestamp: at(when), UID: 1, User: "foo_renamed"}
	}
	r6 := osmdata.Element{Type: osmdata.Relation, ID: 6, Version: 2, Visible: true, Changeset: 3,
		Timestamp: at("2013-01-14T00:00:00Z"), UID: 1, User: "foo_renamed",
		Tags: osmdata.Tags{{Key: "type", Value: "multipolygon"}}, Members: []osmdata.Member{{Type: osmdata.Way, Ref: 1, Role: "outer"}}}
	return []osmdata.Element{
		n2,
		deleted(osmdata.Node, 3, "2012-09-25T00:01:00Z"),
		deleted(osmdata.Way, 2, "2013-01-12T00:00:00Z"),
		deleted(osmdata.Relation, 2, "2013-01-12T00:00:00Z"),
		r6,
	}
}

type sliceSource struct{ els []osmdata.Element }

func (s *sliceSource) Next() (*osmdata.Element, error) {
	if len(s.els) == 0 {
		return nil, io.EOF
	}
	e := s.els[0]
	s.els = s.els[1:]
	return &e, nil
}

// loadDataset imports the snapshot and applies the edits.
func loadDataset(t *testing.T, s storage.Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Import(ctx, &sliceSource{els: datasetSnapshot()}); err != nil {
		t.Fatalf("import the test dataset: %v", err)
	}
	if err := s.Apply(ctx, datasetEdits()); err != nil {
		t.Fatalf("apply the test edits: %v", err)
	}
}
