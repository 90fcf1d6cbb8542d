package storagetest

import (
	"context"
	"slices"
	"strings"

	"github.com/geocommuns/geocommuns/osmdata"
)

// ReviewCommentCounts walks the whole log, as the discussion reads it.
func (s *memStore) ReviewCommentCounts(ctx context.Context, changesets []int64, kinds []osmdata.ReviewEventKind) (map[int64]int, error) {
	counts := make(map[int64]int)
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	for _, ev := range s.ed.reviews.events {
		if slices.Contains(changesets, ev.Changeset) && slices.Contains(kinds, ev.Kind) && strings.TrimSpace(ev.Comment) != "" {
			counts[ev.Changeset]++
		}
	}
	return counts, nil
}
