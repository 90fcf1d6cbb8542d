package editing

import (
	"context"
	"fmt"
	"slices"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Reader returns what who reads (design.md, "Reads and the author's
// overlay"): the authoritative dataset for an anonymous caller, and for
// an authenticated author the authoritative dataset with the author's
// active pending changes laid over it. Pending content replaces
// authoritative content, pending deletes hide elements, pending nodes in
// a box and pending ways and relations referring to selected elements
// join the map call's steps, so storage.Map and every read query run
// unchanged over it. History, versions, changesets and exports stay
// authoritative. Each read is read-your-writes: the pending rows are read
// from the store on every call, never cached.
func (s *Service) Reader(who *auth.Identity) storage.Reader {
	if who == nil || who.UserID == 0 {
		return s.store
	}
	return &overlay{Reader: s.store, pending: s.editing.Pending(who.UserID)}
}

// IsOverlaid reports whether r shows someone's pending changes, so that
// its replies must not be cached for others (Cache-Control: private).
func IsOverlaid(r storage.Reader) bool {
	_, ok := r.(*overlay)
	return ok
}

// overlay lays one author's pending changes over an authoritative
// Reader. The embedded Reader answers what stays authoritative (History,
// ElementVersion, Changeset, Export, Counts).
type overlay struct {
	storage.Reader
	pending storage.PendingReader
}

// NamedVersions reads the authoritative versions in bulk, as
// ElementVersion does one (storage.VersionsReader).
func (o *overlay) NamedVersions(ctx context.Context, t osmdata.ElementType, versions []storage.IDVersion) ([]osmdata.Element, error) {
	return storage.ReadNamedVersions(ctx, o.Reader, t, versions)
}

// pendingByID reads the pending changes of ids, keyed by id.
func (o *overlay) pendingByID(ctx context.Context, t osmdata.ElementType, ids []int64) (map[int64]*osmdata.Element, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	changes, err := o.pending.PendingElements(ctx, t, ids)
	if err != nil {
		return nil, fmt.Errorf("pending %ss: %w", t, err)
	}
	m := make(map[int64]*osmdata.Element, len(changes))
	for i := range changes {
		m[changes[i].Element.ID] = &changes[i].Element
	}
	return m, nil
}

// CurrentElements answers the current version of each id as the author
// sees it: the pending content where there is one (a pending delete as a
// deleted version), the authoritative one otherwise, and elements the
// author created.
func (o *overlay) CurrentElements(ctx context.Context, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error) {
	base, err := o.Reader.CurrentElements(ctx, t, ids)
	if err != nil {
		return nil, err
	}
	pending, err := o.pendingByID(ctx, t, ids)
	if err != nil {
		return nil, err
	}
	if len(pending) == 0 {
		return base, nil
	}
	out := make([]osmdata.Element, 0, len(base)+len(pending))
	for _, e := range base {
		if p, ok := pending[e.ID]; ok {
			out = append(out, *p)
			delete(pending, e.ID)
			continue
		}
		out = append(out, e)
	}
	for _, p := range pending {
		out = append(out, *p) // created by the author
	}
	sortElements(out)
	return out, nil
}

// NodesInBox answers the visible nodes in box as the author sees them:
// authoritative nodes the author neither deleted nor moved out, and the
// author's pending nodes inside, at most limit+1 of them so that the map
// call's limit counts overlaid nodes.
func (o *overlay) NodesInBox(ctx context.Context, box osmdata.Box, limit int) ([]osmdata.Element, error) {
	// Pending changes may hide some of the authoritative nodes returned:
	// when the store's answer was cut at limit+1 and some are hidden, ask
	// again for more until the answer is either complete or over the
	// limit without them.
	ask := limit
	var kept []osmdata.Element
	for {
		base, err := o.Reader.NodesInBox(ctx, box, ask)
		if err != nil {
			return nil, err
		}
		pending, err := o.pendingByID(ctx, osmdata.Node, elementIDs(base))
		if err != nil {
			return nil, err
		}
		kept = kept[:0]
		for _, n := range base {
			if p, ok := pending[n.ID]; ok {
				if !p.Visible || !box.Contains(p.Lat, p.Lon) {
					continue
				}
				n = *p
			}
			kept = append(kept, n)
		}
		hidden := len(base) - len(kept)
		if len(base) <= ask || hidden == 0 || len(kept) > limit {
			break
		}
		ask += hidden
	}
	inBox, err := o.pending.PendingNodesInBox(ctx, box)
	if err != nil {
		return nil, fmt.Errorf("pending nodes in box: %w", err)
	}
	have := make(map[int64]bool, len(kept))
	for _, n := range kept {
		have[n.ID] = true
	}
	for _, c := range inBox {
		n := c.Element
		if !have[n.ID] && n.Visible && box.Contains(n.Lat, n.Lon) {
			have[n.ID] = true
			kept = append(kept, n)
		}
	}
	sortElements(kept)
	if len(kept) > limit+1 {
		kept = kept[:limit+1]
	}
	return kept, nil
}

// WaysUsingNodes answers the visible ways using any of the nodes as the
// author sees them.
func (o *overlay) WaysUsingNodes(ctx context.Context, nodeIDs []int64) ([]osmdata.Element, error) {
	base, err := o.Reader.WaysUsingNodes(ctx, nodeIDs)
	if err != nil {
		return nil, err
	}
	referencing, err := o.pending.PendingReferencing(ctx, osmdata.Node, nodeIDs)
	if err != nil {
		return nil, fmt.Errorf("pending ways using nodes: %w", err)
	}
	wanted := idSet(nodeIDs)
	uses := func(e *osmdata.Element) bool {
		return slices.ContainsFunc(e.Nodes, func(id int64) bool { return wanted[id] })
	}
	return o.mergeParents(ctx, osmdata.Way, base, referencing, uses)
}

// RelationsWithMembers answers the visible relations having any of the
// elements as member as the author sees them.
func (o *overlay) RelationsWithMembers(ctx context.Context, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error) {
	base, err := o.Reader.RelationsWithMembers(ctx, t, ids)
	if err != nil {
		return nil, err
	}
	referencing, err := o.pending.PendingReferencing(ctx, t, ids)
	if err != nil {
		return nil, fmt.Errorf("pending relations with %s members: %w", t, err)
	}
	wanted := idSet(ids)
	uses := func(e *osmdata.Element) bool {
		return slices.ContainsFunc(e.Members, func(m osmdata.Member) bool { return m.Type == t && wanted[m.Ref] })
	}
	return o.mergeParents(ctx, osmdata.Relation, base, referencing, uses)
}

// mergeParents combines the authoritative parents (ways or relations) of
// some elements with the author's pending ones: an authoritative parent
// the author changed is shown with its pending content if that still uses
// one of the elements, and left out if deleted or no longer using them.
func (o *overlay) mergeParents(ctx context.Context, t osmdata.ElementType, base []osmdata.Element, referencing []storage.PendingChange, uses func(*osmdata.Element) bool) ([]osmdata.Element, error) {
	pending, err := o.pendingByID(ctx, t, elementIDs(base))
	if err != nil {
		return nil, err
	}
	if len(pending) == 0 && len(referencing) == 0 {
		return base, nil
	}
	out := make([]osmdata.Element, 0, len(base)+len(referencing))
	seen := make(map[int64]bool, len(base)+len(referencing))
	for _, e := range base {
		seen[e.ID] = true
		if p, ok := pending[e.ID]; ok {
			if p.Visible && uses(p) {
				out = append(out, *p)
			}
			continue
		}
		out = append(out, e)
	}
	for i := range referencing {
		p := &referencing[i].Element
		if p.Type != t || seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		if p.Visible && uses(p) {
			out = append(out, *p)
		}
	}
	sortElements(out)
	return out, nil
}

func elementIDs(els []osmdata.Element) []int64 {
	ids := make([]int64, len(els))
	for i := range els {
		ids[i] = els[i].ID
	}
	return ids
}

func idSet(ids []int64) map[int64]bool {
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func sortElements(els []osmdata.Element) {
	slices.SortFunc(els, func(a, b osmdata.Element) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
}
