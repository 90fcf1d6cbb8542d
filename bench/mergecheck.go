package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// historySamples is how many elements of each merged changeset, at most,
// have their whole history read back.
const historySamples = 3

// checkMerges checks what the merges of merged (in that order, the first
// right after merge_seq seqBefore) left in the store: merge_seq advanced
// by exactly one per merge, one outbox row per merge equal to what Merge
// returned, every changeset merged with its count, and every element's
// current version is what was uploaded, numbered one above the version it
// was based on and timestamped with its merge time; a few elements per
// changeset have their history read back, gapless. It returns the final
// versions, nodes then ways then relations, each by id.
func checkMerges(ctx context.Context, store storage.Store, seqBefore int64, merged []mergedChangeset) ([]osmdata.Element, error) {
	last, err := store.LastMergeSeq(ctx)
	if err != nil {
		return nil, err
	}
	if want := seqBefore + int64(len(merged)); last != want {
		return nil, fmt.Errorf("merge_seq is %d after %d merges from %d, want %d", last, len(merged), seqBefore, want)
	}
	outbox, err := store.Outbox(ctx, seqBefore, len(merged)+1)
	if err != nil {
		return nil, err
	}
	if len(outbox) != len(merged) {
		return nil, fmt.Errorf("%d outbox rows after merge_seq %d, %d merges ran", len(outbox), seqBefore, len(merged))
	}
	var prevAt time.Time
	for i, m := range merged {
		row := outbox[i]
		if row.Seq != seqBefore+int64(i)+1 || row.Changeset != m.id {
			return nil, fmt.Errorf("outbox row %d is merge_seq %d of changeset %d, want merge_seq %d of changeset %d",
				i, row.Seq, row.Changeset, seqBefore+int64(i)+1, m.id)
		}
		if d := cmp.Diff(m.entry, row); d != "" {
			return nil, fmt.Errorf("outbox row %d differs from what Merge returned (-returned +stored):\n%s", row.Seq, d)
		}
		if row.MergedAt.Before(prevAt) || !row.MergedAt.Equal(row.MergedAt.Truncate(time.Second)) {
			return nil, fmt.Errorf("merge_seq %d merged at %s, after %s: merge times must be whole seconds following merge_seq",
				row.Seq, row.MergedAt, prevAt)
		}
		prevAt = row.MergedAt
		cs, err := store.Changeset(ctx, m.id)
		if err != nil {
			return nil, err
		}
		if cs.ReviewState != osmdata.ReviewMerged || cs.NumChanges != len(m.pending) {
			return nil, fmt.Errorf("changeset %d is %q with %d changes after its merge, want merged with %d",
				m.id, cs.ReviewState, cs.NumChanges, len(m.pending))
		}
	}

	finals, err := currentOfMerged(ctx, store, merged)
	if err != nil {
		return nil, err
	}
	for _, m := range merged {
		if err := checkFinalVersions(m, finals); err != nil {
			return nil, err
		}
		for i := range min(historySamples, len(m.pending)) {
			// Spread over the changeset: creates, modifies and deletes.
			p := m.pending[i*len(m.pending)/historySamples]
			if err := checkHistory(ctx, store, finals[p.Element.Key()], p.BaseVersion == 0); err != nil {
				return nil, err
			}
		}
	}
	if err := checkWaysOfNodes(ctx, store, merged, finals); err != nil {
		return nil, err
	}
	out := make([]osmdata.Element, 0, len(finals))
	for _, e := range finals {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b osmdata.Element) int {
		ka, kb := a.Key(), b.Key()
		switch {
		case ka == kb:
			return 0
		case ka.Less(kb):
			return -1
		}
		return 1
	})
	return out, nil
}

// reverseLookupSamples is how many merged ways, at most, of those kept
// and of those deleted, have the ways-of-node lookup checked.
const reverseLookupSamples = 100

// checkWaysOfNodes checks the lookup of the ways using a node, which the
// map call and the still-used check read from tables the merge keeps
// beside the versions: a merged way that stays visible is found through
// its nodes, a deleted one no longer through the nodes it had.
func checkWaysOfNodes(ctx context.Context, store storage.Store, merged []mergedChangeset, finals map[osmdata.Key]osmdata.Element) error {
	var kept, deleted []osmdata.Element
	var nodes []int64
	for _, m := range merged {
		for _, p := range m.pending {
			cur := finals[p.Element.Key()]
			switch {
			case cur.Type != osmdata.Way:
			case cur.Visible && len(kept) < reverseLookupSamples:
				kept = append(kept, cur)
				nodes = append(nodes, cur.Nodes...)
			case !cur.Visible && p.BaseVersion > 0 && len(deleted) < reverseLookupSamples:
				before, err := store.ElementVersion(ctx, osmdata.Way, cur.ID, cur.Version-1)
				if err != nil {
					return fmt.Errorf("the version before the merge of deleted way %d: %w", cur.ID, err)
				}
				deleted = append(deleted, cur)
				nodes = append(nodes, before.Nodes...)
			}
		}
	}
	if len(nodes) == 0 {
		return nil
	}
	ways, err := store.WaysUsingNodes(ctx, nodes)
	if err != nil {
		return err
	}
	found := map[int64]bool{}
	for _, w := range ways {
		found[w.ID] = true
	}
	for _, w := range kept {
		if !found[w.ID] {
			return fmt.Errorf("way %d, visible after its merge, is not among the ways using its nodes", w.ID)
		}
	}
	for _, w := range deleted {
		if found[w.ID] {
			return fmt.Errorf("way %d, deleted by its merge, is still among the ways using the nodes it had", w.ID)
		}
	}
	return nil
}

