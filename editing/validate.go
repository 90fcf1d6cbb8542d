package editing

import (
	"fmt"
	"unicode/utf8"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// This file holds the checks an upload passes before it touches the
// store: what cgimap's parser and object classes refuse
// (include/cgimap/api06/changeset_upload/*.hpp). The osmChange parser
// makes most of them already, with a line and column; they are made
// again here for operations that arrive through Connect.

// typeTitle is an element type as cgimap names it in messages ("Node").
func typeTitle(t osmdata.ElementType) string {
	switch t {
	case osmdata.Node:
		return "Node"
	case osmdata.Way:
		return "Way"
	case osmdata.Relation:
		return "Relation"
	}
	return t.String()
}

// objectName is cgimap's OSMObject::to_string: "Node -1".
func objectName(e *osmdata.Element) string {
	return fmt.Sprintf("%s %d", typeTitle(e.Type), e.ID)
}

// checkTags refuses an empty key, a key or value over MaxStringLength
// characters (Unicode characters, as cgimap and Rails count them), and
// a repeated key. e names the element in messages ("Node -1").
func checkTags(e *osmdata.Element, key *osmdata.Key) error {
	var seen map[string]bool
	if len(e.Tags) > 16 {
		seen = make(map[string]bool, len(e.Tags))
	}
	for i, t := range e.Tags {
		switch {
		case t.Key == "":
			return newError(ErrKeyEmpty, key, objectName(e))
		case len(t.Key) > MaxStringLength && utf8.RuneCountInString(t.Key) > MaxStringLength:
			return newError(ErrKeyTooLong, key, objectName(e))
		case len(t.Value) > MaxStringLength && utf8.RuneCountInString(t.Value) > MaxStringLength:
			return newError(ErrValueTooLong, key, objectName(e))
		}
		// Most elements have few tags, for which a scan costs less than
		// a map.
		duplicate := seen[t.Key]
		if seen != nil {
			seen[t.Key] = true
		} else {
			for _, before := range e.Tags[:i] {
				duplicate = duplicate || before.Key == t.Key
			}
		}
		if duplicate {
			return newError(ErrDuplicateTag, key, objectName(e), t.Key)
		}
	}
	return nil
}

// checkChangesetTags refuses changeset tags over the length limits, with
// the texts of cgimap's changeset parser (which names no element).
func checkChangesetTags(tags osmdata.Tags) error {
	for _, t := range tags {
		if utf8.RuneCountInString(t.Key) > MaxStringLength {
			return newError(ErrChangesetKeyTooLong, nil)
		}
		if utf8.RuneCountInString(t.Value) > MaxStringLength {
			return newError(ErrChangesetValueTooLong, nil)
		}
	}
	return nil
}

const (
	maxLat = 90 * osmdata.CoordScale
	maxLon = 180 * osmdata.CoordScale
)

// checkStatic makes the checks of one operation that need no store, in
// cgimap's order: the changeset attribute, the placeholder of a create,
// tags, coordinates, then the way and relation limits.
func checkStatic(limits Limits, changeset int64, op *Operation) error {
	e := &op.Element
	key := e.Key()
	if e.Changeset != changeset {
		return newError(ErrChangesetMismatch, &key, e.Changeset, changeset)
	}
	if op.Action == storage.Create && e.ID >= 0 {
		return newError(ErrPlaceholderNotNegative, &key)
	}
	if op.Action == storage.Delete {
		return nil
	}
	if err := checkTags(e, &key); err != nil {
		return err
	}
	if len(e.Tags) > limits.MaxTags {
		return newError(ErrTooManyTags, &key, limits.MaxTags)
	}
	switch e.Type {
	case osmdata.Node:
		if e.Lat < -maxLat || e.Lat > maxLat {
			return newError(ErrLatitudeRange, &key)
		}
		if e.Lon < -maxLon || e.Lon > maxLon {
			return newError(ErrLongitudeRange, &key)
		}
	case osmdata.Way:
		if len(e.Nodes) == 0 {
			return newError(ErrWayWithoutNodes, &key, e.ID)
		}
		if len(e.Nodes) > limits.MaxWayNodes {
			return newError(ErrTooManyWayNodes, &key, len(e.Nodes), e.ID, limits.MaxWayNodes)
		}
	case osmdata.Relation:
		if len(e.Members) > limits.MaxRelationMembers {
			return newError(ErrTooManyRelationMembers, &key, len(e.Members), e.ID, limits.MaxRelationMembers)
		}
		for _, m := range e.Members {
			if len(m.Role) > MaxStringLength && utf8.RuneCountInString(m.Role) > MaxStringLength {
				return newError(ErrRoleTooLong, &key)
			}
		}
	}
	return nil
}
