package validate

import (
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
)

func messages(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Message)
	}
	return out
}

func TestTagEmptyKeyOrValue(t *testing.T) {
	shop := firstElement(t, osmdata.Node, hasTag("shop", "*"))
	r := &EmptyTag{}
	if fs := checkOne(t, r, shop); len(fs) != 0 {
		t.Fatalf("real shop %s reported: %q", shop.Key(), messages(fs))
	}
	for _, bad := range []osmdata.Tag{{Key: "", Value: "x"}, {Key: " ", Value: "x"}, {Key: "note", Value: ""}, {Key: "note", Value: " \t"}} {
		e := withTags(shop, append(append(osmdata.Tags(nil), shop.Tags...), bad))
		fs := checkOne(t, r, e)
		if len(fs) != 1 || fs[0].Severity != Error || fs[0].Elements[0] != shop.Key() || !fs[0].HasLocation {
			t.Errorf("tag %q=%q: findings %+v, want one located error on %s", bad.Key, bad.Value, fs, shop.Key())
		}
	}
	// A value that is only padded is not empty.
	if fs := checkOne(t, r, setTag(shop, "note", " a ")); len(fs) != 0 {
		t.Fatalf("padded value reported: %q", messages(fs))
	}
}

func TestTagDeprecatedFromIDTable(t *testing.T) {
	r := NewDeprecatedTag()
	public := firstElement(t, osmdata.Way, hasTag("amenity", "public_building"))
	fs := checkOne(t, r, public)
	if len(fs) != 1 || !strings.HasSuffix(fs[0].Message, "deprecated tagging amenity=public_building; use building=public") {
		t.Fatalf("real amenity=public_building on %s: %q", public.Key(), messages(fs))
	}
	// "$1" takes the value the wildcard matched.
	fixme := firstElement(t, osmdata.Way, hasTag("FIXME", "*"))
	v, _ := fixme.Tags.Get("FIXME")
	fs = checkOne(t, r, fixme)
	if len(fs) != 1 || !strings.HasSuffix(fs[0].Message, "use fixme="+v) {
		t.Fatalf("real FIXME on %s: %q", fixme.Key(), messages(fs))
	}
	// The boundary of a value entry: the current value is quiet, the old
	// one reported.
	toilets := firstElement(t, osmdata.Node, hasTag("amenity", "toilets"))
	if fs := checkOne(t, r, toilets); len(fs) != 0 {
		t.Fatalf("amenity=toilets reported: %q", messages(fs))
	}
	if fs := checkOne(t, r, setTag(toilets, "amenity", "toilet")); len(fs) != 1 || !strings.Contains(fs[0].Message, "use amenity=toilets") {
		t.Fatalf("amenity=toilet: %q", messages(fs))
	}
	// An entry without replacement asks for removal.
	if fs := checkOne(t, r, setTag(toilets, "content", "unknown")); len(fs) != 1 || !strings.HasSuffix(fs[0].Message, "remove it") {
		t.Fatalf("content=unknown: %q", messages(fs))
	}
}

