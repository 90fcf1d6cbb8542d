package validate

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
)

// andorra is the real Andorra extract shipped in the paulmach/osm module,
// read once per test binary (it is the package's only reader of it) with
// the indexes that cutting neighbourhoods out of it needs. Tests never
// modify it: edits are overlays.
var andorra struct {
	once sync.Once
	data *dataset
	err  error
}

type dataset struct {
	*Snapshot
	// keys lists every element in element order, so tests that pick
	// "the first such element" pick the same one on every run.
	keys       []osmdata.Key
	parentWays map[int64][]int64
	memberOf   map[osmdata.Key][]int64
	nodeCells  map[gridCell][]int64
}

func loadAndorra(tb testing.TB) *dataset {
	tb.Helper()
	andorra.once.Do(func() {
		dir, err := osmfile.ModuleTestdata()
		if err != nil {
			andorra.err = err
			return
		}
		snap, err := readSnapshot(filepath.Join(dir, "testdata", "andorra-latest.osm.bz2"))
		if err != nil {
			andorra.err = err
			return
		}
		d := &dataset{Snapshot: snap, keys: allKeys(snap), parentWays: map[int64][]int64{}, memberOf: map[osmdata.Key][]int64{}, nodeCells: map[gridCell][]int64{}}
		for id, w := range snap.Ways {
			for _, n := range w.Nodes {
				d.parentWays[n] = append(d.parentWays[n], id)
			}
		}
		for id, r := range snap.Relations {
			for _, m := range r.Members {
				k := osmdata.Key{Type: m.Type, ID: m.Ref}
				d.memberOf[k] = append(d.memberOf[k], id)
			}
		}
		for id, n := range snap.Nodes {
			c := pointCell(nodePoint(n))
			d.nodeCells[c] = append(d.nodeCells[c], id)
		}
		andorra.data = d
	})
	if andorra.err != nil {
		tb.Fatal(andorra.err)
	}
	return andorra.data
}

// releaseAndorra drops the loaded extract; the next loadAndorra reads it
// again.
func releaseAndorra() {
	andorra.once = sync.Once{}
	andorra.data, andorra.err = nil, nil
}

func readSnapshot(path string) (*Snapshot, error) {
	r, err := osmfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	s := &Snapshot{Nodes: map[int64]*osmdata.Element{}, Ways: map[int64]*osmdata.Element{}, Relations: map[int64]*osmdata.Element{}}
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		switch e.Type {
		case osmdata.Node:
			s.Nodes[e.ID] = e
		case osmdata.Way:
			s.Ways[e.ID] = e
		case osmdata.Relation:
			s.Relations[e.ID] = e
		}
	}
}

// gridCell is a cell of the dataset's node index, gridCellDegrees wide.
type gridCell struct{ x, y int32 }

func cellIndex(deg float64) int32 { return int32(math.Floor(deg / gridCellDegrees)) }

func pointCell(p orb.Point) gridCell { return gridCell{cellIndex(p[0]), cellIndex(p[1])} }

// nearMetres is how far from touched geometry the neighbourhood reaches,
// as review's loader does (NearDistanceMetres).
const nearMetres = 20

// edit is a changeset over the dataset: the elements it writes (nil for
// a deletion), and an optional earlier state (prior) that both sides
// share, for problems that must exist before the edit.
type edit struct {
	d       *dataset
	prior   map[osmdata.Key]*osmdata.Element
	changes map[osmdata.Key]*osmdata.Element
}

func newEdit(d *dataset) *edit {
	return &edit{d: d, prior: map[osmdata.Key]*osmdata.Element{}, changes: map[osmdata.Key]*osmdata.Element{}}
}

// nextNewID gives created elements ids far above Andorra's, as uploads
// allocate ids above the largest imported one.
var nextNewID int64 = 90_000_000_000

func newID() int64 { nextNewID++; return nextNewID }

func (e *edit) before(k osmdata.Key) *osmdata.Element {
	if el, ok := e.prior[k]; ok {
		return el
	}
	switch k.Type {
	case osmdata.Node:
		return e.d.Nodes[k.ID]
	case osmdata.Way:
		return e.d.Ways[k.ID]
	}
	return e.d.Relations[k.ID]
}

func (e *edit) after(k osmdata.Key) *osmdata.Element {
	if el, ok := e.changes[k]; ok {
		return el
	}
	return e.before(k)
}

// modify writes a copy of element k, changed by fn, into the changeset
// (or into the prior state when prior is set).
func (e *edit) modify(tb testing.TB, k osmdata.Key, prior bool, fn func(*osmdata.Element)) {
	tb.Helper()
	cur := e.after(k)
	if prior {
		cur = e.before(k)
	}
	if cur == nil {
		tb.Fatalf("%s is not in the dataset", k)
	}
	c := *cur
	c.Tags = slices.Clone(cur.Tags)
	c.Nodes = slices.Clone(cur.Nodes)
	c.Members = slices.Clone(cur.Members)
	fn(&c)
	if prior {
		e.prior[k] = &c
	} else {
		e.changes[k] = &c
	}
}

