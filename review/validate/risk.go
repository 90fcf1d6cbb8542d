package validate

// riskScore adds the configured weight of every rule with at least one
// finding. A rule counts once per changeset however many findings it has:
// a hundred deprecated tags in one import are one habit, not a hundred
// risks, and per-finding sums would let one noisy rule drown the
// heuristics (mass deletion, new contributor) the score exists to rank
// by. The findings' count stays visible in the report itself.
func riskScore(findings []Finding, weights map[string]int) int {
	counted := map[string]bool{}
	risk := 0
	for _, f := range findings {
		if counted[f.Rule] {
			continue
		}
		counted[f.Rule] = true
		risk += weights[f.Rule]
	}
	return risk
}
