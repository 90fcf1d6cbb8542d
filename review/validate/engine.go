package validate

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/geocommuns/geocommuns/osmdata"
)

// Validator runs the enabled rules of one configuration. It keeps no
// state between changesets, so one Validator serves concurrent calls as
// long as its rules do (the shipped ones only read their settings): a
// rule must allow that anyway, since Validate runs the element rules
// side by side.
type Validator struct {
	elements   []configuredElement
	changesets []configuredChangeset
	weights    map[string]int
}

type configuredElement struct {
	rule     ElementRule
	severity Severity
}

type configuredChangeset struct {
	rule     ChangesetRule
	severity Severity
}

// New builds a Validator from a configuration (Default(), LoadConfig, or
// one assembled in code). Configurations decoded from YAML have already
// been checked key by key; New checks again what code may get wrong.
func New(cfg Config) (*Validator, error) {
	v := &Validator{weights: map[string]int{}}
	seen := map[string]bool{}
	for i, rc := range cfg.Rules {
		if (rc.Element == nil) == (rc.Changeset == nil) {
			return nil, fmt.Errorf("validate: rule %d of the configuration must be one ElementRule or one ChangesetRule", i)
		}
		name := rc.Name()
		if name == "" {
			return nil, fmt.Errorf("validate: rule %d of the configuration has an empty name", i)
		}
		if seen[name] {
			return nil, fmt.Errorf("validate: rule %q is configured twice", name)
		}
		seen[name] = true
		if rc.Severity != "" {
			if err := checkSeverity(rc.Severity); err != nil {
				return nil, fmt.Errorf("validate: rule %q: %w", name, err)
			}
		}
		if rc.Weight < 0 {
			return nil, fmt.Errorf("validate: rule %q: weight %d is negative", name, rc.Weight)
		}
		if err := checkRuleSettings(&rc); err != nil {
			return nil, fmt.Errorf("validate: rule %q: %w", name, err)
		}
		if !rc.Enabled {
			continue
		}
		v.weights[name] = rc.Weight
		if rc.Element != nil {
			v.elements = append(v.elements, configuredElement{rc.Element, rc.Severity})
		} else {
			v.changesets = append(v.changesets, configuredChangeset{rc.Changeset, rc.Severity})
		}
	}
	return v, nil
}

// Validate checks one changeset. Element rules report only what the
// changeset introduced: a finding of the After snapshot counts as new
// unless the Before snapshot has one of the same rule about the same
// elements. Where After has more findings of one rule and elements than
// Before (a second deprecated tag on an element that had one), those whose
// message Before did not have are the new ones.
func (v *Validator) Validate(in *Input) Report {
	touched := touchedKeys(in.Changes)
	before, after := snapshotOrEmpty(in.Before), snapshotOrEmpty(in.After)
	afterTouched := presentIn(after, touched)
	beforeTouched := presentIn(before, touched)
	// The element rules only read the snapshots, and each takes a good
	// share of a large changeset's time (the geometry rules most): they
	// run side by side, and their findings are gathered in the
	// configuration's order, so the report is the same as run in turn.
	perRule := make([][]Finding, len(v.elements))
	next := make(chan int, len(v.elements))
	for i := range v.elements {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(v.elements)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				perRule[i] = v.elements[i].introduced(before, after, beforeTouched, afterTouched)
			}
		}()
	}
	var findings []Finding
	for _, r := range v.changesets {
		name := r.rule.Name()
		for _, f := range r.rule.CheckChangeset(in) {
			findings = append(findings, settle(f, name, r.severity))
		}
	}
	wg.Wait()
	var ruleFindings []Finding
	for _, fs := range perRule {
		ruleFindings = append(ruleFindings, fs...)
	}
	findings = append(ruleFindings, findings...)
	sortFindings(findings)
	return Report{Findings: findings, Risk: riskScore(findings, v.weights)}
}

// introduced runs the rule on After and, when it finds something, on
// Before, and returns the findings After has that Before has not, settled.
func (r configuredElement) introduced(before, after *Snapshot, beforeTouched, afterTouched []osmdata.Key) []Finding {
	name := r.rule.Name()
	found := r.rule.Check(after, afterTouched)
	if len(found) == 0 {
		return nil
	}
	var existing []Finding
	if len(beforeTouched) > 0 {
		existing = r.rule.Check(before, beforeTouched)
	}
	out := newFindings(found, existing)
	for i, f := range out {
		out[i] = settle(f, name, r.severity)
	}
	return out
}

