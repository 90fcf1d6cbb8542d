package validate

import (
	"fmt"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/geocommuns/geocommuns/osmdata"
)

// keyRule is a rule for the engine's own tests, independent of the
// shipped rules' tables: it reports each touched element carrying Key.
type keyRule struct {
	RuleName  string `yaml:"-"`
	Key       string `yaml:"key"`
	MinLength int    `yaml:"min_length"`
}

func (r *keyRule) Name() string { return r.RuleName }

func (r *keyRule) Check(snap *Snapshot, touched []osmdata.Key) []Finding {
	var out []Finding
	for _, k := range touched {
		e := snap.Element(k)
		if v, ok := e.Tags.Get(r.Key); ok && len(v) >= r.MinLength {
			out = append(out, Finding{Rule: r.RuleName, Severity: Warning, Elements: []osmdata.Key{k},
				Message: fmt.Sprintf("%s=%s", r.Key, v)})
		}
	}
	return out
}

func (r *keyRule) CheckSettings() error {
	if r.MinLength < 0 {
		return &SettingError{Key: "min_length", Err: fmt.Errorf("%d is negative", r.MinLength)}
	}
	return nil
}

// emptyCommentRule is a changeset rule for the engine's tests.
type emptyCommentRule struct{}

func (emptyCommentRule) Name() string { return "test_no_comment" }

func (emptyCommentRule) CheckChangeset(in *Input) []Finding {
	if _, ok := in.Changeset.Tags.Get("comment"); ok {
		return nil
	}
	return []Finding{{Message: "no comment"}}
}

func testRulesConfig() Config {
	return Config{Rules: []RuleConfig{
		defaultRuleConfig(RuleConfig{Element: &keyRule{RuleName: "test_fixme", Key: "fixme"}}),
		defaultRuleConfig(RuleConfig{Element: &keyRule{RuleName: "test_note", Key: "note"}}),
		defaultRuleConfig(RuleConfig{Changeset: emptyCommentRule{}}),
	}}
}

func yamlNode(t *testing.T, text string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	n, err := RulesSection(&doc)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
