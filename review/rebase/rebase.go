// Package rebase merges a pending change with what happened to its
// element since the version it was based on, field by field (a three-way
// merge of base, current and pending), as a text merge combines the lines
// two people changed: tags key by key, a node's position, a way's node
// list and a relation's members as sequences. What both sides changed
// differently is a conflict the contributor resolves.
//
// The package is pure: it reads no store. The merge job calls it before
// the merge lock for each element whose current version moved past the
// pending change's base; the store re-checks the hard constraints on the
// result under the lock.
package rebase

import (
	"slices"

	"github.com/geocommuns/geocommuns/osmdata"
)

// FieldKind names the part of an element a conflict is about.
type FieldKind string

const (
	// FieldTag: one tag key, set to different values (or set by one side
	// and removed by the other).
	FieldTag FieldKind = "tag"
	// FieldPosition: a node moved by both sides to different places.
	FieldPosition FieldKind = "position"
	// FieldNodes: overlapping edits of a way's node list.
	FieldNodes FieldKind = "nodes"
	// FieldMembers: overlapping edits of a relation's member list.
	FieldMembers FieldKind = "members"
	// FieldDeleted: one side deleted the element, the other modified it.
	FieldDeleted FieldKind = "deleted"
)

// Conflict is one field both sides changed differently. Base, Current and
// Pending are the field's values on each side in a form a person reads
// (a tag's value, "lat,lon", a node list as space-separated ids, members
// as "type/ref role" lines, "deleted"); Absent* say the side has no value
// at all (a tag not set, an element deleted), which an empty string
// cannot tell from an empty value.
type Conflict struct {
	Kind FieldKind
	// Key is the tag key of a FieldTag conflict, empty otherwise.
	Key                                            string
	Base, Current, Pending                         string
	AbsentInBase, AbsentInCurrent, AbsentInPending bool
}

// Result is the outcome of merging one element.
type Result struct {
	// Merged is the pending change rebased onto current: pending's
	// identity and metadata (type, id, changeset, author, timestamp),
	// Version set to current's version (the base the final version
	// follows), and content combining both sides. It is meaningful only
	// when Conflicts is empty.
	Merged osmdata.Element
	// Conflicts lists every field both sides changed differently, in a
	// stable order (deleted, position, nodes, members, then tags by key).
	Conflicts []Conflict
}

// Element merges pending, a change made against base, with current, the
// element as it is now. All three are the same element (type and id), and
// none is nil;
// base and current are visible or deleted versions from the dataset,
// pending a visible (create/modify) or deleted (delete) content.
//
// Rules, for each field: a side that left the field as base had it takes
// the other side's value; equal changes on both sides are one change;
// different changes conflict. Deleting an element the other side modified
// (or modifying one it deleted) conflicts; both deleting it does not. Node
// lists and member lists merge as sequences: edits (insertions, removals,
// replacements) of base ranges that neither overlap nor touch combine in
// base order; edits of overlapping or adjacent ranges conflict unless
// they are the same edit. A way that current and pending both have
// closed (first node equal to the last) and that would come out open
// conflicts on its nodes: each side closed it in its own way (one added a
// node before the start, the other after the end). A way closed in base
// and kept closed on both sides always comes out closed.
//
// Deletion is a field too: the merged element is deleted when a side
// deleted it and the other left it deleted or as base had it (metadata
// aside); when the other side changed its content, the result is a
// FieldDeleted conflict alone, since comparing the fields of something
// deleted says nothing more.
//
// In a field that conflicts Merged keeps current's value. Merged shares no
// slice with the arguments.
func Element(base, current, pending *osmdata.Element) Result {
	merged := *current
	merged.Type, merged.ID = pending.Type, pending.ID
	merged.Changeset, merged.Timestamp = pending.Changeset, pending.Timestamp
	merged.UID, merged.User = pending.UID, pending.User
	merged.Version = current.Version
	merged.Tags, merged.Nodes, merged.Members = nil, nil, nil
	merged.Visible, _ = mergeField(base.Visible, current.Visible, pending.Visible)

	if !merged.Visible {
		return deleted(base, current, pending, merged)
	}

	var conflicts []Conflict
	switch pending.Type {
	case osmdata.Node:
		type position struct{ lat, lon int32 }
		at, conflict := mergeField(
			position{base.Lat, base.Lon}, position{current.Lat, current.Lon}, position{pending.Lat, pending.Lon})
		merged.Lat, merged.Lon = at.lat, at.lon
		if conflict {
			conflicts = append(conflicts, Conflict{
				Kind:    FieldPosition,
				Base:    describePosition(base.Lat, base.Lon),
				Current: describePosition(current.Lat, current.Lon),
				Pending: describePosition(pending.Lat, pending.Lon),
			})
		}
	case osmdata.Way:
		nodes, conflict := mergeSequences(base.Nodes, current.Nodes, pending.Nodes)
		if !conflict && closed(current.Nodes) && closed(pending.Nodes) && !closed(nodes) {
			conflict = true
			nodes = slices.Clone(current.Nodes)
		}
		merged.Nodes = nodes
		if conflict {
			conflicts = append(conflicts, Conflict{
				Kind:    FieldNodes,
				Base:    describeNodes(base.Nodes),
				Current: describeNodes(current.Nodes),
				Pending: describeNodes(pending.Nodes),
			})
		}
	case osmdata.Relation:
		members, conflict := mergeSequences(base.Members, current.Members, pending.Members)
		merged.Members = members
		if conflict {
			conflicts = append(conflicts, Conflict{
				Kind:    FieldMembers,
				Base:    describeMembers(base.Members),
				Current: describeMembers(current.Members),
				Pending: describeMembers(pending.Members),
			})
		}
	}
	tags, tagConflicts := mergeTags(base.Tags, current.Tags, pending.Tags)
	merged.Tags = tags
	return Result{Merged: merged, Conflicts: append(conflicts, tagConflicts...)}
}

