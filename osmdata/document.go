package osmdata

import (
	"errors"
	"io"
)

// DocumentHeader is what an OSM document says about itself in its root
// element: the generator and the data's copyright, attribution and licence.
type DocumentHeader struct {
	Generator   string
	Copyright   string
	Attribution string
	License     string
}

// DocumentWriter streams one OSM document (XML or JSON): optional bounds
// first, then elements in the order given.
type DocumentWriter interface {
	WriteBounds(b Box) error
	WriteElement(e *Element) error
	// Close ends the document and flushes it; it does not close the
	// underlying io.Writer.
	Close() error
}

var errNotYet = errors.New("not implemented yet")

// NewXMLWriter returns a writer of API 0.6 XML, as cgimap writes it.
func NewXMLWriter(w io.Writer, h DocumentHeader) DocumentWriter { return nil }

// NewJSONWriter returns a writer of the OSM JSON format, as cgimap writes it.
func NewJSONWriter(w io.Writer, h DocumentHeader) DocumentWriter { return nil }
