package storage

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
)

// VersionKey names one version of one element.
type VersionKey struct {
	Element osmdata.Key
	Version int
}

func (k VersionKey) String() string { return fmt.Sprintf("%s v%d", k.Element, k.Version) }

// ChangeFeed is what the change feeds (package sync/...) read of the
// dataset besides the outbox: the versions a merge wrote and replaced,
// and a wake-up when a merge commits in any process.
type ChangeFeed interface {
	// ElementVersions returns the given versions with their full content
	// (metadata, tags, way nodes, relation members), in the order given,
	// in one bulk read per element type. A version the dataset does not
	// have is an error wrapping ErrNotFound.
	ElementVersions(ctx context.Context, keys []VersionKey) ([]osmdata.Element, error)
	// WaitMerge returns the latest merge_seq as soon as it is greater
	// than afterSeq, blocking until a merge commits (in this process or,
	// on PostgreSQL, any other: the merge transaction notifies) or ctx
	// ends. A missed notification delays it by at most a short fallback
	// poll, never forever.
	WaitMerge(ctx context.Context, afterSeq int64) (int64, error)
}

// VersionsByType splits keys by element type, in the order given, for a
// backend's one bulk read per type.
func VersionsByType(keys []VersionKey) map[osmdata.ElementType][]VersionKey {
	out := map[osmdata.ElementType][]VersionKey{}
	for _, k := range keys {
		out[k.Element.Type] = append(out[k.Element.Type], k)
	}
	return out
}

// InKeyOrder puts the versions a backend found (in any order) in the
// order of keys, a key given twice getting its version twice. A key
// nothing was found for is an error wrapping ErrNotFound.
func InKeyOrder(keys []VersionKey, found []osmdata.Element) ([]osmdata.Element, error) {
	byKey := make(map[VersionKey]int, len(found))
	for i := range found {
		byKey[VersionKey{Element: found[i].Key(), Version: found[i].Version}] = i
	}
	out := make([]osmdata.Element, len(keys))
	for i, k := range keys {
		j, ok := byKey[k]
		if !ok {
			return nil, fmt.Errorf("%s: %w", k, ErrNotFound)
		}
		out[i] = found[j]
	}
	return out, nil
}

// MergeSignal wakes one store's WaitMerge calls when a merge commits:
// the backend calls Notify after its merge commits (or when its
// notification channel says another process's did). The zero value is
// ready to use.
type MergeSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

// Notify wakes every WaitMerge waiting now.
func (s *MergeSignal) Notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// next is closed by the next Notify.
func (s *MergeSignal) next() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// WaitMerge implements ChangeFeed.WaitMerge on lastSeq (the backend's
// LastMergeSeq): it reads the counter, and while that is not past
// afterSeq, waits for Notify or poll, whichever comes first. The poll
// bounds the delay of a wake-up that never comes: a merge by another
// process that sent none, a notification lost while reconnecting.
func (s *MergeSignal) WaitMerge(ctx context.Context, afterSeq int64, poll time.Duration,
	lastSeq func(context.Context) (int64, error)) (int64, error) {
	seq, err := s.WaitPast(ctx, afterSeq, poll, lastSeq)
	if err != nil && ctx.Err() == nil {
		return 0, fmt.Errorf("wait for a merge after %d: %w", afterSeq, err)
	}
	return seq, err
}

// WaitPast is WaitMerge for any gapless counter a signal is notified of
// (the review log's too), leaving the error's context to the caller.
func (s *MergeSignal) WaitPast(ctx context.Context, afterSeq int64, poll time.Duration,
	lastSeq func(context.Context) (int64, error)) (int64, error) {
	timer := time.NewTimer(poll)
	defer timer.Stop()
	for {
		// Taken before the read: a merge committing after the read
		// closes this channel, so its wake-up cannot fall in between.
		wake := s.next()
		seq, err := lastSeq(ctx)
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if err != nil {
			return 0, err
		}
		if seq > afterSeq {
			return seq, nil
		}
		timer.Reset(poll)
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-wake:
		case <-timer.C:
		}
	}
}