// deleted finishes a merge whose outcome is a deleted element: clean when
// the side that kept the element left its content as base had it.
func deleted(base, current, pending *osmdata.Element, merged osmdata.Element) Result {
	// A deleted version keeps what it is stored with (a deleted node its
	// coordinates): pending's, unless pending kept the element or left it
	// as base had it, deleted too.
	from := pending
	if pending.Visible || sameContent(pending, base) {
		from = current
	}
	merged.Lat, merged.Lon = from.Lat, from.Lon
	merged.Tags = slices.Clone(from.Tags)
	merged.Nodes = slices.Clone(from.Nodes)
	merged.Members = slices.Clone(from.Members)

	kept := current
	if !current.Visible {
		kept = pending
	}
	if !kept.Visible || sameContent(base, kept) {
		return Result{Merged: merged}
	}
	c := Conflict{Kind: FieldDeleted}
	c.Base, c.AbsentInBase = describeSide(base)
	c.Current, c.AbsentInCurrent = describeSide(current)
	c.Pending, c.AbsentInPending = describeSide(pending)
	return Result{Merged: merged, Conflicts: []Conflict{c}}
}

// SameContent tells whether two versions of the dataset hold the same
// data, whatever their metadata: both deleted (a deleted version has no
// content, though a node keeps its last position), or both visible with
// the same tags (as sets: their order is no edit), position, nodes or
// members.
func SameContent(a, b *osmdata.Element) bool {
	if a.Visible != b.Visible {
		return false
	}
	return !a.Visible || sameData(a, b)
}

// sameContent is SameContent for the merge's inputs, where a pending
// delete may still carry content: it is compared too.
func sameContent(a, b *osmdata.Element) bool {
	return a.Visible == b.Visible && sameData(a, b)
}

// sameData compares tags (as sets), position, nodes and members.
func sameData(a, b *osmdata.Element) bool {
	if !sameTags(a.Tags, b.Tags) {
		return false
	}
	switch a.Type {
	case osmdata.Node:
		return a.Lat == b.Lat && a.Lon == b.Lon
	case osmdata.Way:
		return slices.Equal(a.Nodes, b.Nodes)
	case osmdata.Relation:
		return slices.Equal(a.Members, b.Members)
	}
	return true
}

// closed tells whether a node list ends where it starts.
func closed(nodes []int64) bool {
	return len(nodes) >= 2 && nodes[0] == nodes[len(nodes)-1]
}
