package osmproto

import (
	"fmt"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
)

// ElementToProto converts one version. A deleted node's position is left
// out, as the OSM API leaves it out: it is not part of the version.
func ElementToProto(e *osmdata.Element) *geocommunsv1.Element {
	p := &geocommunsv1.Element{
		Type:      TypeToProto(e.Type),
		Id:        e.ID,
		Version:   int64(e.Version),
		Visible:   e.Visible,
		Changeset: e.Changeset,
		Timestamp: TimeToProto(e.Timestamp),
		Uid:       e.UID,
		User:      e.User,
		Tags:      TagsToProto(e.Tags),
		Redacted:  e.Redacted,
	}
	switch e.Type {
	case osmdata.Node:
		if e.Visible && !e.Redacted {
			lat, lon := e.Lat, e.Lon
			p.LatE7, p.LonE7 = &lat, &lon
		}
	case osmdata.Way:
		p.Nodes = e.Nodes
	case osmdata.Relation:
		p.Members = MembersToProto(e.Members)
	}
	return p
}

// ElementsToProto converts versions in order.
func ElementsToProto(els []osmdata.Element) []*geocommunsv1.Element {
	out := make([]*geocommunsv1.Element, len(els))
	for i := range els {
		out[i] = ElementToProto(&els[i])
	}
	return out
}

// MembersToProto keeps the members' order; no members give nil.
func MembersToProto(members []osmdata.Member) []*geocommunsv1.Member {
	if len(members) == 0 {
		return nil
	}
	out := make([]*geocommunsv1.Member, len(members))
	for i, m := range members {
		out[i] = &geocommunsv1.Member{Type: TypeToProto(m.Type), Ref: m.Ref, Role: m.Role}
	}
	return out
}

// ElementFromProto converts one version back. Fields that do not belong
// to the element's type (a node's members, a way's position) are
// ignored, as ElementToProto never writes them; an unknown element or
// member type is an error.
func ElementFromProto(p *geocommunsv1.Element) (osmdata.Element, error) {
	t, ok := TypeFromProto(p.GetType())
	if !ok {
		return osmdata.Element{}, fmt.Errorf("element %d: unknown element type %v", p.GetId(), p.GetType())
	}
	e := osmdata.Element{
		Type:      t,
		ID:        p.GetId(),
		Version:   int(p.GetVersion()),
		Visible:   p.GetVisible(),
		Changeset: p.GetChangeset(),
		Timestamp: TimeFromProto(p.GetTimestamp()),
		UID:       p.GetUid(),
		User:      p.GetUser(),
		Tags:      TagsFromProto(p.GetTags()),
		Redacted:  p.GetRedacted(),
	}
	switch t {
	case osmdata.Node:
		e.Lat, e.Lon = p.GetLatE7(), p.GetLonE7()
	case osmdata.Way:
		if len(p.GetNodes()) > 0 {
			e.Nodes = p.GetNodes()
		}
	case osmdata.Relation:
		if len(p.GetMembers()) > 0 {
			e.Members = make([]osmdata.Member, len(p.GetMembers()))
			for i, m := range p.GetMembers() {
				mt, ok := TypeFromProto(m.GetType())
				if !ok {
					return osmdata.Element{}, fmt.Errorf("relation %d: member %d: unknown element type %v", e.ID, i+1, m.GetType())
				}
				e.Members[i] = osmdata.Member{Type: mt, Ref: m.GetRef(), Role: m.GetRole()}
			}
		}
	}
	return e, nil
}
