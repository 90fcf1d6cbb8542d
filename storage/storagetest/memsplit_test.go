package storagetest

import (
	"context"
	"fmt"
	"slices"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.Splitter = (*memStore)(nil)

// ApprovePart is storage.Splitter written plainly: under the editing
// lock, every check comes before the first write, so a refusal changes
// nothing without a transaction to roll back.
func (s *memStore) ApprovePart(ctx context.Context, d storage.Decision, leave []osmdata.Key) (approved, returned osmdata.Changeset, err error) {
	if d.Kind != osmdata.EventApproved {
		return approved, returned, fmt.Errorf("approve part of changeset %d: a %q is not an approval", d.Changeset, d.Kind)
	}
	c, unlock, err := s.lockReviews(d.Changeset)
	if err != nil {
		return approved, returned, err
	}
	defer unlock()
	if err := storage.CheckReviewable(c, s.validated(d.Changeset), d.Reviewer); err != nil {
		return approved, returned, err
	}
	moving := map[osmdata.Key]bool{}
	for _, k := range leave {
		moving[k] = true
	}
	total, found := 0, 0
	for k := range s.ed.pending {
		if k.changeset == d.Changeset {
			total++
			if moving[k.key] {
				found++
			}
		}
	}
	switch {
	case len(moving) == 0:
		return approved, returned, fmt.Errorf("changeset %d: nothing left out: %w", d.Changeset, storage.ErrInvalidSplit)
	case found < len(moving):
		return approved, returned, fmt.Errorf("changeset %d: %d elements left out are not its own: %w", d.Changeset, len(moving)-found, storage.ErrInvalidSplit)
	case found == total:
		return approved, returned, fmt.Errorf("changeset %d: all its elements left out: %w", d.Changeset, storage.ErrInvalidSplit)
	}
	approved, approval, err := s.decideLocked(c, d)
	if err != nil {
		return osmdata.Changeset{}, osmdata.Changeset{}, err
	}

	s.mu.Lock()
	now := memNow()
	split := osmdata.Changeset{ID: s.next.Changeset, UID: c.UID, User: c.User, CreatedAt: now, Open: true,
		Tags: slices.Clone(c.Tags), NumChanges: found, Box: c.Box, HasBox: c.HasBox}
	s.next.Changeset++
	s.ed.openedAt[split.ID] = now
	s.applyReviewState(&split, osmdata.ReviewChangesRequested)
	s.changesets[split.ID] = split
	raw := s.changesets[d.Changeset]
	raw.NumChanges = max(raw.NumChanges-found, total-found)
	s.changesets[d.Changeset] = raw
	s.mu.Unlock()
	approved.NumChanges = raw.NumChanges

	s.ed.parents[split.ID] = append([]int64{d.Changeset}, s.ed.parents[d.Changeset]...)
	slices.Sort(s.ed.parents[split.ID])
	for k, p := range s.ed.pending {
		if k.changeset == d.Changeset && moving[k.key] {
			delete(s.ed.pending, k)
			p.Changeset, p.Element.Changeset = split.ID, split.ID
			s.ed.pending[memPendingKey{split.ID, k.key}] = p
		}
	}
	for v, seq := range s.ed.versions {
		if v.cs == d.Changeset && moving[v.key] {
			delete(s.ed.versions, v)
			v.cs = split.ID
			s.ed.versions[v] = seq
		}
	}
	s.ed.reviews.log(
		osmdata.ReviewEvent{Changeset: d.Changeset, Kind: osmdata.EventSplit, ActorUID: d.Reviewer, State: osmdata.ReviewSubmitted,
			Comment: fmt.Sprintf("the changes left out of the approval moved to changeset %d", split.ID)},
		osmdata.ReviewEvent{Changeset: split.ID, Kind: osmdata.EventSplit, ActorUID: d.Reviewer,
			Comment: fmt.Sprintf("the changes left out of the approval of changeset %d", d.Changeset)},
		osmdata.ReviewEvent{Changeset: split.ID, Kind: osmdata.EventChangesRequested, ActorUID: d.Reviewer, Comment: d.Comment,
			State: osmdata.ReviewChangesRequested},
		approval)
	return approved, s.view(split), nil
}
