package validate

import (
	"fmt"
	"strings"

	"github.com/geocommuns/geocommuns/osmdata"
)

// HeuristicRules returns OSMCha's changeset heuristics (the osmcha Python
// library, osmcha/changeset.py, Analyse) and a few of iD's upload checks,
// with OSMCha's default thresholds.
func HeuristicRules() []ChangesetRule {
	return []ChangesetRule{
		NewPossibleImport(),
		NewMassModification(),
		NewMassDeletion(),
		NewNewContributor(),
		NewLargeBBox(),
		NewNoComment(),
		NewNoSource(),
		NewSuspiciousComment(),
		NewSuspiciousSource(),
	}
}

// actionCounts counts a changeset's net creations, modifications and
// deletions. An element created and deleted in the same changeset counts
// as a deletion, since its final version is a deleted one (design.md).
type actionCounts struct{ create, modify, delete, total int }

func countActions(changes []Change) actionCounts {
	var c actionCounts
	for _, ch := range changes {
		switch {
		case ch.New == nil || !ch.New.Visible:
			c.delete++
		case ch.Old == nil:
			c.create++
		default:
			c.modify++
		}
	}
	c.total = len(changes)
	return c
}

// share is n/total, 0 for an empty changeset.
func (c actionCounts) share(n int) float64 {
	if c.total == 0 {
		return 0
	}
	return float64(n) / float64(c.total)
}

func checkShare(key string, v float64) error {
	if v < 0 || v > 1 {
		return &SettingError{Key: key, Err: fmt.Errorf("%g is not a share between 0 and 1", v)}
	}
	return nil
}

func checkNotNegative(key string, v int) error {
	if v < 0 {
		return &SettingError{Key: key, Err: fmt.Errorf("%d is negative", v)}
	}
	return nil
}

// PossibleImport flags a changeset that is mostly creations, many of
// them: OSMCha's "possible import" (more than 70% creations and more than
// 200). OSMCha also requires a "powerful editor" (JOSM, QGIS, …) below
// 1,000 creations; editors here are not trusted to say, so it does not.
type PossibleImport struct {
	Share        float64 `yaml:"share"`
	MinCreations int     `yaml:"creations"`
}

func NewPossibleImport() *PossibleImport {
	return &PossibleImport{Share: 0.7, MinCreations: 200}
}

func (*PossibleImport) Name() string              { return "possible_import" }
func (*PossibleImport) DefaultSeverity() Severity { return Warning }
func (*PossibleImport) DefaultWeight() int        { return 3 }

func (r *PossibleImport) CheckSettings() error {
	if err := checkShare("share", r.Share); err != nil {
		return err
	}
	return checkNotNegative("creations", r.MinCreations)
}

func (r *PossibleImport) CheckChangeset(in *Input) []Finding {
	c := countActions(in.Changes)
	if c.share(c.create) > r.Share && c.create > r.MinCreations {
		return []Finding{{Rule: r.Name(), Severity: Warning, Message: fmt.Sprintf(
			"possible import: %d of %d changes create elements (over %s and over %d)",
			c.create, c.total, percent(r.Share), r.MinCreations)}}
	}
	return nil
}

// MassModification flags OSMCha's "mass modification": more than 70%
// modifications and more than 200.
type MassModification struct {
	Share            float64 `yaml:"share"`
	MinModifications int     `yaml:"modifications"`
}

func NewMassModification() *MassModification {
	return &MassModification{Share: 0.7, MinModifications: 200}
}

func (*MassModification) Name() string              { return "mass_modification" }
func (*MassModification) DefaultSeverity() Severity { return Warning }
func (*MassModification) DefaultWeight() int        { return 3 }

func (r *MassModification) CheckSettings() error {
	if err := checkShare("share", r.Share); err != nil {
		return err
	}
	return checkNotNegative("modifications", r.MinModifications)
}

