package storagetest

import (
	"compress/bzip2"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmpbf"
	"github.com/paulmach/osm/osmxml"
)

// The map agreement compares storage.Map with this independent rendering
// of cgimap's steps, computed straight from the files: it reads them with
// paulmach/osm's own scanners and keeps plain maps, so a fault shared by
// osmfile, a backend and storage.Map cannot hide itself.

type refKey struct {
	typ string // "node", "way", "relation"
	id  int64
}

type refVersion struct {
	refKey
	version int
}

func (v refVersion) String() string { return fmt.Sprintf("%s %d v%d", v.typ, v.id, v.version) }

type refNode struct {
	lat, lon int32
	version  int
	file     int
}

type refWay struct {
	nodes   []int64
	version int
}

type refRelation struct {
	members []refKey
	version int
}

// refData is every element of the files, by id.
type refData struct {
	nodes     map[int64]refNode
	ways      map[int64]refWay
	relations map[int64]refRelation
	// nodeIDs lists node ids per file, sorted, to draw boxes in each
	// file's area.
	nodeIDs [][]int64
	// bounds holds the <bounds> of each XML file that has one (lat/lon in
	// degrees), keyed by file index.
	bounds map[int]osm.Bounds
	// fileElements is every (type,id,version) of each file.
	fileElements []map[refVersion]bool
	// duplicates lists elements found in more than one file.
	duplicates []refKey
}

// refFixed converts a coordinate read from a file to 1e-7 degree units.
// Files store those units exactly (PBF as integers, XML as decimals with
// seven digits), so rounding recovers them.
func refFixed(deg float64) int32 { return int32(math.Round(deg * 1e7)) }

// refTrunc converts a box edge to 1e-7 units truncating toward zero, as
// cgimap's bbox does.
func refTrunc(deg float64) int32 { return int32(math.Trunc(deg * 1e7)) }

func loadReference(ctx context.Context, paths []string) (*refData, error) {
	d := &refData{
		nodes:     map[int64]refNode{},
		ways:      map[int64]refWay{},
		relations: map[int64]refRelation{},
		bounds:    map[int]osm.Bounds{},
	}
	for i, p := range paths {
		if err := d.loadFile(ctx, i, p); err != nil {
			return nil, fmt.Errorf("reference %s: %w", p, err)
		}
	}
	return d, nil
}

func (d *refData) loadFile(ctx context.Context, idx int, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	var sc osm.Scanner
	switch {
	case strings.HasSuffix(path, ".osm.pbf"):
		s := osmpbf.New(ctx, r, 2)
		defer s.Close()
		sc = s
	case strings.HasSuffix(path, ".osm.bz2"):
		r = bzip2.NewReader(f)
		fallthrough
	case strings.HasSuffix(path, ".osm"):
		s := osmxml.New(ctx, r)
		defer s.Close()
		sc = s
	default:
		return fmt.Errorf("unknown file type")
	}
	seen := map[refVersion]bool{}
	var ids []int64
	for sc.Scan() {
		switch o := sc.Object().(type) {
		case *osm.Bounds:
			d.bounds[idx] = *o
		case *osm.Node:
			k := refVersion{refKey{"node", int64(o.ID)}, o.Version}
			seen[k] = true
			if _, dup := d.nodes[int64(o.ID)]; dup {
				d.duplicates = append(d.duplicates, k.refKey)
			}
			d.nodes[int64(o.ID)] = refNode{lat: refFixed(o.Lat), lon: refFixed(o.Lon), version: o.Version, file: idx}
			ids = append(ids, int64(o.ID))
		case *osm.Way:
			k := refVersion{refKey{"way", int64(o.ID)}, o.Version}
			seen[k] = true
			if _, dup := d.ways[int64(o.ID)]; dup {
				d.duplicates = append(d.duplicates, k.refKey)
			}
			w := refWay{version: o.Version, nodes: make([]int64, len(o.Nodes))}
			for j, n := range o.Nodes {
				w.nodes[j] = int64(n.ID)
			}
			d.ways[int64(o.ID)] = w
		case *osm.Relation:
			k := refVersion{refKey{"relation", int64(o.ID)}, o.Version}
			seen[k] = true
			if _, dup := d.relations[int64(o.ID)]; dup {
				d.duplicates = append(d.duplicates, k.refKey)
			}
			r := refRelation{version: o.Version, members: make([]refKey, len(o.Members))}
			for j, m := range o.Members {
				r.members[j] = refKey{string(m.Type), m.Ref}
			}
			d.relations[int64(o.ID)] = r
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for len(d.nodeIDs) <= idx {
		d.nodeIDs = append(d.nodeIDs, nil)
		d.fileElements = append(d.fileElements, nil)
	}
	d.nodeIDs[idx] = ids
	d.fileElements[idx] = seen
	return nil
}

// refBox is a box in 1e-7 degree units, edges inclusive.
type refBox struct{ minLat, minLon, maxLat, maxLon int32 }

func (b refBox) contains(n refNode) bool {
	return n.lat >= b.minLat && n.lat <= b.maxLat && n.lon >= b.minLon && n.lon <= b.maxLon
}

// nodesInBox counts the nodes in box, the first step of the map call.
func (d *refData) nodesInBox(b refBox) []int64 {
	var out []int64
	for id, n := range d.nodes {
		if b.contains(n) {
			out = append(out, id)
		}
	}
	return out
}

// mapCall runs cgimap's steps (map_handler.cpp) over the files' elements:
// nodes in the box; ways using any of them; every node of those ways;
// relations using any selected way; relations using any selected node
// (the way nodes included); relations having any of those relations as a
// member, one level. Every element of a snapshot file is visible.
func (d *refData) mapCall(b refBox) map[refVersion]bool {
	nodes := map[int64]bool{}
	for _, id := range d.nodesInBox(b) {
		nodes[id] = true
	}
	ways := map[int64]bool{}
	for id, w := range d.ways {
		for _, n := range w.nodes {
			if nodes[n] {
				ways[id] = true
				break
			}
		}
	}
	for id := range ways {
		for _, n := range d.ways[id].nodes {
			if _, ok := d.nodes[n]; ok {
				nodes[n] = true
			}
		}
	}
	rels := map[int64]bool{}
	for id, r := range d.relations {
		for _, m := range r.members {
			if (m.typ == "way" && ways[m.id]) || (m.typ == "node" && nodes[m.id]) {
				rels[id] = true
				break
			}
		}
	}
	parents := map[int64]bool{}
	for id, r := range d.relations {
		for _, m := range r.members {
			if m.typ == "relation" && rels[m.id] {
				parents[id] = true
				break
			}
		}
	}
	out := map[refVersion]bool{}
	for id := range nodes {
		out[refVersion{refKey{"node", id}, d.nodes[id].version}] = true
	}
	for id := range ways {
		out[refVersion{refKey{"way", id}, d.ways[id].version}] = true
	}
	for id := range rels {
		out[refVersion{refKey{"relation", id}, d.relations[id].version}] = true
	}
	for id := range parents {
		out[refVersion{refKey{"relation", id}, d.relations[id].version}] = true
	}
	return out
}
