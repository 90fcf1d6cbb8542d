package rebase

import (
	"strconv"
	"strings"

	"github.com/geocommuns/geocommuns/osmdata"
)

// The values of a Conflict are for people: the contributor reading the
// conflict report, the reviewer looking at it in the review tool. They use
// OSM's own notations so that they can be compared with what an editor
// shows.

// describePosition writes a node's position as "lat,lon" in decimal
// degrees, as OSM XML writes them.
func describePosition(lat, lon int32) string {
	return osmdata.FormatFixedCoord(lat) + "," + osmdata.FormatFixedCoord(lon)
}

// describeNodes writes a way's node list as space-separated ids.
func describeNodes(nodes []int64) string {
	var b strings.Builder
	for i, id := range nodes {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

// describeMember writes one member as "type/ref role", the role left out
// when empty.
func describeMember(m osmdata.Member) string {
	s := m.Type.String() + "/" + strconv.FormatInt(m.Ref, 10)
	if m.Role != "" {
		s += " " + m.Role
	}
	return s
}

// describeMembers writes a relation's members one a line.
func describeMembers(members []osmdata.Member) string {
	lines := make([]string, len(members))
	for i, m := range members {
		lines[i] = describeMember(m)
	}
	return strings.Join(lines, "\n")
}

// describeContent writes what a visible version holds, for the side of a
// FieldDeleted conflict that kept the element: its position, nodes or
// members, then its tags as key=value, one a line.
func describeContent(e *osmdata.Element) string {
	var lines []string
	switch e.Type {
	case osmdata.Node:
		lines = append(lines, describePosition(e.Lat, e.Lon))
	case osmdata.Way:
		lines = append(lines, "nodes: "+describeNodes(e.Nodes))
	case osmdata.Relation:
		for _, m := range e.Members {
			lines = append(lines, "member: "+describeMember(m))
		}
	}
	for _, t := range e.Tags {
		lines = append(lines, t.Key+"="+t.Value)
	}
	return strings.Join(lines, "\n")
}

// describeSide is describeContent for a visible version and "deleted"
// for a deleted one, with whether it is absent.
func describeSide(e *osmdata.Element) (text string, absent bool) {
	if !e.Visible {
		return "deleted", true
	}
	return describeContent(e), false
}
