package storage

import (
	"context"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/geocommuns/geocommuns/osmdata"
)

// FinalVersion is what a merged pending change became: the provisional
// version its row holds and the final version the merge gave it.
type FinalVersion struct {
	Provisional, Final int
}

// MergeTx is what a backend gives PlanMerge under the merge lock: the
// authoritative dataset as the merge transaction sees it, and the final
// versions of merged changesets.
type MergeTx interface {
	Reader
	// FinalVersions returns the final version of each pending change of
	// a merged changeset.
	FinalVersions(ctx context.Context, changeset int64) (map[osmdata.Key]FinalVersion, error)
	// ChangesetParents returns the changesets a changeset builds on.
	ChangesetParents(ctx context.Context, id int64) ([]int64, error)
}

// MergePlan is what a merge writes: one final version per element, in
// element order, beside its version before (0 for a create), and the
// changeset's final box.
type MergePlan struct {
	Versions    []osmdata.Element
	OldVersions []int
	// Old is each element's current version before the merge (the zero
	// Element for a create), so that a backend can leave derived rows
	// alone where the merge keeps a way's nodes or a relation's members.
	Old    []osmdata.Element
	Box    osmdata.Box
	HasBox bool
}

// Entry is the plan's outbox record.
func (p MergePlan) Entry(seq, changeset int64, at time.Time) OutboxEntry {
	e := OutboxEntry{Seq: seq, Changeset: changeset, MergedAt: at, Versions: make([]MergedVersion, len(p.Versions))}
	for i := range p.Versions {
		e.Versions[i] = MergedVersion{Element: p.Versions[i].Key(), OldVersion: p.OldVersions[i], NewVersion: p.Versions[i].Version}
	}
	return e
}

// MergeReads is every read of the dataset PlanMerge makes, all known
// from the changeset's pending changes alone, so that a backend can
// answer them together (MergeBatchReader).
type MergeReads struct {
	// Changeset is the changeset merged, whose parents are read.
	Changeset int64
	// Changed are the elements the changeset changes: their current
	// versions, visible or deleted, are what the merge rests on.
	Changed map[osmdata.ElementType][]int64
	// Referenced are the elements the changeset's visible ways and
	// relations refer to without changing them: whether their current
	// versions are visible, and where the nodes are.
	Referenced map[osmdata.ElementType][]int64
	// Deleted are the elements the changeset deletes: the current visible
	// ways (of nodes) and relations that still use them are read.
	Deleted map[osmdata.ElementType][]int64
}

// MergeReadResults answers MergeReads.
type MergeReadResults struct {
	// Parents are the changesets the changeset builds on.
	Parents []int64
	// Changed holds the current version of each changed element the
	// dataset has, in full.
	Changed map[osmdata.Key]osmdata.Element
	// Referenced holds what PlanMerge needs of the current version of
	// each referenced element the dataset has.
	Referenced map[osmdata.Key]ReferencedElement
	// WaysUsingDeletedNodes are the current visible ways using any
	// deleted node, and RelationsUsingDeleted, per member type, the
	// current visible relations with any deleted member of that type;
	// Type, ID, Nodes and the members' Type and Ref are all PlanMerge
	// reads of them.
	WaysUsingDeletedNodes []osmdata.Element
	RelationsUsingDeleted map[osmdata.ElementType][]osmdata.Element
}

// ReferencedElement is an element a change refers to: whether it is
// visible, and where a node is (for the changeset's box).
type ReferencedElement struct {
	Visible  bool
	Lat, Lon int32
}

// MergeBatchReader is a MergeTx that answers all of PlanMerge's reads at
// once (one round trip on PostgreSQL), instead of one call each.
type MergeBatchReader interface {
	ReadForMerge(ctx context.Context, reads MergeReads) (MergeReadResults, error)
}

// mergeReadsOf lists what PlanMerge reads for changes.
func mergeReadsOf(id int64, changes []PendingChange, inChangeset map[osmdata.Key]*PendingChange) MergeReads {
	r := MergeReads{Changeset: id, Changed: map[osmdata.ElementType][]int64{},
		Referenced: map[osmdata.ElementType][]int64{}, Deleted: map[osmdata.ElementType][]int64{}}
	seen := map[osmdata.Key]bool{}
	refer := func(ref osmdata.Key) {
		if _, ok := inChangeset[ref]; !ok && !seen[ref] {
			seen[ref] = true
			r.Referenced[ref.Type] = append(r.Referenced[ref.Type], ref.ID)
		}
	}
	for i := range changes {
		e := &changes[i].Element
		r.Changed[e.Type] = append(r.Changed[e.Type], e.ID)
		if !e.Visible {
			r.Deleted[e.Type] = append(r.Deleted[e.Type], e.ID)
			continue
		}
		for _, n := range e.Nodes {
			refer(osmdata.Key{Type: osmdata.Node, ID: n})
		}
		for _, m := range e.Members {
			refer(osmdata.Key{Type: m.Type, ID: m.Ref})
		}
	}
	return r
}