func (e *edit) moveNode(tb testing.TB, id int64, p orb.Point) {
	e.modify(tb, osmdata.Key{Type: osmdata.Node, ID: id}, false, func(n *osmdata.Element) {
		n.Lon, n.Lat = osmdata.RoundCoordToFixed(p[0]), osmdata.RoundCoordToFixed(p[1])
	})
}

func (e *edit) addTag(tb testing.TB, k osmdata.Key, key, value string) {
	e.modify(tb, k, false, func(el *osmdata.Element) { el.Tags = append(el.Tags, osmdata.Tag{Key: key, Value: value}) })
}

func (e *edit) createNode(p orb.Point, tags ...osmdata.Tag) int64 {
	id := newID()
	e.changes[osmdata.Key{Type: osmdata.Node, ID: id}] = &osmdata.Element{
		Type: osmdata.Node, ID: id, Version: 1, Visible: true,
		Lon: osmdata.RoundCoordToFixed(p[0]), Lat: osmdata.RoundCoordToFixed(p[1]), Tags: tags,
	}
	return id
}

func (e *edit) createWay(nodes []int64, tags ...osmdata.Tag) int64 {
	id := newID()
	e.changes[osmdata.Key{Type: osmdata.Way, ID: id}] = &osmdata.Element{
		Type: osmdata.Way, ID: id, Version: 1, Visible: true, Nodes: nodes, Tags: tags,
	}
	return id
}

func tag(kv string) osmdata.Tag {
	k, v, _ := strings.Cut(kv, "=")
	return osmdata.Tag{Key: k, Value: v}
}

// touched lists the changeset's elements in element order.
func (e *edit) touched() []osmdata.Key {
	keys := make([]osmdata.Key, 0, len(e.changes))
	for k := range e.changes {
		keys = append(keys, k)
	}
	return sortKeys(keys)
}

// snapshots cuts the neighbourhood of the touched elements out of the
// dataset without and with the changeset, the way review's loader does:
// the touched elements, the nodes of touched ways, the nodes within
// nearMetres of the touched geometry, every way using any of those nodes
// with all its nodes, and the relations with a touched member with the
// ways and nodes of multipolygons. Keys come from both sides, so each
// snapshot holds the same neighbourhood.
func (e *edit) snapshots() (before, after *Snapshot) {
	keys := map[osmdata.Key]bool{}
	nodes := map[int64]bool{}
	addWayNodes := func(w *osmdata.Element) {
		for _, n := range w.Nodes {
			nodes[n] = true
		}
	}
	touched := e.touched()
	var points [][2]orb.Point
	position := func(id int64) (orb.Point, bool) {
		k := osmdata.Key{Type: osmdata.Node, ID: id}
		for _, n := range []*osmdata.Element{e.before(k), e.after(k)} {
			if n != nil {
				return nodePoint(n), true
			}
		}
		return orb.Point{}, false
	}
	for _, k := range touched {
		keys[k] = true
		for _, el := range []*osmdata.Element{e.before(k), e.after(k)} {
			if el == nil {
				continue
			}
			switch k.Type {
			case osmdata.Node:
				nodes[k.ID] = true
				points = append(points, [2]orb.Point{nodePoint(el), nodePoint(el)})
			case osmdata.Way:
				addWayNodes(el)
				for i := 0; i+1 < len(el.Nodes); i++ {
					a, okA := position(el.Nodes[i])
					b, okB := position(el.Nodes[i+1])
					if okA && okB {
						points = append(points, [2]orb.Point{a, b})
					}
				}
			case osmdata.Relation:
				for _, m := range el.Members {
					keys[osmdata.Key{Type: m.Type, ID: m.Ref}] = true
				}
			}
		}
	}
	for _, seg := range points {
		lat := (seg[0][1] + seg[1][1]) / 2
		dLat := nearMetres / 111_320.0
		dLon := dLat / math.Cos(lat*math.Pi/180)
		x0, x1 := cellIndex(min(seg[0][0], seg[1][0])-dLon), cellIndex(max(seg[0][0], seg[1][0])+dLon)
		y0, y1 := cellIndex(min(seg[0][1], seg[1][1])-dLat), cellIndex(max(seg[0][1], seg[1][1])+dLat)
		for x := x0; x <= x1; x++ {
			for y := y0; y <= y1; y++ {
				for _, id := range e.d.nodeCells[gridCell{x, y}] {
					nodes[id] = true
				}
			}
		}
	}
	ways := map[int64]bool{}
	for _, k := range touched {
		if k.Type == osmdata.Way {
			ways[k.ID] = true
		}
	}
	for n := range nodes {
		for _, w := range e.d.parentWays[n] {
			ways[w] = true
		}
	}
	for k := range keys {
		if k.Type == osmdata.Way {
			ways[k.ID] = true
		}
	}
	rels := map[int64]bool{}
	for _, k := range touched {
		if k.Type == osmdata.Relation {
			rels[k.ID] = true
		}
		for _, r := range e.d.memberOf[k] {
			rels[r] = true
		}
	}
	for r := range rels {
		keys[osmdata.Key{Type: osmdata.Relation, ID: r}] = true
		for _, el := range []*osmdata.Element{e.before(osmdata.Key{Type: osmdata.Relation, ID: r}), e.after(osmdata.Key{Type: osmdata.Relation, ID: r})} {
			if el == nil {
				continue
			}
			if v, _ := el.Tags.Get("type"); v != "multipolygon" {
				continue
			}
			for _, m := range el.Members {
				if m.Type == osmdata.Way {
					ways[m.Ref] = true
				}
			}
		}
	}
	for w := range ways {
		keys[osmdata.Key{Type: osmdata.Way, ID: w}] = true
		for _, el := range []*osmdata.Element{e.before(osmdata.Key{Type: osmdata.Way, ID: w}), e.after(osmdata.Key{Type: osmdata.Way, ID: w})} {
			if el != nil {
				addWayNodes(el)
			}
		}
	}
	for n := range nodes {
		keys[osmdata.Key{Type: osmdata.Node, ID: n}] = true
	}
	return e.cut(keys, e.before), e.cut(keys, e.after)
}

