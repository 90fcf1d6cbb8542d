package storagetest

import (
	"context"
	"fmt"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

func (s *memStore) ElementVersions(ctx context.Context, keys []storage.VersionKey) ([]osmdata.Element, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]osmdata.Element, 0, len(keys))
	for _, k := range keys {
		e, ok := s.version(k)
		if !ok {
			return nil, fmt.Errorf("element versions: %s: %w", k, storage.ErrNotFound)
		}
		e = clone(e)
		if s.redacted(e) {
			storage.Withhold(&e)
		}
		out = append(out, e)
	}
	return out, nil
}

func (s *memStore) version(k storage.VersionKey) (osmdata.Element, bool) {
	for _, e := range s.history[k.Element.Type][k.Element.ID] {
		if e.Version == k.Version {
			return e, true
		}
	}
	return osmdata.Element{}, false
}

// WaitMerge waits on the channel the next merge closes, read under the
// merge lock together with lastSeq, so no merge slips in between.
func (s *memStore) WaitMerge(ctx context.Context, afterSeq int64) (int64, error) {
	for {
		s.ed.mu.Lock()
		seq := s.ed.merging.lastSeq
		if s.ed.merging.merged == nil {
			s.ed.merging.merged = make(chan struct{})
		}
		merged := s.ed.merging.merged
		s.ed.mu.Unlock()
		if seq > afterSeq {
			return seq, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-merged:
		}
	}
}

// wakeWaiters wakes every WaitMerge; the caller holds the merge lock.
func (m *memMerging) wakeWaiters() {
	if m.merged != nil {
		close(m.merged)
		m.merged = nil
	}
}
