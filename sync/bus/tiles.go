package bus

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/sync/changes"
)

// Tile is a slippy-map (Web Mercator) tile, as renderers and tile
// caches number them.
type Tile struct {
	Z, X, Y int
}

// maxMercatorLat is where Web Mercator tiles end; positions beyond fall
// into the first or last row.
const maxMercatorLat = 85.0511287798

// TileOf gives the zoom-z tile holding a position in OSM's fixed-point
// degrees.
func TileOf(z int, lat, lon int32) Tile {
	n := 1 << z
	latDeg := math.Max(-maxMercatorLat, math.Min(maxMercatorLat, osmdata.FixedToDegrees(lat)))
	x := int(math.Floor((osmdata.FixedToDegrees(lon) + 180) / 360 * float64(n)))
	r := latDeg * math.Pi / 180
	y := int(math.Floor((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * float64(n)))
	return Tile{Z: z, X: min(max(x, 0), n-1), Y: min(max(y, 0), n-1)}
}

// currentReader reads current versions, as storage.Reader does.
type currentReader interface {
	CurrentElements(ctx context.Context, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error)
}

// tileChange is the part of a merge touching one tile.
type tileChange struct {
	tile  Tile
	merge changes.Merge
}

// splitByTile fans a merge out to the tiles its elements touch: a node
// its old and new positions; a way the positions of the nodes of its old
// and new versions; a relation its member nodes and the nodes of its
// member ways (sub-relations are not followed: a relation of relations
// would map to a continent). Nodes the merge moved count at both their
// old and new positions; other nodes at their current position, which
// is the position they had at the merge unless a later merge moved them
// before the relay got here. An element appears once per tile, in the
// merge's order; tiles come sorted.
func splitByTile(ctx context.Context, reader currentReader, m changes.Merge, zoom int) ([]tileChange, error) {
	pos, err := nodePositions(ctx, reader, m)
	if err != nil {
		return nil, fmt.Errorf("tiles of merge %d: %w", m.Seq, err)
	}
	byTile := map[Tile][]changes.ElementChange{}
	for _, c := range m.Elements {
		seen := map[Tile]bool{}
		addNode := func(id int64) {
			for _, p := range pos.nodes[id] {
				seen[TileOf(zoom, p[0], p[1])] = true
			}
		}
		for _, e := range versionsOf(c) {
			switch e.Type {
			case osmdata.Node:
				if e.Visible {
					seen[TileOf(zoom, e.Lat, e.Lon)] = true
				}
			case osmdata.Way:
				for _, id := range e.Nodes {
					addNode(id)
				}
			case osmdata.Relation:
				for _, mem := range e.Members {
					switch mem.Type {
					case osmdata.Node:
						addNode(mem.Ref)
					case osmdata.Way:
						for _, id := range pos.wayNodes[mem.Ref] {
							addNode(id)
						}
					}
				}
			}
		}
		for t := range seen {
			byTile[t] = append(byTile[t], c)
		}
	}
	out := make([]tileChange, 0, len(byTile))
	for t, cs := range byTile {
		out = append(out, tileChange{tile: t, merge: changes.Merge{Seq: m.Seq, Changeset: m.Changeset, MergedAt: m.MergedAt, Elements: cs}})
	}
	slices.SortFunc(out, func(a, b tileChange) int {
		return cmp.Or(cmp.Compare(a.tile.X, b.tile.X), cmp.Compare(a.tile.Y, b.tile.Y))
	})
	return out, nil
}

func versionsOf(c changes.ElementChange) []*osmdata.Element {
	if c.Old == nil {
		return []*osmdata.Element{&c.New}
	}
	return []*osmdata.Element{c.Old, &c.New}
}

// positions holds every position a node of the merge had (fixed-point
// lat, lon pairs), and the nodes of the ways relations name.
type positions struct {
	nodes    map[int64][][2]int32
	wayNodes map[int64][]int64
}

// nodePositions reads, in at most three bulk reads, the positions the
// merge's ways and relations need.
func nodePositions(ctx context.Context, reader currentReader, m changes.Merge) (positions, error) {
	p := positions{nodes: map[int64][][2]int32{}, wayNodes: map[int64][]int64{}}
	inMerge := map[osmdata.Key]bool{}
	for _, c := range m.Elements {
		inMerge[c.New.Key()] = true
		for _, e := range versionsOf(c) {
			switch e.Type {
			case osmdata.Node:
				if e.Visible {
					p.nodes[e.ID] = append(p.nodes[e.ID], [2]int32{e.Lat, e.Lon})
				}
			case osmdata.Way:
				p.wayNodes[e.ID] = append(p.wayNodes[e.ID], e.Nodes...)
			}
		}
	}
	var memberWays []int64
	for _, c := range m.Elements {
		for _, e := range versionsOf(c) {
			if e.Type != osmdata.Relation {
				continue
			}
			for _, mem := range e.Members {
				if k := (osmdata.Key{Type: mem.Type, ID: mem.Ref}); mem.Type == osmdata.Way && !inMerge[k] {
					memberWays = append(memberWays, mem.Ref)
				}
			}
		}
	}
	if len(memberWays) > 0 {
		ways, err := reader.CurrentElements(ctx, osmdata.Way, dedupe(memberWays))
		if err != nil {
			return p, fmt.Errorf("read member ways: %w", err)
		}
		for _, w := range ways {
			p.wayNodes[w.ID] = w.Nodes
		}
	}
	var missing []int64
	need := func(id int64) {
		if !inMerge[osmdata.Key{Type: osmdata.Node, ID: id}] {
			missing = append(missing, id)
		}
	}
	for _, nodes := range p.wayNodes {
		for _, id := range nodes {
			need(id)
		}
	}
	for _, c := range m.Elements {
		for _, e := range versionsOf(c) {
			if e.Type == osmdata.Relation {
				for _, mem := range e.Members {
					if mem.Type == osmdata.Node {
						need(mem.Ref)
					}
				}
			}
		}
	}
	if len(missing) > 0 {
		nodes, err := reader.CurrentElements(ctx, osmdata.Node, dedupe(missing))
		if err != nil {
			return p, fmt.Errorf("read way and member nodes: %w", err)
		}
		for _, n := range nodes {
			if n.Visible {
				p.nodes[n.ID] = append(p.nodes[n.ID], [2]int32{n.Lat, n.Lon})
			}
		}
	}
	return p, nil
}

func dedupe(ids []int64) []int64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}
