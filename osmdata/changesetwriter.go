package osmdata

import (
	"bufio"
	"io"
	"strconv"
	"time"
)

// ChangesetOpen is whether c is open at now, as cgimap's
// changeset_info::is_open_at decides it: flagged open and not past its
// closing time. A zero now trusts the flag.
func ChangesetOpen(c *Changeset, now time.Time) bool {
	return c.Open && (now.IsZero() || c.ClosedAt.After(now))
}

// WriteChangesetsXML writes changesets in an <osm> document, as GET
// /api/0.6/changeset/ID (one) and /api/0.6/changesets (many) answer:
// attributes in the order of cgimap's xml_formatter::write_changeset
// (id, created_at, closed_at once closed, open, user and uid, the box
// when there is one, comments_count, changes_count), then review_state
// and, while conflicted, conflicts (the path of the report), geocommuns'
// own attributes (design.md: never a tag, never a child, which JOSM would
// reject), then the tags.
func WriteChangesetsXML(w io.Writer, h DocumentHeader, now time.Time, cs ...Changeset) error {
	bw := bufio.NewWriterSize(w, 16<<10)
	b := make([]byte, 0, 4096)
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<osm version="0.6"`...)
	b = appendXMLAttrIfSet(b, "generator", h.Generator)
	b = appendXMLAttrIfSet(b, "copyright", h.Copyright)
	b = appendXMLAttrIfSet(b, "attribution", h.Attribution)
	b = appendXMLAttrIfSet(b, "license", h.License)
	b = append(b, ">\n"...)
	for i := range cs {
		c := &cs[i]
		open := ChangesetOpen(c, now)
		b = append(b, ` <changeset id="`...)
		b = strconv.AppendInt(b, c.ID, 10)
		b = append(b, `" created_at="`...)
		b = appendTimestamp(b, c.CreatedAt)
		if !open {
			b = append(b, `" closed_at="`...)
			b = appendTimestamp(b, c.ClosedAt)
		}
		b = append(b, `" open="`...)
		b = strconv.AppendBool(b, open)
		b = append(b, '"')
		if c.UID != 0 {
			b = append(b, ` user="`...)
			b = appendXMLEscaped(b, c.User)
			b = append(b, `" uid="`...)
			b = strconv.AppendInt(b, c.UID, 10)
			b = append(b, '"')
		}
		if c.HasBox {
			b = append(b, ` min_lat="`...)
			b = appendFixed7(b, c.Box.MinLat)
			b = append(b, `" min_lon="`...)
			b = appendFixed7(b, c.Box.MinLon)
			b = append(b, `" max_lat="`...)
			b = appendFixed7(b, c.Box.MaxLat)
			b = append(b, `" max_lon="`...)
			b = appendFixed7(b, c.Box.MaxLon)
			b = append(b, '"')
		}
		b = append(b, ` comments_count="`...)
		b = strconv.AppendInt(b, int64(c.CommentsCount), 10)
		b = append(b, `" changes_count="`...)
		b = strconv.AppendInt(b, int64(c.NumChanges), 10)
		b = append(b, '"')
		if c.ReviewState != ReviewNone {
			b = append(b, ` review_state="`...)
			b = appendXMLEscaped(b, string(c.ReviewState))
			b = append(b, '"')
		}
		if c.ReviewState == ReviewConflicted {
			b = append(b, ` conflicts="`...)
			b = appendConflictsPath(b, c.ID)
			b = append(b, '"')
		}
		if len(c.Tags) == 0 && c.Discussion == nil {
			b = append(b, "/>\n"...)
		} else {
			b = append(b, ">\n"...)
			for _, t := range c.Tags {
				b = append(b, `  <tag k="`...)
				b = appendXMLEscaped(b, t.Key)
				b = append(b, `" v="`...)
				b = appendXMLEscaped(b, t.Value)
				b = append(b, "\"/>\n"...)
			}
			b = appendDiscussionXML(b, c.Discussion)
			b = append(b, " </changeset>\n"...)
		}
		if len(b) > 3072 {
			if _, err := bw.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	b = append(b, "</osm>\n"...)
	if _, err := bw.Write(b); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteChangesetJSON writes one changeset as GET
// /api/0.6/changeset/ID.json answers: {…, "changeset": {…}}.
func WriteChangesetJSON(w io.Writer, h DocumentHeader, now time.Time, c Changeset) error {
	return writeChangesetsJSON(w, h, now, false, []Changeset{c})
}

// WriteChangesetsJSON writes changesets as GET /api/0.6/changesets.json
// answers: {…, "changesets": […]}.
func WriteChangesetsJSON(w io.Writer, h DocumentHeader, now time.Time, cs []Changeset) error {
	return writeChangesetsJSON(w, h, now, true, cs)
}

// writeChangesetsJSON follows openstreetmap-website's
// app/views/api/changesets/_changeset.json.jbuilder (what osm-api
// reads): id, created_at, open, comments_count, changes_count,
// closed_at once closed, min_lat … max_lon when there is a box, uid and
// user, tags when there are some; then "review_state" and, while
// conflicted, "conflicts".
func writeChangesetsJSON(w io.Writer, h DocumentHeader, now time.Time, many bool, cs []Changeset) error {
	bw := bufio.NewWriterSize(w, 16<<10)
	b := make([]byte, 0, 4096)
	b = append(b, `{"version":"0.6"`...)
	b = appendJSONFieldIfSet(b, "generator", h.Generator)
	b = appendJSONFieldIfSet(b, "copyright", h.Copyright)
	b = appendJSONFieldIfSet(b, "attribution", h.Attribution)
	b = appendJSONFieldIfSet(b, "license", h.License)
	if many {
		b = append(b, `,"changesets":[`...)
	} else {
		b = append(b, `,"changeset":`...)
	}
	for i := range cs {
		c := &cs[i]
		if i > 0 {
			b = append(b, ',')
		}
		open := ChangesetOpen(c, now)
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, c.ID, 10)
		b = append(b, `,"created_at":"`...)
		b = appendTimestamp(b, c.CreatedAt)
		b = append(b, `","open":`...)
		b = strconv.AppendBool(b, open)
		b = append(b, `,"comments_count":`...)
		b = strconv.AppendInt(b, int64(c.CommentsCount), 10)
		b = append(b, `,"changes_count":`...)
		b = strconv.AppendInt(b, int64(c.NumChanges), 10)
		if !open {
			b = append(b, `,"closed_at":"`...)
			b = appendTimestamp(b, c.ClosedAt)
			b = append(b, '"')
		}
		if c.HasBox {
			b = append(b, `,"min_lat":`...)
			b = appendFixed7(b, c.Box.MinLat)
			b = append(b, `,"min_lon":`...)
			b = appendFixed7(b, c.Box.MinLon)
			b = append(b, `,"max_lat":`...)
			b = appendFixed7(b, c.Box.MaxLat)
			b = append(b, `,"max_lon":`...)
			b = appendFixed7(b, c.Box.MaxLon)
		}
		if c.UID != 0 {
			b = append(b, `,"uid":`...)
			b = strconv.AppendInt(b, c.UID, 10)
			b = append(b, `,"user":`...)
			b = appendJSONString(b, c.User)
		}
		if len(c.Tags) > 0 {
			b = append(b, `,"tags":{`...)
			for j, t := range c.Tags {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, t.Key)
				b = append(b, ':')
				b = appendJSONString(b, t.Value)
			}
			b = append(b, '}')
		}
		b = appendDiscussionJSON(b, c.Discussion)
		if c.ReviewState != ReviewNone {
			b = append(b, `,"review_state":`...)
			b = appendJSONString(b, string(c.ReviewState))
		}
		if c.ReviewState == ReviewConflicted {
			b = append(b, `,"conflicts":"`...)
			b = appendConflictsPath(b, c.ID)
			b = append(b, '"')
		}
		b = append(b, '}')
		if len(b) > 3072 {
			if _, err := bw.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	if many {
		b = append(b, ']')
	}
	b = append(b, "}\n"...)
	if _, err := bw.Write(b); err != nil {
		return err
	}
	return bw.Flush()
}

// appendConflictsPath writes where a conflicted changeset's report is
// (GET /api/0.6/changeset/ID/conflicts), the value of geocommuns' own
// conflicts attribute: like review_state an attribute, never a child.
func appendConflictsPath(b []byte, id int64) []byte {
	b = append(b, "/api/0.6/changeset/"...)
	b = strconv.AppendInt(b, id, 10)
	return append(b, "/conflicts"...)
}

// appendFixed7 writes a coordinate with all seven decimals, as cgimap
// writes changeset boxes ("51.5288620").
func appendFixed7(b []byte, v int32) []byte {
	u := int64(v)
	if u < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendInt(b, u/CoordScale, 10)
	b = append(b, '.')
	return appendDigits7(b, int(u%CoordScale))
}

func appendDigits7(b []byte, v int) []byte {
	var d [7]byte
	for i := 6; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:]...)
}

