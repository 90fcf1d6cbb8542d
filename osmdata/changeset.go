package osmdata

import "time"

// ReviewState is a changeset's review state (design.md): separate from
// OSM's open/closed, written as the review_state attribute, never a tag.
type ReviewState string

const (
	ReviewNone             ReviewState = "" // still open, never submitted
	ReviewSubmitted        ReviewState = "submitted"
	ReviewApproved         ReviewState = "approved"
	ReviewChangesRequested ReviewState = "changes_requested"
	ReviewRejected         ReviewState = "rejected"
	ReviewMerged           ReviewState = "merged"
	ReviewConflicted       ReviewState = "conflicted"
)

// Changeset is OSM's unit of editing.
type Changeset struct {
	ID        int64
	UID       int64
	User      string
	CreatedAt time.Time
	// ClosedAt is when the changeset closed, or, while it is open, when it
	// will close by itself.
	ClosedAt    time.Time
	Open        bool
	Tags        Tags
	NumChanges  int
	HasBox      bool
	Box         Box
	ReviewState ReviewState
	// CommentsCount and Discussion are the changeset's discussion
	// (comments_count, and <discussion> when a read asks for it with
	// include_discussion). The stores leave them zero: the OSM API fills
	// them from the review log. A nil Discussion is not written.
	CommentsCount int
	Discussion    []ChangesetComment
}

// ChangesetComment is one comment of a changeset's discussion.
type ChangesetComment struct {
	ID   int64
	Date time.Time
	// UID is 0, and User empty, for a comment of the system (a merge
	// conflict's report), written without uid and user as
	// openstreetmap.org writes an author whose data is not public.
	UID  int64
	User string
	Text string
}

// User is an account, or a contributor known from imported data.
type User struct {
	ID          int64
	DisplayName string
	CreatedAt   time.Time
}