// currentOfMerged reads the current version of every element the merges
// touched, one bulk read per type.
func currentOfMerged(ctx context.Context, store storage.Store, merged []mergedChangeset) (map[osmdata.Key]osmdata.Element, error) {
	ids := map[osmdata.ElementType][]int64{}
	for _, m := range merged {
		for _, p := range m.pending {
			ids[p.Element.Type] = append(ids[p.Element.Type], p.Element.ID)
		}
	}
	out := map[osmdata.Key]osmdata.Element{}
	for _, t := range osmdata.ElementTypes {
		if len(ids[t]) == 0 {
			continue
		}
		els, err := store.CurrentElements(ctx, t, ids[t])
		if err != nil {
			return nil, err
		}
		for _, e := range els {
			out[e.Key()] = e
		}
	}
	return out, nil
}

// checkFinalVersions compares each element of one merged changeset with
// its pending change and its outbox line.
func checkFinalVersions(m mergedChangeset, finals map[osmdata.Key]osmdata.Element) error {
	if len(m.entry.Versions) != len(m.pending) {
		return fmt.Errorf("changeset %d: the merge wrote %d versions for %d pending changes", m.id, len(m.entry.Versions), len(m.pending))
	}
	step := make(map[osmdata.Key]storage.MergedVersion, len(m.entry.Versions))
	for _, v := range m.entry.Versions {
		step[v.Element] = v
	}
	for _, p := range m.pending {
		k := p.Element.Key()
		v, ok := step[k]
		if !ok {
			return fmt.Errorf("changeset %d: %s is pending but not in the merge's outbox row", m.id, k)
		}
		if p.BaseChangeset != 0 {
			return fmt.Errorf("changeset %d: %s builds on changeset %d; the scenario's changesets share no element", m.id, k, p.BaseChangeset)
		}
		if v.OldVersion != p.BaseVersion || v.NewVersion != v.OldVersion+1 {
			return fmt.Errorf("changeset %d: %s went from version %d to %d, based on %d: want one version above its base",
				m.id, k, v.OldVersion, v.NewVersion, p.BaseVersion)
		}
		cur, ok := finals[k]
		if !ok {
			return fmt.Errorf("changeset %d: %s has no current version after its merge", m.id, k)
		}
		want := p.Element
		want.Version, want.Timestamp, want.Changeset = v.NewVersion, m.entry.MergedAt, m.id
		want.UID, want.User = m.author.UserID, m.author.DisplayName
		if !want.Visible {
			// A delete keeps no content; a deleted node stays where it was.
			want.Tags, want.Nodes, want.Members = nil, nil, nil
			if want.Type == osmdata.Node {
				want.Lat, want.Lon = cur.Lat, cur.Lon
			}
		}
		if d := cmp.Diff(want, cur, cmpopts.EquateEmpty()); d != "" {
			return fmt.Errorf("changeset %d: the current %s is not what was uploaded, at merge time (-want +got):\n%s", m.id, k, d)
		}
	}
	return nil
}

// checkHistory checks that an element's versions run without a gap up to
// its current one, from 1 for an element the merges created (Andorra's
// extract holds only the latest version of its own elements).
func checkHistory(ctx context.Context, store storage.Store, cur osmdata.Element, created bool) error {
	hist, err := store.History(ctx, cur.Type, cur.ID)
	if err != nil {
		return fmt.Errorf("history of %s: %w", cur.Key(), err)
	}
	if created && hist[0].Version != 1 {
		return fmt.Errorf("history of %s, created by a merge, starts at version %d", cur.Key(), hist[0].Version)
	}
	for i, h := range hist {
		if h.Version != hist[0].Version+i {
			return fmt.Errorf("history of %s: versions %d … %d have a gap at position %d", cur.Key(), hist[0].Version, h.Version, i+1)
		}
	}
	if last := hist[len(hist)-1]; last.Version != cur.Version || !last.Timestamp.Equal(cur.Timestamp) {
		return fmt.Errorf("history of %s ends at version %d of %s, the current one is %d of %s", cur.Key(),
			last.Version, last.Timestamp, cur.Version, cur.Timestamp)
	}
	return nil
}
