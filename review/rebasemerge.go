package review

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review/rebase"
	"github.com/geocommuns/geocommuns/storage"
)

// rebaseAttempts bounds how often one merge rebases its changeset before
// the job leaves it for a later step: each attempt follows a base that
// moved again (another process merged, the contributor re-uploaded)
// between the rebase and the merge.
const rebaseAttempts = 5

// errRebaseUnsettled says the changeset's bases kept moving through every
// attempt: it stays approved, and a later step tries again.
var errRebaseUnsettled = errors.New("the changeset's bases kept moving while it was rebased")

// merge merges changeset id. On a store that rebases (storage.Rebaser), a
// changeset whose only conflicts are bases that moved is rebased onto the
// current versions by the three-way merge (review/rebase) and merged
// again; when the three-way merge finds fields both sides changed
// differently, the changeset is conflicted with one ConflictEdited line
// per such element, and the returned *storage.ConflictError holds that
// report. The reads and the three-way merge happen between merge
// transactions, outside the merge lock (design.md: "Work before the
// lock"); the store's merge checks again, under the lock, that the bases
// are current and that the merged result keeps the hard constraints.
func (j *MergeJob) merge(ctx context.Context, id int64) (storage.OutboxEntry, error) {
	rebaser, ok := j.store.(storage.Rebaser)
	if !ok {
		return j.store.Merge(ctx, id)
	}
	for attempt := 1; attempt <= rebaseAttempts; attempt++ {
		entry, err := rebaser.MergeWith(ctx, id, storage.MergeOptions{KeepOnMovedBases: true})
		var moved *storage.ConflictError
		if !errors.As(err, &moved) || !moved.OnlyMovedBases() {
			return entry, err
		}
		plan, err := j.planRebase(ctx, id, moved.Conflicts)
		if err != nil {
			return storage.OutboxEntry{}, fmt.Errorf("rebase changeset %d: %w", id, err)
		}
		if len(plan.conflicts) > 0 {
			if err := rebaser.RecordConflicts(ctx, id, plan.conflicts); err != nil {
				return storage.OutboxEntry{}, fmt.Errorf("record the conflicts of changeset %d: %w", id, err)
			}
			j.logger.Warn("changeset conflicts with edits merged since its bases", "changeset", id,
				"elements", len(plan.conflicts), "summary", storage.ConflictSummary(plan.conflicts))
			return storage.OutboxEntry{}, &storage.ConflictError{Changeset: id, Conflicts: plan.conflicts}
		}
		err = rebaser.RebasePending(ctx, id, plan.changes)
		if errors.Is(err, storage.ErrRebaseStale) {
			j.logger.Info("changeset changed while it was rebased: reading it again", "changeset", id, "attempt", attempt)
			continue
		}
		if err != nil {
			return storage.OutboxEntry{}, fmt.Errorf("rebase changeset %d: %w", id, err)
		}
		j.logger.Info("changeset rebased onto edits merged since its bases", "changeset", id,
			"elements", len(plan.changes), "attempt", attempt)
	}
	return storage.OutboxEntry{}, fmt.Errorf("changeset %d after %d rebases: %w", id, rebaseAttempts, errRebaseUnsettled)
}

// rebasePlan is the outcome of the three-way merge of a changeset's moved
// elements: either every change rebased, or the report of the elements
// that conflict.
type rebasePlan struct {
	changes   []storage.RebasedChange
	conflicts []storage.MergeConflict
}

