package osmapi

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review/rebase"
	"github.com/geocommuns/geocommuns/storage"
)

// GET /api/0.6/changeset/ID/conflicts is geocommuns' own: the report of a
// conflicted changeset (design.md, issue 7) as a document an OSM editor
// opens, so that the contributor resolves it with the editor they
// uploaded with. GET /api/0.6/changeset/ID points to it with the
// conflicts attribute while the changeset is conflicted.
//
// The document is OSM XML (JOSM's File > Open, or its remote control).
// Each element the three-way merge could not combine is there as the
// contributor should start from: the current version's id and version,
// so that an upload cites what the dataset has now, with the rebased
// content (the changeset's edits that do not collide applied, the
// dataset's value in every field that does) and action="modify", so
// that the editor uploads it to the reopened changeset once the
// contributor has settled the fields. An XML comment before it lists the
// fields in conflict with their base, current and pending values, which
// the editor ignores and a person reading the file sees. The nodes a way
// needs to be drawn come along unmodified (no action: the editor leaves
// them alone). Lines of the report about other things than edits (a
// missing reference, a parent changeset) have no content to load: they
// are comments at the top.
//
// A changeset that is not conflicted has nothing to resolve: the
// document is empty, even when an older report is stored (it was
// resolved, or it is being resolved and was closed again).

// conflictsDocument is the document before it is written.
type conflictsDocument struct {
	notes    []string // comments at the top
	elements map[osmdata.Key]*documentElement
}

// documentElement is one element of the document: its content, whether
// the editor should upload it, and what to say about it.
type documentElement struct {
	element osmdata.Element
	modify  bool
	comment []string
}

