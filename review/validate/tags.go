package validate

import (
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/geocommuns/geocommuns/osmdata"
)

// TagRules returns the rules about tags alone (issue 6), each with its
// default settings.
func TagRules() []ElementRule {
	return []ElementRule{
		&EmptyTag{},
		NewDeprecatedTag(),
		NewTagGeometryMismatch(),
		NewSuspiciousName(),
	}
}

// EmptyTag reports a tag whose key or value is empty or only blanks: no
// editor shows it, no consumer can use it, and JOSM refuses to upload one.
type EmptyTag struct{}

func (*EmptyTag) Name() string              { return "empty_tag" }
func (*EmptyTag) DefaultSeverity() Severity { return Error }
func (*EmptyTag) DefaultWeight() int        { return 3 }

func (r *EmptyTag) Check(snap *Snapshot, touched []osmdata.Key) []Finding {
	var out []Finding
	for _, k := range touched {
		e := snap.Element(k)
		for _, t := range e.Tags {
			var msg string
			switch {
			case strings.TrimSpace(t.Key) == "":
				msg = fmt.Sprintf("%s has a tag with an empty key (value %q)", k, t.Value)
			case strings.TrimSpace(t.Value) == "":
				msg = fmt.Sprintf("%s has an empty value for %q", k, t.Key)
			default:
				continue
			}
			out = append(out, tagFinding(r.Name(), Error, snap, e, msg))
		}
	}
	return out
}

// DeprecatedTag reports tagging that iD's deprecated table (the
// id-tagging-schema's data/deprecated.json) replaces, naming the
// replacement.
type DeprecatedTag struct {
	// Table replaces the default table when set in the configuration.
	Table []DeprecatedTagging `yaml:"table"`
}

// DeprecatedTagging is one entry of the table, as in deprecated.json:
// every Old tag must be present ("*" matches any value); Replace is the
// tagging to use, "$1" standing for the value matched by "*", a value "*"
// for "a value of your choice". An entry without Replace has no
// replacement: the tag should go.
type DeprecatedTagging struct {
	Old     map[string]string `yaml:"old"`
	Replace map[string]string `yaml:"replace,omitempty"`
}

func NewDeprecatedTag() *DeprecatedTag {
	return &DeprecatedTag{Table: defaultDeprecatedTable()}
}

func (*DeprecatedTag) Name() string              { return "deprecated_tag" }
func (*DeprecatedTag) DefaultSeverity() Severity { return Warning }
func (*DeprecatedTag) DefaultWeight() int        { return 1 }

func (r *DeprecatedTag) CheckSettings() error {
	for i, d := range r.Table {
		if len(d.Old) == 0 {
			return &SettingError{Key: "table", Err: fmt.Errorf("entry %d has no old tags", i+1)}
		}
	}
	return nil
}

func (r *DeprecatedTag) Check(snap *Snapshot, touched []osmdata.Key) []Finding {
	var out []Finding
	for _, k := range touched {
		e := snap.Element(k)
		if len(e.Tags) == 0 {
			continue
		}
		for _, d := range r.Table {
			wildcard, ok := d.matches(e.Tags)
			if !ok {
				continue
			}
			msg := fmt.Sprintf("%s uses deprecated tagging %s", k, formatTagging(d.Old, e.Tags))
			if len(d.Replace) > 0 {
				msg += "; use " + formatReplacement(d.Replace, wildcard)
			} else {
				msg += "; remove it"
			}
			out = append(out, tagFinding(r.Name(), Warning, snap, e, msg))
		}
	}
	return out
}

// matches reports whether tags carry every old tag, and the value a "*"
// matched.
func (d DeprecatedTagging) matches(tags osmdata.Tags) (wildcard string, ok bool) {
	for key, want := range d.Old {
		v, present := tags.Get(key)
		if !present || (want != "*" && v != want) {
			return "", false
		}
		if want == "*" {
			wildcard = v
		}
	}
	return wildcard, true
}