func (r *MassModification) CheckChangeset(in *Input) []Finding {
	c := countActions(in.Changes)
	if c.share(c.modify) > r.Share && c.modify > r.MinModifications {
		return []Finding{{Rule: r.Name(), Severity: Warning, Message: fmt.Sprintf(
			"mass modification: %d of %d changes modify elements (over %s and over %d)",
			c.modify, c.total, percent(r.Share), r.MinModifications)}}
	}
	return nil
}

// MassDeletion flags OSMCha's "mass deletion": more than 70% deletions
// and more than 30, or more than 1,000 deletions whatever their share.
type MassDeletion struct {
	Share         float64 `yaml:"share"`
	MinDeletions  int     `yaml:"deletions"`
	AnyShareAbove int     `yaml:"deletions_any_share"`
}

func NewMassDeletion() *MassDeletion {
	return &MassDeletion{Share: 0.7, MinDeletions: 30, AnyShareAbove: 1000}
}

func (*MassDeletion) Name() string              { return "mass_deletion" }
func (*MassDeletion) DefaultSeverity() Severity { return Warning }
func (*MassDeletion) DefaultWeight() int        { return 5 }

func (r *MassDeletion) CheckSettings() error {
	if err := checkShare("share", r.Share); err != nil {
		return err
	}
	if err := checkNotNegative("deletions", r.MinDeletions); err != nil {
		return err
	}
	return checkNotNegative("deletions_any_share", r.AnyShareAbove)
}

func (r *MassDeletion) CheckChangeset(in *Input) []Finding {
	c := countActions(in.Changes)
	switch {
	case c.share(c.delete) > r.Share && c.delete > r.MinDeletions:
		return []Finding{{Rule: r.Name(), Severity: Warning, Message: fmt.Sprintf(
			"mass deletion: %d of %d changes delete elements (over %s and over %d)",
			c.delete, c.total, percent(r.Share), r.MinDeletions)}}
	case c.delete > r.AnyShareAbove:
		return []Finding{{Rule: r.Name(), Severity: Warning, Message: fmt.Sprintf(
			"mass deletion: %d elements deleted (over %d)", c.delete, r.AnyShareAbove)}}
	}
	return nil
}

// NewContributor flags a changeset whose author has few merged
// changesets here. OSMCha calls "new mapper" an account with at most 5
// changesets on openstreetmap.org (or at most 30 over at most 5 mapping
// days); a reviewed dataset wants a longer look, so the default is 50.
type NewContributor struct {
	MaxMergedChangesets int `yaml:"max_merged_changesets"`
}

func NewNewContributor() *NewContributor { return &NewContributor{MaxMergedChangesets: 50} }

func (*NewContributor) Name() string              { return "new_contributor" }
func (*NewContributor) DefaultSeverity() Severity { return Warning }
func (*NewContributor) DefaultWeight() int        { return 2 }

func (r *NewContributor) CheckSettings() error {
	return checkNotNegative("max_merged_changesets", r.MaxMergedChangesets)
}

func (r *NewContributor) CheckChangeset(in *Input) []Finding {
	if in.AuthorMergedChangesets <= r.MaxMergedChangesets {
		return []Finding{{Rule: r.Name(), Severity: Warning, Message: fmt.Sprintf(
			"new contributor: %d merged changesets before this one (at most %d)",
			in.AuthorMergedChangesets, r.MaxMergedChangesets)}}
	}
	return nil
}

// LargeBBox flags a changeset whose bounding box covers more than
// MaxSquareDegrees: usually edits in two distant places uploaded
// together, which reviewers following an area then see and cannot check.
// The osmcha library raises no such flag; OSMCha leaves it to its "BBox
// size bound" filter (osmcha-django's area_lt, in square degrees), and
// its changeset map struggles above 1 square degree
// (OSMCha/osmcha-frontend#651). 1 square degree is about 110 km × 80 km
// at Andorra's latitude. The box is the changeset's; one without a box
// (only relations changed) is measured on the nodes it touched.
type LargeBBox struct {
	MaxSquareDegrees float64 `yaml:"max_square_degrees"`
}

func NewLargeBBox() *LargeBBox { return &LargeBBox{MaxSquareDegrees: 1} }

