package storagetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
)

var errStopExport = errors.New("storagetest: export consumer stopped")

func testExport(t *testing.T, open Opener) {
	t.Run("OrderAndContent", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		// Applied in neither id nor type order, with updates and deletes:
		// the export is still nodes, ways, relations, each by id, of the
		// current visible versions.
		n30 := newNode(30, 1, deg(-45), deg(170), "name", "Ōtautahi")
		n2 := newNode(2, 1, deg(45), deg(-170))
		n100 := newNode(100, 1, 0, 0)
		n7 := newNode(7, 1, deg(89.9999999), deg(-179.9999999), "z", "1", "a", "2")
		r5 := newRelation(5, 1, []osmdata.Member{member(osmdata.Node, 2, "a"), member(osmdata.Way, 3, "b")})
		w3 := newWay(3, 1, []int64{30, 2, 100})
		w1 := newWay(1, 1, []int64{7, 2})
		r9 := newRelation(9, 1, []osmdata.Member{member(osmdata.Relation, 5, "")}, "type", "super")
		// The longest way OSM allows and a large relation, whose order
		// must survive.
		var long []osmdata.Element
		wLong := newWay(50, 1, nil, "name", "long")
		rBig := newRelation(60, 1, nil, "type", "collection")
		for i := range 2000 {
			id := int64(10_000 + (i*7919)%2000) // not in id order
			long = append(long, newNode(id, 1, deg(10)+int32(i), deg(20)))
			wLong.Nodes = append(wLong.Nodes, id)
			if i < 600 {
				rBig.Members = append(rBig.Members, member(osmdata.ElementTypes[i%3], int64(i%200), fmt.Sprint("role ", i)))
			}
		}
		sortOSM(long)
		mustApply(t, s, r5, n30, w3, n100, r9, n2, w1, n7, wLong, rBig)
		mustApply(t, s, long...)

		n2b := nextVersion(n2)
		n2b.Tags = tags("b", "2", "a", "1")
		w3b := nextVersion(w3)
		w3b.Nodes = []int64{2, 30}
		mustApply(t, s, w3b, n2b, deletion(n100), deletion(w1), deletion(r9))

		want := append([]osmdata.Element{n2b, n7, n30}, long...)
		want = append(want, w3b, wLong, r5, rBig)
		checkElements(t, "Export", mustExport(t, s), want)
	})

	t.Run("StopsOnError", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustApply(t, s, newNode(1, 1, 0, 0), newNode(2, 1, 0, 0), newWay(1, 1, []int64{1, 2}))
		calls := 0
		err := s.Export(t.Context(), func(e *osmdata.Element) error {
			calls++
			return errStopExport
		})
		if !errors.Is(err, errStopExport) {
			t.Errorf("Export whose consumer fails = %v, want an error wrapping the consumer's", err)
		}
		if calls != 1 {
			t.Errorf("Export went on after its consumer failed: %d calls", calls)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		if got := mustExport(t, s); len(got) != 0 {
			t.Errorf("Export of an empty store = %d elements", len(got))
		}
	})
}
