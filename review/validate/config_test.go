package validate

import (
	"os"
	"path/filepath"
	"reflect"
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

func TestConfigDefaultEnablesEveryRuleOnce(t *testing.T) {
	cfg := Default()
	seen := map[string]bool{}
	for _, rc := range cfg.Rules {
		name := rc.Name()
		if seen[name] {
			t.Errorf("rule %q registered twice", name)
		}
		seen[name] = true
		if !rc.Enabled {
			t.Errorf("rule %q is off by default", name)
		}
		if _, ok := rc.rule().(RuleDefaults); ok && rc.Severity == "" {
			t.Errorf("rule %q has no default severity", name)
		}
	}
	for _, name := range []string{"empty_tag", "deprecated_tag", "tag_geometry_mismatch", "suspicious_name",
		"possible_import", "mass_modification", "mass_deletion", "new_contributor", "large_bbox",
		"no_comment", "no_source", "suspicious_comment", "suspicious_source"} {
		if !seen[name] {
			t.Errorf("rule %q is not registered", name)
		}
	}
	if _, err := New(cfg); err != nil {
		t.Fatal(err)
	}
}

// TestConfigExampleListsEveryRuleWithItsDefault keeps review.example.yaml
// honest: every rule and every one of its settings is in it, and loading
// it gives exactly Default().
func TestConfigExampleListsEveryRuleWithItsDefault(t *testing.T) {
	const path = "../../review.example.yaml"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rules := yamlNode(t, string(data))
	listed := map[string]map[string]bool{}
	for i := 0; i+1 < len(rules.Content); i += 2 {
		keys := map[string]bool{}
		body := rules.Content[i+1]
		for j := 0; j+1 < len(body.Content); j += 2 {
			keys[body.Content[j].Value] = true
		}
		listed[rules.Content[i].Value] = keys
	}
	for _, rc := range Default().Rules {
		keys, ok := listed[rc.Name()]
		if !ok {
			t.Errorf("%s does not list rule %q", path, rc.Name())
			continue
		}
		_, settings := settingField(rc.rule(), "")
		for _, k := range append([]string{"enabled", "severity", "weight"}, settings...) {
			if !keys[k] {
				t.Errorf("%s: rule %q does not list %q", path, rc.Name(), k)
			}
		}
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		for _, rc := range Default().Rules {
			if got := cfg.Rule(rc.Name()); !reflect.DeepEqual(*got, rc) {
				t.Errorf("%s: rule %q loads as %+v, default is %+v", path, rc.Name(), got.rule(), rc.rule())
			}
		}
	}
}

func TestConfigTestdataFiles(t *testing.T) {
	cfg, err := LoadConfig("testdata/config/tuned.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Rule("no_source").Enabled {
		t.Error("no_source still enabled")
	}
	del := cfg.Rule("mass_deletion")
	if del.Severity != Error || del.Changeset.(*MassDeletion).MinDeletions != 10 || del.Changeset.(*MassDeletion).AnyShareAbove != 1000 {
		t.Errorf("mass_deletion loaded as %+v %+v", del, del.Changeset)
	}
	imp := cfg.Rule("possible_import")
	if imp.Weight != 8 || imp.Changeset.(*PossibleImport).MinCreations != 50 || imp.Changeset.(*PossibleImport).Share != 0.7 {
		t.Errorf("possible_import loaded as %+v %+v", imp, imp.Changeset)
	}
	if words := cfg.Rule("suspicious_name").Element.(*SuspiciousName).Words; !reflect.DeepEqual(words, []string{"test", "prova"}) {
		t.Errorf("suspicious_name words %q: a list must replace the default", words)
	}

	for file, want := range map[string]string{
		"unknown_rule.yaml": `rules: line 4: unknown rule "mass_delete"`,
		"bad_value.yaml":    "rules.possible_import.creations: line 5: cannot unmarshal !!str `two hun...` into int",
		"bad_share.yaml":    "rules.mass_modification.share: line 4: 1.5 is not a share between 0 and 1",
		"bad_setting.yaml":  `rules.large_bbox: line 3: unknown setting "max_square_degree" (settings: enabled, severity, weight, max_square_degrees)`,
	} {
		path := filepath.Join("testdata", "config", file)
		_, err := LoadConfig(path)
		if err == nil || !strings.HasPrefix(err.Error(), path+": "+want) {
			t.Errorf("%s: error %v, want %q", file, err, want)
		}
	}
}
