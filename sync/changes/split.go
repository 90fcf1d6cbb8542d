package changes

import (
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
)

// elementsField is MergedChange.elements' field number.
const elementsField = 4

// Split cuts m into parts of at most maxBytes encoded bytes each (a NATS
// connection's max_payload), numbered 1..n, keeping every element once
// and in order: a transport with a size limit must never drop part of a
// merge. A single element larger than maxBytes (no real element is: a
// way has at most 2,000 nodes) gets a part of its own, over the limit,
// rather than being lost. The parts share m's element messages; m is
// left as it was.
func Split(m *geocommunsv1.MergedChange, maxBytes int) []*geocommunsv1.MergedChange {
	// The header is sized with the largest part numbers, so that
	// numbering the parts afterwards cannot push one over the limit.
	header := proto.Size(&geocommunsv1.MergedChange{
		MergeSeq: m.GetMergeSeq(), Changeset: m.GetChangeset(), MergedAt: m.GetMergedAt(),
		Part: math.MaxInt32, Parts: math.MaxInt32,
	})
	var groups [][]*geocommunsv1.ElementChange
	start, size := 0, header
	for i, ec := range m.GetElements() {
		n := protowire.SizeTag(elementsField) + protowire.SizeBytes(proto.Size(ec))
		if i > start && size+n > maxBytes {
			groups = append(groups, m.GetElements()[start:i:i])
			start, size = i, header
		}
		size += n
	}
	groups = append(groups, m.GetElements()[start:len(m.GetElements()):len(m.GetElements())])

	parts := make([]*geocommunsv1.MergedChange, len(groups))
	for i, g := range groups {
		parts[i] = &geocommunsv1.MergedChange{
			MergeSeq: m.GetMergeSeq(), Changeset: m.GetChangeset(), MergedAt: m.GetMergedAt(),
			Elements: g, Part: int32(i + 1), Parts: int32(len(groups)),
		}
	}
	return parts
}

// Join puts the parts of one merge back together, in any order given;
// it fails unless they are exactly parts 1..n of one merge_seq.
func Join(parts []*geocommunsv1.MergedChange) (*geocommunsv1.MergedChange, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("join: no parts")
	}
	sorted := slices.Clone(parts)
	slices.SortFunc(sorted, func(a, b *geocommunsv1.MergedChange) int { return int(a.GetPart()) - int(b.GetPart()) })
	first := sorted[0]
	n := 0
	for i, p := range sorted {
		if p.GetMergeSeq() != first.GetMergeSeq() {
			return nil, fmt.Errorf("join: parts of merges %d and %d", first.GetMergeSeq(), p.GetMergeSeq())
		}
		if p.GetParts() != int32(len(sorted)) || p.GetPart() != int32(i+1) {
			return nil, fmt.Errorf("join merge %d: have part %d of %d among %d parts", first.GetMergeSeq(), p.GetPart(), p.GetParts(), len(sorted))
		}
		n += len(p.GetElements())
	}
	whole := &geocommunsv1.MergedChange{
		MergeSeq: first.GetMergeSeq(), Changeset: first.GetChangeset(), MergedAt: first.GetMergedAt(),
		Elements: make([]*geocommunsv1.ElementChange, 0, n), Part: 1, Parts: 1,
	}
	for _, p := range sorted {
		whole.Elements = append(whole.Elements, p.GetElements()...)
	}
	return whole, nil
}
