package review

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// RevertSkip is an element a revert leaves as it is, and why: a later
// edit by someone else conflicts with undoing it, or depends on what it
// made (a way now using a node the reverted changeset created).
type RevertSkip struct {
	Element osmdata.Key
	// By is the later changeset that keeps it, 0 when not one changeset.
	By     int64
	Reason string
}

// Revert is the outcome of RevertChangeset.
type Revert struct {
	// Changeset is the revert: a new changeset owned by the caller,
	// submitted for review like any other (its author cannot approve it).
	Changeset osmdata.Changeset
	// Reverted are the elements the revert changes, in element order.
	Reverted []osmdata.Key
	// Skipped are the elements it leaves, with the reason.
	Skipped []RevertSkip
}

// RevertCreatedBy is the created_by tag of a revert's changeset.
const RevertCreatedBy = "geocommuns revert"

// RevertChangeset reverts merged changeset id for caller (any signed-in
// contributor): the inverse of each of its final versions against the
// current data (a create deleted, a modify restored to the version
// before, a delete undone), rebased over later edits by the three-way
// merge (review/rebase); what a later edit changed in conflict, or
// depends on, is skipped and reported, never overwritten. The revert is
// staged in a new changeset of the caller tagged comment=comment (a
// default naming id when empty) and submitted. ErrReviewState when id is
// not merged; ErrBadRequest when nothing is left to revert.
func (s *Service) RevertChangeset(ctx context.Context, caller Caller, id int64, comment string) (Revert, error) {
	var out Revert
	if caller.UID == 0 {
		return out, fmt.Errorf("a revert needs a signed-in contributor: %w", ErrForbidden)
	}
	cs, err := s.store.Changeset(ctx, id)
	if err != nil {
		return out, fmt.Errorf("changeset %d: %w", id, err)
	}
	if cs.ReviewState != osmdata.ReviewMerged {
		return out, fmt.Errorf("changeset %d is %s; only a merged changeset can be reverted: %w", id, cs.ReviewState, storage.ErrReviewState)
	}
	plan, err := planRevert(ctx, s.store, cs)
	if err != nil {
		return out, fmt.Errorf("revert of changeset %d: %w", id, err)
	}
	out.Reverted, out.Skipped = plan.active(), plan.skipped()
	if len(out.Reverted) == 0 {
		var why []string
		for i, sk := range out.Skipped {
			if i == 5 {
				why = append(why, fmt.Sprintf("and %d more", len(out.Skipped)-i))
				break
			}
			why = append(why, sk.Element.String()+": "+sk.Reason)
		}
		return out, fmt.Errorf("nothing of changeset %d is left to revert (%s): %w", id, strings.Join(why, "; "), ErrBadRequest)
	}
	if strings.TrimSpace(comment) == "" {
		comment = fmt.Sprintf("Revert changeset %d", id)
	}
	revert, err := s.store.CreateChangeset(ctx, storage.NewChangeset{UID: caller.UID, User: caller.Name,
		Tags: osmdata.Tags{{Key: "comment", Value: comment}, {Key: "created_by", Value: RevertCreatedBy}}})
	if err != nil {
		return out, fmt.Errorf("open the revert of changeset %d: %w", id, err)
	}
	if err := s.stageRevert(ctx, caller, revert.ID, plan); err != nil {
		return out, fmt.Errorf("stage the revert of changeset %d in changeset %d: %w", id, revert.ID, err)
	}
	if out.Changeset, err = s.store.CloseChangeset(ctx, revert.ID, caller.UID); err != nil {
		return out, fmt.Errorf("submit the revert of changeset %d (changeset %d): %w", id, revert.ID, err)
	}
	// The merge job decides on submissions at its next step; waking it
	// shows the revert to reviewers without waiting for its poll.
	s.kick()
	return out, nil
}

// stageRevert writes the plan's results as the pending changes of
// changeset revert, as an upload citing each element's current version
// would: provisional version current+1, based on current. An element
// that moves on before the revert merges is the merge job's to rebase or
// report, as for any changeset.
func (s *Service) stageRevert(ctx context.Context, caller Caller, revert int64, plan *revertPlan) error {
	now := time.Now().UTC().Truncate(time.Second)
	keys := plan.active()
	changes := make([]storage.PendingChange, 0, len(keys))
	var box boxGrower
	for _, k := range keys {
		it := plan.items[k]
		e := it.result
		e.Version = it.current.Version + 1
		e.Changeset, e.UID, e.User, e.Timestamp = revert, caller.UID, caller.Name, now
		action := storage.Modify
		if !e.Visible {
			// As an upload's delete: no content, a node at its last
			// position.
			action = storage.Delete
			e.Tags, e.Nodes, e.Members = nil, nil, nil
			e.Lat, e.Lon = it.current.Lat, it.current.Lon
		}
		changes = append(changes, storage.PendingChange{Changeset: revert, Author: caller.UID, Action: action,
			Element: e, BaseVersion: it.current.Version, UploadedAt: now})
		// OSM's box: a node's old and new positions, the nodes of a way
		// before and after.
		for _, v := range []*osmdata.Element{&it.current, &e} {
			if !v.Visible {
				continue
			}
			switch v.Type {
			case osmdata.Node:
				box.add(v.Lat, v.Lon)
			case osmdata.Way:
				for _, n := range v.Nodes {
					if node, ok := plan.state(osmdata.Key{Type: osmdata.Node, ID: n}); ok {
						box.add(node.Lat, node.Lon)
					}
				}
			}
		}
	}
	return s.store.Stage(ctx, revert, caller.UID, func(ctx context.Context, tx storage.StageTx) error {
		if err := tx.WritePending(ctx, changes); err != nil {
			return fmt.Errorf("write %d pending changes: %w", len(changes), err)
		}
		if _, err := tx.UpdateChangeset(ctx, len(changes), box.box, box.has); err != nil {
			return fmt.Errorf("update changeset %d: %w", revert, err)
		}
		return nil
	})
}

// boxGrower is a changeset's bounding box as points are added.
type boxGrower struct {
	box osmdata.Box
	has bool
}

func (g *boxGrower) add(lat, lon int32) {
	if !g.has {
		g.box, g.has = osmdata.Box{MinLat: lat, MinLon: lon, MaxLat: lat, MaxLon: lon}, true
		return
	}
	g.box.MinLat, g.box.MaxLat = min(g.box.MinLat, lat), max(g.box.MaxLat, lat)
	g.box.MinLon, g.box.MaxLon = min(g.box.MinLon, lon), max(g.box.MaxLon, lon)
}
