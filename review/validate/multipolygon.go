package validate

import (
	"fmt"
	"sort"
	"strings"

	"github.com/geocommuns/geocommuns/osmdata"
)

// BrokenMultipolygon reports a multipolygon relation whose outer or inner
// ways do not join into closed rings, when the relation or one of its
// member ways is touched: renderers drop such an area, or flood the map
// with it. Ways with an empty role count as outer, as most consumers
// read them. A relation with a member way the snapshot lacks is
// skipped: its rings cannot be judged.
type BrokenMultipolygon struct{}

func (*BrokenMultipolygon) Name() string              { return "broken_multipolygon" }
func (*BrokenMultipolygon) DefaultSeverity() Severity { return Error }
func (*BrokenMultipolygon) DefaultWeight() int        { return 3 }

func (r *BrokenMultipolygon) Check(snap *Snapshot, touched []osmdata.Key) []Finding {
	candidates := map[int64]bool{}
	touchedWay := map[int64]bool{}
	for _, k := range touched {
		switch k.Type {
		case osmdata.Relation:
			candidates[k.ID] = true
		case osmdata.Way:
			touchedWay[k.ID] = true
		}
	}
	var rels []*osmdata.Element
	for id, rel := range snap.Relations {
		if v, _ := rel.Tags.Get("type"); v != "multipolygon" {
			continue
		}
		if !candidates[id] {
			for _, m := range rel.Members {
				if m.Type == osmdata.Way && touchedWay[m.Ref] {
					candidates[id] = true
					break
				}
			}
		}
		if candidates[id] {
			rels = append(rels, rel)
		}
	}
	sort.Slice(rels, func(i, j int) bool { return rels[i].ID < rels[j].ID })
	var out []Finding
	for _, rel := range rels {
		if f, ok := r.check(snap, rel); ok {
			out = append(out, f)
		}
	}
	return out
}

// ringEnd is one end of an unclosed member way.
type ringEnd struct {
	node int64
	way  int64
}

func (r *BrokenMultipolygon) check(snap *Snapshot, rel *osmdata.Element) (Finding, bool) {
	// Ways join into closed rings exactly when every end node of the
	// unclosed ways of a role is shared by an even number of way ends.
	ends := map[string]map[int64][]int64{} // role → end node → ways ending there
	for _, m := range rel.Members {
		if m.Type != osmdata.Way {
			continue
		}
		role := m.Role
		if role == "" {
			role = "outer"
		}
		if role != "outer" && role != "inner" {
			continue
		}
		w := snap.Ways[m.Ref]
		if w == nil || len(w.Nodes) < 2 {
			return Finding{}, false
		}
		first, last := w.Nodes[0], w.Nodes[len(w.Nodes)-1]
		if first == last {
			continue
		}
		if ends[role] == nil {
			ends[role] = map[int64][]int64{}
		}
		ends[role][first] = append(ends[role][first], w.ID)
		ends[role][last] = append(ends[role][last], w.ID)
	}
	var open []ringEnd
	var roles []string
	for _, role := range []string{"outer", "inner"} {
		before := len(open)
		for node, ways := range ends[role] {
			if len(ways)%2 == 1 {
				open = append(open, ringEnd{node, ways[0]})
			}
		}
		if len(open) > before {
			roles = append(roles, role)
		}
	}
	if len(open) == 0 {
		return Finding{}, false
	}
	sort.Slice(open, func(i, j int) bool { return open[i].node < open[j].node })
	parts := make([]string, 0, min(len(open), 4))
	for _, e := range open[:min(len(open), 4)] {
		parts = append(parts, fmt.Sprintf("node %d of way %d", e.node, e.way))
	}
	if len(open) > 4 {
		parts = append(parts, fmt.Sprintf("and %d more", len(open)-4))
	}
	f := Finding{
		Rule:     r.Name(),
		Severity: Error,
		// The relation alone identifies the finding, so a multipolygon
		// already broken is not reported again for a retagged member.
		Elements: []osmdata.Key{rel.Key()},
		Message: fmt.Sprintf("multipolygon relation %d%s: its %s ways do not form closed rings (open ends at %s)",
			rel.ID, describeFeature(rel.Tags), strings.Join(roles, " and "), strings.Join(parts, ", ")),
	}
	for _, e := range open {
		if snap.Nodes[e.node] != nil {
			locateAtNode(&f, snap, e.node)
			break
		}
	}
	return f, true
}
