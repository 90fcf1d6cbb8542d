package sqlite

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
)

// table is the history table of an element type.
func table(t osmdata.ElementType) (string, error) {
	switch t {
	case osmdata.Node:
		return "nodes", nil
	case osmdata.Way:
		return "ways", nil
	case osmdata.Relation:
		return "relations", nil
	}
	return "", fmt.Errorf("unknown element type %d", t)
}

// columns lists an element type's columns, each prefixed with alias (as
// "n." or "") for joins.
func columns(t osmdata.ElementType, alias string) string {
	c := alias + "id, " + alias + "version, " + alias + "changeset_id, " + alias + "visible, " +
		alias + "ts, " + alias + "user_id, " + alias + "user_name, " + alias + "tags"
	switch t {
	case osmdata.Node:
		return c + ", " + alias + "lat, " + alias + "lon"
	case osmdata.Way:
		return c + ", " + alias + "nodes"
	default:
		return c + ", " + alias + "members"
	}
}

// elementScanner reads element rows of one type into fresh Elements,
// reusing its scan destinations between rows.
type elementScanner struct {
	t                               osmdata.ElementType
	id, version, changeset, ts, uid int64
	lat, lon                        int64
	visible                         bool
	user                            string
	tags, list                      sql.RawBytes
	dest                            []any
}

func newElementScanner(t osmdata.ElementType) *elementScanner {
	s := &elementScanner{t: t}
	s.dest = []any{&s.id, &s.version, &s.changeset, &s.visible, &s.ts, &s.uid, &s.user, &s.tags}
	if t == osmdata.Node {
		s.dest = append(s.dest, &s.lat, &s.lon)
	} else {
		s.dest = append(s.dest, &s.list)
	}
	return s
}

func (s *elementScanner) scan(rows *sql.Rows) (osmdata.Element, error) {
	if err := rows.Scan(s.dest...); err != nil {
		return osmdata.Element{}, err
	}
	e := osmdata.Element{
		Type:      s.t,
		ID:        s.id,
		Version:   int(s.version),
		Visible:   s.visible,
		Changeset: s.changeset,
		Timestamp: time.Unix(s.ts, 0).UTC(),
		UID:       s.uid,
		User:      s.user,
	}
	var err error
	if e.Tags, err = decodeTags(s.tags); err != nil {
		return e, fmt.Errorf("tags of %s: %w", e.Key(), err)
	}
	switch s.t {
	case osmdata.Node:
		e.Lat, e.Lon = int32(s.lat), int32(s.lon)
	case osmdata.Way:
		if e.Nodes, err = decodeIDs(s.list); err != nil {
			return e, fmt.Errorf("nodes of %s: %w", e.Key(), err)
		}
	case osmdata.Relation:
		if e.Members, err = decodeMembers(s.list); err != nil {
			return e, fmt.Errorf("members of %s: %w", e.Key(), err)
		}
	}
	return e, nil
}

// scanElements reads every row of rows and closes it.
func scanElements(rows *sql.Rows, t osmdata.ElementType) ([]osmdata.Element, error) {
	defer rows.Close()
	s := newElementScanner(t)
	var out []osmdata.Element
	for rows.Next() {
		e, err := s.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
