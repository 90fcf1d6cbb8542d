package storagetest

import (
	"context"
	"fmt"
	"slices"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// memReviewLog is storage.ReviewLog written plainly, guarded by
// memEditing.mu: every write that moves a review state appends its event
// under the same lock hold, as the backends write it in the same
// transaction.
type memReviewLog struct {
	events []osmdata.ReviewEvent
	// wake is closed by the next event.
	wake chan struct{}
}

// log appends events numbered after the last one; the caller holds
// memEditing.mu.
func (l *memReviewLog) log(events ...osmdata.ReviewEvent) []osmdata.ReviewEvent {
	now := memNow()
	for i := range events {
		events[i].Seq, events[i].Time, events[i].Actor = int64(len(l.events))+1, now, ""
		l.events = append(l.events, events[i])
	}
	if l.wake != nil {
		close(l.wake)
		l.wake = nil
	}
	return events
}

// actorNames fills in Actor as the backends' join with users does: the
// account's name, or the name an imported element gives the uid.
func (s *memStore) actorNames(events []osmdata.ReviewEvent) []osmdata.ReviewEvent {
	names := map[int64]string{}
	for i := range events {
		uid := events[i].ActorUID
		if uid == 0 {
			continue
		}
		name, ok := names[uid]
		if !ok {
			name = s.userName(uid)
			names[uid] = name
		}
		events[i].Actor = name
	}
	return events
}

func (s *memStore) userName(uid int64) string {
	if a, err := s.Account(context.Background(), uid); err == nil {
		return a.DisplayName
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, byID := range s.history {
		for _, h := range byID {
			for _, e := range h {
				if e.UID == uid {
					return e.User
				}
			}
		}
	}
	return ""
}

func (s *memStore) AddReviewEvent(ctx context.Context, ev osmdata.ReviewEvent) (osmdata.ReviewEvent, error) {
	if err := storage.CheckAddedKind(ev.Kind); err != nil {
		return osmdata.ReviewEvent{}, err
	}
	s.ed.mu.Lock()
	s.mu.RLock()
	c, ok := s.changesets[ev.Changeset]
	s.mu.RUnlock()
	if !ok {
		s.ed.mu.Unlock()
		return osmdata.ReviewEvent{}, fmt.Errorf("changeset %d: %w", ev.Changeset, storage.ErrNotFound)
	}
	ev.State = c.ReviewState
	written := s.ed.reviews.log(ev)
	s.ed.mu.Unlock()
	if storage.SubscribesActor(ev) {
		if err := s.SubscribeChangeset(ctx, ev.Changeset, ev.ActorUID); err != nil {
			return osmdata.ReviewEvent{}, err
		}
	}
	return s.actorNames(written)[0], nil
}

func (s *memStore) ReviewEvents(ctx context.Context, afterSeq int64, limit int) ([]osmdata.ReviewEvent, error) {
	s.ed.mu.Lock()
	var out []osmdata.ReviewEvent
	for _, ev := range s.ed.reviews.events {
		if ev.Seq > afterSeq && len(out) < limit {
			out = append(out, ev)
		}
	}
	s.ed.mu.Unlock()
	return s.actorNames(out), nil
}

func (s *memStore) ChangesetReviewEvents(ctx context.Context, changeset int64) ([]osmdata.ReviewEvent, error) {
	s.ed.mu.Lock()
	var out []osmdata.ReviewEvent
	for _, ev := range s.ed.reviews.events {
		if ev.Changeset == changeset {
			out = append(out, ev)
		}
	}
	s.ed.mu.Unlock()
	return s.actorNames(slices.Clip(out)), nil
}

// WaitReviewEvent waits on the channel the next event closes, taken
// under the lock together with the last seq, so no event slips in
// between.
func (s *memStore) WaitReviewEvent(ctx context.Context, afterSeq int64) (int64, error) {
	for {
		s.ed.mu.Lock()
		seq := int64(len(s.ed.reviews.events))
		if s.ed.reviews.wake == nil {
			s.ed.reviews.wake = make(chan struct{})
		}
		wake := s.ed.reviews.wake
		s.ed.mu.Unlock()
		if seq > afterSeq {
			return seq, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-wake:
		}
	}
}
