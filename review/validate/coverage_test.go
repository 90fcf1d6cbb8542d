package validate

import (
	"slices"
	"sort"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
)

// ruleCoverage is issue 6's promise for one rule, on the real Andorra
// extract through the engine with Default(): an edit that introduces
// the problem is reported, and a problem the changeset did not introduce
// is left alone.
type ruleCoverage struct {
	// fires returns a changeset introducing the problem and the element
	// it edited that the finding must name; the zero Key for a changeset
	// heuristic, whose findings name no element.
	fires func(t *testing.T, d *dataset) (*Input, osmdata.Key)
	// leftAlone returns a changeset touching an element whose problem
	// (about the returned element) Before already has, or, for a
	// heuristic, a changeset just short of the threshold fires crosses.
	leftAlone func(t *testing.T, d *dataset) (*Input, osmdata.Key)
}

// ruleCoverageTable has one entry per rule of Default(), by name.
func ruleCoverageTable() map[string]ruleCoverage {
	return map[string]ruleCoverage{
		// Tags. Andorra has no empty tag and no suspicious name, so
		// those problems are created in Before.
		"empty_tag": {
			fires: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				shop := firstElement(t, osmdata.Node, hasTag("shop", "*")).Key()
				e := newEdit(d)
				e.addTag(t, shop, "note", "")
				return e.input(), shop
			},
			leftAlone: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				shop := firstElement(t, osmdata.Node, hasTag("shop", "*")).Key()
				e := newEdit(d)
				e.modify(t, shop, true, func(n *osmdata.Element) { n.Tags = append(n.Tags, tag("note=")) })
				e.addTag(t, shop, "check_date", "2026-11-29")
				return e.input(), shop
			},
		},
		"deprecated_tag": {
			fires: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				toilets := firstElement(t, osmdata.Node, hasTag("amenity", "toilets")).Key()
				e := newEdit(d)
				e.modify(t, toilets, false, func(n *osmdata.Element) { *n = *setTag(n, "amenity", "toilet") })
				return e.input(), toilets
			},
			leftAlone: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				public := firstElement(t, osmdata.Way, hasTag("amenity", "public_building")).Key()
				e := newEdit(d)
				e.addTag(t, public, "check_date", "2026-11-29")
				return e.input(), public
			},
		},
		"tag_geometry_mismatch": {
			fires: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				crossing := firstElement(t, osmdata.Node, hasTag("highway", "crossing")).Key()
				e := newEdit(d)
				e.modify(t, crossing, false, func(n *osmdata.Element) { *n = *setTag(n, "highway", "residential") })
				return e.input(), crossing
			},
			leftAlone: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				// Buildings mapped as points are in the extract itself.
				building := firstElement(t, osmdata.Node, hasTag("building", "*")).Key()
				e := newEdit(d)
				e.addTag(t, building, "check_date", "2026-11-29")
				return e.input(), building
			},
		},
		"suspicious_name": {
			fires: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				shop := firstElement(t, osmdata.Node, hasTag("shop", "*")).Key()
				e := newEdit(d)
				e.modify(t, shop, false, func(n *osmdata.Element) { *n = *setTag(n, "name", "Botiga TEST") })
				return e.input(), shop
			},
			leftAlone: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				shop := firstElement(t, osmdata.Node, hasTag("shop", "*")).Key()
				e := newEdit(d)
				e.modify(t, shop, true, func(n *osmdata.Element) { *n = *setTag(n, "name", "Botiga TEST") })
				e.addTag(t, shop, "check_date", "2026-11-29")
				return e.input(), shop
			},
		},

		// Geometry. The problems of a single way are created in Before
		// on a real street or building.
		"way_too_few_nodes": {
			fires: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				e := newEdit(d)
				e.modify(t, wayKey(residentialRoad), false, func(w *osmdata.Element) { w.Nodes = w.Nodes[:1] })
				return e.input(), wayKey(residentialRoad)
			},
			leftAlone: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				e := newEdit(d)
				e.modify(t, wayKey(residentialRoad), true, func(w *osmdata.Element) { w.Nodes = w.Nodes[:1] })
				e.addTag(t, wayKey(residentialRoad), "surface", "asphalt")
				return e.input(), wayKey(residentialRoad)
			},
		},
		"repeated_consecutive_nodes": {
			fires: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				e := newEdit(d)
				e.modify(t, wayKey(residentialRoad), false, repeatSecondNode)
				return e.input(), wayKey(residentialRoad)
			},
			leftAlone: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				e := newEdit(d)
				e.modify(t, wayKey(residentialRoad), true, repeatSecondNode)
				e.addTag(t, wayKey(residentialRoad), "surface", "asphalt")
				return e.input(), wayKey(residentialRoad)
			},
		},
		"self_intersecting_area": {
			fires: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				b := fourCornerBuilding(t, d).Key()
				e := newEdit(d)
				e.modify(t, b, false, swapSecondAndThirdCorners)
				return e.input(), b
			},
			leftAlone: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				b := fourCornerBuilding(t, d).Key()
				e := newEdit(d)
				e.modify(t, b, true, swapSecondAndThirdCorners)
				e.addTag(t, b, "roof:shape", "flat")
				return e.input(), b
			},
		},
		"area_tags_on_unclosed_way": {
			fires: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				b := fourCornerBuilding(t, d).Key()
				e := newEdit(d)
				e.modify(t, b, false, dropClosingNode)
				return e.input(), b
			},
			leftAlone: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				b := fourCornerBuilding(t, d).Key()
				e := newEdit(d)
				e.modify(t, b, true, dropClosingNode)
				e.addTag(t, b, "roof:shape", "flat")
				return e.input(), b
			},
		},

		// Topology: Andorra has each of these problems somewhere.
		"crossing_ways": {
			fires: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				e, building, _ := buildingOverRoad(t, d)
				return e.input(), wayKey(building)
			},
			leftAlone: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				// Residential way 6183573 crosses stream 392404414
				// with neither a shared node nor a culvert.
				const road = 6183573
				e := newEdit(d)
				e.addTag(t, wayKey(road), "surface", "asphalt")
				return e.input(), wayKey(road)
			},
		},
		"disconnected_highway": {
			fires: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				p := farFromEverything(t, d)
				e := newEdit(d)
				path := e.createWay([]int64{e.createNode(p), e.createNode(offset(p, 40, 0))}, tag("highway=footway"))
				return e.input(), wayKey(path)
			},
			leftAlone: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				// Footway 29376448 joins no highway.
				const island = 29376448
				e := newEdit(d)
				e.addTag(t, wayKey(island), "surface", "gravel")
				return e.input(), wayKey(island)
			},
		},
		"almost_junction": {
			fires: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				short := serviceRoadShortOfStreet(t, d, 3)
				return short.edit.input(), wayKey(short.service)
			},
			leftAlone: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				// Path 423849557 ends 1.6 m from track 309170958.
				const path = 423849557
				e := newEdit(d)
				e.addTag(t, wayKey(path), "surface", "dirt")
				return e.input(), wayKey(path)
			},
		},
		"close_nodes": {
			fires: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				e, _, dup := amenityMappedTwice(t, d)
				return e.input(), nodeKey(dup)
			},
			leftAlone: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				// Nodes 4178821213 and 4178821214 share a position
				// with like tags.
				const first = 4178821213
				e := newEdit(d)
				e.addTag(t, nodeKey(first), "check_date", "2026-11-29")
				return e.input(), nodeKey(first)
			},
		},
		"untagged_unused": {
			fires: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				e := newEdit(d)
				lone := e.createNode(farFromEverything(t, d))
				return e.input(), nodeKey(lone)
			},
			leftAlone: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				// Way 370840540 has no tags and is in no relation;
				// reversing it leaves it so.
				const bare = 370840540
				e := newEdit(d)
				e.modify(t, wayKey(bare), false, func(w *osmdata.Element) { slices.Reverse(w.Nodes) })
				return e.input(), wayKey(bare)
			},
		},
		"broken_multipolygon": {
			fires: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				e := newEdit(d)
				e.modify(t, relKey(farmland), false, dropSecondOuter(t, d))
				return e.input(), relKey(farmland)
			},
			leftAlone: func(t *testing.T, d *dataset) (*Input, osmdata.Key) {
				// Broken before; the edit retags the outer way it kept,
				// a neighbour of the relation.
				ways := farmlandOuterWays(t, d)
				e := newEdit(d)
				e.modify(t, relKey(farmland), true, dropSecondOuter(t, d))
				e.addTag(t, wayKey(ways[0]), "note", "fence")
				return e.input(), relKey(farmland)
			},
		},

		// Changeset heuristics, on real Andorra nodes: one over a count
		// fires, the count itself is quiet; a text check fires on a
		// word and is quiet on its nearest allowed neighbour.
		"possible_import": {
			fires:     heuristicInput(func(t *testing.T) *Input { return changesOf(t, 201, 0, 0) }),
			leftAlone: heuristicInput(func(t *testing.T) *Input { return changesOf(t, 200, 0, 0) }),
		},
		"mass_modification": {
			fires:     heuristicInput(func(t *testing.T) *Input { return changesOf(t, 0, 201, 0) }),
			leftAlone: heuristicInput(func(t *testing.T) *Input { return changesOf(t, 0, 200, 0) }),
		},
		"mass_deletion": {
			fires:     heuristicInput(func(t *testing.T) *Input { return changesOf(t, 0, 0, 31) }),
			leftAlone: heuristicInput(func(t *testing.T) *Input { return changesOf(t, 0, 0, 30) }),
		},
		"new_contributor": {
			fires:     heuristicInput(func(t *testing.T) *Input { return authorWithMerged(t, 50) }),
			leftAlone: heuristicInput(func(t *testing.T) *Input { return authorWithMerged(t, 51) }),
		},
		"large_bbox": {
			// A node moved 1° east and just over or under 1° north.
			fires:     heuristicInput(func(t *testing.T) *Input { return nodeMovedBy(t, 1, 1.001) }),
			leftAlone: heuristicInput(func(t *testing.T) *Input { return nodeMovedBy(t, 1, 0.999) }),
		},
		"no_comment": {
			fires:     heuristicInput(func(t *testing.T) *Input { return withChangesetTag(t, "comment", " ") }),
			leftAlone: heuristicInput(func(t *testing.T) *Input { return withChangesetTag(t, "comment", "Survey") }),
		},
		"no_source": {
			fires:     heuristicInput(func(t *testing.T) *Input { return withChangesetTag(t, "source", " ") }),
			leftAlone: heuristicInput(func(t *testing.T) *Input { return withChangesetTag(t, "imagery_used", "Bing Maps Aerial") }),
		},
		"suspicious_comment": {
			fires:     heuristicInput(func(t *testing.T) *Input { return withChangesetTag(t, "comment", "Import of addresses") }),
			leftAlone: heuristicInput(func(t *testing.T) *Input { return withChangesetTag(t, "comment", "Important fix") }),
		},
		"suspicious_source": {
			fires:     heuristicInput(func(t *testing.T) *Input { return withChangesetTag(t, "source", "Yandex Maps") }),
			leftAlone: heuristicInput(func(t *testing.T) *Input { return withChangesetTag(t, "source", "Yandex Panoramas") }),
		},
	}
}

