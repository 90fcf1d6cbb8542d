// Package osmfile reads OSM snapshot files (.osm, .osm.bz2, .osm.gz,
// .osm.pbf) as streams of elements for import, and writes export files.
package osmfile

import (
	"errors"

	"github.com/geocommuns/geocommuns/osmdata"
)

var errNotYet = errors.New("not implemented yet")

// Reader streams the elements of one file in file order.
type Reader struct{}

// Open opens one snapshot file, choosing the format by its name.
func Open(path string) (*Reader, error) { return nil, errNotYet }

// Next returns the next element, or io.EOF at the end of the file.
func (r *Reader) Next() (*osmdata.Element, error) { return nil, errNotYet }

// Close releases the file.
func (r *Reader) Close() error { return nil }

// MultiReader merges several sorted files into one stream in OSM order.
type MultiReader struct{}

// OpenAll opens every file and merges them by type, then id.
func OpenAll(paths []string) (*MultiReader, error) { return nil, errNotYet }

// Next returns the next element of the merged stream, or io.EOF.
func (m *MultiReader) Next() (*osmdata.Element, error) { return nil, errNotYet }

// Progress reports how many bytes of the files (as stored on disk) have
// been read, out of their total size.
func (m *MultiReader) Progress() (read, total int64) { return 0, 0 }

// Close releases every file.
func (m *MultiReader) Close() error { return nil }

// Writer writes an export file, compressed according to its name.
type Writer struct{ osmdata.DocumentWriter }

// Create creates path (.osm, .osm.gz or .osm.bz2) for writing.
func Create(path string, h osmdata.DocumentHeader) (*Writer, error) { return nil, errNotYet }
