package osmdata

import (
	"bufio"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// timestampLayout is how OSM writes times: UTC, whole seconds. libosmium
// rejects fractions, which time.Time's default encoding would write.
const timestampLayout = "2006-01-02T15:04:05Z"

// xmlWriter writes each element with append-style formatting into one
// scratch buffer: export and map calls write tens of thousands of
// elements, and reflection-based encoding per element costs several times
// more.
type xmlWriter struct {
	w     *bufio.Writer
	h     DocumentHeader
	state documentState
	buf   []byte
}

func newXMLWriter(w io.Writer, h DocumentHeader) *xmlWriter {
	return &xmlWriter{w: bufio.NewWriterSize(w, 64<<10), h: h, buf: make([]byte, 0, 4096)}
}

func (x *xmlWriter) start() {
	b := append(x.buf[:0], `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<osm version="0.6"`...)
	b = appendXMLAttrIfSet(b, "generator", x.h.Generator)
	b = appendXMLAttrIfSet(b, "copyright", x.h.Copyright)
	b = appendXMLAttrIfSet(b, "attribution", x.h.Attribution)
	b = appendXMLAttrIfSet(b, "license", x.h.License)
	b = append(b, ">\n"...)
	x.buf = b
	x.w.Write(b)
	x.state = docStarted
}

func (x *xmlWriter) WriteBounds(box Box) error {
	switch x.state {
	case docNew:
		x.start()
	case docInElements:
		return ErrBoundsAfterElements
	case docClosed:
		return ErrDocumentClosed
	}
	b := append(x.buf[:0], ` <bounds minlat="`...)
	b = appendCoord(b, box.MinLat)
	b = append(b, `" minlon="`...)
	b = appendCoord(b, box.MinLon)
	b = append(b, `" maxlat="`...)
	b = appendCoord(b, box.MaxLat)
	b = append(b, `" maxlon="`...)
	b = appendCoord(b, box.MaxLon)
	b = append(b, "\"/>\n"...)
	x.buf = b
	_, err := x.w.Write(b)
	return err
}

func (x *xmlWriter) WriteElement(e *Element) error {
	switch x.state {
	case docNew:
		x.start()
	case docClosed:
		return ErrDocumentClosed
	}
	x.state = docInElements
	b := append(x.buf[:0], ' ', '<')
	b = append(b, e.Type.String()...)
	b = append(b, ` id="`...)
	b = strconv.AppendInt(b, e.ID, 10)
	b = append(b, `" visible="`...)
	b = strconv.AppendBool(b, e.Visible)
	b = append(b, `" version="`...)
	b = strconv.AppendInt(b, int64(e.Version), 10)
	b = append(b, `" changeset="`...)
	b = strconv.AppendInt(b, e.Changeset, 10)
	b = append(b, '"')
	if !e.Timestamp.IsZero() {
		b = append(b, ` timestamp="`...)
		b = appendTimestamp(b, e.Timestamp)
		b = append(b, '"')
	}
	// cgimap writes user and uid together, and neither for anonymous
	// (uid 0) edits.
	if e.UID != 0 || e.User != "" {
		b = append(b, ` user="`...)
		b = appendXMLEscaped(b, e.User)
		b = append(b, `" uid="`...)
		b = strconv.AppendInt(b, e.UID, 10)
		b = append(b, '"')
	}
	// A deleted node has no position in API XML: writing its stored
	// coordinates would make it look live to consumers. A redacted
	// version's position is withheld.
	if e.Type == Node && e.Visible && !e.Redacted {
		b = append(b, ` lat="`...)
		b = appendCoord(b, e.Lat)
		b = append(b, `" lon="`...)
		b = appendCoord(b, e.Lon)
		b = append(b, '"')
	}
	if len(e.Tags) == 0 && len(e.Nodes) == 0 && len(e.Members) == 0 {
		b = append(b, "/>\n"...)
	} else {
		b = append(b, ">\n"...)
		for _, n := range e.Nodes {
			b = append(b, `  <nd ref="`...)
			b = strconv.AppendInt(b, n, 10)
			b = append(b, "\"/>\n"...)
		}
		for _, m := range e.Members {
			b = append(b, `  <member type="`...)
			b = append(b, m.Type.String()...)
			b = append(b, `" ref="`...)
			b = strconv.AppendInt(b, m.Ref, 10)
			b = append(b, `" role="`...)
			b = appendXMLEscaped(b, m.Role)
			b = append(b, "\"/>\n"...)
		}
		for _, t := range e.Tags {
			b = append(b, `  <tag k="`...)
			b = appendXMLEscaped(b, t.Key)
			b = append(b, `" v="`...)
			b = appendXMLEscaped(b, t.Value)
			b = append(b, "\"/>\n"...)
		}
		b = append(b, " </"...)
		b = append(b, e.Type.String()...)
		b = append(b, ">\n"...)
	}
	x.buf = b
	_, err := x.w.Write(b)
	return err
}

func (x *xmlWriter) Close() error {
	switch x.state {
	case docClosed:
		return ErrDocumentClosed
	case docNew:
		x.start()
	}
	x.state = docClosed
	x.w.WriteString("</osm>\n")
	return x.w.Flush()
}

func appendXMLAttrIfSet(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, `="`...)
	b = appendXMLEscaped(b, value)
	return append(b, '"')
}

func appendCoord(b []byte, v int32) []byte {
	// FormatFixedCoord's digits, without its allocations.
	u := int64(v)
	if u < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendInt(b, u/CoordScale, 10)
	frac := u % CoordScale
	if frac == 0 {
		return b
	}
	var digits [7]byte
	for i := 6; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 7
	for digits[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, digits[:n]...)
}

// appendTimestamp writes timestampLayout by hand: time.AppendFormat
// parses its layout on every call and was a third of the writers' time.
func appendTimestamp(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, timestampLayout)
	}
	hour, minute, second := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, second, 2)
	return append(b, 'Z')
}

// appendDigits writes v zero-padded to width digits.
func appendDigits(b []byte, v, width int) []byte {
	var d [4]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:width]...)
}

// appendXMLEscaped escapes s for an attribute value. Tab, newline and
// carriage return become character references so they survive attribute
// value normalization and round-trip. Characters XML 1.0 cannot carry at
// all (other C0 controls, U+FFFE, U+FFFF) and invalid UTF-8 become
// U+FFFD, so the document stays well-formed; the OSM API never accepts
// them in the first place.
func appendXMLEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '&' && c != '<' && c != '>' {
			i++
			continue
		}
		var repl string
		size := 1
		switch c {
		case '"':
			repl = "&quot;"
		case '&':
			repl = "&amp;"
		case '<':
			repl = "&lt;"
		case '>':
			repl = "&gt;"
		case '\t':
			repl = "&#9;"
		case '\n':
			repl = "&#10;"
		case '\r':
			repl = "&#13;"
		default:
			if c < 0x20 {
				repl = "\uFFFD"
				break
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			size = n
			if (r == utf8.RuneError && n == 1) || r == 0xFFFE || r == 0xFFFF {
				repl = "\uFFFD"
				break
			}
			i += n
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, repl...)
		i += size
		start = i
	}
	return append(b, s[start:]...)
}
