package storage

import "context"

// AuthorStats is an optional part of a Store: what changeset heuristics
// (validation's new-contributor rule) ask about an author's record. Both
// backends implement it; a caller checks with a type assertion.
type AuthorStats interface {
	// MergedChangesetCount counts the changesets of user uid whose review
	// state is merged, in one statement (0 for an unknown user).
	MergedChangesetCount(ctx context.Context, uid int64) (int, error)
}
