package review

import (
	"slices"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review/validate"
)

// ScopesFor returns the scopes whose approval a changeset needs: every
// configured scope one of its elements falls in, and FallbackScope when
// an element falls in none, sorted. An element is in a scope when its old
// or its new geometry meets the scope's area (a relation through its
// members' geometries) and its old or new tags match the scope's theme.
func (c *Config) ScopesFor(in *validate.Input) []string {
	if len(c.Scopes) == 0 {
		return []string{FallbackScope}
	}
	needed := map[string]bool{}
	for _, ch := range in.Changes {
		covered := false
		for i := range c.Scopes {
			sc := &c.Scopes[i]
			if sc.themeMatches(ch.Old) || sc.themeMatches(ch.New) {
				if sc.meets(in.Before, ch.Old) || sc.meets(in.After, ch.New) {
					needed[sc.Name] = true
					covered = true
				}
			}
		}
		if !covered {
			needed[FallbackScope] = true
		}
	}
	out := make([]string, 0, len(needed))
	for name := range needed {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// themeMatches says whether e's tags fall in the scope's theme.
func (sc *Scope) themeMatches(e *osmdata.Element) bool {
	if e == nil {
		return false
	}
	if len(sc.Tags) == 0 {
		return true
	}
	for _, t := range e.Tags {
		for _, pattern := range sc.Tags {
			if tagMatches(pattern, t) {
				return true
			}
		}
	}
	return false
}

// tagMatches matches "key", "key=value" and "prefix*".
func tagMatches(pattern string, t osmdata.Tag) bool {
	if key, value, ok := strings.Cut(pattern, "="); ok {
		return t.Key == key && t.Value == value
	}
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(t.Key, prefix)
	}
	return t.Key == pattern
}

// meets says whether e's geometry in snap meets the scope's area. An
// element whose geometry the snapshot cannot build (members not loaded)
// meets no area: the fallback reviewers see it rather than nobody.
func (sc *Scope) meets(snap *validate.Snapshot, e *osmdata.Element) bool {
	if e == nil {
		return false
	}
	if sc.area == nil {
		return true
	}
	return sc.meetsDepth(snap, e, 0)
}

// maxRelationDepth bounds the walk through nested relations (and cycles).
const maxRelationDepth = 4

func (sc *Scope) meetsDepth(snap *validate.Snapshot, e *osmdata.Element, depth int) bool {
	switch e.Type {
	case osmdata.Node:
		return planar.MultiPolygonContains(sc.area, pointOf(e))
	case osmdata.Way:
		return sc.meetsLine(wayLine(snap, e))
	case osmdata.Relation:
		if depth >= maxRelationDepth || snap == nil {
			return false
		}
		for _, m := range e.Members {
			var member *osmdata.Element
			switch m.Type {
			case osmdata.Node:
				member = snap.Nodes[m.Ref]
			case osmdata.Way:
				member = snap.Ways[m.Ref]
			case osmdata.Relation:
				member = snap.Relations[m.Ref]
			}
			if member != nil && sc.meetsDepth(snap, member, depth+1) {
				return true
			}
		}
	}
	return false
}

// wayLine is a way's line from the snapshot's nodes (missing ones left
// out).
func wayLine(snap *validate.Snapshot, w *osmdata.Element) orb.LineString {
	if snap == nil {
		return nil
	}
	line := make(orb.LineString, 0, len(w.Nodes))
	for _, id := range w.Nodes {
		if n := snap.Nodes[id]; n != nil {
			line = append(line, pointOf(n))
		}
	}
	return line
}

// meetsLine says whether a line meets the area: a vertex inside it, an
// edge crossing its boundary, or (a closed line, an area itself) the area
// inside the line's ring.
func (sc *Scope) meetsLine(line orb.LineString) bool {
	if len(line) == 0 {
		return false
	}
	if !line.Bound().Intersects(sc.area.Bound()) {
		return false
	}
	for _, p := range line {
		if planar.MultiPolygonContains(sc.area, p) {
			return true
		}
	}
	for _, poly := range sc.area {
		for _, ring := range poly {
			for i := 1; i < len(ring); i++ {
				for j := 1; j < len(line); j++ {
					if segmentsCross(ring[i-1], ring[i], line[j-1], line[j]) {
						return true
					}
				}
			}
		}
	}
	if len(line) > 3 && line[0] == line[len(line)-1] {
		return planar.RingContains(orb.Ring(line), sc.area[0][0][0])
	}
	return false
}

// segmentsCross says whether segments ab and cd intersect (touching
// counts).
func segmentsCross(a, b, c, d orb.Point) bool {
	d1 := orientation(c, d, a)
	d2 := orientation(c, d, b)
	d3 := orientation(a, b, c)
	d4 := orientation(a, b, d)
	if d1*d2 < 0 && d3*d4 < 0 {
		return true
	}
	return d1 == 0 && onSegment(c, d, a) || d2 == 0 && onSegment(c, d, b) ||
		d3 == 0 && onSegment(a, b, c) || d4 == 0 && onSegment(a, b, d)
}

func orientation(p, q, r orb.Point) float64 {
	return (q[0]-p[0])*(r[1]-p[1]) - (q[1]-p[1])*(r[0]-p[0])
}

func onSegment(p, q, r orb.Point) bool {
	return min(p[0], q[0]) <= r[0] && r[0] <= max(p[0], q[0]) &&
		min(p[1], q[1]) <= r[1] && r[1] <= max(p[1], q[1])
}

// pointOf is a node's position in degrees.
func pointOf(n *osmdata.Element) orb.Point {
	return orb.Point{osmdata.FixedToDegrees(n.Lon), osmdata.FixedToDegrees(n.Lat)}
}
