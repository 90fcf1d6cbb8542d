package osmdata

import (
	"bufio"
	"io"
	"strconv"
)

// DiffResultEntry is one child of a diffResult document, the answer to
// an upload, in the order of the upload's elements (python osmapi maps
// them by position).
type DiffResultEntry struct {
	Type       ElementType
	OldID      int64
	NewID      int64
	NewVersion int
	// OldIDOnly writes old_id alone, as for a delete. cgimap writes a
	// delete skipped under if-unused in full, with the version the
	// element keeps (src/osm_diffresult_responder.cpp).
	OldIDOnly bool
}

// WriteDiffResult writes <diffResult version="0.6" …> with one node, way
// or relation child per entry and nothing else: JOSM throws on any other
// child.
func WriteDiffResult(w io.Writer, h DocumentHeader, entries []DiffResultEntry) error {
	bw := bufio.NewWriterSize(w, 16<<10)
	b := make([]byte, 0, 4096)
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<diffResult version="0.6"`...)
	b = appendXMLAttrIfSet(b, "generator", h.Generator)
	b = appendXMLAttrIfSet(b, "copyright", h.Copyright)
	b = appendXMLAttrIfSet(b, "attribution", h.Attribution)
	b = appendXMLAttrIfSet(b, "license", h.License)
	b = append(b, ">\n"...)
	for _, e := range entries {
		b = append(b, " <"...)
		b = append(b, e.Type.String()...)
		b = append(b, ` old_id="`...)
		b = strconv.AppendInt(b, e.OldID, 10)
		if !e.OldIDOnly {
			b = append(b, `" new_id="`...)
			b = strconv.AppendInt(b, e.NewID, 10)
			b = append(b, `" new_version="`...)
			b = strconv.AppendInt(b, int64(e.NewVersion), 10)
		}
		b = append(b, "\"/>\n"...)
		if len(b) > 3072 {
			if _, err := bw.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	b = append(b, "</diffResult>\n"...)
	if _, err := bw.Write(b); err != nil {
		return err
	}
	return bw.Flush()
}
