package review_test

import (
	"context"
	"errors"
	"io"
	"math"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/review/validate"
	"github.com/geocommuns/geocommuns/storage"
)

// riverCrossing is a spot of Andorra where a road node lies a few tens of
// metres from a river it does not share a node with, and the small
// extract around it that the tests import.
type riverCrossing struct {
	extract []osmdata.Element
	byKey   map[osmdata.Key]*osmdata.Element
	river   *osmdata.Element // a waterway=river way
	road    *osmdata.Element // a highway way using roadNode
	// roadNode moves onto the middle of the river segment (onLat, onLon).
	roadNode     *osmdata.Element
	onLat, onLon int32
	// otherRoad is a highway way that neither the river nor road touches;
	// a building is drawn over its first segment.
	otherRoad *osmdata.Element
}

var (
	crossingOnce sync.Once
	crossing     *riverCrossing
	crossingErr  error
)

// andorraCrossing reads Andorra once per test binary and finds the spot.
func andorraCrossing(t *testing.T) *riverCrossing {
	t.Helper()
	crossingOnce.Do(func() { crossing, crossingErr = findRiverCrossing() })
	if crossingErr != nil {
		t.Fatal(crossingErr)
	}
	return crossing
}

func findRiverCrossing() (*riverCrossing, error) {
	dir, err := osmfile.ModuleDir()
	if err != nil {
		return nil, err
	}
	r, err := osmfile.Open(filepath.Join(dir, "testdata/andorra-latest.osm.bz2"))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var all []osmdata.Element
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		all = append(all, *e)
	}
	nodes := map[int64]*osmdata.Element{}
	for i := range all {
		if all[i].Type == osmdata.Node {
			nodes[all[i].ID] = &all[i]
		}
	}
	// Highway nodes by 0.001° cell, to find one near a river segment.
	type cell struct{ x, y int32 }
	cellOf := func(lat, lon int32) cell { return cell{lon / 10000, lat / 10000} }
	highwayNodes := map[cell][]int64{}
	roadOf := map[int64]*osmdata.Element{}
	for i := range all {
		w := &all[i]
		if _, ok := w.Tags.Get("highway"); w.Type != osmdata.Way || !ok {
			continue
		}
		for _, id := range w.Nodes {
			if n := nodes[id]; n != nil && roadOf[id] == nil {
				roadOf[id] = w
				c := cellOf(n.Lat, n.Lon)
				highwayNodes[c] = append(highwayNodes[c], id)
			}
		}
	}
	for i := range all {
		river := &all[i]
		if v, _ := river.Tags.Get("waterway"); river.Type != osmdata.Way || v != "river" {
			continue
		}
		onRiver := map[int64]bool{}
		for _, id := range river.Nodes {
			onRiver[id] = true
		}
		for j := 1; j < len(river.Nodes); j++ {
			a, b := nodes[river.Nodes[j-1]], nodes[river.Nodes[j]]
			if a == nil || b == nil {
				continue
			}
			lat, lon := (a.Lat+b.Lat)/2, (a.Lon+b.Lon)/2
			c := cellOf(lat, lon)
			for dx := int32(-1); dx <= 1; dx++ {
				for dy := int32(-1); dy <= 1; dy++ {
					for _, id := range highwayNodes[cell{c.x + dx, c.y + dy}] {
						n, road := nodes[id], roadOf[id]
						if d := metres(n.Lat, n.Lon, lat, lon); d < 25 || d > 60 || onRiver[id] || sharesNode(road, onRiver) {
							continue
						}
						found := &riverCrossing{river: river, road: road, roadNode: n, onLat: lat, onLon: lon}
						if err := found.cut(all, nodes); err != nil {
							return nil, err
						}
						if found.otherRoad != nil {
							return found, nil
						}
					}
				}
			}
		}
	}
	return nil, errors.New("andorra has no road node 25–60 m from a river")
}

