package storagetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// memReviews is storage.Reviews written plainly, guarded by memEditing.mu
// as every write that moves a review state is, so that a decision, its
// state move and its event happen under one lock hold.
type memReviews struct {
	validations map[int64]storage.Validation
	// scopes are kept sorted by scope, as ReviewScopes returns them.
	scopes   map[int64][]storage.ScopeApproval
	required map[int64]int
	// approvers are the distinct reviewers who approved the current
	// submission.
	approvers map[int64]map[int64]bool
	assignee  map[int64]int64
	// escalatedFor is the ClosedAt of the submission that was escalated.
	escalatedFor map[int64]time.Time
	subscribers  map[int64]map[int64]bool
}

func (r *memReviews) init() {
	if r.validations == nil {
		r.validations = map[int64]storage.Validation{}
		r.scopes = map[int64][]storage.ScopeApproval{}
		r.required = map[int64]int{}
		r.approvers = map[int64]map[int64]bool{}
		r.assignee = map[int64]int64{}
		r.escalatedFor = map[int64]time.Time{}
		r.subscribers = map[int64]map[int64]bool{}
	}
}

// lockReviews takes the editing lock and returns the changeset id, raw,
// or ErrNotFound; unlock releases it.
func (s *memStore) lockReviews(id int64) (c osmdata.Changeset, unlock func(), err error) {
	s.ed.mu.Lock()
	s.ed.init()
	s.rv.init()
	s.mu.RLock()
	c, ok := s.changesets[id]
	s.mu.RUnlock()
	if !ok {
		s.ed.mu.Unlock()
		return c, nil, fmt.Errorf("changeset %d: %w", id, storage.ErrNotFound)
	}
	return c, s.ed.mu.Unlock, nil
}

func (s *memStore) SaveValidation(ctx context.Context, changeset int64, v storage.Validation) error {
	_, unlock, err := s.lockReviews(changeset)
	if err != nil {
		return err
	}
	defer unlock()
	v.At = memNow()
	v.Findings = slices.Clone(v.Findings)
	for i := range v.Findings {
		v.Findings[i].Elements = slices.Clone(v.Findings[i].Elements)
	}
	s.rv.validations[changeset] = v
	return nil
}

func (s *memStore) Validation(ctx context.Context, changeset int64) (storage.Validation, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.rv.init()
	v := s.rv.validations[changeset]
	v.Findings = slices.Clone(v.Findings)
	return v, nil
}

func (s *memStore) SetReviewScopes(ctx context.Context, changeset int64, scopes []string, approvalsRequired int) error {
	_, unlock, err := s.lockReviews(changeset)
	if err != nil {
		return err
	}
	defer unlock()
	names := slices.Clone(scopes)
	slices.Sort(names)
	var list []storage.ScopeApproval
	for _, sc := range slices.Compact(names) {
		list = append(list, storage.ScopeApproval{Scope: sc})
	}
	s.rv.scopes[changeset] = list
	s.rv.required[changeset] = max(approvalsRequired, 1)
	delete(s.rv.approvers, changeset)
	return nil
}

func (s *memStore) ReviewScopes(ctx context.Context, changeset int64) ([]storage.ScopeApproval, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.rv.init()
	return slices.Clone(s.rv.scopes[changeset]), nil
}

// forgetSubmission drops the validation and the approvals of the
// submissions before, as a backend's close does; the caller holds the
// editing lock.
func (s *memStore) forgetSubmission(id int64) {
	s.rv.init()
	delete(s.rv.validations, id)
	delete(s.rv.approvers, id)
	for i := range s.rv.scopes[id] {
		s.rv.scopes[id][i].ApprovedBy = 0
	}
}

// validated says whether the policy validated changeset id's latest
// submission; the caller holds the editing lock.
func (s *memStore) validated(id int64) bool {
	_, ok := s.rv.validations[id]
	return ok
}

func (s *memStore) Assign(ctx context.Context, changeset, reviewer int64) (osmdata.ReviewEvent, error) {
	c, unlock, err := s.lockReviews(changeset)
	if err != nil {
		return osmdata.ReviewEvent{}, err
	}
	if err := storage.CheckReviewable(c, s.validated(changeset), reviewer); err != nil {
		unlock()
		return osmdata.ReviewEvent{}, err
	}
	s.rv.assignee[changeset] = reviewer
	written := s.ed.reviews.log(osmdata.ReviewEvent{Changeset: changeset, Kind: osmdata.EventAssigned, ActorUID: reviewer, State: c.ReviewState})
	unlock()
	return s.actorNames(written)[0], nil
}

// moveState moves changeset c to state, as SetReviewState does, and logs
// the event of kind; the caller holds the editing lock.
func (s *memStore) moveState(c osmdata.Changeset, state osmdata.ReviewState, ev osmdata.ReviewEvent) osmdata.Changeset {
	s.mu.Lock()
	s.applyReviewState(&c, state)
	s.changesets[c.ID] = c
	s.mu.Unlock()
	ev.Changeset, ev.State = c.ID, state
	s.ed.reviews.log(ev)
	return s.view(c)
}

