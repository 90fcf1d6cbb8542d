package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// ErrAlreadySubscribed and ErrNotSubscribed refuse a subscription that
// would change nothing, as openstreetmap.org does (409 and 404).
var (
	ErrAlreadySubscribed = errors.New("already subscribed to the changeset")
	ErrNotSubscribed     = errors.New("not subscribed to the changeset")
)

// Subscribe subscribes the caller to changeset id's discussion, whose
// subscribers the review events notify.
func (s *Service) Subscribe(ctx context.Context, caller Caller, id int64) error {
	subscribed, err := s.subscribed(ctx, caller, id)
	if err != nil {
		return err
	}
	if subscribed {
		return fmt.Errorf("user %d, changeset %d: %w", caller.UID, id, ErrAlreadySubscribed)
	}
	if err := s.store.SubscribeChangeset(ctx, id, caller.UID); err != nil {
		return fmt.Errorf("subscribe user %d to changeset %d: %w", caller.UID, id, err)
	}
	return nil
}

// Unsubscribe ends the caller's subscription to changeset id.
func (s *Service) Unsubscribe(ctx context.Context, caller Caller, id int64) error {
	subscribed, err := s.subscribed(ctx, caller, id)
	if err != nil {
		return err
	}
	if !subscribed {
		return fmt.Errorf("user %d, changeset %d: %w", caller.UID, id, ErrNotSubscribed)
	}
	if err := s.store.UnsubscribeChangeset(ctx, id, caller.UID); err != nil {
		return fmt.Errorf("unsubscribe user %d from changeset %d: %w", caller.UID, id, err)
	}
	return nil
}

// subscribed checks the caller and the changeset (storage.ErrNotFound),
// then reads the subscription. The read and the write that follows are
// two statements: two simultaneous subscribes of one user both succeed,
// which leaves one subscription all the same.
func (s *Service) subscribed(ctx context.Context, caller Caller, id int64) (bool, error) {
	if caller.UID == 0 {
		return false, fmt.Errorf("subscriptions need a signed-in user: %w", ErrForbidden)
	}
	if _, err := s.store.Changeset(ctx, id); err != nil {
		return false, fmt.Errorf("changeset %d: %w", id, err)
	}
	uids, err := s.store.Subscribers(ctx, id)
	if err != nil {
		return false, fmt.Errorf("subscribers of changeset %d: %w", id, err)
	}
	return slices.Contains(uids, caller.UID), nil
}