// planRebase reads, for each element whose base moved (one
// ConflictBaseMoved line each), its pending change, its content at the
// base and now, and merges the three.
func (j *MergeJob) planRebase(ctx context.Context, id int64, moved []storage.MergeConflict) (rebasePlan, error) {
	rows, err := j.store.ChangesetChanges(ctx, id)
	if err != nil {
		return rebasePlan{}, fmt.Errorf("pending changes: %w", err)
	}
	pending := make(map[osmdata.Key]storage.PendingChange, len(rows))
	for _, r := range rows {
		// Staging order: a re-upload's row comes last and is the content.
		pending[r.Element.Key()] = r
	}

	var baseKeys []storage.VersionKey
	currentIDs := map[osmdata.ElementType][]int64{}
	for _, line := range moved {
		if line.BaseVersion > 0 {
			baseKeys = append(baseKeys, storage.VersionKey{Element: line.Element, Version: line.BaseVersion})
		}
		currentIDs[line.Element.Type] = append(currentIDs[line.Element.Type], line.Element.ID)
	}
	bases := make(map[osmdata.Key]osmdata.Element, len(baseKeys))
	if len(baseKeys) > 0 {
		versions, err := j.store.ElementVersions(ctx, baseKeys)
		if err != nil {
			return rebasePlan{}, fmt.Errorf("base versions: %w", err)
		}
		for _, v := range versions {
			bases[v.Key()] = v
		}
	}
	current := make(map[osmdata.Key]osmdata.Element, len(moved))
	for _, t := range osmdata.ElementTypes {
		if len(currentIDs[t]) == 0 {
			continue
		}
		els, err := j.store.CurrentElements(ctx, t, currentIDs[t])
		if err != nil {
			return rebasePlan{}, fmt.Errorf("current %ss: %w", t, err)
		}
		for _, e := range els {
			current[e.Key()] = e
		}
	}

	var plan rebasePlan
	for _, line := range moved {
		change, inChangeset := pending[line.Element]
		base, hasBase := bases[line.Element]
		now, hasCurrent := current[line.Element]
		if !inChangeset || !hasBase || !hasCurrent || base.Redacted {
			// Nothing to merge three ways (an element the dataset lost,
			// a base it never had, a base redacted since, whose content
			// ElementVersions withholds): the line stands as the store
			// wrote it.
			plan.conflicts = append(plan.conflicts, line)
			continue
		}
		result := rebase.Element(&base, &now, &change.Element)
		if len(result.Conflicts) > 0 {
			plan.conflicts = append(plan.conflicts, editedConflict(line, &base, &now, &change.Element, result.Conflicts))
			continue
		}
		merged := result.Merged
		// Citations of the provisional version the upload answered must
		// still resolve to this change.
		merged.Version = change.Element.Version
		plan.changes = append(plan.changes, storage.RebasedChange{
			Element:           merged,
			FromBaseVersion:   change.BaseVersion,
			FromBaseChangeset: change.BaseChangeset,
			FromSeq:           change.Seq,
			ToBaseVersion:     now.Version,
		})
	}
	if len(plan.conflicts) > 0 {
		// Nothing merges when one element conflicts: the contributor
		// resolves the report and closes again, and the rest rebases then.
		plan.changes = nil
	}
	return plan, nil
}

// editedConflict is the report line of an element whose three-way merge
// found fields both sides changed differently.
func editedConflict(line storage.MergeConflict, base, current, pending *osmdata.Element, conflicts []rebase.Conflict) storage.MergeConflict {
	fields := make([]storage.ConflictField, len(conflicts))
	described := make([]string, len(conflicts))
	for i, c := range conflicts {
		fields[i] = storage.ConflictField{
			Kind: string(c.Kind), Key: c.Key,
			Base: c.Base, Current: c.Current, Pending: c.Pending,
			AbsentInBase: c.AbsentInBase, AbsentInCurrent: c.AbsentInCurrent, AbsentInPending: c.AbsentInPending,
		}
		described[i] = describeConflict(c, base.Version, current.Version)
	}
	return storage.MergeConflict{
		Element:        line.Element,
		Kind:           storage.ConflictEdited,
		BaseVersion:    base.Version,
		CurrentVersion: current.Version,
		Message: fmt.Sprintf("edited since version %d, as this changeset edits it: %s",
			base.Version, strings.Join(described, "; ")),
		Fields:  fields,
		Base:    contentOf(base),
		Current: contentOf(current),
		Pending: contentOf(pending),
	}
}

// contentOf is a version's content for a report: nil when it is deleted.
func contentOf(e *osmdata.Element) *osmdata.Element {
	if !e.Visible {
		return nil
	}
	c := *e
	return &c
}

// describeConflict says in one phrase what both sides did to a field,
// for the changeset's discussion: the node and member lists are too long
// to repeat there (the report's fields hold them).
func describeConflict(c rebase.Conflict, baseVersion, currentVersion int) string {
	value := func(s string, absent bool) string {
		if absent {
			return "not set"
		}
		return fmt.Sprintf("%q", s)
	}
	switch c.Kind {
	case rebase.FieldTag:
		return fmt.Sprintf("tag %s is %s in version %d, %s in version %d and %s in this changeset", c.Key,
			value(c.Base, c.AbsentInBase), baseVersion, value(c.Current, c.AbsentInCurrent), currentVersion,
			value(c.Pending, c.AbsentInPending))
	case rebase.FieldPosition:
		return fmt.Sprintf("moved from %s to %s in version %d and to %s in this changeset", c.Base, c.Current, currentVersion, c.Pending)
	case rebase.FieldNodes:
		return fmt.Sprintf("version %d and this changeset changed the same part of the node list", currentVersion)
	case rebase.FieldMembers:
		return fmt.Sprintf("version %d and this changeset changed the same part of the member list", currentVersion)
	case rebase.FieldDeleted:
		if c.AbsentInCurrent {
			return fmt.Sprintf("deleted in version %d, modified in this changeset", currentVersion)
		}
		return fmt.Sprintf("modified in version %d, deleted in this changeset", currentVersion)
	}
	return fmt.Sprintf("%s changed differently in version %d and in this changeset", c.Kind, currentVersion)
}