func sharesNode(w *osmdata.Element, ids map[int64]bool) bool {
	for _, id := range w.Nodes {
		if ids[id] {
			return true
		}
	}
	return false
}

// metres is the distance between two positions on a local flat map.
func metres(lat1, lon1, lat2, lon2 int32) float64 {
	cos := math.Cos(osmdata.FixedToDegrees(lat1) * math.Pi / 180)
	dy := osmdata.FixedToDegrees(lat2-lat1) * 111320
	dx := osmdata.FixedToDegrees(lon2-lon1) * 111320 * cos
	return math.Hypot(dx, dy)
}

// cut keeps the elements within about a kilometre of the spot: nodes in
// the box, the ways using them with all their nodes, the relations with
// any of those as members (members outside stay dangling, as in any
// extract), and picks the other road.
func (c *riverCrossing) cut(all []osmdata.Element, nodes map[int64]*osmdata.Element) error {
	box := osmdata.Box{MinLat: c.onLat - 100000, MaxLat: c.onLat + 100000, MinLon: c.onLon - 130000, MaxLon: c.onLon + 130000}
	keep := map[osmdata.Key]bool{}
	for _, n := range nodes {
		if box.Contains(n.Lat, n.Lon) {
			keep[n.Key()] = true
		}
	}
	for i := range all {
		w := &all[i]
		if w.Type != osmdata.Way {
			continue
		}
		use := false
		for _, id := range w.Nodes {
			use = use || keep[osmdata.Key{Type: osmdata.Node, ID: id}]
		}
		if !use {
			continue
		}
		keep[w.Key()] = true
		for _, id := range w.Nodes {
			if nodes[id] != nil {
				keep[osmdata.Key{Type: osmdata.Node, ID: id}] = true
			}
		}
	}
	for i := range all {
		r := &all[i]
		if r.Type != osmdata.Relation {
			continue
		}
		for _, m := range r.Members {
			if keep[osmdata.Key{Type: m.Type, ID: m.Ref}] {
				keep[r.Key()] = true
			}
		}
	}
	c.extract = nil
	for i := range all {
		if keep[all[i].Key()] {
			c.extract = append(c.extract, all[i])
		}
	}
	c.byKey = map[osmdata.Key]*osmdata.Element{}
	for i := range c.extract {
		c.byKey[c.extract[i].Key()] = &c.extract[i]
	}
	c.river, c.road, c.roadNode = c.byKey[c.river.Key()], c.byKey[c.road.Key()], c.byKey[c.roadNode.Key()]
	taken := map[int64]bool{}
	for _, id := range append(append([]int64{}, c.river.Nodes...), c.road.Nodes...) {
		taken[id] = true
	}
	for i := range c.extract {
		w := &c.extract[i]
		if _, ok := w.Tags.Get("highway"); w.Type != osmdata.Way || !ok || len(w.Nodes) < 2 || sharesNode(w, taken) {
			continue
		}
		a, b := c.byKey[osmdata.Key{Type: osmdata.Node, ID: w.Nodes[0]}], c.byKey[osmdata.Key{Type: osmdata.Node, ID: w.Nodes[1]}]
		if a == nil || b == nil || !box.Contains(a.Lat, a.Lon) || metres(a.Lat, a.Lon, c.onLat, c.onLon) < 300 {
			continue
		}
		c.otherRoad = w
		return nil
	}
	return nil
}

type sliceSource struct{ els []osmdata.Element }

func (s *sliceSource) Next() (*osmdata.Element, error) {
	if len(s.els) == 0 {
		return nil, io.EOF
	}
	e := &s.els[0]
	s.els = s.els[1:]
	return e, nil
}