func (s *memStore) Decide(ctx context.Context, d storage.Decision) (osmdata.Changeset, error) {
	c, unlock, err := s.lockReviews(d.Changeset)
	if err != nil {
		return c, err
	}
	defer unlock()
	c, ev, err := s.decideLocked(c, d)
	if err != nil {
		return osmdata.Changeset{}, err
	}
	s.ed.reviews.log(ev)
	return c, nil
}

// decideLocked checks and records d on c (raw, read under the editing
// lock, which the caller holds) and returns the changeset after it and
// the event for the caller to log. A refused d changes nothing.
func (s *memStore) decideLocked(c osmdata.Changeset, d storage.Decision) (osmdata.Changeset, osmdata.ReviewEvent, error) {
	if err := storage.CheckReviewable(c, s.validated(d.Changeset), d.Reviewer); err != nil {
		return osmdata.Changeset{}, osmdata.ReviewEvent{}, err
	}
	ev := osmdata.ReviewEvent{Changeset: c.ID, Kind: d.Kind, ActorUID: d.Reviewer, Scope: strings.Join(d.Scopes, ","), Comment: d.Comment}
	state, err := storage.DecisionState(d.Kind)
	if err != nil {
		return osmdata.Changeset{}, osmdata.ReviewEvent{}, fmt.Errorf("decide on changeset %d: %w", d.Changeset, err)
	}
	move := func() (osmdata.Changeset, osmdata.ReviewEvent, error) {
		s.mu.Lock()
		s.applyReviewState(&c, state)
		s.changesets[c.ID] = c
		s.mu.Unlock()
		ev.State = state
		return s.view(c), ev, nil
	}
	if state != osmdata.ReviewApproved {
		return move()
	}
	needed := s.rv.scopes[d.Changeset]
	var counted []string
	for i, sc := range needed {
		if len(d.Scopes) > 0 && !slices.Contains(d.Scopes, sc.Scope) {
			continue
		}
		counted = append(counted, sc.Scope)
		if sc.ApprovedBy == 0 {
			needed[i].ApprovedBy = d.Reviewer
		}
	}
	if len(needed) > 0 && len(counted) == 0 {
		return osmdata.Changeset{}, osmdata.ReviewEvent{}, fmt.Errorf("changeset %d needs none of the scopes %s: %w",
			d.Changeset, strings.Join(d.Scopes, ", "), storage.ErrReviewState)
	}
	if len(d.Scopes) == 0 {
		counted = nil
	}
	ev.Scope = strings.Join(counted, ",")
	if s.rv.approvers[d.Changeset] == nil {
		s.rv.approvers[d.Changeset] = map[int64]bool{}
	}
	s.rv.approvers[d.Changeset][d.Reviewer] = true
	done := len(s.rv.approvers[d.Changeset]) >= max(s.rv.required[d.Changeset], 1)
	for _, sc := range needed {
		done = done && sc.ApprovedBy != 0
	}
	if done {
		return move()
	}
	ev.State = c.ReviewState
	return s.view(c), ev, nil
}

func (s *memStore) Withdraw(ctx context.Context, changeset, author int64) (osmdata.Changeset, error) {
	c, unlock, err := s.lockReviews(changeset)
	if err != nil {
		return c, err
	}
	defer unlock()
	if c.UID != author {
		return osmdata.Changeset{}, fmt.Errorf("changeset %d: %w", changeset, storage.ErrNotOwner)
	}
	if c.ReviewState != osmdata.ReviewSubmitted && c.ReviewState != osmdata.ReviewApproved {
		return osmdata.Changeset{}, fmt.Errorf("changeset %d is %q: %w", changeset, c.ReviewState, storage.ErrReviewState)
	}
	return s.moveState(c, osmdata.ReviewChangesRequested, osmdata.ReviewEvent{Kind: osmdata.EventWithdrawn, ActorUID: author}), nil
}

// queueTagMatch reports whether the changeset's pending content or, for
// what it modifies or deletes, the current authoritative version has the
// filter's tag.
func (s *memStore) queueTagMatch(id int64, key, value string) bool {
	has := func(tags osmdata.Tags) bool {
		for _, t := range tags {
			if t.Key == key && (value == "" || t.Value == value) {
				return true
			}
		}
		return false
	}
	for k, p := range s.ed.pending {
		if k.changeset != id {
			continue
		}
		if has(p.Element.Tags) {
			return true
		}
		if p.Action != storage.Create {
			if cur, ok := s.current(k.key); ok && has(cur.Tags) {
				return true
			}
		}
	}
	return false
}

