package review_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
)

// reviewWorld is an empty dataset under the default review configuration:
// trusted contributors' changesets merge at the job's next step, others
// wait for the reviewers the service lets decide.
type reviewWorld struct {
	*world
	rs  review.Store
	job *review.MergeJob
	svc *review.Service
}

func newReviewWorld(t *testing.T, s storage.Store) *reviewWorld {
	t.Helper()
	rs, ok := s.(review.Store)
	if !ok {
		t.Fatalf("%T does not implement review.Store", s)
	}
	cfg := review.DefaultConfig()
	gate, err := review.NewGate(rs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &reviewWorld{world: newWorld(t, s), rs: rs,
		job: review.NewMergeJob(s, gate, time.Hour, nil), svc: review.NewService(rs, cfg)}
}

func (w *reviewWorld) reviewer(name string) review.Caller {
	w.t.Helper()
	acc, err := w.store.CreateAccount(context.Background(), storage.NewAccount{DisplayName: name, Role: string(auth.RoleReviewer)})
	if err != nil {
		w.t.Fatal(err)
	}
	return review.Caller{UID: acc.ID, Name: name, Role: review.RoleReviewer}
}

// edit uploads ops in a new changeset of who, closes it and runs the
// merge job once: a trusted contributor's changeset has merged after it,
// another's is validated and waits for a reviewer.
func (w *reviewWorld) edit(who *auth.Identity, ops ...editing.Operation) (int64, *editing.DiffResult) {
	w.t.Helper()
	cs := w.open(who)
	res := w.upload(who, cs, ops...)
	w.close(who, cs)
	step(w.t, w.job)
	return cs, res
}

// mustState fails unless changeset cs is in state want.
func (w *reviewWorld) mustState(cs int64, want osmdata.ReviewState) {
	w.t.Helper()
	if got := w.state(cs); got != want {
		w.t.Fatalf("changeset %d is %s, want %s", cs, got, want)
	}
}

// changedKeys lists the elements changeset cs has pending changes of.
func (w *reviewWorld) changedKeys(cs int64) []osmdata.Key {
	w.t.Helper()
	rows, err := w.store.ChangesetChanges(context.Background(), cs)
	if err != nil {
		w.t.Fatal(err)
	}
	var keys []osmdata.Key
	for _, r := range rows {
		if k := r.Element.Key(); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	sortKeys(keys)
	return keys
}

func sortKeys(keys []osmdata.Key) {
	slices.SortFunc(keys, func(a, b osmdata.Key) int {
		switch {
		case a == b:
			return 0
		case a.Less(b):
			return -1
		}
		return 1
	})
}

func nodeKey(id int64) osmdata.Key { return osmdata.Key{Type: osmdata.Node, ID: id} }
func wayKey(id int64) osmdata.Key  { return osmdata.Key{Type: osmdata.Way, ID: id} }

func wayOp(action storage.Action, id int64, version int, nodes []int64, tags ...osmdata.Tag) editing.Operation {
	return editing.Operation{Action: action, Element: osmdata.Element{Type: osmdata.Way, ID: id, Version: version,
		Nodes: nodes, Tags: tags}}
}

func nodeDeletion(id int64, version int) editing.Operation {
	return editing.Operation{Action: storage.Delete, Element: osmdata.Element{Type: osmdata.Node, ID: id, Version: version}}
}

func tag(k, v string) osmdata.Tag { return osmdata.Tag{Key: k, Value: v} }

// tagMap is an element's tags as a map, for comparing them as a set.
func tagMap(tags osmdata.Tags) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}