func (e *edit) cut(keys map[osmdata.Key]bool, get func(osmdata.Key) *osmdata.Element) *Snapshot {
	s := &Snapshot{Nodes: map[int64]*osmdata.Element{}, Ways: map[int64]*osmdata.Element{}, Relations: map[int64]*osmdata.Element{}}
	for k := range keys {
		el := get(k)
		if el == nil || !el.Visible {
			continue
		}
		switch k.Type {
		case osmdata.Node:
			s.Nodes[k.ID] = el
		case osmdata.Way:
			s.Ways[k.ID] = el
		case osmdata.Relation:
			s.Relations[k.ID] = el
		}
	}
	return s
}

// introduced validates the edit with the engine, rule alone enabled at
// its own severity, and returns what the engine reports as introduced,
// beside what the rule finds in After on its own (to show that a problem
// left unreported is one the rule does see).
func introduced(tb testing.TB, rule ElementRule, e *edit) (introduced, after []Finding) {
	tb.Helper()
	v, err := New(Config{Rules: []RuleConfig{{Enabled: true, Element: rule}}})
	if err != nil {
		tb.Fatal(err)
	}
	in := e.input()
	return v.Validate(in).Findings, rule.Check(in.After, presentIn(in.After, e.touched()))
}

// input is the edit as the engine receives it: the touched elements'
// changes and the neighbourhood before and after.
func (e *edit) input() *Input {
	before, after := e.snapshots()
	in := &Input{Before: before, After: after}
	for _, k := range e.touched() {
		in.Changes = append(in.Changes, Change{Old: visibleOrNil(e.before(k)), New: visibleOrNil(e.after(k))})
	}
	return in
}

func visibleOrNil(el *osmdata.Element) *osmdata.Element {
	if el == nil || !el.Visible {
		return nil
	}
	return el
}

// requireOne fails unless findings are exactly one finding naming the
// given elements, with a message naming each and a location within
// maxMetres of near; it returns that finding.
func requireOne(tb testing.TB, findings []Finding, want []osmdata.Key, near orb.Point, maxMetres float64) Finding {
	tb.Helper()
	if len(findings) != 1 {
		tb.Fatalf("want one finding about %s, got %d: %s", joinKeys(want), len(findings), describeFindings(findings))
	}
	f := findings[0]
	if !slices.Equal(f.Elements, want) {
		tb.Fatalf("finding is about %s, want %s: %s", joinKeys(f.Elements), joinKeys(want), f.Message)
	}
	for _, k := range want {
		if !strings.Contains(f.Message, k.String()) {
			tb.Errorf("message %q does not name %s", f.Message, k)
		}
	}
	if !f.HasLocation {
		tb.Fatalf("finding has no location: %s", f.Message)
	}
	if d := geo.Distance(near, orb.Point{f.Lon, f.Lat}); d > maxMetres {
		tb.Errorf("finding located %.1f m from %v, want within %.1f m: %s", d, near, maxMetres, f.Message)
	}
	return f
}

func describeFindings(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n\t%s [%s] %s", f.Rule, f.Severity, f.Message)
	}
	return b.String()
}

func wayKey(id int64) osmdata.Key  { return osmdata.Key{Type: osmdata.Way, ID: id} }
func nodeKey(id int64) osmdata.Key { return osmdata.Key{Type: osmdata.Node, ID: id} }
func relKey(id int64) osmdata.Key  { return osmdata.Key{Type: osmdata.Relation, ID: id} }

// offset moves p by east and north metres.
func offset(p orb.Point, east, north float64) orb.Point {
	return orb.Point{
		p[0] + east/(111_320*math.Cos(p[1]*math.Pi/180)),
		p[1] + north/111_320,
	}
}

func (d *dataset) point(tb testing.TB, node int64) orb.Point {
	tb.Helper()
	n := d.Nodes[node]
	if n == nil {
		tb.Fatalf("node %d is not in Andorra", node)
	}
	return nodePoint(n)
}
