package bench

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/geocommuns/geocommuns/osmdata"
)

// editMix is how many operations of each kind one merge upload holds.
type editMix struct{ creates, nodeMoves, wayRetags, nodeDeletes, wayDeletes int }

// mixOf splits n operations as an everyday edit does: four tenths new
// ways with their nodes, three tenths moved nodes, two tenths retagged
// ways, one tenth deletes (ways, and nodes nothing uses: Andorra has
// only 1,251 of those). Ten operations are a way of three new nodes,
// three moves, two retags and a way deleted.
func mixOf(n int) editMix {
	m := editMix{creates: n * 4 / 10, wayRetags: n * 2 / 10}
	deletes := n / 10
	m.nodeDeletes = deletes / 2
	m.wayDeletes = deletes - m.nodeDeletes
	m.nodeMoves = n - m.creates - m.wayRetags - deletes
	return m
}

// editPool hands out Andorra's existing elements to the scenario's
// uploads, each at most once over the whole run: no changeset touches an
// element another one does, so none builds on another (no stacking) and
// every merge is clean, whatever order the merges run in.
type editPool struct {
	nodes map[int64]*osmdata.Element
	taken map[osmdata.Key]bool
	// deletableNodes are nodes no way or relation uses; movableNodes are
	// the others. The two never overlap, so a move never lands on a node
	// a delete removes.
	deletableNodes, movableNodes []*osmdata.Element
	// deletableWays are ways no relation uses, last first (so they
	// rarely meet the retaggable ones, which run first first);
	// retaggableWays have every node in the extract: an upload that
	// modifies one must name visible nodes only (import accepted the
	// dangling ones).
	deletableWays, retaggableWays []*osmdata.Element
	// templates lend their geometry to created ways; they are only read,
	// so they cycle.
	templates    []*osmdata.Element
	nextTemplate int
}

func newEditPool(elements []osmdata.Element) *editPool {
	p := &editPool{nodes: map[int64]*osmdata.Element{}, taken: map[osmdata.Key]bool{}}
	used := map[osmdata.Key]bool{}
	for i := range elements {
		e := &elements[i]
		if e.Type == osmdata.Node {
			p.nodes[e.ID] = e
		}
		for _, id := range e.Nodes {
			used[osmdata.Key{Type: osmdata.Node, ID: id}] = true
		}
		for _, m := range e.Members {
			used[osmdata.Key{Type: m.Type, ID: m.Ref}] = true
		}
	}
	for i := range elements {
		e := &elements[i]
		switch e.Type {
		case osmdata.Node:
			if used[e.Key()] {
				p.movableNodes = append(p.movableNodes, e)
			} else {
				p.deletableNodes = append(p.deletableNodes, e)
			}
		case osmdata.Way:
			if !used[e.Key()] {
				p.deletableWays = append(p.deletableWays, e)
			}
			complete := len(e.Nodes) >= 2
			for _, id := range e.Nodes {
				complete = complete && p.nodes[id] != nil
			}
			if complete {
				p.retaggableWays = append(p.retaggableWays, e)
				p.templates = append(p.templates, e)
			}
		}
	}
	slices.Reverse(p.deletableWays)
	return p
}

// take hands out the next n elements of *from no upload had yet.
func (p *editPool) take(from *[]*osmdata.Element, n int, what string) ([]*osmdata.Element, error) {
	var out []*osmdata.Element
	for len(out) < n && len(*from) > 0 {
		e := (*from)[0]
		*from = (*from)[1:]
		if !p.taken[e.Key()] {
			p.taken[e.Key()] = true
			out = append(out, e)
		}
	}
	if len(out) < n {
		return nil, fmt.Errorf("andorra has too few %s left for the merge uploads (%d, %d wanted)", what, len(out), n)
	}
	return out, nil
}

// upload builds one osmChange document of n operations (mixOf) for
// changeset: the creates first (each way after its nodes, with
// placeholder ids), then the modifies, then the deletes.
func (p *editPool) upload(changeset int64, n int) ([]byte, error) {
	mix := mixOf(n)
	moves, err := p.take(&p.movableNodes, mix.nodeMoves, "used nodes to move")
	if err != nil {
		return nil, err
	}
	retags, err := p.take(&p.retaggableWays, mix.wayRetags, "complete ways to retag")
	if err != nil {
		return nil, err
	}
	wayDeletes, err := p.take(&p.deletableWays, mix.wayDeletes, "ways no relation uses to delete")
	if err != nil {
		return nil, err
	}
	nodeDeletes, err := p.take(&p.deletableNodes, mix.nodeDeletes, "unused nodes to delete")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w := osmdata.NewChangeWriter(&buf, osmdata.DocumentHeader{Generator: "geocommuns bench"})
	for _, c := range p.creates(changeset, mix.creates) {
		if err := w.WriteChange(osmdata.ActionCreate, &c); err != nil {
			return nil, err
		}
	}
	for _, n := range moves {
		e := *n
		e.Changeset = changeset
		e.Lat++
		if err := w.WriteChange(osmdata.ActionModify, &e); err != nil {
			return nil, err
		}
	}
	for _, way := range retags {
		e := *way
		e.Changeset = changeset
		// Set, not added: a way may have the key already, and a duplicate
		// key is refused.
		e.Tags = slices.DeleteFunc(slices.Clone(e.Tags), func(t osmdata.Tag) bool { return t.Key == "check_date" })
		e.Tags = append(e.Tags, osmdata.Tag{Key: "check_date", Value: "2026-11-29"})
		if err := w.WriteChange(osmdata.ActionModify, &e); err != nil {
			return nil, err
		}
	}
	// Ways before nodes, as an editor orders deletes.
	for _, d := range append(wayDeletes, nodeDeletes...) {
		e := *d
		e.Changeset = changeset
		if err := w.WriteChange(osmdata.ActionDelete, &e); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// creates makes n new elements with placeholder ids: ways copying the
// geometry and tags of Andorra's ways, each after its new nodes, and lone
// nodes when fewer than three operations are left for a way.
func (p *editPool) creates(changeset int64, n int) []osmdata.Element {
	var out []osmdata.Element
	next := int64(-1)
	newNode := func(from *osmdata.Element) int64 {
		c := *from
		c.ID, c.Version, c.Changeset = next, 0, changeset
		next--
		out = append(out, c)
		return c.ID
	}
	for len(out) < n {
		tpl := p.templates[p.nextTemplate%len(p.templates)]
		p.nextTemplate++
		left := n - len(out)
		if left < 3 {
			newNode(p.nodes[tpl.Nodes[0]])
			continue
		}
		// Distinct nodes only: a closed template would otherwise copy its
		// first node twice.
		seen := map[int64]bool{}
		var refs []int64
		for _, id := range tpl.Nodes {
			if len(refs) == left-1 {
				break
			}
			if !seen[id] {
				seen[id] = true
				refs = append(refs, newNode(p.nodes[id]))
			}
		}
		if len(refs) < 2 {
			continue // its lone node stays, as a created node
		}
		way := *tpl
		way.ID, way.Version, way.Changeset, way.Nodes = next, 0, changeset, refs
		next--
		out = append(out, way)
	}
	return out
}
