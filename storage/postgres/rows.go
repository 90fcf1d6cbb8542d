package postgres

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
)

// Table and column names per element type. The write columns end with
// is_current (and the node's tile); the read columns are what an Element
// holds.
var (
	tableOf = map[osmdata.ElementType]string{
		osmdata.Node: "nodes", osmdata.Way: "ways", osmdata.Relation: "relations",
	}
	commonColumns = []string{"id", "version", "changeset_id", "visible", "ts", "user_id", "user_name", "tags"}
	extraColumns  = map[osmdata.ElementType][]string{
		osmdata.Node:     {"lat", "lon"},
		osmdata.Way:      {"nodes"},
		osmdata.Relation: {"member_types", "member_ids", "member_roles"},
	}
)

// writeColumns are the columns COPY fills for type t, in rowEncoder's order.
func writeColumns(t osmdata.ElementType) []string {
	cols := append(append([]string{}, commonColumns...), extraColumns[t]...)
	cols = append(cols, "is_current")
	if t == osmdata.Node {
		cols = append(cols, "tile")
	}
	return cols
}

// readColumns is the select list scanElement reads, each prefixed with
// alias (e.g. "n.") when given.
func readColumns(t osmdata.ElementType, alias string) string {
	s := ""
	for i, c := range append(append([]string{}, commonColumns...), extraColumns[t]...) {
		if i > 0 {
			s += ", "
		}
		s += alias + c
	}
	return s
}

// rowEncoder turns elements into COPY rows. Its buffers are reused from
// row to row: pgx encodes each row before it asks for the next one.
type rowEncoder struct {
	vals        []any
	tags        []string
	memberTypes []int16
	memberIDs   []int64
	memberRoles []string
}

func (r *rowEncoder) row(e *osmdata.Element, current bool) []any {
	var tags any
	if len(e.Tags) > 0 {
		r.tags = flattenTags(r.tags[:0], e.Tags)
		tags = r.tags
	}
	r.vals = append(r.vals[:0], e.ID, int32(e.Version), e.Changeset, e.Visible, e.Timestamp, e.UID, e.User, tags)
	switch e.Type {
	case osmdata.Node:
		r.vals = append(r.vals, e.Lat, e.Lon, current, int64(osmdata.QuadTile(e.Lat, e.Lon)))
	case osmdata.Way:
		nodes := e.Nodes
		if nodes == nil {
			nodes = []int64{}
		}
		r.vals = append(r.vals, nodes, current)
	case osmdata.Relation:
		if r.memberTypes == nil {
			// Empty arrays, not NULL, for a relation without members (a
			// deleted version): the columns are NOT NULL.
			r.memberTypes, r.memberIDs, r.memberRoles = []int16{}, []int64{}, []string{}
		}
		r.memberTypes, r.memberIDs, r.memberRoles = r.memberTypes[:0], r.memberIDs[:0], r.memberRoles[:0]
		for _, m := range e.Members {
			r.memberTypes = append(r.memberTypes, int16(m.Type))
			r.memberIDs = append(r.memberIDs, m.Ref)
			r.memberRoles = append(r.memberRoles, m.Role)
		}
		r.vals = append(r.vals, r.memberTypes, r.memberIDs, r.memberRoles, current)
	}
	return r.vals
}

// flattenTags writes tags as k1, v1, k2, v2, which keeps their order.
func flattenTags(dst []string, tags osmdata.Tags) []string {
	for _, t := range tags {
		dst = append(dst, t.Key, t.Value)
	}
	return dst
}

func unflattenTags(flat []string) (osmdata.Tags, error) {
	if len(flat) == 0 {
		return nil, nil
	}
	if len(flat)%2 != 0 {
		return nil, fmt.Errorf("tag array of odd length %d", len(flat))
	}
	tags := make(osmdata.Tags, len(flat)/2)
	for i := range tags {
		tags[i] = osmdata.Tag{Key: flat[2*i], Value: flat[2*i+1]}
	}
	return tags, nil
}

