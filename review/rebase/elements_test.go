package rebase

import (
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
)

// The builders below make the hand-written versions of the tests: each
// version of one element gets its own changeset, author and time, so that
// a test can tell whose metadata the merge kept.

type side int

const (
	baseSide side = iota
	currentSide
	pendingSide
)

func stamp(e osmdata.Element, s side) *osmdata.Element {
	e.ID = 42
	switch s {
	case baseSide:
		e.Version, e.Changeset, e.UID, e.User = 3, 100, 1, "base author"
		e.Timestamp = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	case currentSide:
		e.Version, e.Changeset, e.UID, e.User = 5, 200, 2, "current author"
		e.Timestamp = time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	case pendingSide:
		e.Version, e.Changeset, e.UID, e.User = 4, 300, 3, "pending author"
		e.Timestamp = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	}
	return &e
}

// tags reads "key=value" pairs in order.
func tags(pairs ...string) osmdata.Tags {
	out := osmdata.Tags{}
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		out = append(out, osmdata.Tag{Key: k, Value: v})
	}
	return out
}

func node(lat, lon int32, t osmdata.Tags) osmdata.Element {
	return osmdata.Element{Type: osmdata.Node, Visible: true, Lat: lat, Lon: lon, Tags: t}
}

func way(nodes []int64, t osmdata.Tags) osmdata.Element {
	return osmdata.Element{Type: osmdata.Way, Visible: true, Nodes: nodes, Tags: t}
}

func relation(members []osmdata.Member, t osmdata.Tags) osmdata.Element {
	return osmdata.Element{Type: osmdata.Relation, Visible: true, Members: members, Tags: t}
}

func deletedVersion(e osmdata.Element) osmdata.Element {
	e.Visible = false
	return e
}

func ids(v ...int64) []int64 { return v }

func members(m ...osmdata.Member) []osmdata.Member { return m }

func wayMember(ref int64, role string) osmdata.Member {
	return osmdata.Member{Type: osmdata.Way, Ref: ref, Role: role}
}

func nodeMember(ref int64, role string) osmdata.Member {
	return osmdata.Member{Type: osmdata.Node, Ref: ref, Role: role}
}

// byteSource reads small values from fuzz input, then zeros when it runs
// out, so that every input decodes to some elements.
type byteSource struct{ data []byte }

func (s *byteSource) next(n int) int {
	if len(s.data) == 0 {
		return 0
	}
	b := s.data[0]
	s.data = s.data[1:]
	return int(b) % n
}

// decodeElements turns arbitrary bytes into three versions of one small
// element, from alphabets small enough that the sides often touch the
// same keys, positions and nodes.
func decodeElements(data []byte) (base, current, pending *osmdata.Element) {
	src := &byteSource{data}
	typ := osmdata.ElementTypes[src.next(3)]
	versions := [3]*osmdata.Element{}
	for s := range versions {
		e := osmdata.Element{Type: typ, Visible: src.next(8) != 0}
		keys := []string{"a", "b", "c", "d", "name"}
		values := []string{"", "x", "y", "z"}
		for _, k := range keys {
			if src.next(2) == 1 {
				e.Tags = append(e.Tags, osmdata.Tag{Key: k, Value: values[src.next(len(values))]})
			}
		}
		// Shuffle the tag order a little: order is no edit, and the merge
		// must not depend on it.
		if len(e.Tags) > 1 && src.next(2) == 1 {
			e.Tags[0], e.Tags[len(e.Tags)-1] = e.Tags[len(e.Tags)-1], e.Tags[0]
		}
		switch typ {
		case osmdata.Node:
			e.Lat, e.Lon = int32(src.next(3))*10_000_000-10_000_000, int32(src.next(3))
		case osmdata.Way:
			for range src.next(9) {
				e.Nodes = append(e.Nodes, int64(1+src.next(6)))
			}
		case osmdata.Relation:
			roles := []string{"", "outer", "inner"}
			for range src.next(7) {
				e.Members = append(e.Members, osmdata.Member{
					Type: osmdata.ElementTypes[src.next(3)], Ref: int64(1 + src.next(3)), Role: roles[src.next(3)],
				})
			}
		}
		versions[s] = stamp(e, side(s))
	}
	return versions[0], versions[1], versions[2]
}