// readForMerge answers reads in one call when tx can, otherwise through
// MergeTx's methods, one bulk read each.
func readForMerge(ctx context.Context, tx MergeTx, reads MergeReads) (MergeReadResults, error) {
	if b, ok := tx.(MergeBatchReader); ok {
		return b.ReadForMerge(ctx, reads)
	}
	var out MergeReadResults
	var err error
	if out.Parents, err = tx.ChangesetParents(ctx, reads.Changeset); err != nil {
		return out, fmt.Errorf("parents of changeset %d: %w", reads.Changeset, err)
	}
	if out.Changed, err = currentOf(ctx, tx, reads.Changed); err != nil {
		return out, err
	}
	referenced, err := currentOf(ctx, tx, reads.Referenced)
	if err != nil {
		return out, err
	}
	out.Referenced = make(map[osmdata.Key]ReferencedElement, len(referenced))
	for k, e := range referenced {
		out.Referenced[k] = ReferencedElement{Visible: e.Visible, Lat: e.Lat, Lon: e.Lon}
	}
	if len(reads.Deleted[osmdata.Node]) > 0 {
		if out.WaysUsingDeletedNodes, err = tx.WaysUsingNodes(ctx, reads.Deleted[osmdata.Node]); err != nil {
			return out, fmt.Errorf("ways using deleted nodes: %w", err)
		}
	}
	out.RelationsUsingDeleted = map[osmdata.ElementType][]osmdata.Element{}
	for _, t := range osmdata.ElementTypes {
		if len(reads.Deleted[t]) == 0 {
			continue
		}
		if out.RelationsUsingDeleted[t], err = tx.RelationsWithMembers(ctx, t, reads.Deleted[t]); err != nil {
			return out, fmt.Errorf("relations using deleted %ss: %w", t, err)
		}
	}
	return out, nil
}

