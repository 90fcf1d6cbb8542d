package osmfile

import (
	"errors"

	"github.com/geocommuns/geocommuns/osmdata"
)

// Writer writes an export file, compressed according to its name.
type Writer struct{ osmdata.DocumentWriter }

// Create creates path (.osm, .osm.gz or .osm.bz2) for writing.
func Create(path string, h osmdata.DocumentHeader) (*Writer, error) {
	return nil, errors.New("not implemented yet")
}