// stage writes changes to a new changeset of uid in one upload, as the
// upload path does (Stage, WritePending, UpdateChangeset), with the
// changeset building on parents, and closes it (submits it). create
// makes the created elements' ids from the store's sequences.
func stage(t *testing.T, s storage.Store, uid int64, parents []int64,
	build func(ctx context.Context, tx storage.StageTx) ([]storage.PendingChange, error)) int64 {
	t.Helper()
	ctx := t.Context()
	cs, err := s.CreateChangeset(ctx, storage.NewChangeset{UID: uid, User: "validator-test"})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Stage(ctx, cs.ID, uid, func(ctx context.Context, tx storage.StageTx) error {
		if len(parents) > 0 {
			if err := tx.AddParents(ctx, parents); err != nil {
				return err
			}
		}
		changes, err := build(ctx, tx)
		if err != nil {
			return err
		}
		for i := range changes {
			changes[i].Changeset, changes[i].Author = cs.ID, uid
			changes[i].Element.Changeset, changes[i].Element.UID = cs.ID, uid
		}
		if err := tx.WritePending(ctx, changes); err != nil {
			return err
		}
		_, err = tx.UpdateChangeset(ctx, len(changes), osmdata.Box{}, false)
		return err
	})
	if err != nil {
		t.Fatalf("stage changeset %d: %v", cs.ID, err)
	}
	if _, err := s.CloseChangeset(ctx, cs.ID, uid); err != nil {
		t.Fatalf("close changeset %d: %v", cs.ID, err)
	}
	return cs.ID
}

func modified(e *osmdata.Element, base storage.PendingChange, edit func(*osmdata.Element)) storage.PendingChange {
	c := *e
	c.Tags = append(osmdata.Tags{}, e.Tags...)
	edit(&c)
	p := storage.PendingChange{Action: storage.Modify, BaseVersion: e.Version, BaseChangeset: base.Changeset}
	if base.Changeset != 0 {
		p.BaseVersion = base.Element.Version
	}
	c.Version = p.BaseVersion + 1
	p.Element = c
	return p
}

func TestLoadInputNeighbourhood(t *testing.T) {
	spot := andorraCrossing(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			testLoadInput(t, b.open(t), spot)
		})
	}
}

