package validate

import (
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
)

// andorraNodes returns n real nodes of the extract, in id order.
func andorraNodes(t testing.TB, n int) []*osmdata.Element {
	t.Helper()
	d := loadAndorra(t)
	var out []*osmdata.Element
	for _, k := range d.keys {
		if k.Type != osmdata.Node {
			continue
		}
		if len(out) == n {
			break
		}
		out = append(out, d.Nodes[k.ID])
	}
	if len(out) < n {
		t.Fatalf("the extract has %d nodes, want %d", len(out), n)
	}
	return out
}

// changesOf builds a changeset of real nodes: creates new ones, modifies
// and deletes existing ones, each element used once.
func changesOf(t testing.TB, creates, modifies, deletes int) *Input {
	t.Helper()
	nodes := andorraNodes(t, creates+modifies+deletes)
	in := &Input{AuthorMergedChangesets: 1000, Changeset: osmdata.Changeset{Tags: osmdata.Tags{
		{Key: "comment", Value: "Survey of Andorra la Vella"}, {Key: "source", Value: "survey"},
	}}}
	for i, n := range nodes {
		switch {
		case i < creates:
			in.Changes = append(in.Changes, Change{New: n})
		case i < creates+modifies:
			in.Changes = append(in.Changes, Change{Old: n, New: setTag(n, "note", "checked")})
		default:
			gone := *n
			gone.Visible = false
			in.Changes = append(in.Changes, Change{Old: n, New: &gone})
		}
	}
	return in
}

func fires(r ChangesetRule, in *Input) bool { return len(r.CheckChangeset(in)) > 0 }

func TestHeuristicCountsOnTheirBoundaries(t *testing.T) {
	cases := []struct {
		rule                      ChangesetRule
		creates, modifies, delete int
		want                      bool
	}{
		{NewPossibleImport(), 200, 0, 0, false}, // exactly 200 creations
		{NewPossibleImport(), 201, 0, 0, true},
		{NewPossibleImport(), 210, 90, 0, false}, // exactly 70%
		{NewPossibleImport(), 211, 90, 0, true},
		{NewMassModification(), 0, 200, 0, false},
		{NewMassModification(), 0, 201, 0, true},
		{NewMassModification(), 90, 210, 0, false},
		{NewMassModification(), 90, 211, 0, true},
		{NewMassDeletion(), 0, 0, 30, false},
		{NewMassDeletion(), 0, 0, 31, true},
		{NewMassDeletion(), 30, 0, 70, false}, // exactly 70%
		{NewMassDeletion(), 30, 0, 71, true},
		{NewMassDeletion(), 2000, 0, 1000, false}, // a third, exactly 1,000
		{NewMassDeletion(), 2000, 0, 1001, true},
	}
	for _, c := range cases {
		in := changesOf(t, c.creates, c.modifies, c.delete)
		if got := fires(c.rule, in); got != c.want {
			t.Errorf("%s on %d creations, %d modifications, %d deletions: fired %v, want %v",
				c.rule.Name(), c.creates, c.modifies, c.delete, got, c.want)
		}
	}
	// A changeset that creates and deletes one element counts it deleted.
	created := andorraNodes(t, 1)[0]
	gone := *created
	gone.Visible = false
	in := &Input{Changes: []Change{{New: &gone}}}
	if c := countActions(in.Changes); c.delete != 1 || c.create != 0 {
		t.Fatalf("created-then-deleted counted %+v", c)
	}
}

func TestHeuristicThresholdsFromConfig(t *testing.T) {
	cfg, err := DecodeRules(yamlNode(t, `
rules:
  possible_import: {creations: 10, share: 0.5}
  mass_deletion: {deletions: 5}
`))
	if err != nil {
		t.Fatal(err)
	}
	imp := cfg.Rule("possible_import").Changeset
	if !fires(imp, changesOf(t, 11, 10, 0)) || fires(imp, changesOf(t, 10, 0, 0)) {
		t.Fatal("possible_import ignores its configured thresholds")
	}
	del := cfg.Rule("mass_deletion").Changeset
	if !fires(del, changesOf(t, 0, 0, 6)) || fires(del, changesOf(t, 0, 0, 5)) {
		t.Fatal("mass_deletion ignores its configured threshold")
	}
	if _, err := DecodeRules(yamlNode(t, "rules:\n  mass_deletion:\n    share: 70\n")); err == nil ||
		!strings.HasPrefix(err.Error(), "rules.mass_deletion.share: line 3: 70 is not a share") {
		t.Fatalf("share 70: %v", err)
	}
}

