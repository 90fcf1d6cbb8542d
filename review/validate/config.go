package validate

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config is the `rules:` section of the review configuration: every rule
// the engine knows, each with the engine's settings and the rule's own
// value, its tunable fields already decoded over its defaults.
type Config struct {
	Rules []RuleConfig
}

// RuleConfig is one rule as configured. Exactly one of Element and
// Changeset is set.
type RuleConfig struct {
	Enabled bool
	// Severity replaces the severity the rule gives its findings; empty
	// keeps the rule's own (a rule that sets none reports warnings).
	Severity Severity
	// Weight is the rule's share of the risk score.
	Weight    int
	Element   ElementRule
	Changeset ChangesetRule
}

// Name is the configured rule's name, the key under `rules:`.
func (rc RuleConfig) Name() string {
	switch {
	case rc.Element != nil:
		return rc.Element.Name()
	case rc.Changeset != nil:
		return rc.Changeset.Name()
	}
	return ""
}

// rule is the value whose exported fields the rule's settings decode
// into.
func (rc RuleConfig) rule() any {
	if rc.Element != nil {
		return rc.Element
	}
	return rc.Changeset
}

// Rule returns the configuration of the named rule, nil if there is none.
func (c Config) Rule(name string) *RuleConfig {
	for i := range c.Rules {
		if c.Rules[i].Name() == name {
			return &c.Rules[i]
		}
	}
	return nil
}

// RuleDefaults may be implemented by a rule to state the severity and
// risk weight it has when the configuration does not set them. A rule
// without it keeps the severity of its findings and weighs 1.
type RuleDefaults interface {
	DefaultSeverity() Severity
	DefaultWeight() int
}

// SettingsChecker may be implemented by a rule whose settings have bounds
// their Go type cannot express (a share between 0 and 1, a positive
// threshold). The engine calls it after decoding; a *SettingError names
// the offending key so the error can point at its line.
type SettingsChecker interface {
	CheckSettings() error
}

// SettingError is a rule setting whose value is out of bounds.
type SettingError struct {
	Key string
	Err error
}

func (e *SettingError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *SettingError) Unwrap() error { return e.Err }

const defaultWeight = 1

// knownRules returns fresh values of every rule the engine ships, in the
// order reports and the example configuration list them. Each call
// returns new values, so decoding a configuration never changes another.
func knownRules() (elements []ElementRule, changesets []ChangesetRule) {
	// Each family of rules adds its constructor here, one line each.
	elements = append(elements, TagRules()...)
	elements = append(elements, GeometryRules()...)
	changesets = append(changesets, HeuristicRules()...)
	return elements, changesets
}

// Default is the configuration with every known rule enabled at its
// default severity and weight.
func Default() Config {
	elements, changesets := knownRules()
	var cfg Config
	for _, r := range elements {
		cfg.Rules = append(cfg.Rules, defaultRuleConfig(RuleConfig{Element: r}))
	}
	for _, r := range changesets {
		cfg.Rules = append(cfg.Rules, defaultRuleConfig(RuleConfig{Changeset: r}))
	}
	return cfg
}

func defaultRuleConfig(rc RuleConfig) RuleConfig {
	rc.Enabled = true
	rc.Weight = defaultWeight
	if d, ok := rc.rule().(RuleDefaults); ok {
		rc.Severity = d.DefaultSeverity()
		rc.Weight = d.DefaultWeight()
	}
	return rc
}

// LoadConfig reads the review configuration file at path and returns its
// `rules:` section decoded over Default(). Other top-level keys belong to
// other parts of the review configuration and are left alone here.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read review configuration: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig is LoadConfig on the file's content.
func ParseConfig(data []byte) (Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, fmt.Errorf("parse review configuration: %w", err)
	}
	rules, err := RulesSection(&doc)
	if err != nil {
		return Config{}, err
	}
	return DecodeRules(rules)
}

// RulesSection finds the value of the top-level `rules:` key in a parsed
// review configuration; nil when the file has none (an empty file
// included).
func RulesSection(doc *yaml.Node) (*yaml.Node, error) {
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil
		}
		root = root.Content[0]
	}
	if root.Kind == 0 || isNull(root) {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("review configuration: line %d: want a mapping of sections (rules:, …)", root.Line)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "rules" {
			return root.Content[i+1], nil
		}
	}
	return nil, nil
}

// DecodeRules decodes the value of the `rules:` key over Default(), so a
// file names only what it changes. It is exposed for the review policy
// loader, which parses the same file. A nil node gives Default().
func DecodeRules(node *yaml.Node) (Config, error) {
	return decodeRulesOver(Default(), node)
}

