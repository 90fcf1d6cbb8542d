package storage

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
)

// The structured part of a conflict report's line (Fields, Base, Current,
// Pending) is stored by both backends as one text column in the form
// below. The JSON names are the stored format, kept apart from the Go
// names so that renaming a field does not orphan the reports already
// written.
type conflictDetailJSON struct {
	Fields  []conflictFieldJSON `json:"fields,omitempty"`
	Base    *elementJSON        `json:"base,omitempty"`
	Current *elementJSON        `json:"current,omitempty"`
	Pending *elementJSON        `json:"pending,omitempty"`
}

type conflictFieldJSON struct {
	Kind            string `json:"kind"`
	Key             string `json:"key,omitempty"`
	Base            string `json:"base,omitempty"`
	Current         string `json:"current,omitempty"`
	Pending         string `json:"pending,omitempty"`
	AbsentInBase    bool   `json:"absent_in_base,omitempty"`
	AbsentInCurrent bool   `json:"absent_in_current,omitempty"`
	AbsentInPending bool   `json:"absent_in_pending,omitempty"`
}

type elementJSON struct {
	Type      osmdata.ElementType `json:"type"`
	ID        int64               `json:"id"`
	Version   int                 `json:"version"`
	Visible   bool                `json:"visible"`
	Changeset int64               `json:"changeset,omitempty"`
	// RFC 3339 with the fraction a timestamp has, "" for none.
	Timestamp string       `json:"timestamp,omitempty"`
	UID       int64        `json:"uid,omitempty"`
	User      string       `json:"user,omitempty"`
	Lat       int32        `json:"lat,omitempty"`
	Lon       int32        `json:"lon,omitempty"`
	Tags      [][2]string  `json:"tags,omitempty"`
	Nodes     []int64      `json:"nodes,omitempty"`
	Members   []memberJSON `json:"members,omitempty"`
}

type memberJSON struct {
	Type osmdata.ElementType `json:"type"`
	Ref  int64               `json:"ref"`
	Role string              `json:"role,omitempty"`
}

// EncodeConflictDetail returns the stored form of c's structured report:
// "" for a line without one (no Fields and no content, as every kind but
// ConflictEdited), JSON otherwise.
func EncodeConflictDetail(c MergeConflict) (string, error) {
	if len(c.Fields) == 0 && c.Base == nil && c.Current == nil && c.Pending == nil {
		return "", nil
	}
	d := conflictDetailJSON{Base: toElementJSON(c.Base), Current: toElementJSON(c.Current), Pending: toElementJSON(c.Pending)}
	for _, f := range c.Fields {
		d.Fields = append(d.Fields, conflictFieldJSON(f))
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("encode the report of %s: %w", c.Element, err)
	}
	return string(b), nil
}

// DecodeConflictDetail sets c's Fields, Base, Current and Pending from
// what EncodeConflictDetail wrote ("" leaves them empty). Empty lists
// come back nil.
func DecodeConflictDetail(s string, c *MergeConflict) error {
	c.Fields, c.Base, c.Current, c.Pending = nil, nil, nil, nil
	if s == "" {
		return nil
	}
	var d conflictDetailJSON
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return fmt.Errorf("decode the report of %s: %w", c.Element, err)
	}
	for _, f := range d.Fields {
		c.Fields = append(c.Fields, ConflictField(f))
	}
	var err error
	if c.Base, err = d.Base.element(); err != nil {
		return fmt.Errorf("decode the base of %s: %w", c.Element, err)
	}
	if c.Current, err = d.Current.element(); err != nil {
		return fmt.Errorf("decode the current content of %s: %w", c.Element, err)
	}
	if c.Pending, err = d.Pending.element(); err != nil {
		return fmt.Errorf("decode the pending content of %s: %w", c.Element, err)
	}
	return nil
}

func toElementJSON(e *osmdata.Element) *elementJSON {
	if e == nil {
		return nil
	}
	j := &elementJSON{Type: e.Type, ID: e.ID, Version: e.Version, Visible: e.Visible, Changeset: e.Changeset,
		UID: e.UID, User: e.User, Lat: e.Lat, Lon: e.Lon, Nodes: e.Nodes}
	if !e.Timestamp.IsZero() {
		j.Timestamp = e.Timestamp.UTC().Format(time.RFC3339Nano)
	}
	for _, t := range e.Tags {
		j.Tags = append(j.Tags, [2]string{t.Key, t.Value})
	}
	for _, m := range e.Members {
		j.Members = append(j.Members, memberJSON(m))
	}
	return j
}

func (j *elementJSON) element() (*osmdata.Element, error) {
	if j == nil {
		return nil, nil
	}
	e := &osmdata.Element{Type: j.Type, ID: j.ID, Version: j.Version, Visible: j.Visible, Changeset: j.Changeset,
		UID: j.UID, User: j.User, Lat: j.Lat, Lon: j.Lon, Nodes: j.Nodes}
	if j.Timestamp != "" {
		t, err := time.Parse(time.RFC3339Nano, j.Timestamp)
		if err != nil {
			return nil, fmt.Errorf("timestamp: %w", err)
		}
		e.Timestamp = t.UTC()
	}
	for _, t := range j.Tags {
		e.Tags = append(e.Tags, osmdata.Tag{Key: t[0], Value: t[1]})
	}
	for _, m := range j.Members {
		e.Members = append(e.Members, osmdata.Member(m))
	}
	return e, nil
}
