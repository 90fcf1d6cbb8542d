package validate

import (
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
)

func TestRiskSumsWeightsOfRulesWithFindings(t *testing.T) {
	cfg := Default()
	v := mustValidator(t, cfg)
	// 250 real nodes created by a newcomer, with a comment and no
	// source: a possible import by a new contributor, without source.
	in := changesOf(t, 250, 0, 0)
	in.AuthorMergedChangesets = 3
	in.Changeset.Tags = osmdata.Tags{{Key: "comment", Value: "Adding the benches of Escaldes"}}
	in.After = snapshotOf()
	for _, c := range in.Changes {
		in.After.Nodes[c.New.ID] = c.New
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
	// takes it out of the score while it still reports.
	cfg.Rule("no_source").Weight = 0
	in.Changes = append(in.Changes, Change{New: setTag(in.Changes[0].New, "color", "red")})
	in.Changes[len(in.Changes)-1].New.ID = -1
	in.After.Nodes[-1] = in.Changes[len(in.Changes)-1].New
	in.Changes = append(in.Changes, Change{New: withTags(in.Changes[1].New, osmdata.Tags{{Key: "FIXME", Value: "check"}})})
	in.Changes[len(in.Changes)-1].New.ID = -2
	in.After.Nodes[-2] = in.Changes[len(in.Changes)-1].New
	r = mustValidator(t, cfg).Validate(in)
	deprecated := 0
	for _, f := range r.Findings {
		if f.Rule == "deprecated_tag" {
			deprecated++
		}
	}
	if deprecated != 2 {
		t.Fatalf("%d deprecated_tag findings, want 2", deprecated)
	}
	want = cfg.Rule("possible_import").Weight + cfg.Rule("new_contributor").Weight + cfg.Rule("deprecated_tag").Weight
	if r.Risk != want {
		t.Fatalf("risk %d, want %d", r.Risk, want)
	}
}
