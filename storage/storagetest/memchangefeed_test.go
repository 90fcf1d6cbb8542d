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
		out = append(out, clone(e))
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