// changesetConflicts answers GET /api/0.6/changeset/ID/conflicts.
func (a *API) changesetConflicts(w http.ResponseWriter, r *http.Request) {
	id, aerr := changesetID(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	cs, err := a.editingService().Changeset(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	doc := conflictsDocument{elements: map[osmdata.Key]*documentElement{}}
	if merger, ok := a.Reader.(storage.Merger); ok && cs.ReviewState == osmdata.ReviewConflicted {
		report, err := merger.MergeConflicts(r.Context(), id)
		if err == nil {
			err = a.buildConflictsDocument(r.Context(), id, report, &doc)
		}
		if err != nil {
			a.fail(w, r, fmt.Errorf("conflict report of changeset %d: %w", id, err))
			return
		}
	}
	body, _, finish, ok := a.startReply(w, r, []format{formatXML}, nil)
	if !ok {
		return
	}
	a.finishSmallReply(r, finish, doc.write(body, a.header()))
}

// buildConflictsDocument lays out report: the rebased content of each
// edited element, then the nodes the ways among them use that are not
// in the document yet, from the changeset when it stages them (a node it
// created or moved) and from the dataset otherwise.
func (a *API) buildConflictsDocument(ctx context.Context, id int64, report []storage.MergeConflict, doc *conflictsDocument) error {
	needed := doc.addReport(report)
	if len(needed) == 0 {
		return nil
	}
	staged, err := a.editingService().Download(ctx, id)
	if err != nil {
		return err
	}
	for _, c := range staged {
		k := c.Element.Key()
		if k.Type == osmdata.Node && c.Element.Visible && slices.Contains(needed, k.ID) {
			doc.elements[k] = &documentElement{element: c.Element}
		}
	}
	current, err := a.Reader.CurrentElements(ctx, osmdata.Node, needed)
	if err != nil {
		return fmt.Errorf("nodes of the conflicting ways: %w", err)
	}
	for _, n := range current {
		if _, staged := doc.elements[n.Key()]; !staged && n.Visible {
			doc.elements[n.Key()] = &documentElement{element: n}
		}
	}
	return nil
}

// addReport lays out each line of report and returns the nodes the ways
// among them use that the document does not hold yet, sorted.
func (d *conflictsDocument) addReport(report []storage.MergeConflict) []int64 {
	var needed []int64
	for i := range report {
		line := &report[i]
		if line.Kind != storage.ConflictEdited {
			d.notes = append(d.notes, fmt.Sprintf("%s: %s: %s", line.Element, line.Kind, line.Message))
			continue
		}
		start, note := rebasedStart(line)
		d.elements[line.Element] = &documentElement{element: start, modify: true, comment: conflictComment(line, note)}
		if start.Type == osmdata.Way {
			needed = append(needed, start.Nodes...)
		}
	}
	needed = slices.DeleteFunc(needed, func(n int64) bool {
		_, in := d.elements[osmdata.Key{Type: osmdata.Node, ID: n}]
		return in
	})
	slices.Sort(needed)
	return slices.Compact(needed)
}

// rebasedStart is what the contributor starts from for one edited line:
// the current version with the changeset's edits that do not collide
// (review/rebase keeps current's value in the fields that do), and a
// note when one side deleted the element, where there is no field to
// settle but a choice to make.
func rebasedStart(line *storage.MergeConflict) (osmdata.Element, string) {
	side := func(e *osmdata.Element, version int) *osmdata.Element {
		if e != nil {
			return e
		}
		// The report leaves out the content of a deleted side.
		return &osmdata.Element{Type: line.Element.Type, ID: line.Element.ID, Version: version}
	}
	base, current, pending := side(line.Base, line.BaseVersion), side(line.Current, line.CurrentVersion), side(line.Pending, 0)
	var start osmdata.Element
	var note string
	switch {
	case !current.Visible && pending.Visible:
		start = *pending
		note = "deleted since by someone else: uploading this restores it with your edits; delete it in the editor to leave it deleted"
	case !pending.Visible:
		start = *current
		note = "this changeset deletes it, edited since by someone else: uploading this keeps their version; delete it in the editor to delete it still"
	default:
		start = rebase.Element(base, current, pending).Merged
	}
	start.Visible = true
	start.Version = line.CurrentVersion
	if line.Current != nil {
		start.Changeset, start.Timestamp = line.Current.Changeset, line.Current.Timestamp
		start.UID, start.User = line.Current.UID, line.Current.User
	}
	return start, note
}

// conflictComment is the comment before an element: the report's line
// and each field in conflict with its three values.
func conflictComment(line *storage.MergeConflict, note string) []string {
	lines := []string{fmt.Sprintf("%s: conflict between version %d (base), version %d (current) and this changeset (pending)",
		line.Element, line.BaseVersion, line.CurrentVersion)}
	if note != "" {
		lines = append(lines, "  "+note)
	}
	value := func(v string, absent bool) string {
		if absent {
			return "(none)"
		}
		return strconv.Quote(v)
	}
	for _, f := range line.Fields {
		name := f.Kind
		if f.Key != "" {
			name += " " + f.Key
		}
		lines = append(lines, fmt.Sprintf("  %s: base %s, current %s, pending %s", name,
			value(f.Base, f.AbsentInBase), value(f.Current, f.AbsentInCurrent), value(f.Pending, f.AbsentInPending)))
	}
	return lines
}

// write writes the document: nodes, ways, relations, each by id, as OSM
// files order them.
func (d *conflictsDocument) write(w io.Writer, h osmdata.DocumentHeader) error {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<osm version="0.6"`)
	for _, attr := range [][2]string{{"generator", h.Generator}, {"copyright", h.Copyright}, {"attribution", h.Attribution}, {"license", h.License}} {
		if attr[1] != "" {
			writeAttr(&b, attr[0], attr[1])
		}
	}
	b.WriteString(">\n")
	for _, n := range d.notes {
		writeComment(&b, " ", []string{n})
	}
	keys := make([]osmdata.Key, 0, len(d.elements))
	for k := range d.elements {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y osmdata.Key) int {
		switch {
		case x.Less(y):
			return -1
		case y.Less(x):
			return 1
		}
		return 0
	})
	for _, k := range keys {
		writeDocumentElement(&b, d.elements[k])
	}
	b.WriteString("</osm>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// writeDocumentElement writes one element as JOSM reads .osm files:
// action="modify" on what the editor must upload, visible, version and
// the version's metadata.
func writeDocumentElement(b *bytes.Buffer, de *documentElement) {
	e := &de.element
	if len(de.comment) > 0 {
		writeComment(b, " ", de.comment)
	}
	fmt.Fprintf(b, ` <%s id="%d"`, e.Type, e.ID)
	if de.modify {
		b.WriteString(` action="modify"`)
	}
	fmt.Fprintf(b, ` visible="true" version="%d"`, e.Version)
	if e.Changeset != 0 {
		fmt.Fprintf(b, ` changeset="%d"`, e.Changeset)
	}
	if !e.Timestamp.IsZero() {
		writeAttr(b, "timestamp", e.Timestamp.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if e.UID != 0 {
		writeAttr(b, "user", e.User)
		fmt.Fprintf(b, ` uid="%d"`, e.UID)
	}
	if e.Type == osmdata.Node {
		fmt.Fprintf(b, ` lat="%s" lon="%s"`, osmdata.FormatFixedCoord(e.Lat), osmdata.FormatFixedCoord(e.Lon))
	}
	if len(e.Tags) == 0 && len(e.Nodes) == 0 && len(e.Members) == 0 {
		b.WriteString("/>\n")
		return
	}
	b.WriteString(">\n")
	for _, n := range e.Nodes {
		fmt.Fprintf(b, "  <nd ref=\"%d\"/>\n", n)
	}
	for _, m := range e.Members {
		fmt.Fprintf(b, `  <member type="%s" ref="%d"`, m.Type, m.Ref)
		writeAttr(b, "role", m.Role)
		b.WriteString("/>\n")
	}
	for _, t := range e.Tags {
		b.WriteString("  <tag")
		writeAttr(b, "k", t.Key)
		writeAttr(b, "v", t.Value)
		b.WriteString("/>\n")
	}
	fmt.Fprintf(b, " </%s>\n", e.Type)
}

func writeAttr(b *bytes.Buffer, name, value string) {
	b.WriteString(" " + name + `="`)
	// EscapeText escapes quotes, tabs and newlines too, which an
	// attribute value needs.
	_ = xml.EscapeText(b, []byte(value))
	b.WriteByte('"')
}

// writeComment writes lines as one XML comment. A comment may not hold
// "--" nor end with "-", and tag values may hold anything: dashes are
// spaced apart, and invalid UTF-8 is replaced, so that the document stays
// well-formed whatever the values.
func writeComment(b *bytes.Buffer, indent string, lines []string) {
	b.WriteString(indent + "<!--")
	for i, l := range lines {
		if i > 0 {
			b.WriteString("\n" + indent + "   ")
		} else {
			b.WriteByte(' ')
		}
		l = strings.ToValidUTF8(l, string(utf8.RuneError))
		l = strings.Map(func(r rune) rune {
			// Control characters are not allowed in XML 1.0 at all.
			if r < 0x20 && r != '\t' {
				return ' '
			}
			return r
		}, l)
		for strings.Contains(l, "--") {
			l = strings.ReplaceAll(l, "--", "- -")
		}
		b.WriteString(l)
	}
	b.WriteString(" -->\n")
}
