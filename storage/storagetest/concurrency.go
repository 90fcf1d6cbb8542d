package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// writers is how many goroutines race; enough to overlap on two cores.
const writers = 8

// race runs fn in n goroutines released together and returns their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func testConcurrency(t *testing.T, open Opener) {
	t.Run("SameNodeVersion", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := open(t)
		n1 := newNode(1, 1, deg(40), deg(-3))
		mustApply(t, s, n1)
		candidates := make([]osmdata.Element, writers)
		for i := range candidates {
			c := nextVersion(n1)
			c.Tags = tags("writer", fmt.Sprint(i))
			c.Lat += int32(i)
			candidates[i] = c
		}
		for round := 0; round < 3; round++ {
			errs := race(writers, func(i int) error {
				c := candidates[i]
				c.Version += round
				return s.Apply(ctx, []osmdata.Element{c})
			})
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil:
					if winner >= 0 {
						t.Errorf("round %d: writers %d and %d both wrote version %d of node 1", round, winner, i, 2+round)
					}
					winner = i
				case !errors.Is(err, storage.ErrVersionConflict):
					t.Errorf("round %d: writer %d: %v, want ErrVersionConflict", round, i, err)
				}
			}
			if winner < 0 {
				t.Fatalf("round %d: no writer succeeded: %v", round, errs)
			}
			h, err := s.History(ctx, osmdata.Node, 1)
			if err != nil {
				t.Fatalf("History: %v", err)
			}
			if len(h) != 2+round {
				t.Fatalf("round %d: History has versions %v, want 1..%d without gaps or repeats", round, versionsOf(h), 2+round)
			}
			for i, v := range h {
				if v.Version != i+1 {
					t.Errorf("round %d: History versions %v, want 1..%d", round, versionsOf(h), 2+round)
					break
				}
			}
			want := candidates[winner]
			want.Version += round
			checkElements(t, "the winner's version", h[len(h)-1:], []osmdata.Element{want})
			if c := mustCounts(t, s); c.Nodes != 1 || c.Versions != int64(2+round) {
				t.Errorf("round %d: Counts = %+v, want 1 node with %d versions", round, c, 2+round)
			}
			// Every later round builds on the version this round wrote.
			for i := range candidates {
				candidates[i].Lat, candidates[i].Lon = want.Lat+int32(i), want.Lon
			}
		}
	})

	t.Run("DistinctElements", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := open(t)
		const perWriter = 20
		errs := race(writers, func(i int) error {
			for j := range perWriter {
				id := int64(i*perWriter + j + 1)
				n := newNode(id, 1, deg(40)+int32(id), deg(-3))
				w := newWay(id, 1, []int64{id})
				if err := s.Apply(ctx, []osmdata.Element{n, w}); err != nil {
					return fmt.Errorf("node and way %d: %w", id, err)
				}
			}
			return nil
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		}
		c := mustCounts(t, s)
		if c.Nodes != writers*perWriter || c.Ways != writers*perWriter || c.Versions != 2*writers*perWriter {
			t.Errorf("Counts = %+v, want %d nodes and %d ways, one version each", c, writers*perWriter, writers*perWriter)
		}
		ways, err := s.WaysUsingNodes(ctx, []int64{1, writers * perWriter})
		if err != nil {
			t.Fatalf("WaysUsingNodes: %v", err)
		}
		checkIDs(t, "WaysUsingNodes", ways, 1, writers*perWriter)
	})

	t.Run("TwoImports", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := open(t)
		a, b := gridDataset(3000, 300), importDataset()
		sets := [][]osmdata.Element{a, b}
		errs := race(2, func(i int) error {
			_, err := s.Import(ctx, source(sets[i]))
			return err
		})
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("both imports succeeded")
				}
				winner = i
			case !errors.Is(err, storage.ErrNotEmpty):
				t.Errorf("import %d: %v, want ErrNotEmpty", i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("no import succeeded: %v", errs)
		}
		checkImported(t, s, sets[winner])
	})

	t.Run("ImportAndApply", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := open(t)
		grid := gridDataset(3000, 300)
		applied := newNode(1, 1, deg(1), deg(1))
		var importErr, applyErr error
		race(2, func(i int) error {
			if i == 0 {
				_, importErr = s.Import(ctx, source(grid))
			} else {
				applyErr = s.Apply(ctx, []osmdata.Element{applied})
			}
			return nil
		})
		// Serialized either way: the Apply first refuses the import;
		// the import first makes node 1 exist, so version 1 conflicts.
		switch {
		case importErr == nil && errors.Is(applyErr, storage.ErrVersionConflict):
			checkImported(t, s, grid)
		case applyErr == nil && errors.Is(importErr, storage.ErrNotEmpty):
			checkElements(t, "Export after the Apply won", mustExport(t, s), []osmdata.Element{applied})
		default:
			t.Errorf("Import = %v and Apply = %v: want one to succeed and the other refused (ErrNotEmpty or ErrVersionConflict)", importErr, applyErr)
		}
	})

	t.Run("ReadsSeeAllOrNothing", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s := open(t)
		// Each batch is batchNodes nodes in the box and one way through
		// all of them; a reader must see whole batches only.
		const batches, batchNodes = 12, 300
		box := osmdata.Box{MinLat: deg(-1), MinLon: deg(-1), MaxLat: deg(1), MaxLon: deg(1)}
		done := make(chan struct{})
		var wg sync.WaitGroup
		observe := func(name string, read func() (string, error)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Bounded: the writer finishes long before, and one more
				// read after it ends is always made.
				for i := 0; i < 100_000; i++ {
					finished := false
					select {
					case <-done:
						finished = true
					default:
					}
					bad, err := read()
					if err != nil {
						t.Errorf("%s during writes: %v", name, err)
						return
					}
					if bad != "" {
						t.Errorf("%s saw part of a write: %s", name, bad)
						return
					}
					if finished {
						return
					}
				}
			}()
		}
		observe("NodesInBox", func() (string, error) {
			got, err := s.NodesInBox(ctx, box, batches*batchNodes)
			if err == nil && len(got)%batchNodes != 0 {
				return fmt.Sprintf("%d nodes", len(got)), nil
			}
			return "", err
		})
		observe("Counts", func() (string, error) {
			c, err := s.Counts(ctx)
			if err == nil && (c.Nodes%batchNodes != 0 || c.Versions%(batchNodes+1) != 0) {
				return fmt.Sprintf("%+v", c), nil
			}
			return "", err
		})
		observe("Export", func() (string, error) {
			var nodes, ways int
			err := s.Export(ctx, func(e *osmdata.Element) error {
				switch e.Type {
				case osmdata.Node:
					nodes++
				case osmdata.Way:
					ways++
				}
				return nil
			})
			if err == nil && nodes != ways*batchNodes {
				return fmt.Sprintf("%d nodes and %d ways", nodes, ways), nil
			}
			return "", err
		})
		var writeErr error
		for b := range batches {
			var els []osmdata.Element
			ids := make([]int64, batchNodes)
			for j := range batchNodes {
				id := int64(b*batchNodes + j + 1)
				ids[j] = id
				els = append(els, newNode(id, 1, deg(-0.9)+int32(id)*100, deg(0.5)-int32(id)*100))
			}
			els = append(els, newWay(int64(b+1), 1, ids))
			if writeErr = s.Apply(ctx, els); writeErr != nil {
				break
			}
		}
		close(done)
		wg.Wait()
		if writeErr != nil {
			t.Fatalf("Apply: %v", writeErr)
		}
		if c := mustCounts(t, s); c.Nodes != batches*batchNodes || c.Ways != batches {
			t.Errorf("Counts after the writes = %+v, want %d nodes and %d ways", c, batches*batchNodes, batches)
		}
	})
}
