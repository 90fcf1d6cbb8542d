package changes

import (
	"fmt"
	"io"

	"github.com/geocommuns/geocommuns/osmdata"
)

// WriteOsmChange writes the merges as one osmChange document, as
// planet's replication diffs are: the new version of every element with
// its full metadata, in create, modify and delete blocks, merges in the
// order given and elements in each merge's order, so that a consumer
// applying the file meets every element's versions in ascending order.
// Timestamps are whole seconds (the merge time; libosmium refuses
// fractions).
func WriteOsmChange(w io.Writer, h osmdata.DocumentHeader, merges ...Merge) error {
	cw := osmdata.NewChangeWriter(w, h)
	for _, m := range merges {
		for i := range m.Elements {
			c := &m.Elements[i]
			if err := cw.WriteChange(c.Action(), &c.New); err != nil {
				return fmt.Errorf("osmChange of merge %d: %w", m.Seq, err)
			}
		}
	}
	if err := cw.Close(); err != nil {
		return fmt.Errorf("osmChange: %w", err)
	}
	return nil
}
