package storagetest

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// FaultEnv names the fault that Run wraps every opened store in, for the
// negative control; see the package comment.
const FaultEnv = "GEOCOMMUNS_STORAGETEST_FAULT"

// fault is a deliberately broken decorator of a store, each one a mistake
// a backend could make, and the subtests of Run that must catch it.
type fault struct {
	name string
	// failing are subtests (paths below Run's test) that must fail.
	failing []string
	wrap    func(storage.Store) storage.Store
}

var faults = []fault{
	{
		name:    "drop-last-history",
		failing: []string{"History/Node", "History/Way", "History/Relation"},
		wrap:    func(s storage.Store) storage.Store { return dropLastHistory{s} },
	},
	{
		name: "exclusive-edges",
		failing: []string{
			"NodesInBox/Boxes/PrimeMeridianEquator", "NodesInBox/Boxes/NegativeLongitudes",
			"NodesInBox/Boxes/SouthWest", "NodesInBox/Boxes/EastOfAntimeridian",
			"NodesInBox/Boxes/WestOfAntimeridian", "NodesInBox/Boxes/NorthPole",
			"NodesInBox/Boxes/SouthPoleCorner", "NodesInBox/Boxes/Point",
			"NodesInBox/Boxes/OneUnitWide", "NodesInBox/Boxes/QuadtileBoundary",
			"NodesInBox/Boxes/World", "NodesInBox/Boxes/RandomBoxes",
			"Map/Steps/NodesInBox", "Map/Steps/Content",
		},
		wrap: func(s storage.Store) storage.Store { return exclusiveEdges{s} },
	},
	{
		name: "non-atomic-apply",
		// The readers see a batch half written, under any timing: the
		// writer commits 3,600 times while they read in a loop.
		failing: []string{"Rollback/ApplyVersionConflict/LastRepeatsAVersion", "Concurrency/ReadsSeeAllOrNothing"},
		wrap:    func(s storage.Store) storage.Store { return nonAtomicApply{s} },
	},
	{
		name:    "non-atomic-stage",
		failing: []string{"Staging/Rollback"},
		wrap:    func(s storage.Store) storage.Store { return nonAtomicStage{s} },
	},
	{
		name:    "exclusive-pending-edges",
		failing: []string{"Staging/Overlay"},
		wrap:    func(s storage.Store) storage.Store { return exclusivePendingEdges{s} },
	},
}

func faultNamed(name string) *fault {
	for i := range faults {
		if faults[i].name == name {
			return &faults[i]
		}
	}
	return nil
}

// withFaultFromEnv wraps every store open returns in the fault FaultEnv
// names, if any.
func withFaultFromEnv(t *testing.T, open Opener) Opener {
	t.Helper()
	name := os.Getenv(FaultEnv)
	if name == "" {
		return open
	}
	f := faultNamed(name)
	if f == nil {
		t.Fatalf("%s=%q: no such fault", FaultEnv, name)
	}
	t.Logf("storagetest: every store is wrapped in the fault %q", name)
	return func(t *testing.T) storage.Store { return f.wrap(open(t)) }
}

// dropLastHistory loses the newest version of every history that has
// more than one.
type dropLastHistory struct{ storage.Store }

func (s dropLastHistory) History(ctx context.Context, t osmdata.ElementType, id int64) ([]osmdata.Element, error) {
	h, err := s.Store.History(ctx, t, id)
	if len(h) > 1 {
		h = h[:len(h)-1]
	}
	return h, err
}

// exclusiveEdges treats the box's edges as outside.
type exclusiveEdges struct{ storage.Store }

func (s exclusiveEdges) NodesInBox(ctx context.Context, b osmdata.Box, limit int) ([]osmdata.Element, error) {
	got, err := s.Store.NodesInBox(ctx, b, limit)
	return slices.DeleteFunc(got, func(n osmdata.Element) bool {
		return n.Lat == b.MinLat || n.Lat == b.MaxLat || n.Lon == b.MinLon || n.Lon == b.MaxLon
	}), err
}

// nonAtomicApply writes a batch one element at a time, so a conflict late
// in the batch leaves the elements before it written.
type nonAtomicApply struct{ storage.Store }

func (s nonAtomicApply) Apply(ctx context.Context, versions []osmdata.Element) error {
	for _, v := range versions {
		if err := s.Store.Apply(ctx, []osmdata.Element{v}); err != nil {
			return err
		}
	}
	return nil
}

// nonAtomicStage commits what an upload wrote before it failed.
type nonAtomicStage struct{ storage.Store }

func (s nonAtomicStage) Stage(ctx context.Context, id, uid int64, fn func(context.Context, storage.StageTx) error) error {
	var fnErr error
	err := s.Store.Stage(ctx, id, uid, func(ctx context.Context, tx storage.StageTx) error {
		fnErr = fn(ctx, tx)
		return nil
	})
	if err != nil {
		return err
	}
	return fnErr
}

// exclusivePendingEdges treats the box's edges as outside in the
// author's overlay.
type exclusivePendingEdges struct{ storage.Store }

func (s exclusivePendingEdges) Pending(author int64) storage.PendingReader {
	return exclusivePendingReader{s.Store.Pending(author)}
}

type exclusivePendingReader struct{ storage.PendingReader }

func (r exclusivePendingReader) PendingNodesInBox(ctx context.Context, b osmdata.Box) ([]storage.PendingChange, error) {
	got, err := r.PendingReader.PendingNodesInBox(ctx, b)
	return slices.DeleteFunc(got, func(p storage.PendingChange) bool {
		n := p.Element
		return n.Lat == b.MinLat || n.Lat == b.MaxLat || n.Lon == b.MinLon || n.Lon == b.MaxLon
	}), err
}