func (*LargeBBox) Name() string              { return "large_bbox" }
func (*LargeBBox) DefaultSeverity() Severity { return Warning }
func (*LargeBBox) DefaultWeight() int        { return 2 }

func (r *LargeBBox) CheckSettings() error {
	if r.MaxSquareDegrees <= 0 {
		return &SettingError{Key: "max_square_degrees", Err: fmt.Errorf("%g is not a positive area", r.MaxSquareDegrees)}
	}
	return nil
}

func (r *LargeBBox) CheckChangeset(in *Input) []Finding {
	box, ok := in.Changeset.Box, in.Changeset.HasBox
	if !ok {
		box, ok = nodesBox(in.Changes)
	}
	if !ok {
		return nil
	}
	area := box.AreaDegrees()
	if area <= r.MaxSquareDegrees {
		return nil
	}
	f := Finding{Rule: r.Name(), Severity: Warning, Message: fmt.Sprintf(
		"the changeset's bounding box covers %.2f square degrees (more than %g)", area, r.MaxSquareDegrees)}
	f.Lon = osmdata.FixedToDegrees(box.MinLon) + osmdata.FixedToDegrees(box.MaxLon-box.MinLon)/2
	f.Lat = osmdata.FixedToDegrees(box.MinLat) + osmdata.FixedToDegrees(box.MaxLat-box.MinLat)/2
	f.HasLocation = true
	return []Finding{f}
}

// nodesBox is the box of every position a changed node had or has.
func nodesBox(changes []Change) (osmdata.Box, bool) {
	var box osmdata.Box
	found := false
	add := func(e *osmdata.Element) {
		if e == nil || e.Type != osmdata.Node {
			return
		}
		if !found {
			box = osmdata.Box{MinLat: e.Lat, MaxLat: e.Lat, MinLon: e.Lon, MaxLon: e.Lon}
			found = true
			return
		}
		box.MinLat, box.MaxLat = min(box.MinLat, e.Lat), max(box.MaxLat, e.Lat)
		box.MinLon, box.MaxLon = min(box.MinLon, e.Lon), max(box.MaxLon, e.Lon)
	}
	for _, c := range changes {
		add(c.Old)
		if c.New != nil && c.New.Visible {
			add(c.New)
		}
	}
	return box, found
}

// NoComment flags a changeset without a comment (iD warns before upload;
// reviewers have to guess the intent).
type NoComment struct {
	Keys []string `yaml:"keys"`
}

func NewNoComment() *NoComment { return &NoComment{Keys: []string{"comment"}} }

func (*NoComment) Name() string              { return "no_comment" }
func (*NoComment) DefaultSeverity() Severity { return Warning }
func (*NoComment) DefaultWeight() int        { return 1 }

func (r *NoComment) CheckChangeset(in *Input) []Finding {
	if anyTagSet(in.Changeset.Tags, r.Keys) {
		return nil
	}
	return []Finding{{Rule: r.Name(), Severity: Warning, Message: "the changeset has no comment (" + strings.Join(r.Keys, ", ") + ")"}}
}

// NoSource flags a changeset that says nothing of where its data comes
// from: neither source nor imagery_used, the two fields OSMCha reads for
// it (iD fills imagery_used by itself).
type NoSource struct {
	Keys []string `yaml:"keys"`
}

func NewNoSource() *NoSource { return &NoSource{Keys: []string{"source", "imagery_used"}} }

func (*NoSource) Name() string              { return "no_source" }
func (*NoSource) DefaultSeverity() Severity { return Warning }
func (*NoSource) DefaultWeight() int        { return 1 }

func (r *NoSource) CheckChangeset(in *Input) []Finding {
	if anyTagSet(in.Changeset.Tags, r.Keys) {
		return nil
	}
	return []Finding{{Rule: r.Name(), Severity: Warning, Message: "the changeset names no source (" + strings.Join(r.Keys, ", ") + ")"}}
}

