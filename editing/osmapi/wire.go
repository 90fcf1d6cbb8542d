package osmapi

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// The documents of the write calls: changesets (XML and JSON), the
// diffResult of an upload, a changeset's osmChange download, and the
// bodies of PUT /changeset/create and the single-element calls. They
// follow openstreetmap-website's views (app/views/api/changesets/,
// diff_reader.rb) and cgimap's writers (src/xml_formatter.cpp,
// src/json_formatter.cpp).
//
// TODO(wire): osmdata/osmchange is to provide these writers and body
// parsers with cgimap's parse errors; these small ones serve until it
// lands, and go then.

const timeLayout = "2006-01-02T15:04:05Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// writeChangesetsXML writes <osm> with one <changeset> per changeset, in
// cgimap's attribute order (xml_formatter::write_changeset), the review
// state as an attribute (design.md).
func writeChangesetsXML(w io.Writer, h osmdata.DocumentHeader, list []osmdata.Changeset) error {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&b, `<osm version="0.6" generator="%s" copyright="%s" attribution="%s" license="%s">`+"\n",
		xmlEscape(h.Generator), xmlEscape(h.Copyright), xmlEscape(h.Attribution), xmlEscape(h.License))
	for _, cs := range list {
		fmt.Fprintf(&b, ` <changeset id="%d" created_at="%s"`, cs.ID, formatTime(cs.CreatedAt))
		if !cs.Open {
			fmt.Fprintf(&b, ` closed_at="%s"`, formatTime(cs.ClosedAt))
		}
		fmt.Fprintf(&b, ` open="%t" user="%s" uid="%d"`, cs.Open, xmlEscape(cs.User), cs.UID)
		if cs.HasBox {
			fmt.Fprintf(&b, ` min_lat="%s" min_lon="%s" max_lat="%s" max_lon="%s"`,
				osmdata.FormatFixedCoord(cs.Box.MinLat), osmdata.FormatFixedCoord(cs.Box.MinLon),
				osmdata.FormatFixedCoord(cs.Box.MaxLat), osmdata.FormatFixedCoord(cs.Box.MaxLon))
		}
		fmt.Fprintf(&b, ` comments_count="0" changes_count="%d"`, cs.NumChanges)
		if cs.ReviewState != osmdata.ReviewNone {
			fmt.Fprintf(&b, ` review_state="%s"`, xmlEscape(string(cs.ReviewState)))
		}
		if len(cs.Tags) == 0 {
			b.WriteString("/>\n")
			continue
		}
		b.WriteString(">\n")
		for _, t := range cs.Tags {
			fmt.Fprintf(&b, `  <tag k="%s" v="%s"/>`+"\n", xmlEscape(t.Key), xmlEscape(t.Value))
		}
		b.WriteString(" </changeset>\n")
	}
	b.WriteString("</osm>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonChangeset is one changeset as app/views/api/changesets/_changeset.json.jbuilder
// writes it, plus review_state.
type jsonChangeset struct {
	ID            int64             `json:"id"`
	CreatedAt     string            `json:"created_at"`
	Open          bool              `json:"open"`
	CommentsCount int               `json:"comments_count"`
	ChangesCount  int               `json:"changes_count"`
	ClosedAt      string            `json:"closed_at,omitempty"`
	MinLat        *float64          `json:"min_lat,omitempty"`
	MinLon        *float64          `json:"min_lon,omitempty"`
	MaxLat        *float64          `json:"max_lat,omitempty"`
	MaxLon        *float64          `json:"max_lon,omitempty"`
	UID           int64             `json:"uid"`
	User          string            `json:"user"`
	ReviewState   string            `json:"review_state,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
}

func toJSONChangeset(cs osmdata.Changeset) jsonChangeset {
	j := jsonChangeset{ID: cs.ID, CreatedAt: formatTime(cs.CreatedAt), Open: cs.Open, ChangesCount: cs.NumChanges,
		UID: cs.UID, User: cs.User, ReviewState: string(cs.ReviewState)}
	if !cs.Open {
		j.ClosedAt = formatTime(cs.ClosedAt)
	}
	if cs.HasBox {
		deg := func(v int32) *float64 { f := osmdata.FixedToDegrees(v); return &f }
		j.MinLat, j.MinLon, j.MaxLat, j.MaxLon = deg(cs.Box.MinLat), deg(cs.Box.MinLon), deg(cs.Box.MaxLat), deg(cs.Box.MaxLon)
	}
	if len(cs.Tags) > 0 {
		j.Tags = make(map[string]string, len(cs.Tags))
		for _, t := range cs.Tags {
			j.Tags[t.Key] = t.Value
		}
	}
	return j
}

// writeChangesetJSON writes {"changeset": …} for one changeset or
// {"changesets": […]} for a list, after the header fields.
func writeChangesetsJSON(w io.Writer, h osmdata.DocumentHeader, list []osmdata.Changeset, single bool) error {
	type header struct {
		Version     string `json:"version"`
		Generator   string `json:"generator"`
		Copyright   string `json:"copyright"`
		Attribution string `json:"attribution"`
		License     string `json:"license"`
	}
	hd := header{"0.6", h.Generator, h.Copyright, h.Attribution, h.License}
	enc := json.NewEncoder(w)
	if single {
		return enc.Encode(struct {
			header
			Changeset jsonChangeset `json:"changeset"`
		}{hd, toJSONChangeset(list[0])})
	}
	all := make([]jsonChangeset, len(list))
	for i, cs := range list {
		all[i] = toJSONChangeset(cs)
	}
	return enc.Encode(struct {
		header
		Changesets []jsonChangeset `json:"changesets"`
	}{hd, all})
}

// writeDiffResult writes an upload's answer: one child per operation in
// input order, node, way or relation and nothing else (JOSM refuses any
// other child); deletes with old_id only, skipped deletes with the
// version kept (cgimap src/osm_diffresult_responder.cpp).
func writeDiffResult(w io.Writer, h osmdata.DocumentHeader, res *editing.DiffResult) error {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&b, `<diffResult version="0.6" generator="%s" copyright="%s" attribution="%s" license="%s">`+"\n",
		xmlEscape(h.Generator), xmlEscape(h.Copyright), xmlEscape(h.Attribution), xmlEscape(h.License))
	for _, e := range res.Entries {
		if e.Action == storage.Delete && !e.Skipped {
			fmt.Fprintf(&b, ` <%s old_id="%d"/>`+"\n", e.Type, e.OldID)
			continue
		}
		fmt.Fprintf(&b, ` <%s old_id="%d" new_id="%d" new_version="%d"/>`+"\n", e.Type, e.OldID, e.NewID, e.NewVersion)
	}
	b.WriteString("</diffResult>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeOsmChange writes a changeset's download: each element once with
// its net change, in staging order, consecutive changes of one action in
// one block.
func writeOsmChange(w io.Writer, h osmdata.DocumentHeader, changes []storage.PendingChange) error {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&b, `<osmChange version="0.6" generator="%s" copyright="%s" attribution="%s" license="%s">`+"\n",
		xmlEscape(h.Generator), xmlEscape(h.Copyright), xmlEscape(h.Attribution), xmlEscape(h.License))
	open := storage.Action(0)
	for _, c := range changes {
		if c.Action != open {
			if open != 0 {
				fmt.Fprintf(&b, " </%s>\n", open)
			}
			open = c.Action
			fmt.Fprintf(&b, " <%s>\n", open)
		}
		writeChangeElement(&b, &c.Element)
	}
	if open != 0 {
		fmt.Fprintf(&b, " </%s>\n", open)
	}
	b.WriteString("</osmChange>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeChangeElement(b *strings.Builder, e *osmdata.Element) {
	fmt.Fprintf(b, `  <%s id="%d" visible="%t" version="%d" changeset="%d" timestamp="%s" user="%s" uid="%d"`,
		e.Type, e.ID, e.Visible, e.Version, e.Changeset, formatTime(e.Timestamp), xmlEscape(e.User), e.UID)
	if e.Type == osmdata.Node && e.Visible {
		fmt.Fprintf(b, ` lat="%s" lon="%s"`, osmdata.FormatFixedCoord(e.Lat), osmdata.FormatFixedCoord(e.Lon))
	}
	if len(e.Tags) == 0 && len(e.Nodes) == 0 && len(e.Members) == 0 {
		b.WriteString("/>\n")
		return
	}
	b.WriteString(">\n")
	for _, n := range e.Nodes {
		fmt.Fprintf(b, "   <nd ref=\"%d\"/>\n", n)
	}
	for _, m := range e.Members {
		fmt.Fprintf(b, "   <member type=\"%s\" ref=\"%d\" role=\"%s\"/>\n", m.Type, m.Ref, xmlEscape(m.Role))
	}
	for _, t := range e.Tags {
		fmt.Fprintf(b, "   <tag k=\"%s\" v=\"%s\"/>\n", xmlEscape(t.Key), xmlEscape(t.Value))
	}
	fmt.Fprintf(b, "  </%s>\n", e.Type)
}

// bodyTag, bodyElement and bodyDoc read the small request bodies.
type bodyTag struct {
	K string `xml:"k,attr"`
	V string `xml:"v,attr"`
}

type bodyMember struct {
	Type string `xml:"type,attr"`
	Ref  int64  `xml:"ref,attr"`
	Role string `xml:"role,attr"`
}

type bodyElement struct {
	XMLName   xml.Name
	ID        int64        `xml:"id,attr"`
	Version   int          `xml:"version,attr"`
	Changeset int64        `xml:"changeset,attr"`
	Lat       string       `xml:"lat,attr"`
	Lon       string       `xml:"lon,attr"`
	Tags      []bodyTag    `xml:"tag"`
	Nodes     []bodyTagRef `xml:"nd"`
	Members   []bodyMember `xml:"member"`
}

type bodyTagRef struct {
	Ref int64 `xml:"ref,attr"`
}

type bodyDoc struct {
	XMLName   xml.Name      `xml:"osm"`
	Changeset *bodyElement  `xml:"changeset"`
	Elements  []bodyElement `xml:",any"`
}

func badBody(msg string) *apiError {
	return &apiError{kind: editing.ErrBadRequest, text: msg}
}

// parseChangesetBody reads <osm><changeset><tag k v/>…</changeset></osm>.
func parseChangesetBody(data []byte) (osmdata.Tags, *apiError) {
	var doc bodyDoc
	if err := xml.Unmarshal(data, &doc); err != nil {
		return nil, badBody(err.Error())
	}
	if doc.Changeset == nil {
		for _, e := range doc.Elements {
			if e.XMLName.Local == "changeset" {
				doc.Changeset = &e
			}
		}
	}
	if doc.Changeset == nil {
		return nil, badBody("Cannot parse valid changeset from xml string. XML doesn't contain an osm/changeset element")
	}
	var tags osmdata.Tags
	for _, t := range doc.Changeset.Tags {
		tags = append(tags, osmdata.Tag{Key: t.K, Value: t.V})
	}
	return tags, nil
}

// parseElementBody reads <osm><node|way|relation …/></osm> of type t.
func parseElementBody(data []byte, t osmdata.ElementType) (osmdata.Element, *apiError) {
	var doc bodyDoc
	if err := xml.Unmarshal(data, &doc); err != nil {
		return osmdata.Element{}, badBody(err.Error())
	}
	for _, be := range doc.Elements {
		if be.XMLName.Local != t.String() {
			continue
		}
		e := osmdata.Element{Type: t, ID: be.ID, Version: be.Version, Changeset: be.Changeset}
		if t == osmdata.Node && (be.Lat != "" || be.Lon != "") {
			lat, err1 := osmdata.ParseFixedCoord(be.Lat)
			lon, err2 := osmdata.ParseFixedCoord(be.Lon)
			if err1 != nil || err2 != nil {
				return osmdata.Element{}, badBody("Latitude is not numeric")
			}
			e.Lat, e.Lon = lat, lon
		}
		for _, tg := range be.Tags {
			e.Tags = append(e.Tags, osmdata.Tag{Key: tg.K, Value: tg.V})
		}
		for _, n := range be.Nodes {
			e.Nodes = append(e.Nodes, n.Ref)
		}
		for _, m := range be.Members {
			mt, err := osmdata.ParseElementType(strings.ToLower(m.Type))
			if err != nil {
				return osmdata.Element{}, badBody("Invalid type " + m.Type + " in member relation")
			}
			e.Members = append(e.Members, osmdata.Member{Type: mt, Ref: m.Ref, Role: m.Role})
		}
		return e, nil
	}
	return osmdata.Element{}, badBody(fmt.Sprintf("Cannot parse valid %s from xml string. XML doesn't contain an osm/%s element", t, t))
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