func (s *memStore) ReviewQueue(ctx context.Context, f storage.QueueFilter) ([]storage.QueueItem, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.ed.init()
	s.rv.init()
	s.mu.RLock()
	defer s.mu.RUnlock()
	states := f.States
	if len(states) == 0 {
		states = []osmdata.ReviewState{osmdata.ReviewSubmitted}
	}
	type ranked struct {
		item storage.QueueItem
		mine bool
	}
	var out []ranked
	for id, c := range s.changesets {
		v := s.rv.validations[id]
		switch {
		case !slices.Contains(states, c.ReviewState),
			v.Risk < f.MinRisk,
			f.Contributor != 0 && c.UID != f.Contributor,
			!f.SubmittedBefore.IsZero() && !c.ClosedAt.Before(f.SubmittedBefore),
			f.Box != nil && !(c.HasBox && c.Box.MinLat <= f.Box.MaxLat && c.Box.MaxLat >= f.Box.MinLat &&
				c.Box.MinLon <= f.Box.MaxLon && c.Box.MaxLon >= f.Box.MinLon),
			f.TagKey != "" && !s.queueTagMatch(id, f.TagKey, f.TagValue):
			continue
		}
		it := storage.QueueItem{Changeset: s.view(c), Risk: v.Risk, Assignee: s.rv.assignee[id],
			Scopes: slices.Clone(s.rv.scopes[id]), SubmittedAt: c.ClosedAt}
		if at, ok := s.rv.escalatedFor[id]; ok && at.Equal(c.ClosedAt) {
			it.Escalated = true
		}
		rules := map[string]bool{}
		for _, fd := range v.Findings {
			rules[fd.Rule] = true
			if fd.Severity == "error" {
				it.Errors++
			} else {
				it.Warnings++
			}
		}
		it.Rules = slices.Sorted(maps.Keys(rules))
		if f.Rule != "" && !rules[f.Rule] {
			continue
		}
		mine := false
		for _, sc := range it.Scopes {
			mine = mine || (sc.ApprovedBy == 0 && slices.Contains(f.Scopes, sc.Scope))
		}
		if f.OnlyScopes && !mine {
			continue
		}
		out = append(out, ranked{it, mine})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.mine != b.mine {
			return a.mine
		}
		if !a.item.SubmittedAt.Equal(b.item.SubmittedAt) {
			return a.item.SubmittedAt.Before(b.item.SubmittedAt)
		}
		return a.item.Changeset.ID < b.item.Changeset.ID
	})
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	var items []storage.QueueItem
	for i := 0; i < len(out) && i < limit; i++ {
		items = append(items, out[i].item)
	}
	return items, nil
}

func (s *memStore) EscalateWaiting(ctx context.Context, olderThan time.Time) ([]int64, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.ed.init()
	s.rv.init()
	s.mu.RLock()
	var ids []int64
	for id, c := range s.changesets {
		at, ok := s.rv.escalatedFor[id]
		if c.ReviewState == osmdata.ReviewSubmitted && c.ClosedAt.Before(olderThan) && !(ok && at.Equal(c.ClosedAt)) {
			ids = append(ids, id)
			s.rv.escalatedFor[id] = c.ClosedAt
		}
	}
	s.mu.RUnlock()
	slices.Sort(ids)
	for _, id := range ids {
		s.ed.reviews.log(osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventEscalated, State: osmdata.ReviewSubmitted})
	}
	return ids, nil
}

func (s *memStore) SubscribeChangeset(ctx context.Context, changeset, uid int64) error {
	_, unlock, err := s.lockReviews(changeset)
	if err != nil {
		return err
	}
	defer unlock()
	if s.rv.subscribers[changeset] == nil {
		s.rv.subscribers[changeset] = map[int64]bool{}
	}
	s.rv.subscribers[changeset][uid] = true
	return nil
}

func (s *memStore) UnsubscribeChangeset(ctx context.Context, changeset, uid int64) error {
	_, unlock, err := s.lockReviews(changeset)
	if err != nil {
		return err
	}
	defer unlock()
	delete(s.rv.subscribers[changeset], uid)
	return nil
}

func (s *memStore) Subscribers(ctx context.Context, changeset int64) ([]int64, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.rv.init()
	return slices.Sorted(maps.Keys(s.rv.subscribers[changeset])), nil
}

// MergedWithoutRejection counts from the review log: the author's merged
// changesets whose merged event follows the last rejected event of any
// of the author's changesets. Imported changesets have no event and are
// older than any rejection: they count while the author has none.
func (s *memStore) MergedWithoutRejection(ctx context.Context, author int64) (int, error) {
	s.ed.mu.Lock()
	defer s.ed.mu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var lastRejection int64
	mergedAt := map[int64]int64{}
	for _, ev := range s.ed.reviews.events {
		if c, ok := s.changesets[ev.Changeset]; !ok || c.UID != author {
			continue
		}
		switch ev.Kind {
		case osmdata.EventRejected:
			lastRejection = ev.Seq
		case osmdata.EventMerged:
			mergedAt[ev.Changeset] = ev.Seq
		}
	}
	n := 0
	for id, c := range s.changesets {
		if c.UID == author && c.ReviewState == osmdata.ReviewMerged && (lastRejection == 0 || mergedAt[id] > lastRejection) {
			n++
		}
	}
	return n, nil
}
