package changes

import (
	"context"
	"fmt"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// VersionReader is the part of storage.ChangeFeed that Load needs, so
// that a caller holding only that (a read-only mirror, a test) can load.
type VersionReader interface {
	ElementVersions(ctx context.Context, keys []storage.VersionKey) ([]osmdata.Element, error)
}

// Load reads the content of every version the entries name in one bulk
// ElementVersions call, so that a feed replaying thousands of merges
// makes one round trip per batch, not one per element.
func Load(ctx context.Context, feed VersionReader, entries []storage.OutboxEntry) ([]Merge, error) {
	n := 0
	for _, e := range entries {
		n += 2 * len(e.Versions)
	}
	keys := make([]storage.VersionKey, 0, n)
	for _, e := range entries {
		for _, v := range e.Versions {
			if v.OldVersion > 0 {
				keys = append(keys, storage.VersionKey{Element: v.Element, Version: v.OldVersion})
			}
			keys = append(keys, storage.VersionKey{Element: v.Element, Version: v.NewVersion})
		}
	}
	if len(keys) == 0 {
		return mergesWithoutElements(entries), nil
	}
	els, err := feed.ElementVersions(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("load merges %d to %d: %w", entries[0].Seq, entries[len(entries)-1].Seq, err)
	}
	if len(els) != len(keys) {
		return nil, fmt.Errorf("load merges %d to %d: asked for %d versions, got %d", entries[0].Seq, entries[len(entries)-1].Seq, len(keys), len(els))
	}
	merges := make([]Merge, len(entries))
	i := 0
	for m, e := range entries {
		merges[m] = Merge{Seq: e.Seq, Changeset: e.Changeset, MergedAt: e.MergedAt, Elements: make([]ElementChange, len(e.Versions))}
		for j, v := range e.Versions {
			var c ElementChange
			if v.OldVersion > 0 {
				c.Old = &els[i]
				i++
			}
			c.New = els[i]
			i++
			if c.New.Key() != v.Element || c.New.Version != v.NewVersion {
				return nil, fmt.Errorf("load merge %d: asked for %s v%d, got %s v%d", e.Seq, v.Element, v.NewVersion, c.New.Key(), c.New.Version)
			}
			merges[m].Elements[j] = c
		}
	}
	return merges, nil
}

func mergesWithoutElements(entries []storage.OutboxEntry) []Merge {
	merges := make([]Merge, len(entries))
	for i, e := range entries {
		merges[i] = Merge{Seq: e.Seq, Changeset: e.Changeset, MergedAt: e.MergedAt}
	}
	return merges
}
