// Package review decides what becomes of submitted changesets and runs
// the merge job that makes approved ones authoritative. Review rules,
// risk and the reviewers' queue build on the Policy hook.
package review

import (
	"context"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Policy decides, once per submission, whether a changeset merges without
// a reviewer. A changeset it does not approve stays submitted, in the
// reviewers' queue. author is the zero Account when the author has no
// account (a contributor known only from imported data).
type Policy interface {
	Approve(ctx context.Context, cs osmdata.Changeset, author storage.Account) (bool, error)
}

// TrustedAuthors approves every changeset of a trusted contributor
// (`geocommuns user add --trusted`) and queues the others: the policy
// until validation rules and risk scores exist.
type TrustedAuthors struct{}

// Approve approves the changesets of trusted accounts.
func (TrustedAuthors) Approve(_ context.Context, _ osmdata.Changeset, author storage.Account) (bool, error) {
	return author.Trusted, nil
}
