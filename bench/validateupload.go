package bench

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/geocommuns/geocommuns/osmdata"
)

// The validate scenario's edits move and copy real geometry by a few
// metres, within the distance the topology rules look at, so that the
// rules meet crossings, near misses and disconnected roads.
const (
	// validationMoveLat moves a road node north by about 11 m.
	validationMoveLat = 1000
	// validationCopyLat and validationCopyLon shift a copied way by about
	// 5 m, so that the copy crosses and almost meets its original.
	validationCopyLat = 400
	validationCopyLon = 600
	// validationCentreLat and validationCentreLon are Andorra la Vella's
	// centre, where the edits are.
	validationCentreLat = 425075000
	validationCentreLon = 15218000
)

// validationUpload builds one osmChange of n operations on Andorra for
// changeset: three tenths moves of road nodes, one tenth retagged roads
// and buildings, and the rest new roads and buildings copied from real
// ones a few metres away (each way after its new nodes, closed ways
// closed again, lone nodes when fewer than three operations are left).
func validationUpload(elements []osmdata.Element, changeset int64, n int) ([]byte, error) {
	nodes := map[int64]*osmdata.Element{}
	for i := range elements {
		if elements[i].Type == osmdata.Node {
			nodes[elements[i].ID] = &elements[i]
		}
	}
	var roads, buildings []*osmdata.Element
	for i := range elements {
		w := &elements[i]
		if w.Type != osmdata.Way || len(w.Nodes) < 2 {
			continue
		}
		complete := true
		for _, id := range w.Nodes {
			complete = complete && nodes[id] != nil
		}
		if !complete {
			continue
		}
		if _, ok := w.Tags.Get("highway"); ok {
			roads = append(roads, w)
		} else if _, ok := w.Tags.Get("building"); ok {
			buildings = append(buildings, w)
		}
	}
	// Nearest the centre first: a contributor's changeset is one area,
	// here the capital's streets and buildings.
	byDistance := func(ways []*osmdata.Element) {
		dist := make(map[int64]int64, len(ways))
		for _, w := range ways {
			n := nodes[w.Nodes[0]]
			dLat, dLon := int64(n.Lat-validationCentreLat), int64(n.Lon-validationCentreLon)
			dist[w.ID] = dLat*dLat + dLon*dLon
		}
		slices.SortStableFunc(ways, func(a, b *osmdata.Element) int { return cmp.Compare(dist[a.ID], dist[b.ID]) })
	}
	byDistance(roads)
	byDistance(buildings)
	if len(roads) == 0 || len(buildings) == 0 {
		return nil, fmt.Errorf("andorra has %d complete roads and %d buildings, want some of each", len(roads), len(buildings))
	}
	moves, retags := n*3/10, n/10
	creates := n - moves - retags

	var buf bytes.Buffer
	w := osmdata.NewChangeWriter(&buf, osmdata.DocumentHeader{Generator: "geocommuns bench"})
	ops := 0
	write := func(action osmdata.Action, e osmdata.Element) error {
		e.Changeset = changeset
		ops++
		return w.WriteChange(action, &e)
	}

	// Creates: copies of roads and buildings in turn.
	next := int64(-1)
	made := 0
	for i := 0; made < creates; i++ {
		tpl := roads[i/2%len(roads)]
		if i%2 == 1 {
			tpl = buildings[i/2%len(buildings)]
		}
		left := creates - made
		newNode := func(from *osmdata.Element) (int64, error) {
			c := *from
			c.ID, c.Version, c.Tags = next, 0, nil
			c.Lat += validationCopyLat
			c.Lon += validationCopyLon
			next--
			made++
			return c.ID, write(osmdata.ActionCreate, c)
		}
		if left < 3 {
			if _, err := newNode(nodes[tpl.Nodes[0]]); err != nil {
				return nil, err
			}
			continue
		}
		placeholder := map[int64]int64{}
		var refs []int64
		for _, id := range tpl.Nodes {
			if ph, ok := placeholder[id]; ok {
				refs = append(refs, ph) // a closed way closes again
				continue
			}
			if len(placeholder) == left-1 {
				break
			}
			ph, err := newNode(nodes[id])
			if err != nil {
				return nil, err
			}
			placeholder[id] = ph
			refs = append(refs, ph)
		}
		if len(placeholder) < 2 {
			continue // its lone node stays, as a created node
		}
		c := *tpl
		c.ID, c.Version, c.Nodes = next, 0, refs
		next--
		made++
		if err := write(osmdata.ActionCreate, c); err != nil {
			return nil, err
		}
	}

	// Moves: nodes of roads, each once, road after road.
	moved := map[int64]bool{}
	for _, road := range roads {
		for _, id := range road.Nodes {
			if len(moved) == moves {
				break
			}
			if moved[id] {
				continue
			}
			moved[id] = true
			c := *nodes[id]
			c.Lat += validationMoveLat
			if err := write(osmdata.ActionModify, c); err != nil {
				return nil, err
			}
		}
	}
	if len(moved) < moves {
		return nil, fmt.Errorf("andorra's roads have %d nodes, %d moves wanted", len(moved), moves)
	}

	// Retags: roads and buildings in turn, from after the ways copied, so
	// that they are not the ways whose nodes moved.
	for i := 0; i < retags; i++ {
		list := roads
		if i%2 == 1 {
			list = buildings
		}
		c := *list[(creates/8+i/2)%len(list)]
		// Set, not added: a duplicate key is refused.
		c.Tags = slices.DeleteFunc(slices.Clone(c.Tags), func(t osmdata.Tag) bool { return t.Key == "check_date" })
		c.Tags = append(c.Tags, osmdata.Tag{Key: "check_date", Value: "2026-11-29"})
		if err := write(osmdata.ActionModify, c); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if ops != n {
		return nil, fmt.Errorf("built %d operations, %d wanted", ops, n)
	}
	return buf.Bytes(), nil
}
