package storage

import (
	"slices"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
)

// TestMergeByID: the map call's nodes come out in id order, every node
// once, whether the two reads gave them in id order or not.
func TestMergeByID(t *testing.T) {
	nodes := func(ids ...int64) []osmdata.Element {
		var out []osmdata.Element
		for _, id := range ids {
			out = append(out, osmdata.Element{Type: osmdata.Node, ID: id})
		}
		return out
	}
	for _, c := range []struct {
		name string
		a, b []osmdata.Element
		want []int64
	}{
		{"interleaved", nodes(1, 4, 9), nodes(2, 3, 10), []int64{1, 2, 3, 4, 9, 10}},
		{"one empty", nodes(5, 7), nil, []int64{5, 7}},
		{"the other empty", nil, nodes(5, 7), []int64{5, 7}},
		{"not in id order", nodes(9, 1), nodes(8, 2), []int64{1, 2, 8, 9}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := elementIDs(mergeByID(c.a, c.b)); !slices.Equal(got, c.want) {
				t.Errorf("merged %v", got)
			}
		})
	}
}
