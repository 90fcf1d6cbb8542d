package validate

import (
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
)

// allKeys lists every element of a snapshot in element order.
func allKeys(s *Snapshot) []osmdata.Key {
	var keys []osmdata.Key
	for id := range s.Nodes {
		keys = append(keys, osmdata.Key{Type: osmdata.Node, ID: id})
	}
	for id := range s.Ways {
		keys = append(keys, osmdata.Key{Type: osmdata.Way, ID: id})
	}
	for id := range s.Relations {
		keys = append(keys, osmdata.Key{Type: osmdata.Relation, ID: id})
	}
	return sortKeys(keys)
}

// firstElement returns the first element of the extract, in element
// order, of the given type that satisfies keep.
func firstElement(t testing.TB, typ osmdata.ElementType, keep func(*osmdata.Element) bool) *osmdata.Element {
	t.Helper()
	d := loadAndorra(t)
	for _, k := range d.keys {
		if k.Type != typ {
			continue
		}
		if e := d.Element(k); keep(e) {
			return e
		}
	}
	t.Fatalf("the Andorra extract has no such %s", typ)
	return nil
}

func hasTag(key, value string) func(*osmdata.Element) bool {
	return func(e *osmdata.Element) bool {
		v, ok := e.Tags.Get(key)
		return ok && (value == "*" || v == value)
	}
}

func isOpenWay(e *osmdata.Element) bool {
	return len(e.Nodes) >= 2 && e.Nodes[0] != e.Nodes[len(e.Nodes)-1]
}

func isClosedWay(e *osmdata.Element) bool {
	return len(e.Nodes) >= 4 && e.Nodes[0] == e.Nodes[len(e.Nodes)-1]
}

// withTags returns a copy of e whose tags are tags.
func withTags(e *osmdata.Element, tags osmdata.Tags) *osmdata.Element {
	c := *e
	c.Tags = append(osmdata.Tags(nil), tags...)
	return &c
}

// setTag returns a copy of e with key set to value (added last if new).
func setTag(e *osmdata.Element, key, value string) *osmdata.Element {
	c := withTags(e, e.Tags)
	for i := range c.Tags {
		if c.Tags[i].Key == key {
			c.Tags[i].Value = value
			return c
		}
	}
	c.Tags = append(c.Tags, osmdata.Tag{Key: key, Value: value})
	return c
}

// checkOne runs an element rule on one element, with the way's nodes from
// the extract so findings can be placed.
func checkOne(t testing.TB, r ElementRule, e *osmdata.Element) []Finding {
	t.Helper()
	s := snapshotOf(e)
	if e.Type == osmdata.Way {
		d := loadAndorra(t)
		for _, id := range e.Nodes {
			if n := d.Nodes[id]; n != nil {
				s.Nodes[id] = n
			}
		}
	}
	return r.Check(s, []osmdata.Key{e.Key()})
}