func TestHeuristicNewContributor(t *testing.T) {
	r := NewNewContributor()
	in := changesOf(t, 1, 0, 0)
	in.AuthorMergedChangesets = 50
	if !fires(r, in) {
		t.Fatal("50 merged changesets is new")
	}
	in.AuthorMergedChangesets = 51
	if fires(r, in) {
		t.Fatal("51 merged changesets is not new")
	}
}

func TestHeuristicLargeBBox(t *testing.T) {
	r := NewLargeBBox()
	in := changesOf(t, 2, 0, 0)
	if fires(r, in) {
		t.Fatal("two Andorra nodes make a large box")
	}
	// One square degree exactly, then a unit more.
	in.Changeset.HasBox = true
	in.Changeset.Box = osmdata.Box{MinLat: 420000000, MinLon: 10000000, MaxLat: 430000000, MaxLon: 20000000}
	if fires(r, in) {
		t.Fatal("exactly 1 square degree fired")
	}
	in.Changeset.Box.MaxLon++
	fs := r.CheckChangeset(in)
	if len(fs) != 1 || !fs[0].HasLocation || fs[0].Lat < 42 || fs[0].Lat > 43 {
		t.Fatalf("a box over 1 square degree: %+v", fs)
	}
	// Without the changeset's box, the nodes give it: an Andorra node
	// moved to Montpellier stretches it over 2 square degrees.
	in = changesOf(t, 1, 1, 0)
	moved := *in.Changes[1].New
	moved.Lat, moved.Lon = osmdata.CoordToFixed(43.61), osmdata.CoordToFixed(3.88)
	in.Changes[1].New = &moved
	if !fires(r, in) {
		t.Fatal("a node moved from Andorra to Montpellier did not fire")
	}
}

func TestHeuristicCommentAndSource(t *testing.T) {
	withTagsIn := func(tags ...string) *Input {
		in := changesOf(t, 1, 0, 0)
		in.Changeset.Tags = nil
		for i := 0; i+1 < len(tags); i += 2 {
			in.Changeset.Tags = append(in.Changeset.Tags, osmdata.Tag{Key: tags[i], Value: tags[i+1]})
		}
		return in
	}
	cases := []struct {
		rule ChangesetRule
		tags []string
		want bool
	}{
		{NewNoComment(), nil, true},
		{NewNoComment(), []string{"comment", "  "}, true},
		{NewNoComment(), []string{"comment", "Added shops"}, false},
		{NewNoSource(), []string{"comment", "Added shops"}, true},
		{NewNoSource(), []string{"imagery_used", "Bing Maps Aerial"}, false},
		{NewNoSource(), []string{"source", "survey"}, false},
		{NewSuspiciousComment(), []string{"comment", "Revert vandalism"}, true},
		{NewSuspiciousComment(), []string{"comment", "Import of addresses"}, true},
		{NewSuspiciousComment(), []string{"comment", "Important fix"}, false},
		{NewSuspiciousComment(), []string{"comment", "Contest venue"}, false},
		{NewSuspiciousComment(), []string{"hashtags", "#test"}, false},
		{NewSuspiciousComment(), []string{"hashtags", "test;mapathon"}, true},
		{NewSuspiciousSource(), []string{"source", "Google Maps"}, true},
		{NewSuspiciousSource(), []string{"imagery_used", "Yandex Maps"}, true},
		{NewSuspiciousSource(), []string{"source", "Yandex Panoramas"}, false},
		{NewSuspiciousSource(), []string{"source", "survey;Bing"}, false},
	}
	for _, c := range cases {
		if got := fires(c.rule, withTagsIn(c.tags...)); got != c.want {
			t.Errorf("%s with %q: fired %v, want %v", c.rule.Name(), c.tags, got, c.want)
		}
	}
}