func testLoadInput(t *testing.T, s storage.Store, spot *riverCrossing) {
	ctx := t.Context()
	if _, err := s.Import(ctx, &sliceSource{els: append([]osmdata.Element{}, spot.extract...)}); err != nil {
		t.Fatalf("import the extract: %v", err)
	}
	acct, err := s.CreateAccount(ctx, storage.NewAccount{DisplayName: "validator-test", Role: "contributor"})
	if err != nil {
		t.Fatal(err)
	}
	uid := acct.ID
	newNode := func(ctx context.Context, tx storage.StageTx, lat, lon int32, kv ...string) (storage.PendingChange, error) {
		ids, err := tx.AllocateIDs(ctx, osmdata.Node, 1)
		if err != nil {
			return storage.PendingChange{}, err
		}
		var tags osmdata.Tags
		for i := 0; i+1 < len(kv); i += 2 {
			tags = append(tags, osmdata.Tag{Key: kv[i], Value: kv[i+1]})
		}
		return storage.PendingChange{Action: storage.Create, Element: osmdata.Element{
			Type: osmdata.Node, ID: ids[0], Version: 1, Visible: true, Lat: lat, Lon: lon, Tags: tags}}, nil
	}

	// One merged changeset far away, so the author is not new.
	m := s.(storage.Merger)
	early := stage(t, s, uid, nil, func(ctx context.Context, tx storage.StageTx) ([]storage.PendingChange, error) {
		n, err := newNode(ctx, tx, spot.onLat+500000, spot.onLon, "amenity", "bench")
		return []storage.PendingChange{n}, err
	})
	if _, err := m.Merge(ctx, early); err != nil {
		t.Fatalf("merge changeset %d: %v", early, err)
	}

	// The parent, left submitted: it tags another node of the road and
	// puts a new node 5 m from where the road node will land.
	parentNode := spot.byKey[osmdata.Key{Type: osmdata.Node, ID: spot.road.Nodes[0]}]
	if parentNode.ID == spot.roadNode.ID {
		parentNode = spot.byKey[osmdata.Key{Type: osmdata.Node, ID: spot.road.Nodes[len(spot.road.Nodes)-1]}]
	}
	var parentTag, parentNear storage.PendingChange
	parent := stage(t, s, uid, nil, func(ctx context.Context, tx storage.StageTx) ([]storage.PendingChange, error) {
		parentTag = modified(parentNode, storage.PendingChange{}, func(e *osmdata.Element) {
			e.Tags = append(e.Tags, osmdata.Tag{Key: "fixme", Value: "from the parent"})
		})
		var err error
		parentNear, err = newNode(ctx, tx, spot.onLat+450, spot.onLon, "man_made", "survey_point")
		return []storage.PendingChange{parentTag, parentNear}, err
	})
	// Another pending changeset of the author's, not a parent: its node
	// beside the river is in neither snapshot.
	var sibling storage.PendingChange
	stage(t, s, uid, nil, func(ctx context.Context, tx storage.StageTx) ([]storage.PendingChange, error) {
		var err error
		sibling, err = newNode(ctx, tx, spot.onLat-450, spot.onLon, "amenity", "bench")
		return []storage.PendingChange{sibling}, err
	})
	parentChanges, err := s.ChangesetChanges(ctx, parent)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parentChanges {
		if p.Element.ID == parentNode.ID {
			parentTag = p
		}
	}

	// The changeset: the road node onto the river, the parent's node
	// retagged again, a building over the other road.
	a := spot.byKey[osmdata.Key{Type: osmdata.Node, ID: spot.otherRoad.Nodes[0]}]
	b := spot.byKey[osmdata.Key{Type: osmdata.Node, ID: spot.otherRoad.Nodes[1]}]
	midLat, midLon := (a.Lat+b.Lat)/2, (a.Lon+b.Lon)/2
	// A node nothing uses, which the changeset deletes.
	used := map[int64]bool{}
	for i := range spot.extract {
		for _, id := range spot.extract[i].Nodes {
			used[id] = true
		}
		for _, m := range spot.extract[i].Members {
			if m.Type == osmdata.Node {
				used[m.Ref] = true
			}
		}
	}
	var unused *osmdata.Element
	for i := range spot.extract {
		if e := &spot.extract[i]; e.Type == osmdata.Node && !used[e.ID] && len(e.Tags) > 0 {
			unused = e
			break
		}
	}
	if unused == nil {
		t.Fatal("the extract has no tagged node that nothing uses")
	}
	var building []storage.PendingChange
	cs := stage(t, s, uid, []int64{parent}, func(ctx context.Context, tx storage.StageTx) ([]storage.PendingChange, error) {
		changes := []storage.PendingChange{
			{Action: storage.Delete, BaseVersion: unused.Version, Element: osmdata.Element{
				Type: osmdata.Node, ID: unused.ID, Version: unused.Version + 1, Lat: unused.Lat, Lon: unused.Lon}},
			modified(spot.roadNode, storage.PendingChange{}, func(e *osmdata.Element) { e.Lat, e.Lon = spot.onLat, spot.onLon }),
			modified(&parentTag.Element, parentTag, func(e *osmdata.Element) {
				e.Tags = append(e.Tags, osmdata.Tag{Key: "check_date", Value: "2026-11-29"})
			}),
		}
		// A square of about 30 m around the middle of the other road's
		// first segment.
		var corners []int64
		for _, d := range [][2]int32{{-130, -180}, {-130, 180}, {130, 180}, {130, -180}} {
			n, err := newNode(ctx, tx, midLat+d[0], midLon+d[1])
			if err != nil {
				return nil, err
			}
			building = append(building, n)
			corners = append(corners, n.Element.ID)
		}
		ids, err := tx.AllocateIDs(ctx, osmdata.Way, 1)
		if err != nil {
			return nil, err
		}
		building = append(building, storage.PendingChange{Action: storage.Create, Element: osmdata.Element{
			Type: osmdata.Way, ID: ids[0], Version: 1, Visible: true,
			Nodes: append(corners, corners[0]), Tags: osmdata.Tags{{Key: "building", Value: "yes"}}}})
		return append(changes, building...), nil
	})

	in, err := review.LoadInput(ctx, s, cs)
	if err != nil {
		t.Fatalf("LoadInput(%d): %v", cs, err)
	}
	if in.Changeset.ID != cs {
		t.Errorf("Input.Changeset is %d, want %d", in.Changeset.ID, cs)
	}
	if in.AuthorMergedChangesets != 1 {
		t.Errorf("AuthorMergedChangesets = %d, want 1 (changeset %d merged)", in.AuthorMergedChangesets, early)
	}

	// Changes: one per element in element order, old and new as the
	// author's dataset (with the parent) had them.
	byKey := map[osmdata.Key]validate.Change{}
	var order []osmdata.Key
	for _, c := range in.Changes {
		e := c.New
		if e == nil {
			e = c.Old
		}
		byKey[e.Key()] = c
		order = append(order, e.Key())
	}
	if len(in.Changes) != 3+len(building) {
		t.Errorf("%d changes, want %d: %v", len(in.Changes), 3+len(building), order)
	}
	if deleted := byKey[unused.Key()]; deleted.Old == nil || deleted.New != nil || deleted.Old.Version != unused.Version {
		t.Errorf("deleted node %d: change %+v → %+v, want v%d → nil", unused.ID, deleted.Old, deleted.New, unused.Version)
	}
	if in.Before.Nodes[unused.ID] == nil || in.After.Nodes[unused.ID] != nil {
		t.Errorf("deleted node %d: in Before %v, in After %v; want only Before", unused.ID,
			in.Before.Nodes[unused.ID] != nil, in.After.Nodes[unused.ID] != nil)
	}
	if !sort.SliceIsSorted(order, func(i, j int) bool { return order[i].Less(order[j]) }) {
		t.Errorf("changes are not in element order: %v", order)
	}
	moved := byKey[spot.roadNode.Key()]
	if moved.Old == nil || moved.New == nil || moved.Old.Lat != spot.roadNode.Lat || moved.Old.Lon != spot.roadNode.Lon ||
		moved.New.Lat != spot.onLat || moved.New.Lon != spot.onLon || moved.Old.Version != spot.roadNode.Version {
		t.Errorf("road node change: %+v → %+v, want v%d at (%d, %d) → (%d, %d)", moved.Old, moved.New,
			spot.roadNode.Version, spot.roadNode.Lat, spot.roadNode.Lon, spot.onLat, spot.onLon)
	}
	retagged := byKey[parentNode.Key()]
	if retagged.Old == nil || !hasTag(retagged.Old, "fixme", "from the parent") || hasTag(retagged.Old, "check_date", "2026-11-29") ||
		retagged.Old.Version != parentTag.Element.Version || retagged.New == nil || !hasTag(retagged.New, "check_date", "2026-11-29") {
		t.Errorf("node %d built on the parent: old %+v, new %+v; want the parent's v%d as old", parentNode.ID,
			retagged.Old, retagged.New, parentTag.Element.Version)
	}
	for _, p := range building {
		if c, ok := byKey[p.Element.Key()]; !ok || c.Old != nil || c.New == nil || c.New.Version != 1 {
			t.Errorf("created %s: change %+v, want no old and the new version", p.Element.Key(), c)
		}
	}

	// Before and After: the river and the other road are there though
	// the changeset does not touch them, with all their nodes.
	for _, snap := range []struct {
		name string
		s    *validate.Snapshot
	}{{"Before", in.Before}, {"After", in.After}} {
		for _, w := range []*osmdata.Element{spot.river, spot.road, spot.otherRoad} {
			if snap.s.Ways[w.ID] == nil {
				t.Errorf("%s lacks way %d (%s)", snap.name, w.ID, w.Tags)
				continue
			}
			for _, id := range w.Nodes {
				if spot.byKey[osmdata.Key{Type: osmdata.Node, ID: id}] != nil && snap.s.Nodes[id] == nil {
					t.Errorf("%s has way %d without its node %d", snap.name, w.ID, id)
				}
			}
		}
		if n := snap.s.Nodes[parentNear.Element.ID]; n == nil {
			t.Errorf("%s lacks node %d the stacked parent created beside the river", snap.name, parentNear.Element.ID)
		}
		if n := snap.s.Nodes[sibling.Element.ID]; n != nil {
			t.Errorf("%s has node %d of a changeset that is no parent", snap.name, sibling.Element.ID)
		}
		if n := snap.s.Nodes[parentNode.ID]; n == nil || !hasTag(n, "fixme", "from the parent") {
			t.Errorf("%s has node %d as %+v, want the parent's content", snap.name, parentNode.ID, n)
		}
		// Relations using the moved node or any touched way are there.
		for i := range spot.extract {
			r := &spot.extract[i]
			if r.Type != osmdata.Relation {
				continue
			}
			for _, mb := range r.Members {
				if (mb.Type == osmdata.Node && (mb.Ref == spot.roadNode.ID || mb.Ref == parentNode.ID)) && snap.s.Relations[r.ID] == nil {
					t.Errorf("%s lacks relation %d, which has touched node %d", snap.name, r.ID, mb.Ref)
				}
			}
		}
	}
	if n := in.Before.Nodes[spot.roadNode.ID]; n == nil || n.Lat != spot.roadNode.Lat {
		t.Errorf("Before has the road node as %+v, want it where it was", n)
	}
	if n := in.After.Nodes[spot.roadNode.ID]; n == nil || n.Lat != spot.onLat || n.Lon != spot.onLon {
		t.Errorf("After has the road node as %+v, want it on the river", n)
	}
	way := building[len(building)-1].Element
	if in.Before.Ways[way.ID] != nil || in.After.Ways[way.ID] == nil {
		t.Errorf("building way %d: in Before %v, in After %v; want only After", way.ID, in.Before.Ways[way.ID] != nil, in.After.Ways[way.ID] != nil)
	}
	// Far from everything: the first merged node is not a neighbour.
	for id, n := range in.After.Nodes {
		if hasTag(n, "amenity", "bench") && n.Lat == spot.onLat+500000 {
			t.Errorf("After has node %d 5 km away", id)
		}
	}
}

