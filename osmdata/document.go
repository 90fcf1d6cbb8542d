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

// ErrBoundsAfterElements: both formats put <bounds> before the elements.
var ErrBoundsAfterElements = errors.New("document bounds written after elements")

// ErrDocumentClosed is returned by writes after Close.
var ErrDocumentClosed = errors.New("document already closed")

// NewXMLWriter returns a writer of API 0.6 XML, as cgimap writes it.
func NewXMLWriter(w io.Writer, h DocumentHeader) DocumentWriter { return newXMLWriter(w, h) }

// NewJSONWriter returns a writer of the OSM JSON format, as cgimap writes it.
func NewJSONWriter(w io.Writer, h DocumentHeader) DocumentWriter { return newJSONWriter(w, h) }

// documentState is what both writers track: whether the opening was
// written, whether elements began, whether the document ended.
type documentState int

const (
	docNew documentState = iota
	docStarted
	docInElements
	docClosed
)