func TestEveryRuleFiresAndLeavesOldProblemsAlone(t *testing.T) {
	cfg := Default()
	table := ruleCoverageTable()
	var names []string
	for _, rc := range cfg.Rules {
		names = append(names, rc.Name())
		if _, ok := table[rc.Name()]; !ok {
			t.Errorf("rule %q of Default() has no entry in ruleCoverageTable: add one that fires and one left alone", rc.Name())
		}
	}
	for name := range table {
		if cfg.Rule(name) == nil {
			t.Errorf("ruleCoverageTable has %q, which Default() does not have", name)
		}
	}
	sort.Strings(names)
	v := mustValidator(t, cfg)
	d := loadAndorra(t)
	for _, name := range names {
		c, ok := table[name]
		if !ok {
			continue
		}
		rc := cfg.Rule(name)
		t.Run(name+"/fires", func(t *testing.T) {
			in, edited := c.fires(t, d)
			got := ofRule(v.Validate(in).Findings, name)
			if edited == (osmdata.Key{}) {
				if len(got) != 1 || len(got[0].Elements) != 0 {
					t.Fatalf("want one changeset finding, got %d: %s", len(got), describeFindings(got))
				}
				return
			}
			if len(about(got, edited)) == 0 {
				t.Fatalf("no finding names %s: %s", edited, describeFindings(got))
			}
		})
		t.Run(name+"/left_alone", func(t *testing.T) {
			in, old := c.leftAlone(t, d)
			if got := ofRule(v.Validate(in).Findings, name); len(got) != 0 {
				t.Fatalf("reported as introduced: %s", describeFindings(got))
			}
			if old == (osmdata.Key{}) {
				return
			}
			// The problem is there on both sides: the rule sees it, and
			// the engine leaves it alone.
			touched := touchedKeys(in.Changes)
			for side, snap := range map[string]*Snapshot{"Before": in.Before, "After": in.After} {
				if fs := rc.Element.Check(snap, presentIn(snap, touched)); len(about(fs, old)) == 0 {
					t.Errorf("%s has no finding about %s, so nothing was left alone: %s", side, old, describeFindings(fs))
				}
			}
		})
	}
}

