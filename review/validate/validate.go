// Package validate checks a changeset on the server, as iD's and JOSM's
// validators do on the client: each rule is a small named unit with a
// severity, and only what the changeset introduced is reported. A rule
// runs on the neighbourhood of the touched elements before and after the
// change; a finding present before is left alone.
package validate

import (
	"github.com/geocommuns/geocommuns/osmdata"
)

// Severity says what a finding does to a changeset.
type Severity string

const (
	// Error blocks the merge.
	Error Severity = "error"
	// Warning informs reviewers and counts toward the risk score.
	Warning Severity = "warning"
)

// Finding is one problem a rule found.
type Finding struct {
	Rule     string
	Severity Severity
	// Elements the finding is about, the first being the one to show;
	// none for a finding about the whole changeset (a heuristic).
	Elements []osmdata.Key
	Message  string
	// Lon and Lat locate the problem on the map when HasLocation.
	Lon, Lat    float64
	HasLocation bool
}

// Snapshot is a neighbourhood of the dataset at one moment: the touched
// elements and what surrounds them (the nodes of touched ways, the ways
// using touched nodes and their nodes, the ways near a touched way for
// crossing and almost-junction rules, the relations using touched
// elements and their members as far as loaded). Deleted elements are
// absent. An element referred to but not loaded is simply missing: rules
// skip what they cannot see rather than report it.
type Snapshot struct {
	Nodes     map[int64]*osmdata.Element
	Ways      map[int64]*osmdata.Element
	Relations map[int64]*osmdata.Element
}

// Change is the net effect of a changeset on one element.
type Change struct {
	// Old is the version before (nil for a created element); New the
	// version after (nil for a deleted one).
	Old, New *osmdata.Element
}

// Rules are configured in the `rules:` section of the review
// configuration file (YAML), one entry per rule name: `enabled`,
// `severity`, `weight` (its share of the risk score) are the engine's and
// apply to every rule; any other key sets a field of the rule's own value
// (a rule is a struct whose tunable thresholds are exported fields with
// yaml tags, decoded in place over its defaults). A rule sets Severity on
// its findings to its default; the engine replaces it with the configured
// one.
//
// ElementRule checks the touched elements of one snapshot. The engine
// calls it on Before and on After with the same touched keys (those
// present in each) and keeps the After findings that Before did not
// have, identified by rule and elements.
type ElementRule interface {
	Name() string
	Check(snap *Snapshot, touched []osmdata.Key) []Finding
}

// ChangesetRule looks at the changeset as a whole (OSMCha's heuristics:
// possible import, mass deletion, new contributor, …).
type ChangesetRule interface {
	Name() string
	CheckChangeset(in *Input) []Finding
}

// Input is everything validation of one changeset needs.
type Input struct {
	Changeset osmdata.Changeset
	// Changes in element order (nodes, ways, relations, each by id).
	Changes []Change
	// Before and After are the neighbourhood without and with the
	// changeset (and with the author's stacked parents in both).
	Before, After *Snapshot
	// AuthorMergedChangesets counts the author's merged changesets
	// before this one (the new-contributor heuristic).
	AuthorMergedChangesets int
}

// Report is the outcome of validating one changeset.
type Report struct {
	Findings []Finding
	// Risk is the changeset's risk score: the sum of the weights of its
	// findings' rules (configuration), 0 when clean.
	Risk int
}

// HasErrors says whether any finding blocks the merge.
func (r Report) HasErrors() bool {
	for _, f := range r.Findings {
		if f.Severity == Error {
			return true
		}
	}
	return false
}

// HasWarnings says whether any finding is a warning.
func (r Report) HasWarnings() bool {
	for _, f := range r.Findings {
		if f.Severity == Warning {
			return true
		}
	}
	return false
}
