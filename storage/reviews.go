package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
)

// Review errors; the API layers map them to statuses.
var (
	// ErrSelfReview: nobody decides on their own changeset (403).
	ErrSelfReview = errors.New("a contributor cannot review their own changeset")
	// ErrReviewState: the changeset is not in a state the action applies
	// to, e.g. approving one that is open or already merged (409).
	ErrReviewState = errors.New("the changeset's review state does not allow this")
)

// Finding is one validation finding as stored, per element (package
// review/validate produces them; storage keeps them as plain data).
type Finding struct {
	Rule     string
	Severity string // "error" or "warning"
	// Elements the finding is about, the first being the one to show;
	// none for a changeset-level finding.
	Elements    []osmdata.Key
	Message     string
	Lon, Lat    float64
	HasLocation bool
}

// Validation is the stored outcome of validating a changeset.
type Validation struct {
	Risk     int
	Findings []Finding
	// At is when it was computed (database time); zero when the changeset
	// was never validated.
	At time.Time
}

// ScopeApproval is one review scope a changeset needs, and who approved
// it (0 while nobody has).
type ScopeApproval struct {
	Scope      string
	ApprovedBy int64
}

// Decision is a reviewer's decision: Kind is EventApproved,
// EventChangesRequested or EventRejected.
type Decision struct {
	Changeset int64
	Reviewer  int64
	Kind      osmdata.ReviewEventKind
	// Scopes are the scopes an approval counts for; none approves every
	// scope the changeset needs (an admin). Who may approve which scope is
	// the review package's check, not the store's. The event records them
	// joined with ",".
	Scopes  []string
	Comment string
}

// QueueFilter selects changesets of the review queue. Zero fields do not
// filter.
type QueueFilter struct {
	States      []osmdata.ReviewState // default: submitted
	MinRisk     int
	Rule        string // has a finding of this rule (a "reason")
	Box         *osmdata.Box
	TagKey      string // touches an element with this tag key (old or new)
	TagValue    string // … and this value, when set
	Contributor int64
	// SubmittedBefore keeps changesets waiting since before this time
	// (the age filter).
	SubmittedBefore time.Time
	// Scopes puts first the changesets needing an approval of one of these
	// scopes that nobody gave yet (a reviewer's own work); others follow.
	Scopes []string
	// OnlyScopes drops the changesets that Scopes does not match.
	OnlyScopes bool
	Limit      int // 100 when zero
}

// QueueItem is one changeset of the queue.
type QueueItem struct {
	Changeset   osmdata.Changeset
	Risk        int
	Rules       []string // the rules of its findings, sorted, once each
	Errors      int
	Warnings    int
	Assignee    int64
	Scopes      []ScopeApproval
	SubmittedAt time.Time
	Escalated   bool
}

