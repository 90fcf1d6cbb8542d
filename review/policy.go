// Package review decides what becomes of submitted changesets and runs
// the merge job that makes approved ones authoritative. Review rules,
// risk and the reviewers' queue build on the Policy hook.
package review

import (
	"context"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Policy decides, once per submission, whether a changeset merges without
// a reviewer, is rejected at once, or waits in the reviewers' queue (the
// zero Verdict). author is the zero Account when the author has no
// account (a contributor known only from imported data).
type Policy interface {
	Decide(ctx context.Context, cs osmdata.Changeset, author storage.Account) (Verdict, error)
}

// Verdict is a policy's decision on one submission.
type Verdict struct {
	Approve bool
	Reject  bool
	// Comment says why, in the review event.
	Comment string
}

// MergeChecker is a Policy that looks at an approved changeset once more
// just before it merges (Gate validates it again); a changeset it does
// not pass becomes conflicted, reopened for its author with the reason.
type MergeChecker interface {
	BeforeMerge(ctx context.Context, id int64) (ok bool, reason string, err error)
}

// Escalator is a Policy that escalates changesets waiting too long; the
// merge job calls it every EscalationPeriod.
type Escalator interface {
	Escalate(ctx context.Context, now time.Time) ([]int64, error)
}

// EscalationPeriod is how often the merge job looks for changesets
// waiting too long: escalation thresholds are hours, not seconds.
const EscalationPeriod = time.Minute

// TrustedAuthors approves every changeset of a trusted contributor
// (`geocommuns user add --trusted`) and queues the others, without
// validation: the policy of tests that are about merging, not reviewing.
type TrustedAuthors struct{}

// Decide approves the changesets of trusted accounts.
func (TrustedAuthors) Decide(_ context.Context, _ osmdata.Changeset, author storage.Account) (Verdict, error) {
	return Verdict{Approve: author.Trusted, Comment: "approved by policy: trusted contributor"}, nil
}
