package osmfile

import (
	"bufio"
	"compress/bzip2"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
)

// xmlSource decodes OSM XML with its own token loop rather than
// osmxml.Scanner: the scanner neither checks the root element (an
// osmChange's deletes would import as live data) nor tells positions, and
// decoding the attributes directly keeps coordinates exact and tells a
// missing visible attribute (true) from visible="false".
type xmlSource struct {
	path     string
	dec      *xml.Decoder
	closer   io.Closer
	line     int // of the current element's start tag
	column   int
	rootDone bool
}

func newXMLSource(path string, br *bufio.Reader, ft format) (*xmlSource, error) {
	var in io.Reader = br
	var closer io.Closer
	switch ft {
	case formatXMLGzip:
		gz, err := gzip.NewReader(br)
		if err == io.EOF {
			err = fmt.Errorf("%w: the file is empty", ErrTruncated)
		}
		if err != nil {
			return nil, &FileError{Path: path, Err: fmt.Errorf("gzip header: %w", err)}
		}
		in, closer = gz, gz
	case formatXMLBzip2:
		in = bzip2.NewReader(br)
	}
	if ft != formatXML {
		ra := readAhead(in, closer)
		in, closer = ra, ra
	}
	s := &xmlSource{path: path, dec: xml.NewDecoder(bufio.NewReaderSize(in, 64<<10)), closer: closer}
	if err := s.readRoot(); err != nil {
		return nil, err
	}
	return s, nil
}

