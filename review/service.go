package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// ErrForbidden refuses an action the caller's role or scopes do not
// allow (403).
var ErrForbidden = errors.New("forbidden")

// ErrBadRequest refuses an action with missing or invalid input (400).
var ErrBadRequest = errors.New("bad request")

// Roles, as auth.Role spells them (review sits below auth).
const (
	RoleContributor = "contributor"
	RoleReviewer    = "reviewer"
	RoleAdmin       = "admin"
)

// Caller is who asks: an authenticated account (UID 0 is anonymous).
type Caller struct {
	UID  int64
	Name string
	Role string
}

func (c Caller) reviews() bool { return c.Role == RoleReviewer || c.Role == RoleAdmin }

// Store is what the review needs of a dataset.
type Store interface {
	storage.Store
	storage.ReviewLog
	storage.Reviews
}

// Service is the review as the API layers (ReviewService, the OSM API's
// discussion calls, the web app) use it: it checks who may do what, then
// records it in the store, each action one transaction with its event.
type Service struct {
	store  Store
	config *Config
	// kick tells the merge job that an approval may have made work.
	kick func()
}

// NewService returns the review service of store under config.
func NewService(store Store, config *Config) *Service {
	return &Service{store: store, config: config, kick: func() {}}
}

// OnApprove registers fn, called after a decision that approved a
// changeset (the server kicks its merge job).
func (s *Service) OnApprove(fn func()) { s.kick = fn }

// Queue lists the review queue for a reviewer: the caller's scopes come
// first (or alone, with f.OnlyScopes).
func (s *Service) Queue(ctx context.Context, caller Caller, f storage.QueueFilter) ([]storage.QueueItem, error) {
	if !caller.reviews() {
		return nil, fmt.Errorf("the review queue is for reviewers: %w", ErrForbidden)
	}
	if len(f.Scopes) == 0 {
		f.Scopes = s.config.ScopesOf(caller.Name, caller.Role)
	}
	return s.store.ReviewQueue(ctx, f)
}

// Detail is everything a reviewer looks at to decide on one changeset.
type Detail struct {
	Changeset  osmdata.Changeset
	Validation storage.Validation
	Scopes     []storage.ScopeApproval
	Elements   []ElementDetail
	Events     []osmdata.ReviewEvent
	// Conflicts is the report of the changeset's last conflicted merge
	// (storage.Merger.MergeConflicts), with the structured lines of edit
	// conflicts; empty unless it is conflicted.
	Conflicts []storage.MergeConflict
}

// ElementDetail is one element of a changeset: what the author based the
// change on, what they made of it, and what the dataset has now (which
// may have moved since).
type ElementDetail struct {
	Action            storage.Action
	Old, New, Current *osmdata.Element
}

// Review returns the detail of one changeset; anyone may read it, as
// anyone may read a changeset's download on openstreetmap.org.
func (s *Service) Review(ctx context.Context, id int64) (Detail, error) {
	var d Detail
	cs, err := s.store.Changeset(ctx, id)
	if err != nil {
		return d, fmt.Errorf("changeset %d: %w", id, err)
	}
	d.Changeset = cs
	if d.Validation, err = s.store.Validation(ctx, id); err != nil {
		return d, fmt.Errorf("validation of changeset %d: %w", id, err)
	}
	if d.Scopes, err = s.store.ReviewScopes(ctx, id); err != nil {
		return d, fmt.Errorf("scopes of changeset %d: %w", id, err)
	}
	if d.Events, err = s.store.ChangesetReviewEvents(ctx, id); err != nil {
		return d, fmt.Errorf("review log of changeset %d: %w", id, err)
	}
	if d.Elements, err = s.elementDetails(ctx, id); err != nil {
		return d, err
	}
	if cs.ReviewState == osmdata.ReviewConflicted {
		if d.Conflicts, err = s.store.MergeConflicts(ctx, id); err != nil {
			return d, fmt.Errorf("conflict report of changeset %d: %w", id, err)
		}
	}
	return d, nil
}