// settle gives a finding the name of the rule that made it, whatever the
// rule wrote (the risk score and the configuration go by that name), and
// the configured severity.
func settle(f Finding, rule string, configured Severity) Finding {
	f.Rule = rule
	switch {
	case configured != "":
		f.Severity = configured
	case f.Severity == "":
		f.Severity = Warning
	}
	return f
}

// touchedKeys lists the elements the changeset created, modified or
// deleted, in element order.
func touchedKeys(changes []Change) []osmdata.Key {
	keys := make([]osmdata.Key, 0, len(changes))
	seen := make(map[osmdata.Key]bool, len(changes))
	for _, c := range changes {
		e := c.New
		if e == nil {
			e = c.Old
		}
		if e == nil || seen[e.Key()] {
			continue
		}
		seen[e.Key()] = true
		keys = append(keys, e.Key())
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Less(keys[j]) })
	return keys
}

func snapshotOrEmpty(s *Snapshot) *Snapshot {
	if s == nil {
		return &Snapshot{}
	}
	return s
}

// presentIn keeps the keys whose element the snapshot holds: a created
// element is absent from Before, a deleted one from After.
func presentIn(s *Snapshot, keys []osmdata.Key) []osmdata.Key {
	var out []osmdata.Key
	for _, k := range keys {
		if s.Element(k) != nil {
			out = append(out, k)
		}
	}
	return out
}

// Element returns the element of the snapshot with key k, nil when the
// snapshot does not hold it.
func (s *Snapshot) Element(k osmdata.Key) *osmdata.Element {
	var m map[int64]*osmdata.Element
	switch k.Type {
	case osmdata.Node:
		m = s.Nodes
	case osmdata.Way:
		m = s.Ways
	case osmdata.Relation:
		m = s.Relations
	}
	return m[k.ID]
}

// identity is what makes two findings the same problem: the rule and the
// elements, in order.
func identity(f Finding) string {
	var b strings.Builder
	b.WriteString(f.Rule)
	for _, k := range f.Elements {
		fmt.Fprintf(&b, "|%d/%d", k.Type, k.ID)
	}
	return b.String()
}

// newFindings returns the findings of after that before does not have,
// by identity. When After has more findings of one identity than Before,
// the surplus is reported, taking first those whose message Before did
// not have.
func newFindings(after, before []Finding) []Finding {
	type group struct {
		before int
		msgs   map[string]int
	}
	groups := map[string]*group{}
	for _, f := range before {
		id := identity(f)
		g := groups[id]
		if g == nil {
			g = &group{msgs: map[string]int{}}
			groups[id] = g
		}
		g.before++
		g.msgs[f.Message]++
	}
	byID := map[string][]int{}
	var order []string
	for i, f := range after {
		id := identity(f)
		if _, ok := byID[id]; !ok {
			order = append(order, id)
		}
		byID[id] = append(byID[id], i)
	}
	var keep []int
	for _, id := range order {
		idx := byID[id]
		g := groups[id]
		if g == nil {
			keep = append(keep, idx...)
			continue
		}
		surplus := len(idx) - g.before
		if surplus <= 0 {
			continue
		}
		// Findings with a message Before had are the old problems; the
		// rest, in the rule's order, are the surplus.
		var fresh, known []int
		for _, i := range idx {
			if g.msgs[after[i].Message] > 0 {
				g.msgs[after[i].Message]--
				known = append(known, i)
			} else {
				fresh = append(fresh, i)
			}
		}
		candidates := append(fresh, known...)
		keep = append(keep, candidates[:surplus]...)
	}
	sort.Ints(keep)
	out := make([]Finding, len(keep))
	for j, i := range keep {
		out[j] = after[i]
	}
	return out
}

// severityRank orders errors before warnings, anything unknown last.
func severityRank(s Severity) int {
	switch s {
	case Error:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// sortFindings orders findings by severity, rule, first element, then
// message and the remaining elements, so equal inputs give equal reports.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if ra, rb := severityRank(a.Severity), severityRank(b.Severity); ra != rb {
			return ra < rb
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		if c := compareKeys(a.Elements, b.Elements); c != 0 {
			return c < 0
		}
		return a.Message < b.Message
	})
}

// compareKeys compares element lists element by element; a list without
// elements (a changeset finding) sorts first.
func compareKeys(a, b []osmdata.Key) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		switch {
		case a[i].Less(b[i]):
			return -1
		case b[i].Less(a[i]):
			return 1
		}
	}
	return len(a) - len(b)
}