// formatTagging writes the old tags as the element has them, in key
// order so the message (part of a finding's identity across snapshots)
// does not depend on map order.
func formatTagging(old map[string]string, tags osmdata.Tags) string {
	keys := sortedKeys(old)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v, _ := tags.Get(k)
		parts[i] = k + "=" + v
	}
	return strings.Join(parts, " + ")
}

func formatReplacement(replace map[string]string, wildcard string) string {
	keys := sortedKeys(replace)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strings.ReplaceAll(replace[k], "$1", wildcard)
	}
	return strings.Join(parts, " + ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TagGeometryMismatch reports tags drawn on a geometry they do not
// describe, as iD's "mismatched geometry" does from its presets, with a
// small table instead of the presets:
//   - highway=* on a node, unless the value is one mapped on a node
//     (crossings, signals, stops, …): a road drawn as a point routes
//     nowhere;
//   - a key that only describes areas (building, landuse) on a node;
//   - a point-of-interest key (shop, craft, …) on an unclosed way: a shop
//     is a point or an outline, never a line. Area tags on unclosed ways
//     (building, landuse, amenity=parking, …) are area_tags_on_unclosed_way's.
type TagGeometryMismatch struct {
	HighwayNodeValues []string `yaml:"highway_node_values"`
	AreaKeys          []string `yaml:"area_keys"`
	POIKeys           []string `yaml:"poi_keys"`
	POIAmenities      []string `yaml:"poi_amenities"`
}

func NewTagGeometryMismatch() *TagGeometryMismatch {
	return &TagGeometryMismatch{
		// iD's presets for highway=* points and vertices.
		HighwayNodeValues: []string{
			"bus_stop", "crossing", "cyclist_waiting_aid", "elevator", "emergency_access_point",
			"emergency_bay", "give_way", "milestone", "mini_roundabout", "motorway_junction",
			"passing_place", "platform", "rest_area", "services", "speed_camera",
			"speed_display", "stop", "street_lamp", "toll_gantry", "traffic_mirror",
			"traffic_signals", "trailhead", "turning_circle", "turning_loop",
		},
		AreaKeys: []string{"building", "landuse"},
		POIKeys:  []string{"craft", "healthcare", "office", "shop"},
		POIAmenities: []string{
			"atm", "bank", "bar", "cafe", "fast_food", "fuel", "pharmacy",
			"police", "post_office", "pub", "restaurant", "toilets",
		},
	}
}

func (*TagGeometryMismatch) Name() string              { return "tag_geometry_mismatch" }
func (*TagGeometryMismatch) DefaultSeverity() Severity { return Warning }
func (*TagGeometryMismatch) DefaultWeight() int        { return 1 }

func (r *TagGeometryMismatch) Check(snap *Snapshot, touched []osmdata.Key) []Finding {
	var out []Finding
	report := func(e *osmdata.Element, msg string) {
		out = append(out, tagFinding(r.Name(), Warning, snap, e, msg))
	}
	for _, k := range touched {
		e := snap.Element(k)
		switch e.Type {
		case osmdata.Node:
			if v, ok := e.Tags.Get("highway"); ok && !containsString(r.HighwayNodeValues, v) {
				report(e, fmt.Sprintf("%s is tagged highway=%s, which is drawn as a way, not a point", k, v))
			}
			for _, key := range r.AreaKeys {
				if v, ok := e.Tags.Get(key); ok && v != "no" {
					report(e, fmt.Sprintf("%s is tagged %s=%s, which is drawn as an area, not a point", k, key, v))
				}
			}
		case osmdata.Way:
			if len(e.Nodes) < 2 || e.Nodes[0] == e.Nodes[len(e.Nodes)-1] {
				continue
			}
			for _, key := range r.POIKeys {
				if v, ok := e.Tags.Get(key); ok && v != "no" {
					report(e, fmt.Sprintf("%s is tagged %s=%s on an unclosed way; it is a point or a closed area", k, key, v))
				}
			}
			if v, ok := e.Tags.Get("amenity"); ok && containsString(r.POIAmenities, v) {
				report(e, fmt.Sprintf("%s is tagged amenity=%s on an unclosed way; it is a point or a closed area", k, v))
			}
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SuspiciousName reports a name containing a word from a list (test
// edits, vandalism), compared as whole words without case, so "Test"
// is caught and "Contest" is not.
type SuspiciousName struct {
	// Keys are the name keys checked; "name:*" stands for every name:xx.
	Keys  []string `yaml:"keys"`
	Words []string `yaml:"words"`
}

func NewSuspiciousName() *SuspiciousName {
	return &SuspiciousName{
		Keys: []string{"name", "name:*", "alt_name", "official_name", "short_name", "loc_name"},
		Words: []string{
			"test", "testing", "asdf", "qwerty", "haha", "jaja", "lol",
			"vandal", "fuck", "shit", "crap", "xxx",
		},
	}
}

func (*SuspiciousName) Name() string              { return "suspicious_name" }
func (*SuspiciousName) DefaultSeverity() Severity { return Warning }
func (*SuspiciousName) DefaultWeight() int        { return 5 }

func (r *SuspiciousName) CheckSettings() error {
	for _, w := range r.Words {
		if len(wordsOf(w)) != 1 {
			return &SettingError{Key: "words", Err: fmt.Errorf("%q is not one word", w)}
		}
	}
	return nil
}

func (r *SuspiciousName) Check(snap *Snapshot, touched []osmdata.Key) []Finding {
	var out []Finding
	for _, k := range touched {
		e := snap.Element(k)
		for _, t := range e.Tags {
			if !r.isNameKey(t.Key) {
				continue
			}
			if w, ok := firstListedWord(t.Value, r.Words); ok {
				out = append(out, tagFinding(r.Name(), Warning, snap, e,
					fmt.Sprintf("%s has %s=%q, containing the suspicious word %q", k, t.Key, t.Value, w)))
			}
		}
	}
	return out
}

func (r *SuspiciousName) isNameKey(key string) bool {
	for _, k := range r.Keys {
		if prefix, ok := strings.CutSuffix(k, "*"); ok {
			if strings.HasPrefix(key, prefix) {
				return true
			}
		} else if k == key {
			return true
		}
	}
	return false
}

// wordsOf splits text into words: runs of letters and digits.
func wordsOf(text string) []string {
	return strings.FieldsFunc(text, func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsDigit(c) })
}

func firstListedWord(text string, list []string) (string, bool) {
	for _, w := range wordsOf(text) {
		for _, l := range list {
			if strings.EqualFold(w, l) {
				return l, true
			}
		}
	}
	return "", false
}

// tagFinding is a finding about one element, placed on it.
func tagFinding(rule string, sev Severity, snap *Snapshot, e *osmdata.Element, msg string) Finding {
	f := Finding{Rule: rule, Severity: sev, Elements: []osmdata.Key{e.Key()}, Message: msg}
	f.Lon, f.Lat, f.HasLocation = elementLocation(snap, e)
	return f
}

// elementLocation places an element on the map: a node where it is, a
// way at its first loaded node; relations are not placed.
func elementLocation(snap *Snapshot, e *osmdata.Element) (lon, lat float64, ok bool) {
	switch e.Type {
	case osmdata.Node:
		return osmdata.FixedToDegrees(e.Lon), osmdata.FixedToDegrees(e.Lat), true
	case osmdata.Way:
		for _, id := range e.Nodes {
			if n := snap.Nodes[id]; n != nil {
				return osmdata.FixedToDegrees(n.Lon), osmdata.FixedToDegrees(n.Lat), true
			}
		}
	}
	return 0, 0, false
}