// elementScanner reads rows selected with readColumns(t, …).
type elementScanner struct {
	t           osmdata.ElementType
	e           osmdata.Element
	version     int32
	ts          time.Time
	tags        []string
	memberTypes []int16
	memberIDs   []int64
	memberRoles []string
	dest        []any
}

func newElementScanner(t osmdata.ElementType) *elementScanner {
	s := &elementScanner{t: t}
	s.dest = []any{&s.e.ID, &s.version, &s.e.Changeset, &s.e.Visible, &s.ts, &s.e.UID, &s.e.User, &s.tags}
	switch t {
	case osmdata.Node:
		s.dest = append(s.dest, &s.e.Lat, &s.e.Lon)
	case osmdata.Way:
		s.dest = append(s.dest, &s.e.Nodes)
	case osmdata.Relation:
		s.dest = append(s.dest, &s.memberTypes, &s.memberIDs, &s.memberRoles)
	}
	return s
}

func (s *elementScanner) scan(rows pgx.Rows) (osmdata.Element, error) {
	s.e = osmdata.Element{Type: s.t}
	s.tags, s.memberTypes, s.memberIDs, s.memberRoles = nil, nil, nil, nil
	if err := rows.Scan(s.dest...); err != nil {
		return osmdata.Element{}, fmt.Errorf("scan %s: %w", s.t, err)
	}
	e := s.e
	e.Version = int(s.version)
	e.Timestamp = s.ts.UTC()
	tags, err := unflattenTags(s.tags)
	if err != nil {
		return osmdata.Element{}, fmt.Errorf("%s %d v%d: %w", s.t, e.ID, e.Version, err)
	}
	e.Tags = tags
	if s.t == osmdata.Relation && len(s.memberIDs) > 0 {
		if len(s.memberTypes) != len(s.memberIDs) || len(s.memberRoles) != len(s.memberIDs) {
			return osmdata.Element{}, fmt.Errorf("relation %d v%d: member arrays of different lengths", e.ID, e.Version)
		}
		e.Members = make([]osmdata.Member, len(s.memberIDs))
		for i := range e.Members {
			e.Members[i] = osmdata.Member{Type: osmdata.ElementType(s.memberTypes[i]), Ref: s.memberIDs[i], Role: s.memberRoles[i]}
		}
	}
	if s.t == osmdata.Way && len(e.Nodes) == 0 {
		e.Nodes = nil
	}
	return e, nil
}

// collectElements reads every row of a query selecting readColumns(t, …).
func collectElements(rows pgx.Rows, t osmdata.ElementType) ([]osmdata.Element, error) {
	defer rows.Close()
	s := newElementScanner(t)
	var nodes *nodeDecoder
	if t == osmdata.Node {
		nodes = newNodeDecoder(rows)
	}
	// The rows go into chunks that are never copied, each twice the
	// last up to maxChunk, and the chunks into one slice of the exact
	// length at the end: growing one slice allocated, cleared and copied
	// the 50,000 nodes of a large map call several times over (bench
	// map), and doubling it still left a third of it unused.
	const maxChunk = 4096
	var chunks [][]osmdata.Element
	var cur []osmdata.Element
	total := 0
	for rows.Next() {
		var e osmdata.Element
		var err error
		if nodes != nil {
			e, err = nodes.decode(rows.RawValues())
		} else {
			e, err = s.scan(rows)
		}
		if err != nil {
			return nil, err
		}
		if len(cur) == cap(cur) {
			if cur != nil {
				chunks = append(chunks, cur)
			}
			cur = make([]osmdata.Element, 0, min(max(2*cap(cur), 16), maxChunk))
		}
		cur = append(cur, e)
		total++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(chunks) == 0 {
		return cur, nil
	}
	out := make([]osmdata.Element, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, cur...), nil
}
