package storagetest

import (
	"context"
	"fmt"
	"slices"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// The rebase side of memStore (storage.Rebaser); MergeWith is in
// memmerge_test.go, beside the merge it refines.
var _ storage.Rebaser = (*memStore)(nil)

// mergeable reads changeset id and checks that it is submitted or
// approved. The caller holds both locks.
func (s *memStore) mergeable(id int64) error {
	c, ok := s.changesets[id]
	if !ok {
		return fmt.Errorf("changeset %d: %w", id, storage.ErrNotFound)
	}
	if c.ReviewState != osmdata.ReviewSubmitted && c.ReviewState != osmdata.ReviewApproved {
		return fmt.Errorf("changeset %d is %q: %w", id, c.ReviewState, storage.ErrNotMergeable)
	}
	return nil
}

func (s *memStore) RebasePending(ctx context.Context, id int64, changes []storage.RebasedChange) error {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.ed.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.mergeable(id); err != nil {
		return fmt.Errorf("rebase changeset %d: %w", id, err)
	}
	var read []storage.PendingChange
	for _, c := range changes {
		if p, ok := s.ed.pending[memPendingKey{id, c.Element.Key()}]; ok {
			read = append(read, p)
		}
	}
	rows, err := storage.RebasedRows(read, changes)
	if err != nil {
		return fmt.Errorf("rebase changeset %d: %w", id, err)
	}
	for _, p := range rows {
		s.ed.pending[memPendingKey{id, p.Element.Key()}] = clonePending(p)
	}
	return nil
}

func (s *memStore) RecordConflicts(ctx context.Context, id int64, report []storage.MergeConflict) error {
	if len(report) == 0 {
		return fmt.Errorf("record the conflicts of changeset %d: a conflicted changeset needs a report", id)
	}
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.ed.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.mergeable(id); err != nil {
		return fmt.Errorf("record the conflicts of changeset %d: %w", id, err)
	}
	s.recordConflicts(id, report)
	return nil
}

// cloneConflicts copies a report down to its contents, as a store that
// encodes it would.
func cloneConflicts(report []storage.MergeConflict) []storage.MergeConflict {
	out := slices.Clone(report)
	for i := range out {
		c := &out[i]
		c.Fields = slices.Clone(c.Fields)
		for _, e := range []**osmdata.Element{&c.Base, &c.Current, &c.Pending} {
			if *e != nil {
				copied := clone(**e)
				*e = &copied
			}
		}
	}
	return out
}
