package storage

import (
	"fmt"

	"github.com/geocommuns/geocommuns/osmdata"
)

// RebasedRows is the check and the new content of every store's
// RebasePending: given the changeset's pending rows of the changes'
// elements as they are now (read, in any order), it returns the rows to
// write instead, in the order of changes, or ErrRebaseStale when a row is
// missing or no longer rests on the base and upload the caller read. A
// new row keeps what the upload gave (action, provisional version, seq,
// upload time, author and name) and takes the rebased content, with the
// current version as its base.
func RebasedRows(read []PendingChange, changes []RebasedChange) ([]PendingChange, error) {
	byKey := make(map[osmdata.Key]PendingChange, len(read))
	for _, p := range read {
		byKey[p.Element.Key()] = p
	}
	seen := make(map[osmdata.Key]bool, len(changes))
	out := make([]PendingChange, 0, len(changes))
	for _, c := range changes {
		k := c.Element.Key()
		if seen[k] {
			return nil, fmt.Errorf("%s is rebased twice in one call", k)
		}
		seen[k] = true
		p, ok := byKey[k]
		switch {
		case !ok:
			return nil, fmt.Errorf("%s is not pending in the changeset: %w", k, ErrRebaseStale)
		case p.BaseVersion != c.FromBaseVersion || p.BaseChangeset != c.FromBaseChangeset:
			return nil, fmt.Errorf("%s rests on version %d of changeset %d, not %d of %d: %w",
				k, p.BaseVersion, p.BaseChangeset, c.FromBaseVersion, c.FromBaseChangeset, ErrRebaseStale)
		case p.Seq != c.FromSeq:
			return nil, fmt.Errorf("%s was uploaded again (seq %d, read at %d): %w", k, p.Seq, c.FromSeq, ErrRebaseStale)
		}
		e := p.Element
		e.Visible, e.Lat, e.Lon = c.Element.Visible, c.Element.Lat, c.Element.Lon
		e.Tags, e.Nodes, e.Members = c.Element.Tags, c.Element.Nodes, c.Element.Members
		p.Element = e
		p.BaseVersion, p.BaseChangeset = c.ToBaseVersion, 0
		out = append(out, p)
	}
	return out, nil
}
