package osmapi

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// mergedDownload turns the pending changes of a merged changeset into
// the versions the merge made of them: the final version numbers, which
// history shows, and the merge time as timestamp, instead of the
// provisional versions and upload times the pending rows keep. A
// download must agree with history: a client that compares them (a
// changeset viewer, a mirror) would otherwise look for versions that do
// not exist. Changesets not merged are answered as staged.
//
// One read of the current versions per element type finds every element
// nobody changed since; only those a later merge changed again need their
// history. An element the merge did not make a version of (left out of a
// partial accept) is not part of what the changeset changed: it is left
// out.
func (a *API) mergedDownload(ctx context.Context, cs osmdata.Changeset, changes []storage.PendingChange) ([]storage.PendingChange, error) {
	if cs.ReviewState != osmdata.ReviewMerged || len(changes) == 0 {
		return changes, nil
	}
	ids := map[osmdata.ElementType][]int64{}
	for i := range changes {
		k := changes[i].Element.Key()
		ids[k.Type] = append(ids[k.Type], k.ID)
	}
	final := make(map[osmdata.Key]osmdata.Element, len(changes))
	for _, t := range osmdata.ElementTypes {
		if len(ids[t]) == 0 {
			continue
		}
		slices.Sort(ids[t])
		current, err := a.Reader.CurrentElements(ctx, t, ids[t])
		if err != nil {
			return nil, fmt.Errorf("final versions of changeset %d: %w", cs.ID, err)
		}
		for _, e := range current {
			if e.Changeset == cs.ID {
				final[e.Key()] = e
			}
		}
	}
	out := changes[:0]
	for _, c := range changes {
		k := c.Element.Key()
		e, ok := final[k]
		if !ok {
			var err error
			if e, ok, err = a.versionOfChangeset(ctx, k, cs.ID); err != nil {
				return nil, err
			}
		}
		if ok {
			c.Element = e
			out = append(out, c)
		}
	}
	return out, nil
}

// versionOfChangeset finds in history the version changeset cs made of
// an element (one per changeset, design.md).
func (a *API) versionOfChangeset(ctx context.Context, k osmdata.Key, cs int64) (osmdata.Element, bool, error) {
	history, err := a.Reader.History(ctx, k.Type, k.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return osmdata.Element{}, false, nil
	}
	if err != nil {
		return osmdata.Element{}, false, fmt.Errorf("the version changeset %d made of %s: %w", cs, k, err)
	}
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Changeset == cs {
			return history[i], true, nil
		}
	}
	return osmdata.Element{}, false, nil
}