func hasTag(e *osmdata.Element, k, v string) bool {
	got, ok := e.Tags.Get(k)
	return ok && got == v
}

// TestLoadInputEmptyChangeset: a changeset closed without changes has an
// empty neighbourhood, and reading it is no error.
func TestLoadInputEmptyChangeset(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := b.open(t)
			acct, err := s.CreateAccount(t.Context(), storage.NewAccount{DisplayName: "empty", Role: "contributor"})
			if err != nil {
				t.Fatal(err)
			}
			cs, err := s.CreateChangeset(t.Context(), storage.NewChangeset{UID: acct.ID, User: "empty"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.CloseChangeset(t.Context(), cs.ID, acct.ID); err != nil {
				t.Fatal(err)
			}
			in, err := review.LoadInput(t.Context(), s, cs.ID)
			if err != nil {
				t.Fatalf("LoadInput of an empty changeset: %v", err)
			}
			if len(in.Changes) != 0 || len(in.Before.Nodes)+len(in.Before.Ways)+len(in.After.Nodes)+len(in.After.Ways) != 0 {
				t.Errorf("empty changeset: %d changes, before %d/%d, after %d/%d nodes/ways", len(in.Changes),
					len(in.Before.Nodes), len(in.Before.Ways), len(in.After.Nodes), len(in.After.Ways))
			}
			if _, err := review.LoadInput(t.Context(), s, cs.ID+1000); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("LoadInput of an unknown changeset: %v, want ErrNotFound", err)
			}
		})
	}
}