// PlanMerge is the part of a merge both backends share, run under the
// merge lock: it checks the parents, that every base is still current,
// and the hard constraints on the merged result, and turns the
// changeset's pending changes into final versions timestamped at. It
// returns the conflicts instead of a plan when there are any; its error
// is a failure to read.
func PlanMerge(ctx context.Context, tx MergeTx, cs osmdata.Changeset, changes []PendingChange, at time.Time) (MergePlan, []MergeConflict, error) {
	inChangeset := make(map[osmdata.Key]*PendingChange, len(changes))
	for i := range changes {
		inChangeset[changes[i].Element.Key()] = &changes[i]
	}
	read, err := readForMerge(ctx, tx, mergeReadsOf(cs.ID, changes, inChangeset))
	if err != nil {
		return MergePlan{}, nil, err
	}
	conflicts, finals, err := checkParents(ctx, tx, cs.ID, changes, read.Parents)
	if err != nil || len(conflicts) > 0 {
		return MergePlan{}, conflicts, err
	}
	current := read.Changed

	for i := range changes {
		p := &changes[i]
		k := p.Element.Key()
		cur := current[k].Version
		base := p.BaseVersion
		if p.BaseChangeset != 0 {
			f, ok := finals[p.BaseChangeset][k]
			if !ok || f.Provisional != p.BaseVersion {
				conflicts = append(conflicts, MergeConflict{Element: k, Kind: ConflictBaseMoved, CurrentVersion: cur, Parent: p.BaseChangeset,
					Message: fmt.Sprintf("based on version %d of changeset %d, which did not merge that version", p.BaseVersion, p.BaseChangeset)})
				continue
			}
			base = f.Final
		}
		if cur != base {
			conflicts = append(conflicts, MergeConflict{Element: k, Kind: ConflictBaseMoved, BaseVersion: base, CurrentVersion: cur,
				Message: fmt.Sprintf("based on version %d, the current version is %d", base, cur)})
		}
		conflicts = append(conflicts, checkContent(&p.Element)...)
	}

	refs := read.Referenced
	checkReferences(changes, inChangeset, refs, &conflicts)
	checkStillUsed(changes, inChangeset, read, &conflicts)
	if len(conflicts) > 0 {
		slices.SortStableFunc(conflicts, func(a, b MergeConflict) int {
			if a.Element == b.Element {
				return 0
			}
			if a.Element.Less(b.Element) {
				return -1
			}
			return 1
		})
		return MergePlan{}, conflicts, nil
	}

	order := make([]int, len(changes))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ka, kb := changes[a].Element.Key(), changes[b].Element.Key()
		if ka == kb {
			return 0
		}
		if ka.Less(kb) {
			return -1
		}
		return 1
	})
	plan := MergePlan{Versions: make([]osmdata.Element, 0, len(changes)), OldVersions: make([]int, 0, len(changes)),
		Old: make([]osmdata.Element, 0, len(changes))}
	grow := func(lat, lon int32) {
		if !plan.HasBox {
			plan.Box, plan.HasBox = osmdata.Box{MinLat: lat, MinLon: lon, MaxLat: lat, MaxLon: lon}, true
			return
		}
		plan.Box.MinLat, plan.Box.MaxLat = min(plan.Box.MinLat, lat), max(plan.Box.MaxLat, lat)
		plan.Box.MinLon, plan.Box.MaxLon = min(plan.Box.MinLon, lon), max(plan.Box.MaxLon, lon)
	}
	for _, i := range order {
		p := &changes[i]
		e := p.Element
		old := current[e.Key()]
		e.Version = old.Version + 1
		e.Timestamp = at
		e.Changeset, e.UID, e.User = cs.ID, cs.UID, cs.User
		if !e.Visible {
			// As OSM records a delete: no content, a node at its last
			// position.
			e.Tags, e.Nodes, e.Members = nil, nil, nil
			if e.Type == osmdata.Node && old.Version > 0 {
				e.Lat, e.Lon = old.Lat, old.Lon
			}
		}
		plan.Versions = append(plan.Versions, e)
		plan.OldVersions = append(plan.OldVersions, old.Version)
		plan.Old = append(plan.Old, old)
		// OSM's changeset box: the nodes' old and new positions, and the
		// nodes of the ways changed.
		if e.Type == osmdata.Node {
			if e.Visible {
				grow(e.Lat, e.Lon)
			}
			if old.Version > 0 && old.Visible {
				grow(old.Lat, old.Lon)
			}
		}
		if e.Type == osmdata.Way && e.Visible {
			for _, n := range e.Nodes {
				if pn, ok := inChangeset[osmdata.Key{Type: osmdata.Node, ID: n}]; ok {
					grow(pn.Element.Lat, pn.Element.Lon)
				} else if cn, ok := refs[osmdata.Key{Type: osmdata.Node, ID: n}]; ok {
					grow(cn.Lat, cn.Lon)
				}
			}
		}
	}
	return plan, nil, nil
}

// checkParents reports the parents that keep the changeset from merging
// and reads the final versions of the merged ones.
func checkParents(ctx context.Context, tx MergeTx, id int64, changes []PendingChange, parents []int64) ([]MergeConflict, map[int64]map[osmdata.Key]FinalVersion, error) {
	parents = slices.Clone(parents)
	for i := range changes {
		if b := changes[i].BaseChangeset; b != 0 && !slices.Contains(parents, b) {
			parents = append(parents, b)
		}
	}
	var conflicts []MergeConflict
	finals := map[int64]map[osmdata.Key]FinalVersion{}
	for _, parent := range parents {
		pc, err := tx.Changeset(ctx, parent)
		if err != nil {
			return nil, nil, fmt.Errorf("parent %d of changeset %d: %w", parent, id, err)
		}
		var kind ConflictKind
		var why string
		switch pc.ReviewState {
		case osmdata.ReviewMerged:
			f, err := tx.FinalVersions(ctx, parent)
			if err != nil {
				return nil, nil, fmt.Errorf("final versions of parent %d of changeset %d: %w", parent, id, err)
			}
			finals[parent] = f
			continue
		case osmdata.ReviewRejected, osmdata.ReviewConflicted:
			kind, why = ConflictParentFailed, fmt.Sprintf("builds on changeset %d, which is %s", parent, pc.ReviewState)
		default:
			kind, why = ConflictParentNotMerged, fmt.Sprintf("builds on changeset %d, which is not merged yet", parent)
		}
		named := false
		for i := range changes {
			if changes[i].BaseChangeset == parent {
				conflicts = append(conflicts, MergeConflict{Element: changes[i].Element.Key(), Kind: kind, BaseVersion: changes[i].BaseVersion, Parent: parent, Message: why})
				named = true
			}
		}
		if !named {
			conflicts = append(conflicts, MergeConflict{Kind: kind, Parent: parent, Message: why})
		}
	}
	return conflicts, finals, nil
}

