package validate

import (
	"reflect"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
)

func node(id int64, tags ...string) *osmdata.Element {
	e := &osmdata.Element{Type: osmdata.Node, ID: id, Version: 1, Visible: true, Lat: 425000000 + int32(id), Lon: 15000000}
	for i := 0; i+1 < len(tags); i += 2 {
		e.Tags = append(e.Tags, osmdata.Tag{Key: tags[i], Value: tags[i+1]})
	}
	return e
}

func snapshotOf(es ...*osmdata.Element) *Snapshot {
	s := &Snapshot{Nodes: map[int64]*osmdata.Element{}, Ways: map[int64]*osmdata.Element{}, Relations: map[int64]*osmdata.Element{}}
	for _, e := range es {
		switch e.Type {
		case osmdata.Node:
			s.Nodes[e.ID] = e
		case osmdata.Way:
			s.Ways[e.ID] = e
		case osmdata.Relation:
			s.Relations[e.ID] = e
		}
	}
	return s
}

// modify builds the input of a changeset that turns each old element into
// the new one with the same key (nil old: created; nil new: deleted).
func modify(comment string, pairs ...[2]*osmdata.Element) *Input {
	in := &Input{}
	if comment != "" {
		in.Changeset.Tags = osmdata.Tags{{Key: "comment", Value: comment}}
	}
	var before, after []*osmdata.Element
	for _, p := range pairs {
		in.Changes = append(in.Changes, Change{Old: p[0], New: p[1]})
		if p[0] != nil {
			before = append(before, p[0])
		}
		if p[1] != nil {
			after = append(after, p[1])
		}
	}
	in.Before, in.After = snapshotOf(before...), snapshotOf(after...)
	return in
}