// elementDetails pairs each element's net change with its base and its
// current version, in bulk reads per element type.
func (s *Service) elementDetails(ctx context.Context, id int64) ([]ElementDetail, error) {
	changes, err := s.store.ChangesetChanges(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("changes of changeset %d: %w", id, err)
	}
	latest := map[osmdata.Key]int{}
	var order []osmdata.Key
	for i, c := range changes {
		k := c.Element.Key()
		if _, seen := latest[k]; !seen {
			order = append(order, k)
		}
		latest[k] = i
	}
	slices.SortFunc(order, func(a, b osmdata.Key) int {
		if a.Less(b) {
			return -1
		}
		if b.Less(a) {
			return 1
		}
		return 0
	})
	current := map[osmdata.Key]*osmdata.Element{}
	var bases []storage.VersionKey
	for _, t := range []osmdata.ElementType{osmdata.Node, osmdata.Way, osmdata.Relation} {
		var ids []int64
		for _, k := range order {
			if k.Type == t {
				ids = append(ids, k.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		found, err := s.store.CurrentElements(ctx, t, ids)
		if err != nil {
			return nil, fmt.Errorf("current versions for changeset %d: %w", id, err)
		}
		for i := range found {
			current[found[i].Key()] = &found[i]
		}
	}
	for _, k := range order {
		c := changes[latest[k]]
		if c.BaseVersion > 0 && c.BaseChangeset == 0 {
			bases = append(bases, storage.VersionKey{Element: k, Version: c.BaseVersion})
		}
	}
	baseOf := map[osmdata.Key]*osmdata.Element{}
	if len(bases) > 0 {
		found, err := s.store.ElementVersions(ctx, bases)
		if err != nil {
			return nil, fmt.Errorf("base versions for changeset %d: %w", id, err)
		}
		for i := range found {
			baseOf[found[i].Key()] = &found[i]
		}
	}
	out := make([]ElementDetail, 0, len(order))
	for _, k := range order {
		c := changes[latest[k]]
		d := ElementDetail{Action: c.Action, Old: baseOf[k], Current: current[k]}
		if c.Action != storage.Delete {
			e := c.Element
			d.New = &e
		}
		out = append(out, d)
	}
	if err := s.withholdRedacted(ctx, id, order, out); err != nil {
		return nil, err
	}
	return out, nil
}

// withholdRedacted withholds the new content of the elements whose
// version this changeset made was redacted since its merge: the pending
// rows keep what the upload staged, which is the content the redaction
// hides. The bases come withheld from ElementVersions already.
func (s *Service) withholdRedacted(ctx context.Context, id int64, order []osmdata.Key, details []ElementDetail) error {
	redactions, err := s.store.Redactions(ctx, order)
	if err != nil || len(redactions) == 0 {
		return err
	}
	keys := make([]storage.VersionKey, len(redactions))
	for i, r := range redactions {
		keys[i] = r.Version
	}
	versions, err := s.store.ElementVersions(ctx, keys)
	if err != nil {
		return fmt.Errorf("redacted versions of changeset %d: %w", id, err)
	}
	made := map[osmdata.Key]bool{}
	for _, v := range versions {
		if v.Changeset == id {
			made[v.Key()] = true
		}
	}
	for i, k := range order {
		if made[k] && details[i].New != nil {
			storage.Withhold(details[i].New)
		}
	}
	return nil
}

// Assign makes the caller the changeset's assignee.
func (s *Service) Assign(ctx context.Context, caller Caller, id int64) (osmdata.ReviewEvent, error) {
	if !caller.reviews() {
		return osmdata.ReviewEvent{}, fmt.Errorf("only reviewers take changesets: %w", ErrForbidden)
	}
	return s.store.Assign(ctx, id, caller.UID)
}

// Approve approves the scopes of changeset id that the caller reviews.
func (s *Service) Approve(ctx context.Context, caller Caller, id int64, comment string) (osmdata.Changeset, error) {
	return s.decide(ctx, caller, id, osmdata.EventApproved, comment)
}

// RequestChanges reopens changeset id for its author, with comment.
func (s *Service) RequestChanges(ctx context.Context, caller Caller, id int64, comment string) (osmdata.Changeset, error) {
	return s.decide(ctx, caller, id, osmdata.EventChangesRequested, comment)
}

// Reject rejects changeset id, with comment.
func (s *Service) Reject(ctx context.Context, caller Caller, id int64, comment string) (osmdata.Changeset, error) {
	return s.decide(ctx, caller, id, osmdata.EventRejected, comment)
}

// decide records the caller's decision for the scopes of the changeset
// they review.
func (s *Service) decide(ctx context.Context, caller Caller, id int64, kind osmdata.ReviewEventKind, comment string) (osmdata.Changeset, error) {
	d, err := s.decision(ctx, caller, id, kind, comment)
	if err != nil {
		return osmdata.Changeset{}, err
	}
	if kind != osmdata.EventApproved && strings.TrimSpace(comment) == "" {
		return osmdata.Changeset{}, fmt.Errorf("a comment to the contributor is required to %s: %w",
			strings.ReplaceAll(string(kind), "_", " "), ErrBadRequest)
	}
	cs, err := s.store.Decide(ctx, d)
	if err != nil {
		return cs, err
	}
	if cs.ReviewState == osmdata.ReviewApproved {
		s.kick()
	}
	return cs, nil
}

// decision checks that the caller may record a decision of kind on
// changeset id (a reviewer of at least one scope it needs, or an admin)
// and returns it with the scopes it counts for.
func (s *Service) decision(ctx context.Context, caller Caller, id int64, kind osmdata.ReviewEventKind, comment string) (storage.Decision, error) {
	d := storage.Decision{Changeset: id, Reviewer: caller.UID, Kind: kind, Comment: comment}
	if !caller.reviews() {
		return d, fmt.Errorf("only reviewers decide on changesets: %w", ErrForbidden)
	}
	if caller.Role == RoleAdmin {
		return d, nil
	}
	needed, err := s.store.ReviewScopes(ctx, id)
	if err != nil {
		return d, fmt.Errorf("scopes of changeset %d: %w", id, err)
	}
	if len(needed) == 0 {
		return d, fmt.Errorf("changeset %d is being validated; decide once its findings and scopes are shown: %w",
			id, storage.ErrReviewState)
	}
	mine := s.config.ScopesOf(caller.Name, caller.Role)
	names := make([]string, len(needed))
	for i, sc := range needed {
		names[i] = sc.Scope
		if slices.Contains(mine, sc.Scope) {
			d.Scopes = append(d.Scopes, sc.Scope)
		}
	}
	if len(d.Scopes) == 0 {
		return d, fmt.Errorf("changeset %d needs the review of %s, none of them yours: %w",
			id, strings.Join(names, ", "), ErrForbidden)
	}
	return d, nil
}

// Withdraw lets the author take a submitted changeset back to work on.
func (s *Service) Withdraw(ctx context.Context, caller Caller, id int64) (osmdata.Changeset, error) {
	if caller.UID == 0 {
		return osmdata.Changeset{}, fmt.Errorf("withdraw needs the author signed in: %w", ErrForbidden)
	}
	return s.store.Withdraw(ctx, id, caller.UID)
}

// Comment adds a discussion comment (any signed-in user, as on
// openstreetmap.org) and subscribes the commenter.
func (s *Service) Comment(ctx context.Context, caller Caller, id int64, text string) (osmdata.ReviewEvent, error) {
	if caller.UID == 0 {
		return osmdata.ReviewEvent{}, fmt.Errorf("commenting needs a signed-in user: %w", ErrForbidden)
	}
	if strings.TrimSpace(text) == "" {
		return osmdata.ReviewEvent{}, fmt.Errorf("the comment is empty: %w", ErrBadRequest)
	}
	// The store subscribes the commenter in the comment's transaction.
	return s.store.AddReviewEvent(ctx, osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventCommented, ActorUID: caller.UID, Comment: text})
}

// AuditLog is the changeset's review log, public.
func (s *Service) AuditLog(ctx context.Context, id int64) ([]osmdata.ReviewEvent, error) {
	if _, err := s.store.Changeset(ctx, id); err != nil {
		return nil, fmt.Errorf("changeset %d: %w", id, err)
	}
	return s.store.ChangesetReviewEvents(ctx, id)
}

// CommentCounts is, for each of ids, how many of its events of kinds
// have a comment (storage.ReviewLog.ReviewCommentCounts), public as the
// audit log is; ids without any are not in the map.
func (s *Service) CommentCounts(ctx context.Context, ids []int64, kinds []osmdata.ReviewEventKind) (map[int64]int, error) {
	counts, err := s.store.ReviewCommentCounts(ctx, ids, kinds)
	if err != nil {
		return nil, fmt.Errorf("comment counts: %w", err)
	}
	return counts, nil
}
