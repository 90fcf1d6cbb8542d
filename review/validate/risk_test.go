package validate

import (
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
)

func TestRiskSumsWeightsOfRulesWithFindings(t *testing.T) {
	cfg := Default()
	v := mustValidator(t, cfg)
	// 250 real points of interest, each clean to every element rule,
	// created by a newcomer with a comment and no source: a possible
	// import by a new contributor, without source.
	in := &Input{AuthorMergedChangesets: 3, Changeset: osmdata.Changeset{Tags: osmdata.Tags{
		{Key: "comment", Value: "Adding the shops and cafés of Andorra"}}}}
	in.After = snapshotOf()
	d := loadAndorra(t)
	for _, k := range d.keys {
		if len(in.Changes) == 250 {
			break
		}
		n := d.Element(k)
		if k.Type != osmdata.Node || !(hasTag("shop", "*")(n) || hasTag("amenity", "*")(n)) || !cleanNode(t, cfg, n) {
			continue
		}
		in.Changes = append(in.Changes, Change{New: n})
		in.After.Nodes[n.ID] = n
	}
	r := v.Validate(in)
	want := 0
	rules := map[string]bool{}
	for _, name := range []string{"possible_import", "new_contributor", "no_source"} {
		want += cfg.Rule(name).Weight
		rules[name] = true
	}
	got := map[string]bool{}
	for _, f := range r.Findings {
		got[f.Rule] = true
	}
	if len(got) != len(rules) {
		t.Fatalf("rules with findings %v, want %v", got, rules)
	}
	for name := range rules {
		if !got[name] {
			t.Fatalf("rules with findings %v, want %v", got, rules)
		}
	}
	if r.Risk != want {
		t.Fatalf("risk %d, want %d", r.Risk, want)
	}

	// A rule weighs once however many findings it has, and a weight of 0
	// takes it out of the score while it still reports. Two copies of
	// clean points gain deprecated tags.
	cfg.Rule("no_source").Weight = 0
	in.Changes = append(in.Changes, Change{New: setTag(in.Changes[0].New, "color", "red")})
	in.Changes[len(in.Changes)-1].New.ID = -1
	in.Changes[len(in.Changes)-1].New.Lat += 500 // 5 cm apart: not the same point twice
	in.After.Nodes[-1] = in.Changes[len(in.Changes)-1].New
	in.Changes = append(in.Changes, Change{New: withTags(in.Changes[1].New, osmdata.Tags{{Key: "FIXME", Value: "check"}})})
	in.Changes[len(in.Changes)-1].New.ID = -2
	in.Changes[len(in.Changes)-1].New.Lat += 500
	in.After.Nodes[-2] = in.Changes[len(in.Changes)-1].New
	r = mustValidator(t, cfg).Validate(in)
	deprecated, noSource := 0, 0
	for _, f := range r.Findings {
		switch f.Rule {
		case "deprecated_tag":
			deprecated++
		case "no_source":
			noSource++
		}
	}
	if noSource != 1 {
		t.Fatalf("no_source with weight 0 reported %d findings, want 1", noSource)
	}
	if deprecated != 2 {
		t.Fatalf("%d deprecated_tag findings, want 2", deprecated)
	}
	want = cfg.Rule("possible_import").Weight + cfg.Rule("new_contributor").Weight + cfg.Rule("deprecated_tag").Weight
	if r.Risk != want {
		t.Fatalf("risk %d, want %d", r.Risk, want)
	}
}

// cleanNode says whether no enabled element rule reports n on its own.
func cleanNode(t *testing.T, cfg Config, n *osmdata.Element) bool {
	for _, rc := range cfg.Rules {
		if rc.Element != nil && rc.Enabled && len(checkOne(t, rc.Element, n)) > 0 {
			return false
		}
	}
	return true
}