// readAhead decompresses in its own goroutine, so decompression (a
// quarter of the time for .osm.bz2) runs beside XML decoding. Errors,
// io.ErrUnexpectedEOF included, reach the reader as they were. The
// goroutine alone uses the decompressor, so it closes it when it stops.
func readAhead(in io.Reader, closer io.Closer) *io.PipeReader {
	pr, pw := io.Pipe()
	go func() {
		if closer != nil {
			defer closer.Close()
		}
		buf := make([]byte, 256<<10)
		for {
			n, err := in.Read(buf)
			if n > 0 {
				if _, werr := pw.Write(buf[:n]); werr != nil {
					return // the reader was closed
				}
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return pr
}

func (s *xmlSource) fileError(err error) *FileError {
	return &FileError{Path: s.path, Position: s.position(), Err: err}
}

// readRoot reads up to the root element and refuses anything but <osm>.
func (s *xmlSource) readRoot() error {
	for {
		tok, err := s.dec.Token()
		if err == io.EOF {
			return s.fileError(fmt.Errorf("no root element (empty file?): %w", ErrNotSnapshot))
		}
		if err != nil {
			s.markPosition()
			return s.fileError(describeReadError(err))
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		s.markPosition()
		switch start.Name.Local {
		case "osm":
			return nil
		case "osmChange":
			return s.fileError(fmt.Errorf("this is an osmChange file (root element <osmChange>): %w; import takes an OSM snapshot (<osm>)", ErrNotSnapshot))
		default:
			return s.fileError(fmt.Errorf("root element <%s>: %w; import takes an OSM snapshot (<osm>)", start.Name.Local, ErrNotSnapshot))
		}
	}
}

func (s *xmlSource) markPosition() { s.line, s.column = s.dec.InputPos() }

func (s *xmlSource) position() string {
	if s.line == 0 {
		return "" // nothing decoded yet
	}
	return fmt.Sprintf("line %d, column %d", s.line, s.column)
}

func (s *xmlSource) close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}

// describeReadError makes the decompressors' and decoder's ends of input
// say what they mean to a user.
func describeReadError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: the data ends unexpectedly (%v)", ErrTruncated, err)
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) && se.Msg == "unexpected EOF" {
		return fmt.Errorf("%w: the XML ends before its elements are closed (%v)", ErrTruncated, err)
	}
	return err
}

func (s *xmlSource) next() (*osmdata.Element, error) {
	if s.rootDone {
		return nil, io.EOF
	}
	for {
		tok, err := s.dec.Token()
		if err != nil {
			if err == io.EOF {
				err = fmt.Errorf("%w: the file ends before </osm>", ErrTruncated)
			}
			s.markPosition()
			return nil, describeReadError(err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			// The decoder checks nesting, so this is </osm>.
			s.rootDone = true
			return nil, s.drain()
		case xml.StartElement:
			s.markPosition()
			var typ osmdata.ElementType
			switch t.Name.Local {
			case "node":
				typ = osmdata.Node
			case "way":
				typ = osmdata.Way
			case "relation":
				typ = osmdata.Relation
			default:
				// <bounds>, <note>, <meta>: nothing to import.
				if err := s.dec.Skip(); err != nil {
					return nil, describeReadError(err)
				}
				continue
			}
			return s.element(typ, t)
		}
	}
}

// drain reads past </osm> so a compressed file truncated after it, or
// content after the root, still fails.
func (s *xmlSource) drain() error {
	for {
		tok, err := s.dec.Token()
		if err == io.EOF {
			return io.EOF
		}
		if err != nil {
			s.markPosition()
			return describeReadError(err)
		}
		if _, ok := tok.(xml.StartElement); ok {
			s.markPosition()
			return errors.New("content after the root element </osm>")
		}
	}
}

func (s *xmlSource) element(typ osmdata.ElementType, start xml.StartElement) (*osmdata.Element, error) {
	e := &osmdata.Element{Type: typ, Visible: true}
	var hasID, hasLat, hasLon bool
	var err error
	for _, a := range start.Attr {
		v := a.Value
		switch a.Name.Local {
		case "id":
			e.ID, err = strconv.ParseInt(v, 10, 64)
			hasID = true
		case "version":
			e.Version, err = strconv.Atoi(v)
		case "changeset":
			e.Changeset, err = strconv.ParseInt(v, 10, 64)
		case "uid":
			e.UID, err = strconv.ParseInt(v, 10, 64)
		case "user":
			e.User = v
		case "timestamp":
			var t time.Time
			t, err = time.Parse(time.RFC3339, v)
			e.Timestamp = t.UTC().Truncate(time.Second)
		case "visible":
			switch v {
			case "true":
			case "false":
				e.Visible = false
			default:
				err = errors.New("not true or false")
			}
		case "action":
			// JOSM saves unsaved deletions as action="delete": importing
			// them would revive deleted elements.
			if v == "delete" {
				return nil, fmt.Errorf("%s %s is marked action=\"delete\" (a JOSM file with unsaved edits): %w; import takes an OSM snapshot", typ, idOf(start), ErrNotSnapshot)
			}
		case "lat":
			if typ == osmdata.Node {
				e.Lat, err = parseCoord(v, 90)
				hasLat = true
			}
		case "lon":
			if typ == osmdata.Node {
				e.Lon, err = parseCoord(v, 180)
				hasLon = true
			}
		}
		if err != nil {
			return nil, fmt.Errorf("<%s> attribute %s=%q: %w", typ, a.Name.Local, v, err)
		}
	}
	if !hasID {
		return nil, fmt.Errorf("<%s> without id", typ)
	}
	if typ == osmdata.Node && e.Visible && (!hasLat || !hasLon) {
		return nil, fmt.Errorf("%s has no lat/lon", e.Key())
	}
	if err := s.children(e); err != nil {
		return nil, err
	}
	return e, nil
}

func idOf(start xml.StartElement) string {
	for _, a := range start.Attr {
		if a.Name.Local == "id" {
			return a.Value
		}
	}
	return "?"
}

func parseCoord(v string, limit int32) (int32, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < -float64(limit) || f > float64(limit) {
		return 0, fmt.Errorf("not a coordinate within ±%d", limit)
	}
	return osmdata.RoundCoordToFixed(f), nil
}

// children reads an element's <tag>, <nd> and <member> up to its end tag.
func (s *xmlSource) children(e *osmdata.Element) error {
	for {
		tok, err := s.dec.Token()
		if err != nil {
			s.markPosition()
			return describeReadError(err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if err := s.child(e, t); err != nil {
				s.markPosition()
				return fmt.Errorf("%s: %w", e.Key(), err)
			}
			if err := s.dec.Skip(); err != nil {
				s.markPosition()
				return describeReadError(err)
			}
		}
	}
}

func (s *xmlSource) child(e *osmdata.Element, t xml.StartElement) error {
	switch t.Name.Local {
	case "tag":
		var tag osmdata.Tag
		var hasKey bool
		for _, a := range t.Attr {
			switch a.Name.Local {
			case "k":
				tag.Key, hasKey = a.Value, true
			case "v":
				tag.Value = a.Value
			}
		}
		if !hasKey {
			return errors.New("<tag> without k")
		}
		e.Tags = append(e.Tags, tag)
	case "nd":
		if e.Type != osmdata.Way {
			return nil
		}
		for _, a := range t.Attr {
			if a.Name.Local == "ref" {
				ref, err := strconv.ParseInt(a.Value, 10, 64)
				if err != nil {
					return fmt.Errorf("<nd ref=%q>: %w", a.Value, err)
				}
				e.Nodes = append(e.Nodes, ref)
				return nil
			}
		}
		return errors.New("<nd> without ref")
	case "member":
		if e.Type != osmdata.Relation {
			return nil
		}
		var m osmdata.Member
		var hasType, hasRef bool
		for _, a := range t.Attr {
			var err error
			switch a.Name.Local {
			case "type":
				m.Type, err = osmdata.ParseElementType(a.Value)
				hasType = true
			case "ref":
				m.Ref, err = strconv.ParseInt(a.Value, 10, 64)
				hasRef = true
			case "role":
				m.Role = a.Value
			}
			if err != nil {
				return fmt.Errorf("<member %s=%q>: %w", a.Name.Local, a.Value, err)
			}
		}
		if !hasType || !hasRef {
			return errors.New("<member> without type or ref")
		}
		e.Members = append(e.Members, m)
	}
	return nil
}