func mustValidator(t *testing.T, cfg Config) *Validator {
	t.Helper()
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func ruleNames(r Report) []string {
	var names []string
	for _, f := range r.Findings {
		names = append(names, f.Rule+" "+keysText(f.Elements)+" "+f.Message)
	}
	return names
}

func keysText(ks []osmdata.Key) string {
	s := ""
	for _, k := range ks {
		s += "[" + k.String() + "]"
	}
	return s
}

func TestEngineReportsOnlyIntroducedProblems(t *testing.T) {
	v := mustValidator(t, testRulesConfig())
	// Node 1 had its fixme before the changeset and keeps it while the
	// name changes; node 2 gains one; node 3 is created with one.
	in := modify("tidy up",
		[2]*osmdata.Element{node(1, "fixme", "position"), node(1, "fixme", "position", "name", "Casa")},
		[2]*osmdata.Element{node(2, "name", "Font"), node(2, "name", "Font", "fixme", "check")},
		[2]*osmdata.Element{nil, node(3, "fixme", "new")},
	)
	got := ruleNames(v.Validate(in))
	want := []string{"test_fixme [node 2] fixme=check", "test_fixme [node 3] fixme=new"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("findings %q, want %q", got, want)
	}
}

func TestEngineSecondProblemOfSameIdentityIsReported(t *testing.T) {
	// The rule reports a note per element; an element with a note keeps
	// it and the engine must not report it, while a changed problem
	// count on one element reports the surplus with the new message.
	cfg := Config{Rules: []RuleConfig{defaultRuleConfig(RuleConfig{Element: &doubleRule{}})}}
	v := mustValidator(t, cfg)
	in := modify("more",
		[2]*osmdata.Element{node(1, "a", "1"), node(1, "a", "1", "b", "2")},
	)
	got := ruleNames(v.Validate(in))
	want := []string{"test_each_tag [node 1] b"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("findings %q, want %q", got, want)
	}
	unchanged := modify("same", [2]*osmdata.Element{node(1, "a", "1", "b", "2"), node(1, "b", "2", "a", "1")})
	if r := v.Validate(unchanged); len(r.Findings) != 0 {
		t.Fatalf("reordered tags reported %q", ruleNames(r))
	}
}

// doubleRule reports every tag key of a touched element, one finding each.
type doubleRule struct{}

func (doubleRule) Name() string { return "test_each_tag" }
func (doubleRule) Check(snap *Snapshot, touched []osmdata.Key) []Finding {
	var out []Finding
	for _, k := range touched {
		for _, tag := range snap.Element(k).Tags {
			out = append(out, Finding{Elements: []osmdata.Key{k}, Message: tag.Key})
		}
	}
	return out
}

func TestEngineDeletedElementIsNotCheckedAfter(t *testing.T) {
	v := mustValidator(t, testRulesConfig())
	in := modify("remove", [2]*osmdata.Element{node(4, "fixme", "gone"), nil})
	if r := v.Validate(in); len(r.Findings) != 0 {
		t.Fatalf("deleting an element with a problem reported %q", ruleNames(r))
	}
}

func TestEngineConfigDisablesRuleAndChangesSeverity(t *testing.T) {
	in := modify("", [2]*osmdata.Element{nil, node(5, "fixme", "x", "note", "y")})
	v := mustValidator(t, testRulesConfig())
	if got := ruleNames(v.Validate(in)); len(got) != 3 {
		t.Fatalf("default configuration gave %q, want three findings", got)
	}

	cfg, err := decodeRulesOver(testRulesConfig(), yamlNode(t, `
rules:
  test_note: {enabled: false}
  test_fixme: {severity: error}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := mustValidator(t, cfg).Validate(in)
	got := ruleNames(r)
	want := []string{"test_fixme [node 5] fixme=x", "test_no_comment  no comment"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("findings %q, want %q", got, want)
	}
	if r.Findings[0].Severity != Error || !r.HasErrors() {
		t.Fatalf("test_fixme severity %q, want error", r.Findings[0].Severity)
	}
	if r.Findings[1].Severity != Warning {
		t.Fatalf("a rule without severity reports %q, want warning", r.Findings[1].Severity)
	}
}

func TestEngineRiskAddsWeightsOncePerRule(t *testing.T) {
	cfg, err := decodeRulesOver(testRulesConfig(), yamlNode(t, `
rules:
  test_fixme: {weight: 4}
  test_note: {weight: 7}
  test_no_comment: {weight: 2}
`))
	if err != nil {
		t.Fatal(err)
	}
	v := mustValidator(t, cfg)
	// Two fixme findings count once; the note and the missing comment
	// add theirs.
	in := modify("", [2]*osmdata.Element{nil, node(6, "fixme", "a")}, [2]*osmdata.Element{nil, node(7, "fixme", "b", "note", "c")})
	r := v.Validate(in)
	if len(r.Findings) != 4 {
		t.Fatalf("findings %q, want four", ruleNames(r))
	}
	if r.Risk != 4+7+2 {
		t.Fatalf("risk %d, want %d", r.Risk, 4+7+2)
	}
	clean := modify("survey", [2]*osmdata.Element{nil, node(8, "name", "Pic")})
	if r := v.Validate(clean); r.Risk != 0 || len(r.Findings) != 0 {
		t.Fatalf("clean changeset: risk %d, findings %q", r.Risk, ruleNames(r))
	}
}

func TestEngineSortsFindings(t *testing.T) {
	cfg, err := decodeRulesOver(testRulesConfig(), yamlNode(t, "rules:\n  test_note: {severity: error}\n"))
	if err != nil {
		t.Fatal(err)
	}
	v := mustValidator(t, cfg)
	in := modify("",
		[2]*osmdata.Element{nil, node(20, "fixme", "a", "note", "b")},
		[2]*osmdata.Element{nil, node(10, "fixme", "c")},
	)
	got := ruleNames(v.Validate(in))
	want := []string{
		"test_note [node 20] note=b",
		"test_fixme [node 10] fixme=c",
		"test_fixme [node 20] fixme=a",
		"test_no_comment  no comment",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("order %q, want %q", got, want)
	}
}

func TestEngineNewRefusesBadConfigs(t *testing.T) {
	dup := testRulesConfig()
	dup.Rules = append(dup.Rules, dup.Rules[0])
	bad := testRulesConfig()
	bad.Rules[1].Severity = "fatal"
	neg := testRulesConfig()
	neg.Rules[2].Weight = -1
	settings := testRulesConfig()
	settings.Rules[0].Element.(*keyRule).MinLength = -3
	for name, cfg := range map[string]Config{"duplicate": dup, "severity": bad, "weight": neg, "settings": settings} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted the configuration", name)
		}
	}
}