// Reviews is the store's side of review (issue 6). Each write is one
// transaction that also writes its review event (ReviewLog).
type Reviews interface {
	// SaveValidation replaces the changeset's stored validation. A
	// submission (CloseChangeset, CloseDueChangesets) drops the one before,
	// with the earlier submission's approvals, in its own transaction:
	// reviewers decide only once the policy has validated what they see
	// and recorded the scopes it needs (it records them first).
	SaveValidation(ctx context.Context, changeset int64, v Validation) error
	// Validation returns the stored validation (zero At when none).
	Validation(ctx context.Context, changeset int64) (Validation, error)
	// SetReviewScopes records the scopes a submitted changeset needs
	// approved (computed by the review package at submit), clearing the
	// approvals of an earlier submission, and how many distinct approvers
	// it needs in all (at least 1).
	SetReviewScopes(ctx context.Context, changeset int64, scopes []string, approvalsRequired int) error
	// ReviewScopes returns the scopes a changeset needs and their approvals.
	ReviewScopes(ctx context.Context, changeset int64) ([]ScopeApproval, error)
	// Assign makes reviewer the changeset's assignee (event assigned).
	// The author cannot be assigned (ErrSelfReview); a changeset not
	// submitted, or not validated since its latest submission, is
	// ErrReviewState (CheckReviewable).
	Assign(ctx context.Context, changeset, reviewer int64) (osmdata.ReviewEvent, error)
	// Decide records a decision on a submitted changeset, in one
	// transaction with its event: ErrSelfReview when the reviewer is the
	// author, ErrReviewState when not submitted or not validated since its
	// latest submission (CheckReviewable). An approval marks its
	// scopes (every scope when Scopes is empty); the changeset becomes
	// approved when every needed scope is approved and the distinct
	// approvers reach the required number, and stays submitted otherwise.
	// Requesting changes reopens it (changes_requested); rejecting makes
	// it rejected. It returns the changeset after the decision.
	Decide(ctx context.Context, d Decision) (osmdata.Changeset, error)
	// Withdraw lets the author take back a submitted (or approved, not yet
	// merged) changeset: it reopens it for more work (the state becomes
	// changes_requested, event withdrawn by the author). ErrNotOwner for
	// another user; ErrReviewState otherwise.
	Withdraw(ctx context.Context, changeset, author int64) (osmdata.Changeset, error)
	// ReviewQueue lists changesets for reviewers, the filter's scope
	// matches first, then oldest submission first.
	ReviewQueue(ctx context.Context, f QueueFilter) ([]QueueItem, error)
	// EscalateWaiting marks every submitted changeset waiting since before
	// olderThan and not yet escalated (event escalated, actor 0) and
	// returns their ids.
	EscalateWaiting(ctx context.Context, olderThan time.Time) ([]int64, error)
	// SubscribeChangeset and UnsubscribeChangeset follow OSM's changeset
	// discussion subscriptions; Subscribers lists the user ids.
	// Commenting subscribes the commenter, as on openstreetmap.org.
	SubscribeChangeset(ctx context.Context, changeset, uid int64) error
	UnsubscribeChangeset(ctx context.Context, changeset, uid int64) error
	Subscribers(ctx context.Context, changeset int64) ([]int64, error)
	// MergedWithoutRejection counts an author's merged changesets since
	// their last rejected one (earned trust).
	MergedWithoutRejection(ctx context.Context, author int64) (int, error)
}

// CheckReviewable is what Assign and Decide require of a changeset, for
// every store to check under its lock: someone else's, submitted, and
// validated since its latest submission. Before the validation, the
// scopes a decision counts for are not known yet: an approval then could
// pass over a scope's reviewers.
func CheckReviewable(c osmdata.Changeset, validated bool, reviewer int64) error {
	if c.UID == reviewer {
		return fmt.Errorf("changeset %d is user %d's own: %w", c.ID, reviewer, ErrSelfReview)
	}
	if c.ReviewState != osmdata.ReviewSubmitted {
		return fmt.Errorf("changeset %d is %q, not submitted: %w", c.ID, c.ReviewState, ErrReviewState)
	}
	if !validated {
		return fmt.Errorf("changeset %d is being validated; decide once its findings and scopes are shown: %w", c.ID, ErrReviewState)
	}
	return nil
}

// EncodeFindingElements writes a finding's elements as JSON
// [[type, id], …], the form both backends store: findings are written in
// bulk, and an array per row does not fit PostgreSQL's unnest.
func EncodeFindingElements(keys []osmdata.Key) string {
	b := []byte{'['}
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendUint(b, uint64(k.Type), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, k.ID, 10)
		b = append(b, ']')
	}
	return string(append(b, ']'))
}

// DecodeFindingElements reads what EncodeFindingElements wrote.
func DecodeFindingElements(s string) ([]osmdata.Key, error) {
	var pairs [][2]int64
	if err := json.Unmarshal([]byte(s), &pairs); err != nil {
		return nil, fmt.Errorf("finding elements %q: %w", s, err)
	}
	keys := make([]osmdata.Key, 0, len(pairs))
	for _, p := range pairs {
		keys = append(keys, osmdata.Key{Type: osmdata.ElementType(p[0]), ID: p[1]})
	}
	return keys, nil
}

// DecisionState is the review state a decision of kind moves a changeset
// to, for every store's Decide: an approval's is ReviewApproved, reached
// only once every needed scope and enough reviewers have approved.
func DecisionState(kind osmdata.ReviewEventKind) (osmdata.ReviewState, error) {
	switch kind {
	case osmdata.EventChangesRequested:
		return osmdata.ReviewChangesRequested, nil
	case osmdata.EventRejected:
		return osmdata.ReviewRejected, nil
	case osmdata.EventApproved:
		return osmdata.ReviewApproved, nil
	}
	return "", fmt.Errorf("%q is not a decision (approved, changes_requested or rejected)", kind)
}
