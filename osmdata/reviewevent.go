package osmdata

import "time"

// ReviewEventKind names what happened in a changeset's review.
type ReviewEventKind string

const (
	EventSubmitted        ReviewEventKind = "submitted"         // closed by its author or the sweeper
	EventApproved         ReviewEventKind = "approved"          // by a reviewer (for a scope) or the policy
	EventChangesRequested ReviewEventKind = "changes_requested" // reopened for the author to fix
	EventRejected         ReviewEventKind = "rejected"
	EventMerged           ReviewEventKind = "merged"
	EventConflicted       ReviewEventKind = "conflicted" // reopened by a failed merge
	EventCommented        ReviewEventKind = "commented"  // a discussion comment, no decision
	EventWithdrawn        ReviewEventKind = "withdrawn"  // by its author
	EventAssigned         ReviewEventKind = "assigned"   // a reviewer took it
	EventEscalated        ReviewEventKind = "escalated"  // waited longer than the policy allows
	// EventSplit: a partial approval moved the elements it left out to a
	// new changeset of the author; the comment of the event on each side
	// names the other changeset ("changeset 42").
	EventSplit ReviewEventKind = "split"
)

// ReviewEvent is one entry of the review log: every change of a
// changeset's review state, every decision, assignment and comment. The
// log is public (the audit log), feeds the review subjects on NATS, and
// its comments are the changeset's discussion.
type ReviewEvent struct {
	// Seq numbers events gaplessly in commit order, apart from merge_seq
	// (design.md: feeds of data never skip numbers).
	Seq       int64
	Changeset int64
	Kind      ReviewEventKind
	// ActorUID is who acted; 0 is the system (the sweeper, the policy, the
	// merge job). Actor is the account's display name.
	ActorUID int64
	Actor    string
	// Scope is the review scope a decision counts for ("" for all).
	Scope   string
	Comment string
	// State is the changeset's review state after the event.
	State ReviewState
	Time  time.Time
}

// StateEvent is the event that records a move to state: the state's own
// word (submitted, approved, …).
func StateEvent(state ReviewState) ReviewEventKind { return ReviewEventKind(state) }

// KeepsState reports whether an event of kind k leaves the review state
// as it is (commented, assigned, escalated, split). Every other kind is written
// by the store method that moves the state, in the same transaction, so
// that the log and the changesets never disagree.
func (k ReviewEventKind) KeepsState() bool {
	switch k {
	case EventCommented, EventAssigned, EventEscalated, EventSplit:
		return true
	}
	return false
}
