package storagetest

import (
	"context"
	"slices"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// MergedVersions is PendingVersion restricted to merged changesets, per
// cited version; the final version is the one the changeset wrote in the
// element's history.
func (r *memPending) MergedVersions(ctx context.Context, cited []storage.CitedVersion) ([]storage.MergedProvisional, error) {
	rows, versions := r.snapshot()
	var out []storage.MergedProvisional
	for _, c := range cited {
		best, bestSeq := int64(0), int64(-1)
		for v, seq := range versions {
			if v.author == r.author && v.key == c.Element && v.version == c.Version && seq > bestSeq &&
				r.reviewState(v.cs) == osmdata.ReviewMerged {
				best, bestSeq = v.cs, seq
			}
		}
		if bestSeq < 0 || slices.ContainsFunc(out, func(m storage.MergedProvisional) bool { return m.Cited == c }) {
			continue
		}
		m := storage.MergedProvisional{Cited: c, Changeset: best, Version: rows[memPendingKey{best, c.Element}].Element.Version}
		r.s.mu.RLock()
		for _, e := range r.s.history[c.Element.Type][c.Element.ID] {
			if e.Changeset == best {
				m.FinalVersion = e.Version
			}
		}
		r.s.mu.RUnlock()
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b storage.MergedProvisional) int {
		switch {
		case a.Cited.Element != b.Cited.Element && a.Cited.Element.Less(b.Cited.Element):
			return -1
		case a.Cited.Element != b.Cited.Element:
			return 1
		}
		return a.Cited.Version - b.Cited.Version
	})
	return out, nil
}
