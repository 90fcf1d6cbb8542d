package changes

import (
	"fmt"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata/osmproto"
)

// ToProto gives the merge as one whole message (part 1 of 1); Split cuts
// it for transports with a size limit.
func ToProto(m Merge) *geocommunsv1.MergedChange {
	p := &geocommunsv1.MergedChange{
		MergeSeq:  m.Seq,
		Changeset: m.Changeset,
		MergedAt:  osmproto.TimeToProto(m.MergedAt),
		Elements:  make([]*geocommunsv1.ElementChange, len(m.Elements)),
		Part:      1,
		Parts:     1,
	}
	for i := range m.Elements {
		c := &m.Elements[i]
		pc := &geocommunsv1.ElementChange{New: osmproto.ElementToProto(&c.New)}
		if c.Old != nil {
			pc.Old = osmproto.ElementToProto(c.Old)
		}
		p.Elements[i] = pc
	}
	return p
}

// FromProto reads a message back; of a part it gives that part's
// elements only (Join puts parts together first). A deleted node comes
// back without its position, which the message does not carry.
func FromProto(p *geocommunsv1.MergedChange) (Merge, error) {
	m := Merge{
		Seq:       p.GetMergeSeq(),
		Changeset: p.GetChangeset(),
		MergedAt:  osmproto.TimeFromProto(p.GetMergedAt()),
		Elements:  make([]ElementChange, len(p.GetElements())),
	}
	for i, pc := range p.GetElements() {
		if pc.GetNew() == nil {
			return Merge{}, fmt.Errorf("merge %d: element change %d has no new version", m.Seq, i+1)
		}
		n, err := osmproto.ElementFromProto(pc.GetNew())
		if err != nil {
			return Merge{}, fmt.Errorf("merge %d: %w", m.Seq, err)
		}
		m.Elements[i].New = n
		if pc.GetOld() != nil {
			o, err := osmproto.ElementFromProto(pc.GetOld())
			if err != nil {
				return Merge{}, fmt.Errorf("merge %d: %w", m.Seq, err)
			}
			m.Elements[i].Old = &o
		}
	}
	return m, nil
}
