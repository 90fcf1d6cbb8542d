package osmdata

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// Action is what a change does to an element: osmChange's three blocks.
// The values are storage.Action's, so that layers convert by a cast.
type Action uint8

const (
	ActionCreate Action = 1
	ActionModify Action = 2
	ActionDelete Action = 3
)

func (a Action) String() string {
	switch a {
	case ActionCreate:
		return "create"
	case ActionModify:
		return "modify"
	case ActionDelete:
		return "delete"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// ChangeWriter writes an osmChange document (GET
// /api/0.6/changeset/ID/download, replication diffs): consecutive
// changes of one action share a block, as cgimap writes them. It is our
// own encoder because paulmach/osm's Change writes timestamps with
// fractions (libosmium refuses them) and deleted nodes at 0,0.
type ChangeWriter struct {
	w       *bufio.Writer
	h       DocumentHeader
	started bool
	closed  bool
	block   Action // the open block, 0 for none
	unused  bool   // the open block is <delete if-unused="true">
	buf     []byte
}

// NewChangeWriter starts an osmChange document on w.
func NewChangeWriter(w io.Writer, h DocumentHeader) *ChangeWriter {
	return &ChangeWriter{w: bufio.NewWriterSize(w, 64<<10), h: h, buf: make([]byte, 0, 4096)}
}

func (c *ChangeWriter) start() {
	b := append(c.buf[:0], `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<osmChange version="0.6"`...)
	b = appendXMLAttrIfSet(b, "generator", c.h.Generator)
	b = appendXMLAttrIfSet(b, "copyright", c.h.Copyright)
	b = appendXMLAttrIfSet(b, "attribution", c.h.Attribution)
	b = appendXMLAttrIfSet(b, "license", c.h.License)
	c.buf = append(b, ">\n"...)
	c.w.Write(c.buf)
	c.started = true
}

// WriteChange writes e in a block of action. Nodes of creates and
// modifies carry their coordinates, deletes none; visible is e.Visible.
func (c *ChangeWriter) WriteChange(action Action, e *Element) error {
	return c.write(action, false, e)
}

// WriteDeleteIfUnused writes e in a <delete if-unused="true"> block, as
// an upload asks for a delete that is skipped while the element is used.
func (c *ChangeWriter) WriteDeleteIfUnused(e *Element) error {
	return c.write(ActionDelete, true, e)
}

func (c *ChangeWriter) write(action Action, ifUnused bool, e *Element) error {
	if c.closed {
		return ErrDocumentClosed
	}
	if action < ActionCreate || action > ActionDelete {
		return fmt.Errorf("osmChange: unknown action %d", action)
	}
	if !c.started {
		c.start()
	}
	b := c.buf[:0]
	if c.block != action || c.unused != ifUnused {
		if c.block != 0 {
			b = append(b, " </"...)
			b = append(b, c.block.String()...)
			b = append(b, ">\n"...)
		}
		b = append(b, " <"...)
		b = append(b, action.String()...)
		if ifUnused {
			b = append(b, ` if-unused="true"`...)
		}
		b = append(b, ">\n"...)
		c.block, c.unused = action, ifUnused
	}
	b = appendChangeElement(b, e, action != ActionDelete && !e.Redacted)
	c.buf = b
	_, err := c.w.Write(b)
	return err
}

// Close ends the document and flushes it; it does not close the
// underlying io.Writer.
func (c *ChangeWriter) Close() error {
	if c.closed {
		return ErrDocumentClosed
	}
	if !c.started {
		c.start()
	}
	c.closed = true
	if c.block != 0 {
		c.w.WriteString(" </" + c.block.String() + ">\n")
	}
	c.w.WriteString("</osmChange>\n")
	return c.w.Flush()
}

// appendChangeElement writes one element of a block, in the attribute
// order of cgimap's xml_formatter: id, visible, version, changeset,
// timestamp, user and uid, then lat and lon when placed.
func appendChangeElement(b []byte, e *Element, placed bool) []byte {
	b = append(b, "  <"...)
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
	if e.UID != 0 || e.User != "" {
		b = append(b, ` user="`...)
		b = appendXMLEscaped(b, e.User)
		b = append(b, `" uid="`...)
		b = strconv.AppendInt(b, e.UID, 10)
		b = append(b, '"')
	}
	if e.Type == Node && placed {
		b = append(b, ` lat="`...)
		b = appendCoord(b, e.Lat)
		b = append(b, `" lon="`...)
		b = appendCoord(b, e.Lon)
		b = append(b, '"')
	}
	if len(e.Tags) == 0 && len(e.Nodes) == 0 && len(e.Members) == 0 {
		return append(b, "/>\n"...)
	}
	b = append(b, ">\n"...)
	for _, n := range e.Nodes {
		b = append(b, `   <nd ref="`...)
		b = strconv.AppendInt(b, n, 10)
		b = append(b, "\"/>\n"...)
	}
	for _, m := range e.Members {
		b = append(b, `   <member type="`...)
		b = append(b, m.Type.String()...)
		b = append(b, `" ref="`...)
		b = strconv.AppendInt(b, m.Ref, 10)
		b = append(b, `" role="`...)
		b = appendXMLEscaped(b, m.Role)
		b = append(b, "\"/>\n"...)
	}
	for _, t := range e.Tags {
		b = append(b, `   <tag k="`...)
		b = appendXMLEscaped(b, t.Key)
		b = append(b, `" v="`...)
		b = appendXMLEscaped(b, t.Value)
		b = append(b, "\"/>\n"...)
	}
	b = append(b, "  </"...)
	b = append(b, e.Type.String()...)
	return append(b, ">\n"...)
}
