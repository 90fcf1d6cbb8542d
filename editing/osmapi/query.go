package osmapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// This file holds the queries that parsed requests become, and the reads
// each one makes, as cgimap's responders select from the database. Every
// read goes through storage.Reader, so the author's overlay (a Reader
// decorator) serves these queries unchanged.

// document is what a read answers: optional bounds, then the elements in
// cgimap's order (nodes, ways, relations; each by id, then version).
type document struct {
	bounds   *osmdata.Box
	elements []osmdata.Element
	// attachment, when set, is the file name a browser saves the reply as.
	attachment string
}

// query is a parsed request.
type query interface {
	// run reads what the request asks for. Its error is an *apiError for
	// the answers cgimap gives (404, 410, 400), anything else for a
	// failing store.
	run(ctx context.Context, r storage.Reader) (*document, error)
}

// newDocument orders elements as cgimap writes them.
func newDocument(elements ...[]osmdata.Element) *document {
	// Sized once: appending tens of thousands of elements to an empty
	// slice reallocated and copied it over and over, a tenth of the Go
	// time of a 50,000-node map call (bench map).
	n := 0
	for _, els := range elements {
		n += len(els)
	}
	all := make([]osmdata.Element, 0, n)
	for _, els := range elements {
		all = append(all, els...)
	}
	slices.SortFunc(all, func(a, b osmdata.Element) int {
		if c := cmp.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		if c := cmp.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return cmp.Compare(a.Version, b.Version)
	})
	all = slices.CompactFunc(all, func(a, b osmdata.Element) bool {
		return a.Type == b.Type && a.ID == b.ID && a.Version == b.Version
	})
	return &document{elements: all}
}

// current reads the current version of one element; a missing element
// is 404 and a deleted one 410, as cgimap's element, full and similar
// responders check (src/api06/node_handler.cpp check_visibility).
func current(ctx context.Context, r storage.Reader, t osmdata.ElementType, id int64) (osmdata.Element, error) {
	els, err := r.CurrentElements(ctx, t, []int64{id})
	if err != nil {
		return osmdata.Element{}, fmt.Errorf("read %s %d: %w", t, id, err)
	}
	if len(els) == 0 {
		return osmdata.Element{}, newError(errNotFound)
	}
	if !els[0].Visible {
		return osmdata.Element{}, newError(errGone)
	}
	return els[0], nil
}

// isVisible reports whether the element exists and is not deleted.
func isVisible(ctx context.Context, r storage.Reader, t osmdata.ElementType, id int64) (bool, error) {
	els, err := r.CurrentElements(ctx, t, []int64{id})
	if err != nil {
		return false, fmt.Errorf("read %s %d: %w", t, id, err)
	}
	return len(els) == 1 && els[0].Visible, nil
}

