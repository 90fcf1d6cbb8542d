package validate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigRefusesUnknownRuleByName(t *testing.T) {
	_, err := decodeRulesOver(testRulesConfig(), yamlNode(t, `
rules:
  test_fixme: {enabled: true}
  test_fixmee: {enabled: false}
`))
	if err == nil || !strings.Contains(err.Error(), `"test_fixmee"`) || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("error %v, want one naming test_fixmee at line 4", err)
	}
}

func TestConfigRefusesBadValueWithRuleKeyAndLine(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"rules:\n  test_fixme:\n    min_length: many\n", "rules.test_fixme.min_length: line 3"},
		{"rules:\n  test_fixme:\n    severity: fatal\n", "rules.test_fixme.severity: line 3"},
		{"rules:\n  test_note:\n    weight: -2\n", "rules.test_note.weight: line 3"},
		{"rules:\n  test_note:\n    enabled: maybe\n", "rules.test_note.enabled: line 3"},
		{"rules:\n  test_note:\n\n    mni_length: 3\n", `rules.test_note: line 4: unknown setting "mni_length"`},
		{"rules:\n  test_note:\n    min_length: -1\n", "rules.test_note.min_length: line 3: -1 is negative"},
		{"rules:\n  test_no_comment:\n    key: x\n", `rules.test_no_comment: line 3: unknown setting "key"`},
	}
	for _, c := range cases {
		_, err := decodeRulesOver(testRulesConfig(), yamlNode(t, c.yaml))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to start with %q", c.yaml, err, c.want)
		}
	}
}

func TestConfigDecodesRuleSettingsOverDefaults(t *testing.T) {
	cfg, err := decodeRulesOver(testRulesConfig(), yamlNode(t, `
policy:
  anything: [kept, for, the, policy, loader]
rules:
  test_note:
    min_length: 4
    weight: 9
`))
	if err != nil {
		t.Fatal(err)
	}
	note := cfg.Rule("test_note")
	r := note.Element.(*keyRule)
	if r.MinLength != 4 || r.Key != "note" || note.Weight != 9 || !note.Enabled {
		t.Fatalf("test_note decoded to %+v %+v", note, r)
	}
	// The other rules keep their defaults.
	if fixme := cfg.Rule("test_fixme"); fixme.Weight != defaultWeight || !fixme.Enabled {
		t.Fatalf("test_fixme changed: %+v", fixme)
	}
}

func TestConfigLoadIgnoresOtherSections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "review.yaml")
	if err := os.WriteFile(path, []byte("scopes:\n  - name: andorra\npolicy: {auto_merge: false}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Rules) != len(Default().Rules) {
		t.Fatalf("a file without rules: gave %d rules, want the %d of Default()", len(cfg.Rules), len(Default().Rules))
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("a missing file loaded")
	}
	if err := os.WriteFile(path, []byte("rules:\n  no_such_rule: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), `"no_such_rule"`) {
		t.Fatalf("unknown rule loaded: %v", err)
	}
}
