package review

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/review/validate"
)

const examplePath = "../review.example.yaml"

// TestExampleConfigIsTheDefault keeps review.example.yaml from drifting:
// it loads, and its policy, scopes and fallback reviewers are exactly
// what a server without a configuration file uses.
func TestExampleConfigIsTheDefault(t *testing.T) {
	got, err := LoadConfig(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	if !reflect.DeepEqual(got.Policy, want.Policy) {
		t.Errorf("%s: policy loads as %+v (auto_approve_trusted %v), DefaultConfig's is %+v (auto_approve_trusted %v)",
			examplePath, got.Policy, *got.Policy.AutoApproveTrusted, want.Policy, *want.Policy.AutoApproveTrusted)
	}
	if len(got.Scopes) != 0 || len(got.Fallback) != 0 {
		t.Errorf("%s: scopes %+v and fallback reviewers %q, want none, as without a file", examplePath, got.Scopes, got.Fallback)
	}
	if rules, err := validate.LoadConfig(examplePath); err != nil {
		t.Errorf("%s: the rules loader refuses it: %v", examplePath, err)
	} else if len(rules.Rules) == 0 {
		t.Errorf("%s: no rules", examplePath)
	}
}

// TestExampleConfigListsEveryPolicyField: each field of PolicyConfig is
// written out in the example, so that an operator sees every setting.
func TestExampleConfigListsEveryPolicyField(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	policy := reflect.TypeFor[PolicyConfig]()
	for i := range policy.NumField() {
		key, _, _ := strings.Cut(policy.Field(i).Tag.Get("yaml"), ",")
		if !strings.Contains(string(data), "\n  "+key+": ") {
			t.Errorf("%s does not set policy.%s", examplePath, key)
		}
	}
}

// TestExampleConfigScopeLoads uncomments the example's scope, beside the
// Andorra la Vella area of the tests, and loads it: an operator who
// follows the example gets a working scope with its area and theme.
func TestExampleConfigScopeLoads(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	var scope []string
	inExample := false
	for line := range strings.Lines(string(data)) {
		switch {
		case strings.HasPrefix(line, "scopes: []"):
			inExample = true
		case inExample && strings.HasPrefix(line, "#  "):
			scope = append(scope, strings.TrimPrefix(line, "#"))
		case inExample && !strings.HasPrefix(line, "#"):
			inExample = false
		}
	}
	if len(scope) == 0 {
		t.Fatalf("%s: no commented scope example after scopes: []", examplePath)
	}
	dir := t.TempDir()
	area, err := os.ReadFile("testdata/andorra-la-vella.geojson")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "andorra-la-vella.geojson"), area, 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "review.yaml")
	if err := os.WriteFile(file, []byte("scopes:\n"+strings.Join(scope, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(file)
	if err != nil {
		t.Fatalf("the example's scope, uncommented:\n%s\n%v", strings.Join(scope, ""), err)
	}
	if len(c.Scopes) != 1 || len(c.Scopes[0].Reviewers) == 0 || len(c.Scopes[0].Tags) == 0 {
		t.Fatalf("the example's scope loads as %+v, want one scope with reviewers and tags", c.Scopes)
	}
	sc := c.Scopes[0]
	address := node(1, 1.52, 42.50, "addr:housenumber", "3")
	elsewhere := node(2, 1.40, 42.55, "addr:housenumber", "9")
	snap := snapshotOf(address, elsewhere)
	for _, tc := range []struct {
		what string
		in   *validate.Input
		want []string
	}{
		{"an address in Andorra la Vella", &validate.Input{Changes: []validate.Change{{New: address}}, Before: snap, After: snap}, []string{sc.Name}},
		{"an address outside the area", &validate.Input{Changes: []validate.Change{{New: elsewhere}}, Before: snap, After: snap}, []string{FallbackScope}},
	} {
		if got := c.ScopesFor(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%s: scopes %v, want %v", tc.what, got, tc.want)
		}
	}
}
