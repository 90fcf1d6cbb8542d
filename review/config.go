package review

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"go.yaml.in/yaml/v3"
)

// FallbackScope is the scope of every part of a changeset that no
// configured scope covers: its reviewers are Config.Fallback (any
// reviewer when none is named), so nothing waits forever.
const FallbackScope = "fallback"

// Config is the review configuration file (YAML): the validation rules
// (`rules:`, package review/validate), the policy and the scopes. See
// review.example.yaml.
type Config struct {
	// Rules is the `rules:` section, decoded by package validate.
	Rules  yaml.Node    `yaml:"rules"`
	Policy PolicyConfig `yaml:"policy"`
	Scopes []Scope      `yaml:"scopes"`
	// Fallback names the reviewers of the fallback scope; empty means
	// every reviewer.
	Fallback []string `yaml:"fallback_reviewers"`
}

// AnyRule in AutoApproveDespite stands for every rule.
const AnyRule = "*"

// PolicyConfig is what happens to a submitted changeset without a
// reviewer.
type PolicyConfig struct {
	// ApprovalsRequired is how many distinct reviewers must approve (at
	// least one per needed scope in any case). Default 1.
	ApprovalsRequired int `yaml:"approvals_required"`
	// AutoApproveTrusted approves a trusted contributor's changeset when
	// validation finds no error and no warning but those of
	// AutoApproveDespite. Default true.
	AutoApproveTrusted *bool `yaml:"auto_approve_trusted"`
	// AutoApproveDespite names the rules whose warnings do not stop the
	// auto-approval of a trusted contributor; "*" is every rule. Default
	// "*": an account an admin (or its record) made trusted is trusted
	// with warnings, as bots and imports through trusted accounts need;
	// errors always stop it. A dataset that wants trusted changesets with
	// warnings reviewed lists the rules it tolerates instead (for example
	// new_contributor and no_source).
	AutoApproveDespite []string `yaml:"auto_approve_despite"`
	// AutoRejectErrors rejects a changeset whose validation finds an
	// error; otherwise it waits in the queue, blocked from merging.
	AutoRejectErrors bool `yaml:"auto_reject_errors"`
	// EscalateAfter escalates changesets waiting longer (0: never).
	EscalateAfter Duration `yaml:"escalate_after"`
	// EarnedTrustAfter makes a contributor trusted after this many merged
	// changesets without a rejection (0: trust is only granted by admins).
	EarnedTrustAfter int `yaml:"earned_trust_after"`
}

// Duration reads "48h", "30m" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 48h or 30m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Scope is what a reviewer or a team reviews: an area, a tag theme, or
// both. An element is in the scope when its old or new geometry meets the
// area (a relation through its members) and its old or new tags match
// the theme.
type Scope struct {
	Name      string   `yaml:"name"`
	Reviewers []string `yaml:"reviewers"`
	// Area is a GeoJSON file (Polygon or MultiPolygon geometry, a Feature
	// or a FeatureCollection of them), relative to the configuration
	// file; none means everywhere.
	Area string `yaml:"area"`
	// Tags is the theme: "key", "key=value" or "prefix*" (addr:*); none
	// means every tag.
	Tags []string `yaml:"tags"`

	area orb.MultiPolygon
}

// DefaultConfig is the configuration without a file: every rule at its
// default, one approval, trusted contributors without findings
// auto-approved, no scopes (every reviewer reviews everything).
func DefaultConfig() *Config {
	c := &Config{}
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	if c.Policy.ApprovalsRequired <= 0 {
		c.Policy.ApprovalsRequired = 1
	}
	if c.Policy.AutoApproveDespite == nil {
		c.Policy.AutoApproveDespite = []string{AnyRule}
	}
	if c.Policy.AutoApproveTrusted == nil {
		yes := true
		c.Policy.AutoApproveTrusted = &yes
	}
}

// LoadConfig reads a configuration file; errors name the line.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("review configuration: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	c := &Config{}
	// An empty file (io.EOF) is the default configuration.
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("review configuration %s: %w", path, err)
	}
	c.setDefaults()
	seen := map[string]bool{FallbackScope: true}
	for i := range c.Scopes {
		sc := &c.Scopes[i]
		if sc.Name == "" || seen[sc.Name] || strings.Contains(sc.Name, ",") {
			return nil, fmt.Errorf("review configuration %s: scope %d: each scope needs a unique name without commas (and not %q)", path, i+1, FallbackScope)
		}
		seen[sc.Name] = true
		if sc.Area == "" {
			continue
		}
		file := sc.Area
		if !strings.HasPrefix(file, "/") {
			file = dirOf(path) + file
		}
		if sc.area, err = readArea(file); err != nil {
			return nil, fmt.Errorf("review configuration %s: scope %s: %w", path, sc.Name, err)
		}
	}
	return c, nil
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i+1]
	}
	return ""
}

// readArea reads the polygons of a GeoJSON file.
func readArea(file string) (orb.MultiPolygon, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("area: %w", err)
	}
	var geoms []orb.Geometry
	if fc, err := geojson.UnmarshalFeatureCollection(data); err == nil && len(fc.Features) > 0 {
		for _, f := range fc.Features {
			geoms = append(geoms, f.Geometry)
		}
	} else if f, err := geojson.UnmarshalFeature(data); err == nil && f.Geometry != nil {
		geoms = append(geoms, f.Geometry)
	} else if g, err := geojson.UnmarshalGeometry(data); err == nil {
		geoms = append(geoms, g.Geometry())
	} else {
		return nil, fmt.Errorf("area %s: not GeoJSON: %w", file, err)
	}
	var mp orb.MultiPolygon
	for _, g := range geoms {
		switch g := g.(type) {
		case orb.Polygon:
			mp = append(mp, g)
		case orb.MultiPolygon:
			mp = append(mp, g...)
		default:
			return nil, fmt.Errorf("area %s: a %s, not a Polygon or MultiPolygon", file, g.GeoJSONType())
		}
	}
	if len(mp) == 0 {
		return nil, fmt.Errorf("area %s: no polygon", file)
	}
	return mp, nil
}

// ScopesOf returns the scopes a reviewer named name reviews: the scopes
// naming them, and the fallback scope when they are a fallback reviewer
// (every reviewer when none is named). Admins review every scope.
func (c *Config) ScopesOf(name, role string) []string {
	var out []string
	for _, sc := range c.Scopes {
		if role == RoleAdmin || slices.Contains(sc.Reviewers, name) {
			out = append(out, sc.Name)
		}
	}
	if role == RoleAdmin || len(c.Fallback) == 0 && role == RoleReviewer || slices.Contains(c.Fallback, name) {
		out = append(out, FallbackScope)
	}
	return out
}
