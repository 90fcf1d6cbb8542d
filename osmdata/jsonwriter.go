package osmdata

import (
	"bufio"
	"io"
	"strconv"
	"unicode/utf8"
)

// jsonWriter writes cgimap's OSM JSON: the header fields, "bounds", then
// one "elements" array, compact, keys in cgimap's order. Like the XML
// writer it appends into a scratch buffer rather than encoding by
// reflection.
type jsonWriter struct {
	w     *bufio.Writer
	h     DocumentHeader
	state documentState
	first bool // no element written yet
	buf   []byte
}

func newJSONWriter(w io.Writer, h DocumentHeader) *jsonWriter {
	return &jsonWriter{w: bufio.NewWriterSize(w, 64<<10), h: h, first: true, buf: make([]byte, 0, 4096)}
}

func (j *jsonWriter) start() {
	b := append(j.buf[:0], `{"version":"0.6"`...)
	b = appendJSONFieldIfSet(b, "generator", j.h.Generator)
	b = appendJSONFieldIfSet(b, "copyright", j.h.Copyright)
	b = appendJSONFieldIfSet(b, "attribution", j.h.Attribution)
	b = appendJSONFieldIfSet(b, "license", j.h.License)
	j.buf = b
	j.w.Write(b)
	j.state = docStarted
}

func (j *jsonWriter) startElements() {
	j.w.WriteString(`,"elements":[`)
	j.state = docInElements
}

func (j *jsonWriter) WriteBounds(box Box) error {
	switch j.state {
	case docNew:
		j.start()
	case docInElements:
		return ErrBoundsAfterElements
	case docClosed:
		return ErrDocumentClosed
	}
	b := append(j.buf[:0], `,"bounds":{"minlat":`...)
	b = appendCoord(b, box.MinLat)
	b = append(b, `,"minlon":`...)
	b = appendCoord(b, box.MinLon)
	b = append(b, `,"maxlat":`...)
	b = appendCoord(b, box.MaxLat)
	b = append(b, `,"maxlon":`...)
	b = appendCoord(b, box.MaxLon)
	b = append(b, '}')
	j.buf = b
	_, err := j.w.Write(b)
	return err
}

func (j *jsonWriter) WriteElement(e *Element) error {
	switch j.state {
	case docNew:
		j.start()
		j.startElements()
	case docStarted:
		j.startElements()
	case docClosed:
		return ErrDocumentClosed
	}
	b := j.buf[:0]
	if !j.first {
		b = append(b, ',')
	}
	j.first = false
	b = append(b, `{"type":"`...)
	b = append(b, e.Type.String()...)
	b = append(b, `","id":`...)
	b = strconv.AppendInt(b, e.ID, 10)
	if e.Type == Node && e.Visible && !e.Redacted {
		b = append(b, `,"lat":`...)
		b = appendCoord(b, e.Lat)
		b = append(b, `,"lon":`...)
		b = appendCoord(b, e.Lon)
	}
	if !e.Timestamp.IsZero() {
		b = append(b, `,"timestamp":"`...)
		b = appendTimestamp(b, e.Timestamp)
		b = append(b, '"')
	}
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(e.Version), 10)
	b = append(b, `,"changeset":`...)
	b = strconv.AppendInt(b, e.Changeset, 10)
	if e.UID != 0 || e.User != "" {
		b = append(b, `,"user":`...)
		b = appendJSONString(b, e.User)
		b = append(b, `,"uid":`...)
		b = strconv.AppendInt(b, e.UID, 10)
	}
	// cgimap writes "visible" only when it is false.
	if !e.Visible {
		b = append(b, `,"visible":false`...)
	}
	if len(e.Nodes) > 0 {
		b = append(b, `,"nodes":[`...)
		for i, n := range e.Nodes {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, n, 10)
		}
		b = append(b, ']')
	}
	if len(e.Members) > 0 {
		b = append(b, `,"members":[`...)
		for i, m := range e.Members {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":"`...)
			b = append(b, m.Type.String()...)
			b = append(b, `","ref":`...)
			b = strconv.AppendInt(b, m.Ref, 10)
			b = append(b, `,"role":`...)
			b = appendJSONString(b, m.Role)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(e.Tags) > 0 {
		b = append(b, `,"tags":{`...)
		for i, t := range e.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, t.Key)
			b = append(b, ':')
			b = appendJSONString(b, t.Value)
		}
		b = append(b, '}')
	}
	b = append(b, '}')
	j.buf = b
	_, err := j.w.Write(b)
	return err
}

func (j *jsonWriter) Close() error {
	switch j.state {
	case docClosed:
		return ErrDocumentClosed
	case docNew:
		j.start()
		j.startElements()
	case docStarted:
		j.startElements()
	}
	j.state = docClosed
	j.w.WriteString("]}\n")
	return j.w.Flush()
}

func appendJSONFieldIfSet(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, value)
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as yajl does for cgimap: quote, backslash and
// control characters escaped, everything else as UTF-8. Invalid UTF-8
// becomes U+FFFD so the document stays valid JSON.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || n != 1 {
				i += n
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
			i++
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
