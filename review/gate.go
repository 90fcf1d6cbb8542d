package review

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review/validate"
	"github.com/geocommuns/geocommuns/storage"
)

// Gate is the configured review policy: each submission is validated on
// the server, its findings and risk stored, the scopes it needs
// recorded, and then it is rejected (errors, when the policy says so),
// approved (a trusted contributor with a clean changeset) or queued for
// reviewers. An approved changeset is validated again just before it
// merges, against the data as it is then: an error found then blocks the
// merge.
type Gate struct {
	store     Store
	config    *Config
	validator *validate.Validator
}

// NewGate returns the policy of config over store.
func NewGate(store Store, config *Config) (*Gate, error) {
	rules := validate.Default()
	if !config.Rules.IsZero() {
		var err error
		if rules, err = validate.DecodeRules(&config.Rules); err != nil {
			return nil, fmt.Errorf("review configuration: %w", err)
		}
	}
	v, err := validate.New(rules)
	if err != nil {
		return nil, fmt.Errorf("review configuration: %w", err)
	}
	return &Gate{store: store, config: config, validator: v}, nil
}

// Decide validates a submission, records what it found and the scopes it
// needs, and decides.
func (g *Gate) Decide(ctx context.Context, cs osmdata.Changeset, author storage.Account) (Verdict, error) {
	in, report, err := g.validate(ctx, cs.ID)
	if err != nil {
		return Verdict{}, err
	}
	// The scopes first: storing the validation is what lets reviewers
	// decide (storage.CheckReviewable), and their approvals count against
	// the scopes recorded by then.
	if err := g.store.SetReviewScopes(ctx, cs.ID, g.config.ScopesFor(in), g.config.Policy.ApprovalsRequired); err != nil {
		return Verdict{}, fmt.Errorf("scopes of changeset %d: %w", cs.ID, err)
	}
	if err := g.save(ctx, cs.ID, report); err != nil {
		return Verdict{}, err
	}
	if report.HasErrors() {
		if g.config.Policy.AutoRejectErrors {
			return Verdict{Reject: true, Comment: "rejected by policy: " + summary(report, validate.Error)}, nil
		}
		return Verdict{}, nil
	}
	if !*g.config.Policy.AutoApproveTrusted {
		return Verdict{}, nil
	}
	despite := g.config.Policy.AutoApproveDespite
	for _, f := range report.Findings {
		if !slices.Contains(despite, AnyRule) && !slices.Contains(despite, f.Rule) {
			return Verdict{}, nil
		}
	}
	trusted, err := g.trusted(ctx, author)
	if err != nil {
		return Verdict{}, err
	}
	return Verdict{Approve: trusted, Comment: "approved by policy: trusted contributor"}, nil
}

// trusted says whether the author is trusted: granted by an admin, or
// earned by enough merged changesets since their last rejection.
func (g *Gate) trusted(ctx context.Context, author storage.Account) (bool, error) {
	if author.Trusted {
		return true, nil
	}
	need := g.config.Policy.EarnedTrustAfter
	if need <= 0 || author.ID == 0 {
		return false, nil
	}
	n, err := g.store.MergedWithoutRejection(ctx, author.ID)
	if err != nil {
		return false, fmt.Errorf("record of contributor %d: %w", author.ID, err)
	}
	return n >= need, nil
}

// BeforeMerge validates an approved changeset again; ok is false, with
// the reason, when an error now blocks it.
func (g *Gate) BeforeMerge(ctx context.Context, id int64) (ok bool, reason string, err error) {
	_, report, err := g.validate(ctx, id)
	if err != nil {
		return false, "", err
	}
	if err := g.save(ctx, id, report); err != nil {
		return false, "", err
	}
	if report.HasErrors() {
		return false, "merge blocked by validation: " + summary(report, validate.Error), nil
	}
	return true, "", nil
}

// validate runs the rules on changeset id.
func (g *Gate) validate(ctx context.Context, id int64) (*validate.Input, validate.Report, error) {
	in, err := LoadInput(ctx, g.store, id)
	if err != nil {
		return nil, validate.Report{}, fmt.Errorf("validation input of changeset %d: %w", id, err)
	}
	return in, g.validator.Validate(in), nil
}

// save stores a validation report for reviewers to see.
func (g *Gate) save(ctx context.Context, id int64, report validate.Report) error {
	if err := g.store.SaveValidation(ctx, id, storedValidation(report)); err != nil {
		return fmt.Errorf("store validation of changeset %d: %w", id, err)
	}
	return nil
}

func storedValidation(r validate.Report) storage.Validation {
	v := storage.Validation{Risk: r.Risk, Findings: make([]storage.Finding, len(r.Findings))}
	for i, f := range r.Findings {
		v.Findings[i] = storage.Finding{Rule: f.Rule, Severity: string(f.Severity), Elements: f.Elements,
			Message: f.Message, Lon: f.Lon, Lat: f.Lat, HasLocation: f.HasLocation}
	}
	return v
}

// maxSummary findings are named in an event's comment; the review shows
// them all.
const maxSummary = 5

// summary names the findings of one severity for an event's comment.
func summary(r validate.Report, sev validate.Severity) string {
	var parts []string
	n := 0
	for _, f := range r.Findings {
		if f.Severity != sev {
			continue
		}
		n++
		if len(parts) < maxSummary {
			parts = append(parts, f.Message)
		}
	}
	if n > len(parts) {
		parts = append(parts, fmt.Sprintf("and %d more", n-len(parts)))
	}
	return strings.Join(parts, "; ")
}

// Escalate marks the changesets waiting longer than the policy's
// escalate_after (none when it is 0), each once, with an escalated event
// that the review subjects carry to whoever watches the queue.
func (g *Gate) Escalate(ctx context.Context, now time.Time) ([]int64, error) {
	after := time.Duration(g.config.Policy.EscalateAfter)
	if after <= 0 {
		return nil, nil
	}
	ids, err := g.store.EscalateWaiting(ctx, now.Add(-after))
	if err != nil {
		return nil, fmt.Errorf("escalate changesets waiting over %s: %w", after, err)
	}
	return ids, nil
}