// currentOf reads the current versions (visible or deleted) of ids.
func currentOf(ctx context.Context, tx Reader, ids map[osmdata.ElementType][]int64) (map[osmdata.Key]osmdata.Element, error) {
	out := map[osmdata.Key]osmdata.Element{}
	for _, t := range osmdata.ElementTypes {
		if len(ids[t]) == 0 {
			continue
		}
		els, err := tx.CurrentElements(ctx, t, ids[t])
		if err != nil {
			return nil, fmt.Errorf("current %ss: %w", t, err)
		}
		for _, e := range els {
			out[e.Key()] = e
		}
	}
	return out, nil
}

// checkContent checks one element's own hard constraints.
func checkContent(e *osmdata.Element) []MergeConflict {
	var out []MergeConflict
	if !e.Visible {
		return nil
	}
	for _, t := range e.Tags {
		if utf8.RuneCountInString(t.Key) > MaxTagLength || utf8.RuneCountInString(t.Value) > MaxTagLength {
			out = append(out, MergeConflict{Element: e.Key(), Kind: ConflictTagTooLong,
				Message: fmt.Sprintf("tag %.40q has a key or value longer than %d characters", t.Key, MaxTagLength)})
		}
	}
	if e.Type == osmdata.Way && len(e.Nodes) > MaxWayNodes {
		out = append(out, MergeConflict{Element: e.Key(), Kind: ConflictTooManyNodes,
			Message: fmt.Sprintf("%d nodes, at most %d", len(e.Nodes), MaxWayNodes)})
	}
	return out
}

// checkReferences checks that every way node and relation member of the
// changeset's visible ways and relations is visible in the merged
// result: in the changeset when it changes the element, otherwise in
// current (the references outside the changeset).
func checkReferences(changes []PendingChange, inChangeset map[osmdata.Key]*PendingChange, current map[osmdata.Key]ReferencedElement, conflicts *[]MergeConflict) {
	type use struct{ user, ref osmdata.Key }
	reported := map[use]bool{}
	check := func(user, ref osmdata.Key) {
		visible := false
		if p, ok := inChangeset[ref]; ok {
			visible = p.Element.Visible
		} else if c, ok := current[ref]; ok {
			visible = c.Visible
		}
		if u := (use{user, ref}); !visible && !reported[u] {
			reported[u] = true
			*conflicts = append(*conflicts, MergeConflict{Element: user, Kind: ConflictMissingReference,
				Message: fmt.Sprintf("uses %s, which is not visible", ref)})
		}
	}
	for i := range changes {
		e := &changes[i].Element
		if !e.Visible {
			continue
		}
		for _, n := range e.Nodes {
			check(e.Key(), osmdata.Key{Type: osmdata.Node, ID: n})
		}
		for _, m := range e.Members {
			check(e.Key(), osmdata.Key{Type: m.Type, ID: m.Ref})
		}
	}
}

// checkStillUsed checks that no element the changeset deletes is used by
// a current visible way or relation the changeset leaves unchanged (the
// changed ones are checkReferences').
func checkStillUsed(changes []PendingChange, inChangeset map[osmdata.Key]*PendingChange, read MergeReadResults, conflicts *[]MergeConflict) {
	deleted := map[osmdata.ElementType][]int64{}
	for i := range changes {
		if e := &changes[i].Element; !e.Visible {
			deleted[e.Type] = append(deleted[e.Type], e.ID)
		}
	}
	report := func(users []osmdata.Element, refType osmdata.ElementType) {
		gone := map[int64]bool{}
		for _, id := range deleted[refType] {
			gone[id] = true
		}
		for _, u := range users {
			if _, changed := inChangeset[u.Key()]; changed {
				continue
			}
			var refs []int64
			if refType == osmdata.Node && u.Type == osmdata.Way {
				refs = u.Nodes
			}
			for _, m := range u.Members {
				if m.Type == refType {
					refs = append(refs, m.Ref)
				}
			}
			for _, r := range refs {
				if gone[r] {
					*conflicts = append(*conflicts, MergeConflict{Element: osmdata.Key{Type: refType, ID: r}, Kind: ConflictStillUsed,
						Message: fmt.Sprintf("deleted, but still used by %s", u.Key())})
					gone[r] = false // one report per deleted element and user kind is enough
				}
			}
		}
	}
	report(read.WaysUsingDeletedNodes, osmdata.Node)
	for _, t := range osmdata.ElementTypes {
		report(read.RelationsUsingDeleted[t], t)
	}
}
