package editing

import (
	"errors"
	"io"
)

var errNoParser = errors.New("osmChange uploads wait for the osmdata/osmchange parser")

// parseOsmChange reads an osmChange document into operations, in
// document order. It waits for the streaming parser of osmdata/osmchange.
func (s *Service) parseOsmChange(body io.Reader) ([]Operation, error) {
	return nil, errNoParser
}