func TestTagDeprecatedTableFromConfig(t *testing.T) {
	cfg, err := DecodeRules(yamlNode(t, `
rules:
  deprecated_tag:
    table:
      - old: {shop: "*", opening_hours: "24/7"}
        replace: {shop: $1, opening_hours: "Mo-Su 00:00-24:00"}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Rule("deprecated_tag").Element
	shop := firstElement(t, osmdata.Node, hasTag("shop", "*"))
	kind, _ := shop.Tags.Get("shop")
	if fs := checkOne(t, r, setTag(shop, "amenity", "toilet")); len(fs) != 0 {
		t.Fatalf("the configured table still has the default entries: %q", messages(fs))
	}
	fs := checkOne(t, r, setTag(shop, "opening_hours", "24/7"))
	want := "opening_hours=24/7 + shop=" + kind + "; use opening_hours=Mo-Su 00:00-24:00 + shop=" + kind
	if len(fs) != 1 || !strings.HasSuffix(fs[0].Message, want) {
		t.Fatalf("configured entry: %q, want one ending %q", messages(fs), want)
	}
	if _, err := DecodeRules(yamlNode(t, "rules:\n  deprecated_tag:\n    table:\n      - replace: {a: b}\n")); err == nil ||
		!strings.HasPrefix(err.Error(), "rules.deprecated_tag.table: line 3: entry 1 has no old tags") {
		t.Fatalf("entry without old tags: %v", err)
	}
}

func TestTagGeometryMismatch(t *testing.T) {
	r := NewTagGeometryMismatch()
	for _, value := range []string{"crossing", "traffic_signals", "bus_stop", "turning_circle"} {
		n := firstElement(t, osmdata.Node, hasTag("highway", value))
		if fs := checkOne(t, r, n); len(fs) != 0 {
			t.Errorf("real highway=%s node %s reported: %q", value, n.Key(), messages(fs))
		}
	}
	road := firstElement(t, osmdata.Way, hasTag("highway", "residential"))
	crossing := firstElement(t, osmdata.Node, hasTag("highway", "crossing"))
	fs := checkOne(t, r, withTags(crossing, road.Tags))
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "highway=residential, which is drawn as a way") {
		t.Fatalf("a road's tags on a node: %q", messages(fs))
	}
	// Buildings mapped as nodes are in the extract itself.
	building := firstElement(t, osmdata.Node, hasTag("building", "*"))
	if fs := checkOne(t, r, building); len(fs) != 1 || !strings.Contains(fs[0].Message, "drawn as an area") {
		t.Fatalf("real building node %s: %q", building.Key(), messages(fs))
	}
	if fs := checkOne(t, r, setTag(building, "building", "no")); len(fs) != 0 {
		t.Fatalf("building=no on a node reported: %q", messages(fs))
	}

	shop := firstElement(t, osmdata.Node, hasTag("shop", "*"))
	open := firstElement(t, osmdata.Way, func(e *osmdata.Element) bool { return isOpenWay(e) && len(e.Tags) == 0 })
	closed := firstElement(t, osmdata.Way, hasTag("building", "yes"))
	if !isClosedWay(closed) {
		t.Fatalf("building way %s is not closed", closed.Key())
	}
	fs = checkOne(t, r, withTags(open, shop.Tags))
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "on an unclosed way") || !fs[0].HasLocation {
		t.Fatalf("a shop's tags on an unclosed way: %+v", fs)
	}
	if fs := checkOne(t, r, withTags(closed, shop.Tags)); len(fs) != 0 {
		t.Fatalf("a shop's tags on a closed way reported: %q", messages(fs))
	}
	// amenity=parking on an unclosed way is area_tags_on_unclosed_way's
	// to report, not this rule's.
	if fs := checkOne(t, r, setTag(open, "amenity", "parking")); len(fs) != 0 {
		t.Fatalf("amenity=parking on an unclosed way reported here: %q", messages(fs))
	}
	if fs := checkOne(t, r, setTag(open, "amenity", "restaurant")); len(fs) != 1 {
		t.Fatalf("amenity=restaurant on an unclosed way: %q", messages(fs))
	}
}

func TestTagSuspiciousNameWholeWords(t *testing.T) {
	r := NewSuspiciousName()
	named := firstElement(t, osmdata.Node, func(e *osmdata.Element) bool { return hasTag("shop", "*")(e) && hasTag("name", "*")(e) })
	if fs := checkOne(t, r, named); len(fs) != 0 {
		t.Fatalf("real shop name reported: %q", messages(fs))
	}
	cases := []struct {
		key, value string
		fires      bool
	}{
		{"name", "Test", true},
		{"name", "Botiga TEST 2", true},
		{"name:ca", "asdf", true},
		{"alt_name", "haha, nice", true},
		{"name", "Contest", false},
		{"name", "Testament", false},
		{"description", "test", false},
	}
	for _, c := range cases {
		fs := checkOne(t, r, setTag(named, c.key, c.value))
		if (len(fs) == 1) != c.fires || len(fs) > 1 {
			t.Errorf("%s=%q: findings %q, want fired=%v", c.key, c.value, messages(fs), c.fires)
		}
	}
}

func TestTagRulesQuietOnMostOfAndorra(t *testing.T) {
	// The extract is real, reviewed data: the rules that find vandalism
	// and broken tags must find none in it, and the others must flag a
	// small part of it, or they would drown reviewers.
	d := loadAndorra(t)
	s, keys := d.Snapshot, d.keys
	for _, r := range TagRules() {
		n := len(r.Check(s, keys))
		t.Logf("%s: %d of %d elements' findings", r.Name(), n, len(keys))
		switch r.Name() {
		case "empty_tag", "suspicious_name":
			if n != 0 {
				t.Errorf("%s reported %d findings on the Andorra extract", r.Name(), n)
			}
		default:
			if n*100 > len(keys) {
				t.Errorf("%s reported %d findings, over 1%% of %d elements", r.Name(), n, len(keys))
			}
		}
	}
}

func TestTagEngineOnRealChange(t *testing.T) {
	// A real element with deprecated tagging is edited: the old problem
	// is not the contributor's, the one they add is.
	fixme := firstElement(t, osmdata.Way, hasTag("FIXME", "*"))
	edited := setTag(setTag(fixme, "color", "red"), "name", "Camí nou")
	v := mustValidator(t, Default())
	in := modify("retag", [2]*osmdata.Element{fixme, edited})
	var got []string
	for _, f := range v.Validate(in).Findings {
		if f.Rule == "deprecated_tag" {
			got = append(got, f.Message)
		}
	}
	if len(got) != 1 || !strings.HasSuffix(got[0], "deprecated tagging color=red; use colour=red") {
		t.Fatalf("deprecated_tag findings %q, want only color=red", got)
	}
}
