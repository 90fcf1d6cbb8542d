package review

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/review/validate"
)

// FuzzLoadConfig reads any review configuration (operator input: YAML,
// and the GeoJSON file of a scope's area): no panic; a configuration
// accepted has at least one required approval, scopes with unique names
// without commas (none named like the fallback scope), an area read as
// polygons for each scope that names one, and a rules section that
// package validate reads or refuses with an error.
func FuzzLoadConfig(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("..", "review.example.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	square := `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}`
	f.Add(example, []byte(square))
	f.Add([]byte("scopes:\n  - name: north\n    reviewers: [ana]\n    area: area.geojson\n    tags: [\"highway\", \"addr:*\"]\npolicy:\n  approvals_required: 0\n  escalate_after: 48h\n"),
		[]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":`+square+`,"properties":{}}]}`))
	f.Add([]byte("scopes: [{name: a}, {name: a}]\n"), []byte(`{"type":"Point","coordinates":[1,2]}`))
	f.Add([]byte("rules:\n  no_source: {severity: error}\n  unknown_rule: {}\npolicy: {escalate_after: forever}\n"), []byte("not json"))
	f.Add([]byte("a: &a [*a, *a]\nscopes: [{name: x, area: ../area.geojson}]\n"), []byte{})
	f.Fuzz(func(t *testing.T, config, area []byte) {
		// An area may be any file of the machine; devices and the
		// process's own descriptors may never end (YAML escapes could
		// spell them too).
		for _, never := range []string{"/dev", "/proc", "/sys", "\\"} {
			if bytes.Contains(config, []byte(never)) {
				return
			}
		}
		dir := t.TempDir()
		path := filepath.Join(dir, "review.yaml")
		if err := os.WriteFile(path, config, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "area.geojson"), area, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(path)
		if err != nil {
			return
		}
		if c.Policy.ApprovalsRequired < 1 || c.Policy.AutoApproveTrusted == nil || c.Policy.AutoApproveDespite == nil {
			t.Fatalf("policy %+v", c.Policy)
		}
		seen := map[string]bool{FallbackScope: true}
		for _, sc := range c.Scopes {
			if sc.Name == "" || seen[sc.Name] || strings.Contains(sc.Name, ",") {
				t.Fatalf("scope %q accepted", sc.Name)
			}
			seen[sc.Name] = true
			if sc.Area != "" && len(sc.area) == 0 {
				t.Fatalf("scope %q: area %q accepted without a polygon", sc.Name, sc.Area)
			}
		}
		if !c.Rules.IsZero() {
			_, _ = validate.DecodeRules(&c.Rules)
		}
	})
}
