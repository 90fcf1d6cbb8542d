package postgres

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmpbf"

	"github.com/geocommuns/geocommuns/osmdata"
)

// sliceSource yields elements from memory; with fail set it returns that
// error instead of the element at failAt.
type sliceSource struct {
	elements []osmdata.Element
	i        int
	failAt   int
	fail     error
}

func (s *sliceSource) Next() (*osmdata.Element, error) {
	if s.fail != nil && s.i == s.failAt {
		return nil, s.fail
	}
	if s.i >= len(s.elements) {
		return nil, io.EOF
	}
	s.i++
	return &s.elements[s.i-1], nil
}

// pbfSource reads a .osm.pbf file with paulmach/osm's decoder. It stands
// in for osmdata/osmfile in these tests so the backend is tested on real
// data whatever the state of that package.
type pbfSource struct {
	f       *os.File
	scanner *osmpbf.Scanner
}

func openPBF(t testing.TB, path string) *pbfSource {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s := &pbfSource{f: f, scanner: osmpbf.New(context.Background(), f, runtime.GOMAXPROCS(0))}
	t.Cleanup(func() {
		s.scanner.Close()
		f.Close()
	})
	return s
}

func (s *pbfSource) Next() (*osmdata.Element, error) {
	if !s.scanner.Scan() {
		if err := s.scanner.Err(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	e := elementFromOSM(s.scanner.Object())
	return &e, nil
}

func elementFromOSM(o osm.Object) osmdata.Element {
	var e osmdata.Element
	common := func(id int64, version int, cs osm.ChangesetID, visible bool, uid osm.UserID, user string, tags osm.Tags) {
		e.ID, e.Version, e.Changeset, e.Visible, e.UID, e.User = id, version, int64(cs), visible, int64(uid), user
		for _, t := range tags {
			e.Tags = append(e.Tags, osmdata.Tag{Key: t.Key, Value: t.Value})
		}
	}
	switch o := o.(type) {
	case *osm.Node:
		e.Type = osmdata.Node
		common(int64(o.ID), o.Version, o.ChangesetID, o.Visible, o.UserID, o.User, o.Tags)
		e.Timestamp = o.Timestamp.UTC()
		e.Lat, e.Lon = osmdata.RoundCoordToFixed(o.Lat), osmdata.RoundCoordToFixed(o.Lon)
	case *osm.Way:
		e.Type = osmdata.Way
		common(int64(o.ID), o.Version, o.ChangesetID, o.Visible, o.UserID, o.User, o.Tags)
		e.Timestamp = o.Timestamp.UTC()
		e.Nodes = make([]int64, len(o.Nodes))
		for i, n := range o.Nodes {
			e.Nodes[i] = int64(n.ID)
		}
	case *osm.Relation:
		e.Type = osmdata.Relation
		common(int64(o.ID), o.Version, o.ChangesetID, o.Visible, o.UserID, o.User, o.Tags)
		e.Timestamp = o.Timestamp.UTC()
		for _, m := range o.Members {
			t, _ := osmdata.ParseElementType(string(m.Type))
			e.Members = append(e.Members, osmdata.Member{Type: t, Ref: m.Ref, Role: m.Role})
		}
	}
	return e
}

// delawarePath finds paulmach/osm's copy of the Delaware extract.
func delawarePath(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/paulmach/osm").Output()
	if err != nil {
		t.Fatalf("locate github.com/paulmach/osm: %v", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "testdata", "delaware-latest.osm.pbf")
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	return path
}