func ofRule(fs []Finding, rule string) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func repeatSecondNode(w *osmdata.Element) { w.Nodes = slices.Insert(w.Nodes, 1, w.Nodes[1]) }

// swapSecondAndThirdCorners turns a four-cornered outline into a bow tie.
func swapSecondAndThirdCorners(w *osmdata.Element) { w.Nodes[1], w.Nodes[2] = w.Nodes[2], w.Nodes[1] }

func dropClosingNode(w *osmdata.Element) { w.Nodes = w.Nodes[:len(w.Nodes)-1] }

// dropSecondOuter leaves the farmland's ring half drawn.
func dropSecondOuter(t *testing.T, d *dataset) func(*osmdata.Element) {
	farmlandOuterWays(t, d)
	return func(r *osmdata.Element) { r.Members = r.Members[:1] }
}

func heuristicInput(build func(t *testing.T) *Input) func(*testing.T, *dataset) (*Input, osmdata.Key) {
	return func(t *testing.T, _ *dataset) (*Input, osmdata.Key) { return build(t), osmdata.Key{} }
}

func authorWithMerged(t *testing.T, merged int) *Input {
	in := changesOf(t, 0, 1, 0)
	in.AuthorMergedChangesets = merged
	return in
}

// nodeMovedBy is a changeset moving one real node east and north by the
// given degrees, without a box of its own, so the node's two positions
// span its box.
func nodeMovedBy(t *testing.T, east, north float64) *Input {
	in := changesOf(t, 0, 1, 0)
	n := in.Changes[0].New
	n.Lon += osmdata.CoordToFixed(east)
	n.Lat += osmdata.CoordToFixed(north)
	return in
}

// withChangesetTag is a one-change changeset whose only tag is key=value.
func withChangesetTag(t *testing.T, key, value string) *Input {
	in := changesOf(t, 0, 1, 0)
	in.Changeset.Tags = osmdata.Tags{{Key: key, Value: value}}
	return in
}