// visibleCurrent reads the current visible versions of the ids that have
// one; missing and deleted ones are left out.
func visibleCurrent(ctx context.Context, r storage.Reader, t osmdata.ElementType, ids []int64) ([]osmdata.Element, error) {
	ids = uniqueIDs(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	els, err := r.CurrentElements(ctx, t, ids)
	if err != nil {
		return nil, fmt.Errorf("read %d %ss: %w", len(ids), t, err)
	}
	return slices.DeleteFunc(els, func(e osmdata.Element) bool { return !e.Visible }), nil
}

func uniqueIDs(ids []int64) []int64 {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return slices.Compact(ids)
}

// elementQuery is GET /api/0.6/{type}/ID.
type elementQuery struct {
	typ osmdata.ElementType
	id  int64
}

func (q elementQuery) run(ctx context.Context, r storage.Reader) (*document, error) {
	e, err := current(ctx, r, q.typ, q.id)
	if err != nil {
		return nil, err
	}
	return newDocument([]osmdata.Element{e}), nil
}

// historyQuery is GET /api/0.6/{type}/ID/history: every version, deleted
// ones included, also of a deleted element; the redacted ones too for an
// administrator who asked show_redactions=true.
type historyQuery struct {
	typ osmdata.ElementType
	id  int64
	// withRedacted, set only for an administrator's show_redactions
	// (showRedactions), reads the redacted versions too.
	withRedacted storage.Operations
}

func (q historyQuery) run(ctx context.Context, r storage.Reader) (*document, error) {
	history := r.History
	if q.withRedacted != nil {
		history = q.withRedacted.HistoryWithRedacted
	}
	versions, err := history(ctx, q.typ, q.id)
	if errors.Is(err, storage.ErrNotFound) || err == nil && len(versions) == 0 {
		return nil, newError(errNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("history of %s %d: %w", q.typ, q.id, err)
	}
	return newDocument(versions), nil
}

// versionQuery is GET /api/0.6/{type}/ID/VERSION: a deleted version is
// answered like any other (cgimap test/node.testcore/node_version_deleted.case),
// a redacted one 403 (openstreetmap-website, see editing.ErrVersionRedacted)
// but to an administrator who asked show_redactions=true, who reads it as
// any other version.
type versionQuery struct {
	typ     osmdata.ElementType
	id      int64
	version int
	// withRedacted, set only for an administrator's show_redactions
	// (showRedactions), reads a redacted version too.
	withRedacted storage.Operations
}

func (q versionQuery) run(ctx context.Context, r storage.Reader) (*document, error) {
	read := r.ElementVersion
	if q.withRedacted != nil {
		read = q.withRedacted.ElementVersionWithRedacted
	}
	e, err := read(ctx, q.typ, q.id, q.version)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, newError(errNotFound)
	}
	if errors.Is(err, storage.ErrRedacted) {
		return nil, newError(editing.ErrVersionRedacted)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %d v%d: %w", q.typ, q.id, q.version, err)
	}
	return newDocument([]osmdata.Element{e}), nil
}

// multiQuery is GET /api/0.6/{nodes|ways|relations}?…: current versions
// (deleted ones included) and named versions; one item missing makes the
// whole request 404 (cgimap src/api06/nodes_handler.cpp).
type multiQuery struct {
	typ   osmdata.ElementType
	items []idVersion
}

func (q multiQuery) run(ctx context.Context, r storage.Reader) (*document, error) {
	var currentIDs []int64
	var versions []storage.IDVersion
	for _, it := range q.items {
		if it.ID == 0 || it.ID > math.MaxInt64 {
			return nil, newError(errNotFound) // no element has id 0, nor one beyond bigint
		}
		if it.HasVersion {
			versions = append(versions, storage.IDVersion{ID: int64(it.ID), Version: int(it.Version)})
		} else {
			currentIDs = append(currentIDs, int64(it.ID))
		}
	}
	// The named versions in one read, as cgimap's select_historical_nodes
	// (and ways, relations) does: one statement whatever their number. A
	// redacted version is not there for a multi-fetch (cgimap reads
	// unredacted versions only).
	found, err := storage.ReadNamedVersions(ctx, r, q.typ, versions)
	if err != nil {
		return nil, fmt.Errorf("read %d versions of %ss: %w", len(versions), q.typ, err)
	}
	if len(found) != len(versions) {
		return nil, newError(errNotFound)
	}
	if len(currentIDs) > 0 {
		cur, err := r.CurrentElements(ctx, q.typ, currentIDs)
		if err != nil {
			return nil, fmt.Errorf("read %d %ss: %w", len(currentIDs), q.typ, err)
		}
		if len(cur) != len(currentIDs) {
			return nil, newError(errNotFound)
		}
		found = append(found, cur...)
	}
	return newDocument(found), nil
}

// wayFullQuery is GET /api/0.6/way/ID/full: the way and its nodes.
type wayFullQuery struct{ id int64 }

func (q wayFullQuery) run(ctx context.Context, r storage.Reader) (*document, error) {
	way, err := current(ctx, r, osmdata.Way, q.id)
	if err != nil {
		return nil, err
	}
	nodes, err := visibleCurrent(ctx, r, osmdata.Node, way.Nodes)
	if err != nil {
		return nil, err
	}
	return newDocument(nodes, []osmdata.Element{way}), nil
}

// relationFullQuery is GET /api/0.6/relation/ID/full: the relation, its
// members, and the nodes of its member ways; member relations are
// included without their own members (cgimap
// src/api06/relation_full_handler.cpp, test/relation_full.testcore).
type relationFullQuery struct{ id int64 }

func (q relationFullQuery) run(ctx context.Context, r storage.Reader) (*document, error) {
	rel, err := current(ctx, r, osmdata.Relation, q.id)
	if err != nil {
		return nil, err
	}
	var nodeIDs, wayIDs, relIDs []int64
	for _, m := range rel.Members {
		switch m.Type {
		case osmdata.Node:
			nodeIDs = append(nodeIDs, m.Ref)
		case osmdata.Way:
			wayIDs = append(wayIDs, m.Ref)
		case osmdata.Relation:
			if m.Ref != rel.ID {
				relIDs = append(relIDs, m.Ref)
			}
		}
	}
	ways, err := visibleCurrent(ctx, r, osmdata.Way, wayIDs)
	if err != nil {
		return nil, err
	}
	for _, w := range ways {
		nodeIDs = append(nodeIDs, w.Nodes...)
	}
	nodes, err := visibleCurrent(ctx, r, osmdata.Node, nodeIDs)
	if err != nil {
		return nil, err
	}
	rels, err := visibleCurrent(ctx, r, osmdata.Relation, relIDs)
	if err != nil {
		return nil, err
	}
	return newDocument(nodes, ways, rels, []osmdata.Element{rel}), nil
}

// nodeWaysQuery is GET /api/0.6/node/ID/ways: the ways using a visible
// node; an empty document for a missing or deleted one (cgimap
// src/api06/node_ways_handler.cpp).
type nodeWaysQuery struct{ id int64 }

func (q nodeWaysQuery) run(ctx context.Context, r storage.Reader) (*document, error) {
	visible, err := isVisible(ctx, r, osmdata.Node, q.id)
	if err != nil || !visible {
		return newDocument(), err
	}
	ways, err := r.WaysUsingNodes(ctx, []int64{q.id})
	if err != nil {
		return nil, fmt.Errorf("ways of node %d: %w", q.id, err)
	}
	return newDocument(ways), nil
}

// relationsQuery is GET /api/0.6/{type}/ID/relations: the relations
// having a visible element as member; an empty document for a missing or
// deleted one (cgimap src/api06/{node,way,relation}_relations_handler.cpp).
type relationsQuery struct {
	typ osmdata.ElementType
	id  int64
}

func (q relationsQuery) run(ctx context.Context, r storage.Reader) (*document, error) {
	visible, err := isVisible(ctx, r, q.typ, q.id)
	if err != nil || !visible {
		return newDocument(), err
	}
	rels, err := r.RelationsWithMembers(ctx, q.typ, []int64{q.id})
	if err != nil {
		return nil, fmt.Errorf("relations of %s %d: %w", q.typ, q.id, err)
	}
	return newDocument(rels), nil
}

// mapQuery is GET /api/0.6/map?bbox=…, through storage.Map (cgimap's
// steps).
type mapQuery struct {
	box      osmdata.BoxDegrees
	maxNodes int
}

func (q mapQuery) run(ctx context.Context, r storage.Reader) (*document, error) {
	fixed := q.box.Fixed()
	data, err := storage.Map(ctx, r, fixed, q.maxNodes)
	var tooMany *storage.TooManyNodesError
	if errors.As(err, &tooMany) {
		return nil, newError(errTooManyNodes, tooMany.Limit)
	}
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", q.box, err)
	}
	doc := newDocument(data.Nodes, data.Ways, data.Relations)
	doc.bounds = &fixed
	doc.attachment = "map.osm"
	return doc, nil
}
