package reviewapi

import (
	"time"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmproto"
	"github.com/geocommuns/geocommuns/storage"
)

// reviewStateFromProto refuses UNSPECIFIED: a changeset never submitted
// is in no state of the queue.
func reviewStateFromProto(p geocommunsv1.ReviewState) (osmdata.ReviewState, bool) {
	s, ok := osmproto.ReviewStateFromProto(p)
	return s, ok && s != osmdata.ReviewNone
}

// changesetToProto answers with the changeset as it is at the time of
// the reply, as the changeset service does.
func changesetToProto(c *osmdata.Changeset) *geocommunsv1.Changeset {
	return osmproto.ChangesetToProto(c, time.Now())
}

func scopesToProto(scopes []storage.ScopeApproval) []*geocommunsv1.ScopeApproval {
	out := make([]*geocommunsv1.ScopeApproval, len(scopes))
	for i, s := range scopes {
		out[i] = &geocommunsv1.ScopeApproval{Scope: s.Scope, ApprovedBy: s.ApprovedBy}
	}
	return out
}

func actionToProto(a storage.Action) geocommunsv1.Action {
	switch a {
	case storage.Create:
		return geocommunsv1.Action_ACTION_CREATE
	case storage.Modify:
		return geocommunsv1.Action_ACTION_MODIFY
	case storage.Delete:
		return geocommunsv1.Action_ACTION_DELETE
	}
	return geocommunsv1.Action_ACTION_UNSPECIFIED
}

// elementToProto gives nil for an absent version (no base, no current).
func elementToProto(e *osmdata.Element) *geocommunsv1.Element {
	if e == nil {
		return nil
	}
	return osmproto.ElementToProto(e)
}

// validBox is a box within the world with its edges in order.
func validBox(b osmdata.Box) bool {
	const maxLat, maxLon = 90 * osmdata.CoordScale, 180 * osmdata.CoordScale
	return b.MinLat >= -maxLat && b.MaxLat <= maxLat && b.MinLon >= -maxLon && b.MaxLon <= maxLon &&
		b.MinLat <= b.MaxLat && b.MinLon <= b.MaxLon
}

// conflictsToProto converts a conflicted changeset's report, line by
// line; nil when there is none.
func conflictsToProto(report []storage.MergeConflict) []*geocommunsv1.MergeConflict {
	if len(report) == 0 {
		return nil
	}
	out := make([]*geocommunsv1.MergeConflict, len(report))
	for i := range report {
		c := &report[i]
		pc := &geocommunsv1.MergeConflict{
			Element:         osmproto.KeyToProto(c.Element),
			Kind:            string(c.Kind),
			BaseVersion:     int64(c.BaseVersion),
			CurrentVersion:  int64(c.CurrentVersion),
			ParentChangeset: c.Parent,
			Message:         c.Message,
			Base:            elementToProto(c.Base),
			Current:         elementToProto(c.Current),
			Pending:         elementToProto(c.Pending),
		}
		for _, f := range c.Fields {
			pc.Fields = append(pc.Fields, &geocommunsv1.ConflictField{
				Kind: f.Kind, Key: f.Key, Base: f.Base, Current: f.Current, Pending: f.Pending,
				AbsentInBase: f.AbsentInBase, AbsentInCurrent: f.AbsentInCurrent, AbsentInPending: f.AbsentInPending,
			})
		}
		out[i] = pc
	}
	return out
}
