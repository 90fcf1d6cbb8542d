// Package changes turns outbox rows (storage.OutboxEntry: which versions
// a merge wrote) into the changes every feed sends: augmented diffs with
// the old and new content of each element, as protobuf (NATS, the
// Subscribe RPC) and as osmChange XML (OSM replication files, NATS's
// osmChange subjects). The feeds under sync/ share it, so that they
// cannot disagree on what a merge was.
package changes

import (
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
)

// Merge is one merge with the content of every element it wrote.
type Merge struct {
	Seq       int64
	Changeset int64
	MergedAt  time.Time
	Elements  []ElementChange
}

// ElementChange is one element's step in a merge.
type ElementChange struct {
	// Old is the version before the merge, nil for a created element.
	Old *osmdata.Element
	// New is the version the merge wrote (Visible false for a delete).
	New osmdata.Element
}

// Action is what the change is in osmChange terms: create when there was
// no old version, delete when the new one is not visible, else modify.
func (c ElementChange) Action() osmdata.Action {
	switch {
	case !c.New.Visible:
		return osmdata.ActionDelete
	case c.Old == nil:
		return osmdata.ActionCreate
	}
	return osmdata.ActionModify
}