func anyTagSet(tags osmdata.Tags, keys []string) bool {
	for _, k := range keys {
		if v, ok := tags.Get(k); ok && strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

// SuspiciousComment flags OSMCha's "suspect word" in the changeset
// comment and hashtags: a word that starts with a listed one ("vandal"
// catches "vandalism"), unless it starts with an excluded one
// ("important" is not "import"). The default list is a subset of OSMCha's
// suspect_words.yaml (common), with its exclusions.
type SuspiciousComment struct {
	Keys     []string `yaml:"keys"`
	Words    []string `yaml:"words"`
	Excluded []string `yaml:"excluded"`
}

func NewSuspiciousComment() *SuspiciousComment {
	return &SuspiciousComment{
		Keys: []string{"comment", "hashtags"},
		Words: []string{
			"import", "reimport", "re-import", "pokemon", "mess", "shit", "crap",
			"haha", "jaja", "vandal", "nonsense", "fuck", "xxx", "destroy", "geofiction", "test",
		},
		Excluded: []string{"important", "importante"},
	}
}

func (*SuspiciousComment) Name() string              { return "suspicious_comment" }
func (*SuspiciousComment) DefaultSeverity() Severity { return Warning }
func (*SuspiciousComment) DefaultWeight() int        { return 3 }

func (r *SuspiciousComment) CheckChangeset(in *Input) []Finding {
	for _, key := range r.Keys {
		text, ok := in.Changeset.Tags.Get(key)
		if !ok {
			continue
		}
		for _, w := range strings.Fields(strings.ToLower(text)) {
			if hasAnyPrefix(w, r.Excluded) {
				continue
			}
			if p, ok := firstPrefix(w, r.Words); ok {
				return []Finding{{Rule: r.Name(), Severity: Warning, Message: fmt.Sprintf(
					"the changeset's %s has the suspicious word %q (%q)", key, w, p)}}
			}
		}
	}
	return nil
}

func hasAnyPrefix(w string, prefixes []string) bool {
	_, ok := firstPrefix(w, prefixes)
	return ok
}

func firstPrefix(w string, prefixes []string) (string, bool) {
	for _, p := range prefixes {
		if p != "" && strings.HasPrefix(w, strings.ToLower(p)) {
			return p, true
		}
	}
	return "", false
}

// SuspiciousSource flags a source or imagery the OSM licence forbids
// copying from (OSMCha's "sources" list: Google, Yandex, …), matched as a
// substring without case. OSMCha's one exception, Yandex Panoramas (whose
// use is allowed), is kept as a configurable list.
type SuspiciousSource struct {
	Keys    []string `yaml:"keys"`
	Sources []string `yaml:"sources"`
	Allowed []string `yaml:"allowed"`
}

func NewSuspiciousSource() *SuspiciousSource {
	return &SuspiciousSource{
		Keys: []string{"source", "imagery_used"},
		Sources: []string{
			"google", "nokia", "waze", "apple", "tomtom", "wikimapia", "goo.gl",
			"navteq", "teleatlas", "yelp", "yandex", "яндекс", "2gis", "2гис",
		},
		Allowed: []string{"yandex panorama"},
	}
}

func (*SuspiciousSource) Name() string              { return "suspicious_source" }
func (*SuspiciousSource) DefaultSeverity() Severity { return Warning }
func (*SuspiciousSource) DefaultWeight() int        { return 3 }

func (r *SuspiciousSource) CheckChangeset(in *Input) []Finding {
	for _, key := range r.Keys {
		text, ok := in.Changeset.Tags.Get(key)
		if !ok {
			continue
		}
		lower := strings.ToLower(text)
		for _, a := range r.Allowed {
			lower = strings.ReplaceAll(lower, strings.ToLower(a), "")
		}
		for _, s := range r.Sources {
			if s != "" && strings.Contains(lower, strings.ToLower(s)) {
				return []Finding{{Rule: r.Name(), Severity: Warning, Message: fmt.Sprintf(
					"the changeset's %s names %q, a source whose data may not be copied", key, s)}}
			}
		}
	}
	return nil
}

func percent(share float64) string {
	return fmt.Sprintf("%.4g%%", share*100)
}