// appendDiscussionXML writes <discussion> after the tags, as
// openstreetmap-website's app/views/api/changesets/_changeset.xml.builder
// and cgimap's xml_formatter::write_changeset do: one <comment> per
// comment with id, date, uid and user (left out for an author without
// public data), its body in <text>. Nothing for a nil discussion.
func appendDiscussionXML(b []byte, comments []ChangesetComment) []byte {
	if comments == nil {
		return b
	}
	if len(comments) == 0 {
		return append(b, "  <discussion/>\n"...)
	}
	b = append(b, "  <discussion>\n"...)
	for _, cm := range comments {
		b = append(b, `   <comment id="`...)
		b = strconv.AppendInt(b, cm.ID, 10)
		b = append(b, `" date="`...)
		b = appendTimestamp(b, cm.Date)
		b = append(b, '"')
		if cm.UID != 0 {
			b = append(b, ` uid="`...)
			b = strconv.AppendInt(b, cm.UID, 10)
			b = append(b, `" user="`...)
			b = appendXMLEscaped(b, cm.User)
			b = append(b, '"')
		}
		b = append(b, ">\n    <text>"...)
		b = appendXMLEscaped(b, cm.Text)
		b = append(b, "</text>\n   </comment>\n"...)
	}
	return append(b, "  </discussion>\n"...)
}

// appendDiscussionJSON writes "comments" after the tags, as
// openstreetmap-website's _changeset.json.jbuilder and
// changeset_comments/_changeset_comment.json.jbuilder do: id, visible,
// date, uid and user when public, text. Nothing for a nil discussion.
func appendDiscussionJSON(b []byte, comments []ChangesetComment) []byte {
	if comments == nil {
		return b
	}
	b = append(b, `,"comments":[`...)
	for i, cm := range comments {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, cm.ID, 10)
		b = append(b, `,"visible":true,"date":"`...)
		b = appendTimestamp(b, cm.Date)
		b = append(b, '"')
		if cm.UID != 0 {
			b = append(b, `,"uid":`...)
			b = strconv.AppendInt(b, cm.UID, 10)
			b = append(b, `,"user":`...)
			b = appendJSONString(b, cm.User)
		}
		b = append(b, `,"text":`...)
		b = appendJSONString(b, cm.Text)
		b = append(b, '}')
	}
	return append(b, ']')
}