// decodeRulesOver decodes a `rules:` mapping over base, whose rule values
// it changes in place.
func decodeRulesOver(base Config, node *yaml.Node) (Config, error) {
	if node == nil || isNull(node) {
		return base, nil
	}
	if node.Kind != yaml.MappingNode {
		return Config{}, fmt.Errorf("rules: line %d: want a mapping from rule names to their settings", node.Line)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		keyNode, value := node.Content[i], node.Content[i+1]
		name := keyNode.Value
		if first, dup := seen[name]; dup {
			return Config{}, fmt.Errorf("rules: line %d: rule %q is already configured at line %d", keyNode.Line, name, first)
		}
		seen[name] = keyNode.Line
		rc := base.Rule(name)
		if rc == nil {
			return Config{}, fmt.Errorf("rules: line %d: unknown rule %q (known rules: %s)", keyNode.Line, name, strings.Join(base.names(), ", "))
		}
		if err := decodeRule(rc, keyNode, value); err != nil {
			return Config{}, err
		}
	}
	return base, nil
}

func (c Config) names() []string {
	names := make([]string, len(c.Rules))
	for i, rc := range c.Rules {
		names[i] = rc.Name()
	}
	return names
}

// decodeRule applies one rule's settings: the engine's keys to rc, any
// other key to the exported field of the rule's value with that yaml name.
func decodeRule(rc *RuleConfig, keyNode, node *yaml.Node) error {
	name := rc.Name()
	if isNull(node) {
		return nil
	}
	if node.Kind != yaml.MappingNode {
		return fmt.Errorf("rules.%s: line %d: want a mapping of settings (enabled, severity, weight, …)", name, node.Line)
	}
	lines := map[string]int{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, v := node.Content[i], node.Content[i+1]
		key := k.Value
		if _, dup := lines[key]; dup {
			return fmt.Errorf("rules.%s.%s: line %d: set twice", name, key, k.Line)
		}
		lines[key] = k.Line
		wrap := func(err error) error {
			return fmt.Errorf("rules.%s.%s: line %d: %s", name, key, v.Line, yamlErrorText(err))
		}
		switch key {
		case "enabled":
			if err := v.Decode(&rc.Enabled); err != nil {
				return wrap(err)
			}
		case "severity":
			var s string
			if err := v.Decode(&s); err != nil {
				return wrap(err)
			}
			sev := Severity(s)
			if err := checkSeverity(sev); err != nil {
				return wrap(err)
			}
			rc.Severity = sev
		case "weight":
			var w int
			if err := v.Decode(&w); err != nil {
				return wrap(err)
			}
			if w < 0 {
				return wrap(fmt.Errorf("weight %d is negative", w))
			}
			rc.Weight = w
		default:
			field, settings := settingField(rc.rule(), key)
			if !field.IsValid() {
				if len(settings) == 0 {
					return fmt.Errorf("rules.%s: line %d: unknown setting %q (this rule takes only enabled, severity, weight)", name, k.Line, key)
				}
				return fmt.Errorf("rules.%s: line %d: unknown setting %q (settings: enabled, severity, weight, %s)", name, k.Line, key, strings.Join(settings, ", "))
			}
			// yaml.v3 merges a mapping into an existing map; a setting
			// replaces its default instead.
			if field.Kind() == reflect.Map {
				field.Set(reflect.Zero(field.Type()))
			}
			if err := v.Decode(field.Addr().Interface()); err != nil {
				return wrap(err)
			}
		}
	}
	if err := checkRuleSettings(rc); err != nil {
		var se *SettingError
		if errors.As(err, &se) {
			if line, ok := lines[se.Key]; ok {
				return fmt.Errorf("rules.%s.%s: line %d: %w", name, se.Key, line, se.Err)
			}
		}
		return fmt.Errorf("rules.%s: line %d: %w", name, keyNode.Line, err)
	}
	return nil
}

func checkSeverity(s Severity) error {
	switch s {
	case Error, Warning:
		return nil
	}
	return fmt.Errorf("severity %q is neither %q nor %q", s, Error, Warning)
}

func checkRuleSettings(rc *RuleConfig) error {
	if c, ok := rc.rule().(SettingsChecker); ok {
		return c.CheckSettings()
	}
	return nil
}

// settingField finds the exported field of a rule (a pointer to a struct)
// whose yaml name is key, and lists the names it has.
func settingField(rule any, key string) (reflect.Value, []string) {
	v := reflect.ValueOf(rule)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, nil
	}
	v = v.Elem()
	var names []string
	var found reflect.Value
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		n := yamlName(f)
		if n == "-" {
			continue
		}
		names = append(names, n)
		if n == key {
			found = v.Field(i)
		}
	}
	sort.Strings(names)
	return found, names
}

// yamlName is the key yaml.v3 uses for a field: its tag's name, or the
// field name in lower case.
func yamlName(f reflect.StructField) string {
	tag := f.Tag.Get("yaml")
	if n, _, _ := strings.Cut(tag, ","); n != "" {
		return n
	}
	return strings.ToLower(f.Name)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

var yamlLinePrefix = regexp.MustCompile(`^line \d+: `)

// yamlErrorText drops the "line N: " yaml.v3 puts before each type error,
// since our message already names the line.
func yamlErrorText(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		parts := make([]string, len(te.Errors))
		for i, e := range te.Errors {
			parts[i] = yamlLinePrefix.ReplaceAllString(e, "")
		}
		return strings.Join(parts, "; ")
	}
	return err.Error()
}
