package editing

import (
	"context"
	"fmt"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// ahead is the work of an osmChange upload that needs no transaction,
// done on the store's other connections (storage.EarlyReader) while the
// document is still being parsed, a chunk of operations at a time: the
// ids of the chunk's creates, and the current versions of the elements
// it mentions (see storage.EarlyReader for why such a read is as good as
// one in the transaction). Parsing and these reads then use both a core
// here and one in the database at once, instead of one after the other.
//
// Ids taken for an upload that then fails are lost, as ids a rolled-back
// transaction took are.
type ahead struct {
	store storage.EarlyReader
	// budget is how many more ids may be taken ahead: an upload past the
	// changeset's limit fails, and should not take ids by the thousand
	// first.
	budget int
	jobs   chan aheadJob
	done   chan struct{}
	// Written by the working goroutine, read once done is closed.
	ids       map[osmdata.ElementType][]int64
	states    [][]osmdata.Element
	requested map[osmdata.Key]bool
	err       error
}

type aheadJob struct {
	creates   map[osmdata.ElementType]int
	mentioned map[osmdata.ElementType][]int64
}

func startAhead(ctx context.Context, store storage.EarlyReader, budget int) *ahead {
	a := &ahead{
		store: store, budget: budget,
		jobs:      make(chan aheadJob, 64),
		done:      make(chan struct{}),
		ids:       map[osmdata.ElementType][]int64{},
		requested: map[osmdata.Key]bool{},
	}
	go a.work(ctx)
	return a
}

// work runs the jobs in turn, so that the ids of each type increase in
// document order, as AllocateIDs' do.
func (a *ahead) work(ctx context.Context) {
	defer close(a.done)
	for job := range a.jobs {
		if a.err != nil {
			continue
		}
		a.err = a.run(ctx, job)
	}
}

func (a *ahead) run(ctx context.Context, job aheadJob) error {
	for _, t := range osmdata.ElementTypes {
		if n := job.creates[t]; n > 0 {
			ids, err := a.store.AllocateIDs(ctx, t, n)
			if err == nil && len(ids) != n {
				err = fmt.Errorf("got %d ids", len(ids))
			}
			if err != nil {
				return fmt.Errorf("allocate %d %s ids: %w", n, t, err)
			}
			a.ids[t] = append(a.ids[t], ids...)
		}
	}
	for _, t := range osmdata.ElementTypes {
		var list []int64
		for _, id := range uniqueIDs(job.mentioned[t]) {
			if k := (osmdata.Key{Type: t, ID: id}); !a.requested[k] {
				a.requested[k] = true
				list = append(list, id)
			}
		}
		if len(list) == 0 {
			continue
		}
		cur, err := a.store.CurrentStates(ctx, t, list)
		if err != nil {
			return fmt.Errorf("read %d %ss: %w", len(list), t, err)
		}
		a.states = append(a.states, cur)
	}
	return nil
}

// parsed hands over a chunk of parsed operations.
func (a *ahead) parsed(ops []Operation) {
	job := aheadJob{creates: map[osmdata.ElementType]int{}, mentioned: map[osmdata.ElementType][]int64{}}
	for i := range ops {
		if ops[i].Action == storage.Create && a.budget > 0 {
			job.creates[ops[i].Element.Type]++
			a.budget--
		}
	}
	addMentioned(ops, job.mentioned, nil)
	a.jobs <- job
}

// handedOver says that no more operations come.
func (a *ahead) handedOver() { close(a.jobs) }

// wait waits for the work to end and returns its error.
func (a *ahead) wait() error {
	<-a.done
	return a.err
}

// addMentioned adds to mentioned the ids (not placeholders) of the
// elements ops change and of those the creates and modifies refer to,
// and to deleted (when not nil) those ops delete.
func addMentioned(ops []Operation, mentioned, deleted map[osmdata.ElementType][]int64) {
	for i := range ops {
		e := &ops[i].Element
		if e.ID > 0 {
			mentioned[e.Type] = append(mentioned[e.Type], e.ID)
			if ops[i].Action == storage.Delete && deleted != nil {
				deleted[e.Type] = append(deleted[e.Type], e.ID)
			}
		}
		if ops[i].Action == storage.Delete {
			continue
		}
		for _, n := range e.Nodes {
			if n > 0 {
				mentioned[osmdata.Node] = append(mentioned[osmdata.Node], n)
			}
		}
		for _, m := range e.Members {
			if m.Ref > 0 {
				mentioned[m.Type] = append(mentioned[m.Type], m.Ref)
			}
		}
	}
}
