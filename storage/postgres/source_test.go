package postgres

import (
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
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

// delawarePath finds paulmach/osm's copy of the Delaware extract.
func delawarePath(t testing.TB) string {
	t.Helper()
	dir, err := osmfile.ModuleTestdata()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "testdata", "delaware-latest.osm.pbf")
}

// readFile reads a whole file into memory, as the expectations of a test
// or the rows of the COPY baseline.
func readFile(t testing.TB, path string) []osmdata.Element {
	t.Helper()
	r, err := osmfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []osmdata.Element
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, *e)
	}
}

// openFile opens a file as an import source, closed when the test ends.
func openFile(t testing.TB, path string) *osmfile.Reader {
	t.Helper()
	r, err := osmfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
