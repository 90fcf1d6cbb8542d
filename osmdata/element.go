package osmdata

import (
	"fmt"
	"time"
)

// ElementType is one of OSM's three element types. The numeric values are
// stored in the database and must not change.
type ElementType uint8

const (
	Node     ElementType = 1
	Way      ElementType = 2
	Relation ElementType = 3
)

// ElementTypes lists the types in OSM's document order.
var ElementTypes = []ElementType{Node, Way, Relation}

func (t ElementType) String() string {
	switch t {
	case Node:
		return "node"
	case Way:
		return "way"
	case Relation:
		return "relation"
	}
	return fmt.Sprintf("ElementType(%d)", uint8(t))
}

// ParseElementType reads "node", "way" or "relation".
func ParseElementType(s string) (ElementType, error) {
	switch s {
	case "node":
		return Node, nil
	case "way":
		return Way, nil
	case "relation":
		return Relation, nil
	}
	return 0, fmt.Errorf("unknown element type %q", s)
}

// Tag is one key=value pair. Tags keep their document order: osmium and
// other tools compare tag lists in order, so reordering them would make an
// export differ from its source.
type Tag struct {
	Key   string
	Value string
}

// Tags is an ordered tag list with unique keys.
type Tags []Tag

// Get returns the value of key and whether it is present.
func (t Tags) Get(key string) (string, bool) {
	for _, tag := range t {
		if tag.Key == key {
			return tag.Value, true
		}
	}
	return "", false
}

// Member is one relation member.
type Member struct {
	Type ElementType
	Ref  int64
	Role string
}

// Element is one version of a node, way or relation. It is a plain value:
// Nodes is set only for ways, Members only for relations, Lat and Lon only
// for nodes. Deleted versions have Visible false; a deleted node keeps the
// coordinates it is stored with, but writers leave them out.
type Element struct {
	Type      ElementType
	ID        int64
	Version   int
	Visible   bool
	Changeset int64
	// Timestamp is in UTC with whole seconds: libosmium rejects fractions.
	Timestamp time.Time
	UID       int64
	// User is the display name recorded with this version. Real extracts
	// record renamed users under their old name in older versions, so the
	// name is kept per version for exports to match their source.
	User    string
	Lat     int32 // 1e-7 degrees
	Lon     int32 // 1e-7 degrees
	Tags    Tags
	Nodes   []int64
	Members []Member
	// Redacted marks a version an administrator redacted, as the change
	// feeds give it: metadata only, its tags, coordinates, nodes and
	// members withheld (storage.Withhold).
	Redacted bool
}

// Key identifies an element regardless of version.
type Key struct {
	Type ElementType
	ID   int64
}

func (k Key) String() string { return fmt.Sprintf("%s %d", k.Type, k.ID) }

// Key returns the element's type and id.
func (e *Element) Key() Key { return Key{e.Type, e.ID} }

// Less orders keys as OSM files are sorted: by type (nodes, ways,
// relations), then by id.
func (k Key) Less(o Key) bool {
	if k.Type != o.Type {
		return k.Type < o.Type
	}
	return k.ID < o.ID
}
