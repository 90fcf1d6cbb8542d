package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/geocommuns/geocommuns/osmdata"
)

// ErrStateEventKind refuses an AddReviewEvent whose kind records a move
// of the review state: only the store method that moves the state writes
// such an event, in the same transaction.
var ErrStateEventKind = errors.New("this review event kind records a change of review state, which only the change itself writes; add commented, assigned or escalated")

// CheckAddedKind is AddReviewEvent's check of ev.Kind, the same on every
// backend.
func CheckAddedKind(kind osmdata.ReviewEventKind) error {
	if !kind.KeepsState() {
		return fmt.Errorf("review event %q: %w", kind, ErrStateEventKind)
	}
	return nil
}

// PolicyApprovalComment is the comment of the approved event that
// DecideChangeset writes.
const PolicyApprovalComment = "approved by policy"

// Bounds of a conflicted event's comment: the log is read by people
// (the changeset's discussion, NATS subscribers), and the full report
// stays in MergeConflicts.
const (
	conflictSummaryItems = 5
	conflictSummaryBytes = 500
)

// ConflictSummary is the comment of a conflicted event: the report on
// one line, as "node 12: base moved from v3 to v4; way 5: uses node 7,
// which is not visible", its first few conflicts only, followed by how
// many more the report holds.
func ConflictSummary(conflicts []MergeConflict) string {
	var b strings.Builder
	for i, c := range conflicts {
		if i == conflictSummaryItems {
			fmt.Fprintf(&b, "; and %d more", len(conflicts)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		if c.Element.ID != 0 {
			fmt.Fprintf(&b, "%s: ", c.Element)
		}
		if c.Kind == ConflictBaseMoved {
			fmt.Fprintf(&b, "base moved from v%d to v%d", c.BaseVersion, c.CurrentVersion)
		} else {
			b.WriteString(c.Message)
		}
	}
	s := strings.Join(strings.Fields(b.String()), " ")
	if len(s) <= conflictSummaryBytes {
		return s
	}
	cut := conflictSummaryBytes - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// ReviewNote says who moved a changeset's review, and why: it becomes the
// review event written in the same transaction as the move.
type ReviewNote struct {
	ActorUID int64 // 0 for the system
	Scope    string
	Comment  string
}

// ReviewLog is the review event log (osmdata.ReviewEvent). Every method
// of the store that changes a review state writes its event in its own
// transaction: CloseChangeset and CloseDueChangesets (submitted, by the
// author or the system), DecideChangeset when it approves (approved, by
// the system), SetReviewState (the state's event, by note's actor),
// Merge (merged, or conflicted with the report's summary as comment).
// Event numbers are allocated under a lock held to commit, as merge_seq
// is, so commit order is Seq order and a rolled-back event leaves no gap.
type ReviewLog interface {
	// AddReviewEvent records an event that moves no state (commented,
	// assigned, escalated) on changeset ev.Changeset (ErrNotFound), and
	// returns it with Seq, Actor, State and Time filled in. A comment
	// subscribes its author to the changeset's discussion in the same
	// transaction, as on openstreetmap.org.
	AddReviewEvent(ctx context.Context, ev osmdata.ReviewEvent) (osmdata.ReviewEvent, error)
	// ReviewEvents returns up to limit events with Seq > afterSeq, in Seq
	// order: what the NATS relay publishes.
	ReviewEvents(ctx context.Context, afterSeq int64, limit int) ([]osmdata.ReviewEvent, error)
	// ChangesetReviewEvents returns every event of one changeset in Seq
	// order: its audit log and discussion.
	ChangesetReviewEvents(ctx context.Context, changeset int64) ([]osmdata.ReviewEvent, error)
	// ReviewCommentCounts counts, for each of changesets, its events of
	// one of kinds whose comment is more than white space (CommentSpace),
	// in one statement: a list of changesets shows each one's
	// comments_count without reading every log. Changesets without such
	// events, unknown ones included, are not in the map.
	ReviewCommentCounts(ctx context.Context, changesets []int64, kinds []osmdata.ReviewEventKind) (map[int64]int, error)
	// WaitReviewEvent returns the latest event Seq as soon as it is
	// greater than afterSeq, blocking until an event commits (in this
	// process or, on PostgreSQL, any other) or ctx ends; a missed
	// notification delays it by at most a short fallback poll.
	WaitReviewEvent(ctx context.Context, afterSeq int64) (int64, error)
}

// SubscribesActor says whether an added event subscribes its actor to the
// changeset's discussion: commenting does, as on openstreetmap.org.
func SubscribesActor(ev osmdata.ReviewEvent) bool {
	return ev.Kind == osmdata.EventCommented && ev.ActorUID != 0
}
