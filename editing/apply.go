package editing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// This file stages an upload: cgimap's semantics (document order,
// placeholders, diffResult, if-unused, all-or-nothing) over design.md's
// pending changes (version resolution, stacking, the author's overlay).
//
// An upload is one Stage transaction in four steps, each a few bulk
// statements whatever the size of the document:
//
//  1. checks that need no store (validate.go), in document order;
//  2. one prefetch of everything the document mentions: the current
//     authoritative and pending state of every element and reference,
//     and the parents (ways, relations) of every deleted element;
//  3. the operations, strictly in document order, against a view of
//     the dataset that the prefetch and the earlier operations of the
//     document make up, with no store round trip per element (except
//     version resolution's rare slow path, see resolveVersion);
//  4. one WritePending of the net change per element, one AddParents,
//     one UpdateChangeset.

// upload runs Upload.
func (s *Service) upload(ctx context.Context, who *auth.Identity, id int64, ops []Operation) (*DiffResult, error) {
	return s.uploadAfter(ctx, who, id, ops, nil)
}

// uploadAfter runs upload with the work done ahead for it, if any.
func (s *Service) uploadAfter(ctx context.Context, who *auth.Identity, id int64, ops []Operation, early *ahead) (*DiffResult, error) {
	if err := requireAuthor(who); err != nil {
		return nil, err
	}
	// The work done ahead reads on the store's other connections: it ends
	// before the transaction takes one, or as many uploads at once as the
	// pool has connections hold them all while their reads ahead wait for
	// one (PostgreSQL: until the requests time out). Its error is the
	// transaction's to report (uploader.run).
	if early != nil {
		early.wait()
	}
	var result *DiffResult
	err := s.editing.Stage(ctx, id, who.UserID, func(ctx context.Context, tx storage.StageTx) error {
		u := &uploader{
			limits: s.limits, who: who, tx: tx, pending: tx.Pending(),
			cs:    tx.LockedChangeset(),
			now:   time.Now().UTC().Truncate(time.Second),
			ahead: early,
		}
		if u.cs.ReviewState == osmdata.ReviewConflicted {
			var err error
			if u.conflictedAt, err = conflictedVersions(ctx, tx); err != nil {
				return err
			}
		}
		res, err := u.run(ctx, ops)
		result = res
		return err
	})
	if err != nil {
		if AsError(err) != nil {
			return nil, err
		}
		return nil, s.changesetError(ctx, id, err)
	}
	return result, nil
}

// conflictedVersions reads the report of the locked changeset's last
// conflicted merge: the current version of each element in conflict. It
// reads through the upload's transaction, never the store's other
// connections: on PostgreSQL as many uploads at once into conflicted
// changesets as the pool has connections each held one in its
// transaction while waiting for another, and every upload hung.
func conflictedVersions(ctx context.Context, tx storage.StageTx) (map[osmdata.Key]int, error) {
	report, err := tx.ConflictReport(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[osmdata.Key]int, len(report))
	for _, c := range report {
		if c.Kind == storage.ConflictEdited || c.Kind == storage.ConflictBaseMoved {
			out[c.Element] = c.CurrentVersion
		}
	}
	return out, nil
}

// single stages one operation, as the single-element calls do.
func (s *Service) single(ctx context.Context, who *auth.Identity, op Operation) (DiffEntry, error) {
	res, err := s.upload(ctx, who, op.Element.Changeset, []Operation{op})
	if err != nil {
		return DiffEntry{}, err
	}
	return res.Entries[0], nil
}

// source says where the view of an element comes from.
type source uint8

const (
	fromNowhere source = iota
	fromAuthoritative
	fromPending
	fromDocument
)

type uploader struct {
	limits  Limits
	who     *auth.Identity
	tx      storage.StageTx
	pending storage.PendingReader
	cs      osmdata.Changeset
	now     time.Time
	// ahead, when not nil, took ids and read current versions while the
	// document was parsed.
	ahead *ahead

	// authoritative and latest active pending state of every element the
	// document mentions or whose parents it needs. The pointers are into
	// what the store returned, and nothing writes through them.
	authoritative map[osmdata.Key]*osmdata.Element
	pendingOf     map[osmdata.Key]*storage.PendingChange
	// merged holds the author's merged changes that gave a version the
	// document cites of an element without an active pending change.
	merged map[citedVersion]storage.MergedProvisional
	// parents are the possible users of deleted elements found by the
	// prefetch (authoritative and pending ways and relations).
	parents map[osmdata.Key][]osmdata.Key
	// refLog holds, in operation order, every reference the document's
	// elements made; docUsers indexes it (up to indexed) when a delete
	// needs the elements of the document that referred to a key at some
	// point (the view decides whether they still do). Uploads without
	// deletes never build the index.
	refLog   []docRef
	docUsers map[osmdata.Key][]osmdata.Key
	indexed  int

	// doc indexes rows, the net pending row of each element the upload
	// changes, in the order of their first operation: its content as the
	// document left it (Element) and what it rests on (BaseVersion,
	// BaseChangeset); finish fills in the rest. created[i]: row i's
	// element is new in this changeset (the row is a Create, or a Delete
	// with BaseVersion 0 once deleted). rows is allocated for one element
	// per operation, so that pointers into it stay valid.
	// conflictedAt holds, for a changeset reopened by a conflicted merge,
	// the current version its report gave each element in conflict: an
	// upload citing it resolves the conflict against it (resolveVersion).
	conflictedAt map[osmdata.Key]int

	doc          map[osmdata.Key]int
	rows         []storage.PendingChange
	created      []bool
	placeholders map[osmdata.Key]int64
	freshIDs     map[osmdata.ElementType][]int64
	parentsOf    map[int64]bool

	// relRun caches relationDeleteRun for operations runStart to runEnd.
	relRun           map[osmdata.Key]int
	runStart, runEnd int

	boxNodes []int64 // nodes whose final position grows the box
	box      osmdata.Box
	hasBox   bool
	changes  int
	entries  []DiffEntry
}

func (u *uploader) run(ctx context.Context, ops []Operation) (*DiffResult, error) {
	if u.cs.NumChanges >= u.limits.MaxChangesetChanges {
		return nil, newError(ErrChangesetFull, nil, u.cs.ID, u.now.Format(closedAtLayout))
	}
	creates := map[osmdata.ElementType]int{}
	seenPlaceholder := make(map[osmdata.Key]bool, len(ops))
	for i := range ops {
		op := &ops[i]
		if err := checkStatic(u.limits, u.cs.ID, op); err != nil {
			return nil, err
		}
		if op.Action == storage.Create {
			k := op.Element.Key()
			if seenPlaceholder[k] {
				return nil, newError(ErrPlaceholderDuplicate, &k)
			}
			seenPlaceholder[k] = true
			creates[op.Element.Type]++
		}
	}
	if err := u.prefetch(ctx, ops); err != nil {
		return nil, err
	}
	u.freshIDs = map[osmdata.ElementType][]int64{}
	if u.ahead != nil {
		if err := u.ahead.wait(); err != nil {
			return nil, err
		}
		for t, list := range u.ahead.ids {
			if len(list) > creates[t] {
				return nil, fmt.Errorf("%d %s ids were taken ahead for %d creates", len(list), t, creates[t])
			}
			u.freshIDs[t] = list
		}
	}
	for _, t := range osmdata.ElementTypes {
		if n := creates[t] - len(u.freshIDs[t]); n > 0 {
			ids, err := u.tx.AllocateIDs(ctx, t, n)
			if err != nil {
				return nil, fmt.Errorf("allocate %d %s ids: %w", n, t, err)
			}
			if len(ids) != n {
				return nil, fmt.Errorf("allocate %d %s ids: got %d", n, t, len(ids))
			}
			u.freshIDs[t] = append(u.freshIDs[t], ids...)
		}
	}
	u.doc = make(map[osmdata.Key]int, len(ops))
	u.rows = make([]storage.PendingChange, 0, len(ops))
	u.created = make([]bool, 0, len(ops))
	u.placeholders = make(map[osmdata.Key]int64, len(seenPlaceholder))
	u.parentsOf = map[int64]bool{}
	u.entries = make([]DiffEntry, 0, len(ops))
	for i := range ops {
		if err := u.apply(ctx, ops, i); err != nil {
			return nil, err
		}
	}
	if u.cs.NumChanges+u.changes > u.limits.MaxChangesetChanges {
		return nil, newError(ErrChangesetFull, nil, u.cs.ID, u.now.Format(closedAtLayout))
	}
	return u.finish(ctx)
}

// prefetch reads, in bulk, the authoritative and pending state of every
// element the document names (as its subject or as a reference) and the
// parents of every element it deletes.
func (u *uploader) prefetch(ctx context.Context, ops []Operation) error {
	mentioned := map[osmdata.ElementType][]int64{}
	deleted := map[osmdata.ElementType][]int64{}
	addMentioned(ops, mentioned, deleted)
	u.authoritative = make(map[osmdata.Key]*osmdata.Element, len(ops))
	u.pendingOf = map[osmdata.Key]*storage.PendingChange{}
	u.parents = map[osmdata.Key][]osmdata.Key{}
	if err := u.loadAhead(ctx, mentioned); err != nil {
		return err
	}
	if err := u.loadPending(ctx, mentioned); err != nil {
		return err
	}
	if err := u.rereadUnseen(ctx, mentioned); err != nil {
		return err
	}

	// Parents of deleted elements: authoritative ways and relations
	// using them, and pending ones referring to them.
	candidates := map[osmdata.ElementType][]int64{}
	addParent := func(child osmdata.Key, parent *osmdata.Element) {
		pk := parent.Key()
		u.parents[child] = append(u.parents[child], pk)
		if _, ok := u.authoritative[pk]; !ok {
			u.authoritative[pk] = parent
		}
		candidates[pk.Type] = append(candidates[pk.Type], pk.ID)
	}
	if ids := uniqueIDs(deleted[osmdata.Node]); len(ids) > 0 {
		ways, err := u.tx.WaysUsingNodes(ctx, ids)
		if err != nil {
			return fmt.Errorf("ways using deleted nodes: %w", err)
		}
		want := idSet(ids)
		for i := range ways {
			for _, n := range uniqueIDs(ways[i].Nodes) {
				if want[n] {
					addParent(osmdata.Key{Type: osmdata.Node, ID: n}, &ways[i])
				}
			}
		}
	}
	for _, t := range osmdata.ElementTypes {
		ids := uniqueIDs(deleted[t])
		if len(ids) == 0 {
			continue
		}
		want := idSet(ids)
		rels, err := u.tx.RelationsWithMembers(ctx, t, ids)
		if err != nil {
			return fmt.Errorf("relations using deleted %ss: %w", t, err)
		}
		for i := range rels {
			for _, k := range memberKeys(&rels[i], t, want) {
				addParent(k, &rels[i])
			}
		}
		referencing, err := u.pending.PendingReferencing(ctx, t, ids)
		if err != nil {
			return fmt.Errorf("pending elements using deleted %ss: %w", t, err)
		}
		for i := range referencing {
			p := &referencing[i].Element
			var refs []osmdata.Key
			if t == osmdata.Node && p.Type == osmdata.Way {
				for _, n := range uniqueIDs(p.Nodes) {
					if want[n] {
						refs = append(refs, osmdata.Key{Type: osmdata.Node, ID: n})
					}
				}
			}
			if p.Type == osmdata.Relation {
				refs = append(refs, memberKeys(p, t, want)...)
			}
			for _, k := range refs {
				pk := p.Key()
				u.parents[k] = append(u.parents[k], pk)
				candidates[pk.Type] = append(candidates[pk.Type], pk.ID)
			}
		}
	}
	// The view of a parent is its latest pending content when it has
	// one: read it for every candidate not read yet.
	missing := map[osmdata.ElementType][]int64{}
	for t, ids := range candidates {
		for _, id := range uniqueIDs(ids) {
			if _, ok := u.pendingOf[osmdata.Key{Type: t, ID: id}]; !ok {
				missing[t] = append(missing[t], id)
			}
		}
	}
	if err := u.loadPending(ctx, missing); err != nil {
		return err
	}
	return u.loadMerged(ctx, ops)
}

// loadMerged reads, in one go, the author's merged changes that gave
// the versions the document cites of elements with no active pending
// change, for resolveVersion. It asks for the version of every operation
// on such an element, so whichever operation resolveVersion gets to
// first was asked for; and it says which versions are current, which
// lets the store skip the merged changes that made them so.
func (u *uploader) loadMerged(ctx context.Context, ops []Operation) error {
	var cited []storage.CitedVersion
	for i := range ops {
		e := &ops[i].Element
		if ops[i].Action == storage.Create || e.ID <= 0 {
			continue
		}
		k := e.Key()
		if _, ok := u.pendingOf[k]; ok {
			continue
		}
		if cited == nil {
			cited = make([]storage.CitedVersion, 0, len(ops)-i)
		}
		auth, ok := u.authoritative[k]
		cited = append(cited, storage.CitedVersion{Element: k, Version: e.Version, Current: ok && auth.Version == e.Version})
	}
	u.merged = map[citedVersion]storage.MergedProvisional{}
	if len(cited) == 0 {
		return nil
	}
	found, err := u.pending.MergedVersions(ctx, cited)
	if err != nil {
		return fmt.Errorf("merged changes of %d cited versions: %w", len(cited), err)
	}
	for _, m := range found {
		u.merged[citedVersion{m.Cited.Element, m.Cited.Version}] = m
	}
	return nil
}

// citedVersion is storage.CitedVersion without what the store was told
// about it.
type citedVersion struct {
	key     osmdata.Key
	version int
}

// memberKeys returns the members of rel of type t whose ids are in want.
func memberKeys(rel *osmdata.Element, t osmdata.ElementType, want map[int64]bool) []osmdata.Key {
	var out []osmdata.Key
	for _, m := range rel.Members {
		if m.Type == t && want[m.Ref] {
			out = append(out, osmdata.Key{Type: t, ID: m.Ref})
		}
	}
	return out
}

// loadAhead takes the current versions read while the document was
// parsed, and reads in the transaction those of ids not read then.
// rereadUnseen reads again the authoritative state of the mentioned
// elements found neither there nor among the author's pending changes. A
// merge moves an author's changes from pending to authoritative in one
// commit; one that committed after the authoritative read (done early,
// while the body was parsed, or in its own statement) and before the
// pending read hides its elements from both, and the upload would answer
// 404 or 412 for elements the author has just created. Read after the
// pending read, the dataset has them. Versions read before such a merge
// need nothing: resolveVersion finds the merged change (MergedVersions).
func (u *uploader) rereadUnseen(ctx context.Context, mentioned map[osmdata.ElementType][]int64) error {
	unseen := map[osmdata.ElementType][]int64{}
	for t, ids := range mentioned {
		for _, id := range ids {
			k := osmdata.Key{Type: t, ID: id}
			if _, ok := u.authoritative[k]; ok {
				continue
			}
			if _, ok := u.pendingOf[k]; !ok {
				unseen[t] = append(unseen[t], id)
			}
		}
	}
	if len(unseen) == 0 {
		return nil
	}
	return u.loadAuthoritative(ctx, unseen)
}

func (u *uploader) loadAhead(ctx context.Context, ids map[osmdata.ElementType][]int64) error {
	if u.ahead == nil {
		return u.loadAuthoritative(ctx, ids)
	}
	if err := u.ahead.wait(); err != nil {
		return err
	}
	for _, cur := range u.ahead.states {
		for i := range cur {
			u.authoritative[cur[i].Key()] = &cur[i]
		}
	}
	rest := map[osmdata.ElementType][]int64{}
	for t, list := range ids {
		for _, id := range list {
			if !u.ahead.requested[osmdata.Key{Type: t, ID: id}] {
				rest[t] = append(rest[t], id)
			}
		}
	}
	return u.loadAuthoritative(ctx, rest)
}

// load reads the authoritative and pending state of ids.
func (u *uploader) load(ctx context.Context, ids map[osmdata.ElementType][]int64) error {
	if err := u.loadAuthoritative(ctx, ids); err != nil {
		return err
	}
	return u.loadPending(ctx, ids)
}

// loadAuthoritative reads the current versions of ids in the transaction.
func (u *uploader) loadAuthoritative(ctx context.Context, ids map[osmdata.ElementType][]int64) error {
	for _, t := range osmdata.ElementTypes {
		list := uniqueIDs(ids[t])
		if len(list) == 0 {
			continue
		}
		var cur []osmdata.Element
		var err error
		if states, ok := u.tx.(storage.StateReader); ok {
			// The upload replaces tags and metadata, so it need not
			// read them.
			cur, err = states.CurrentStates(ctx, t, list)
		} else {
			cur, err = u.tx.CurrentElements(ctx, t, list)
		}
		if err != nil {
			return fmt.Errorf("read %d %ss: %w", len(list), t, err)
		}
		for i := range cur {
			u.authoritative[cur[i].Key()] = &cur[i]
		}
	}
	return nil
}

func (u *uploader) loadPending(ctx context.Context, ids map[osmdata.ElementType][]int64) error {
	for _, t := range osmdata.ElementTypes {
		list := uniqueIDs(ids[t])
		if len(list) == 0 {
			continue
		}
		changes, err := u.pending.PendingElements(ctx, t, list)
		if err != nil {
			return fmt.Errorf("read pending %ss: %w", t, err)
		}
		for i := range changes {
			u.pendingOf[changes[i].Element.Key()] = &changes[i]
		}
	}
	return nil
}

// view is an element as this upload sees it: the document's content, the
// author's latest pending content, or the authoritative current version.
func (u *uploader) view(k osmdata.Key) (*osmdata.Element, source) {
	if i, ok := u.doc[k]; ok {
		return &u.rows[i].Element, fromDocument
	}
	if p, ok := u.pendingOf[k]; ok {
		return &p.Element, fromPending
	}
	if e, ok := u.authoritative[k]; ok {
		return e, fromAuthoritative
	}
	return nil, fromNowhere
}

// apply runs operation i.
func (u *uploader) apply(ctx context.Context, ops []Operation, i int) error {
	// Work on a copy: placeholders are replaced in the references (of a
	// copy of them, when there are any), and the caller's operations stay
	// as they were.
	op := &Operation{Action: ops[i].Action, IfUnused: ops[i].IfUnused, Element: ops[i].Element}
	if slices.ContainsFunc(op.Element.Nodes, func(n int64) bool { return n < 0 }) {
		op.Element.Nodes = slices.Clone(op.Element.Nodes)
	}
	if slices.ContainsFunc(op.Element.Members, func(m osmdata.Member) bool { return m.Ref < 0 }) {
		op.Element.Members = slices.Clone(op.Element.Members)
	}
	written := op.Element.Key() // as the client wrote it
	var id int64
	if op.Action == storage.Create {
		// References first: a create may not refer to itself.
		if err := u.resolveRefs(&op.Element, written); err != nil {
			return err
		}
		ids := u.freshIDs[written.Type]
		id, u.freshIDs[written.Type] = ids[0], ids[1:]
		u.placeholders[written] = id
		return u.create(op, written, id)
	}
	id = written.ID
	if id < 0 {
		newID, ok := u.placeholders[written]
		if !ok {
			return newError(ErrPlaceholderUnknownElement, &written, written.Type.String(), written.ID)
		}
		id = newID
	}
	key := osmdata.Key{Type: written.Type, ID: id}
	cur, _ := u.view(key)
	if cur == nil {
		return notFoundError(key)
	}
	if op.Action == storage.Delete && !cur.Visible {
		if op.IfUnused {
			u.skip(written, key, cur.Version)
			return nil
		}
		return newError(ErrAlreadyDeleted, &key, key.Type.String(), key.ID)
	}
	base, err := u.resolveVersion(ctx, key, op.Element.Version, cur)
	if err != nil {
		return err
	}
	if op.Action == storage.Modify {
		if err := u.resolveRefs(&op.Element, written); err != nil {
			return err
		}
		return u.modify(op, written, key, base)
	}
	used, err := u.usedBy(key, ops, i)
	if err != nil {
		return err
	}
	if used != nil {
		if op.IfUnused {
			u.skip(written, key, cur.Version)
			return nil
		}
		return used
	}
	return u.remove(written, key, cur, base)
}

// resolved is what a modify or delete rests on.
type resolved struct {
	version int
	// pending is the author's pending change cited, when the cited
	// version is a provisional one.
	pending *storage.PendingChange
	// mergedIn is the author's merged changeset whose change is cited,
	// when the prefetch found it (the change's content is not needed:
	// the upload replaces it).
	mergedIn int64
	// authoritative: the cited version is the authoritative current one.
	authoritative bool
}

// resolveVersion is design.md's version resolution of version v of key:
// an earlier operation of the document on the element must be cited by
// the version it gave; otherwise the author's pending or merged change
// with provisional version v; otherwise the authoritative current version
// if it is v; otherwise 409 naming the version the author's overlay
// shows.
//
// A merged change's provisional version v may also be the current
// authoritative version: when the merge made it v, both are the same
// content, and the authoritative version is the base; otherwise the
// current v is someone else's (or a later merge's) and the merged change
// is the base, so that the upload's merge sees the element moved on
// instead of silently reverting that v.
//
// The author's latest pending change and, for elements without one, the
// merged changes that gave the cited versions are prefetched, so the
// usual cases cost nothing; only an element with an active pending
// change cited at another version asks the store (PendingVersion), one
// element at a time: that is a client citing an older provisional
// version, which is rare.
func (u *uploader) resolveVersion(ctx context.Context, key osmdata.Key, v int, cur *osmdata.Element) (resolved, error) {
	if _, inDoc := u.doc[key]; inDoc {
		if v != cur.Version {
			return resolved{}, versionMismatch(key, v, cur.Version)
		}
		return resolved{version: v}, nil
	}
	auth, hasAuth := u.authoritative[key]
	if hasAuth && auth.Version == v && u.conflictedAt[key] == v {
		// Resolving a conflict: the version the report calls current
		// is cited, and still is, so it is the new base, even where the
		// author's own provisional version has the same number.
		return resolved{version: v, authoritative: true}, nil
	}
	p, hasPending := u.pendingOf[key]
	if hasPending && p.Element.Version == v {
		return resolved{version: v, pending: p}, nil
	}
	current := hasAuth && auth.Version == v
	if !hasPending {
		// loadMerged asked for every version cited of such an element.
		m, ok := u.merged[citedVersion{key, v}]
		switch {
		case ok && !(current && m.FinalVersion == v):
			return resolved{version: v, mergedIn: m.Changeset}, nil
		case current:
			return resolved{version: v, authoritative: true}, nil
		}
		return resolved{}, versionMismatch(key, v, cur.Version)
	}
	older, err := u.pending.PendingVersion(ctx, key, v)
	switch {
	case err == nil:
		return resolved{version: v, pending: &older}, nil
	case !errors.Is(err, storage.ErrNotFound):
		return resolved{}, fmt.Errorf("pending %s v%d: %w", key, v, err)
	}
	if hasAuth && auth.Version == v {
		return resolved{version: v, authoritative: true}, nil
	}
	return resolved{}, versionMismatch(key, v, cur.Version)
}

func versionMismatch(key osmdata.Key, provided, server int) *Error {
	e := newError(ErrVersionMismatch, &key, provided, server, typeTitle(key.Type), key.ID)
	e.Provided, e.Server = provided, server
	return e
}

func notFoundError(key osmdata.Key) *Error {
	kind := map[osmdata.ElementType]ErrorKind{
		osmdata.Node: ErrNodesNotFound, osmdata.Way: ErrWaysNotFound, osmdata.Relation: ErrRelationsNotFound,
	}[key.Type]
	return newError(kind, &key, strconv.FormatInt(key.ID, 10))
}

// resolveRefs replaces placeholder references by the ids their creates
// got, and checks that every reference is visible in the view (412),
// recording the author's other changesets that created referenced
// elements as parents of this one.
func (u *uploader) resolveRefs(e *osmdata.Element, written osmdata.Key) error {
	switch e.Type {
	case osmdata.Way:
		var missing []int64
		for i, n := range e.Nodes {
			k := osmdata.Key{Type: osmdata.Node, ID: n}
			if n < 0 {
				id, ok := u.placeholders[k]
				if !ok {
					return newError(ErrPlaceholderUnknownRef, &written, "node", n, "way", written.ID)
				}
				e.Nodes[i], k.ID = id, id
			}
			if !u.visibleRef(k) {
				missing = append(missing, k.ID)
			}
		}
		if len(missing) > 0 {
			return newError(ErrWayNodesMissing, &written, written.ID, idList(missing))
		}
	case osmdata.Relation:
		missing := map[osmdata.ElementType][]int64{}
		for i := range e.Members {
			m := &e.Members[i]
			k := osmdata.Key{Type: m.Type, ID: m.Ref}
			if m.Ref < 0 {
				id, ok := u.placeholders[k]
				if !ok {
					return newError(ErrPlaceholderUnknownRef, &written, m.Type.String(), m.Ref, "relation", written.ID)
				}
				m.Ref, k.ID = id, id
			}
			if !u.visibleRef(k) {
				missing[m.Type] = append(missing[m.Type], k.ID)
			}
		}
		for _, t := range osmdata.ElementTypes {
			if ids := missing[t]; len(ids) > 0 {
				return newError(ErrRelationMembersMissing, &written, written.ID, t.String()+"s", idList(ids))
			}
		}
	}
	return nil
}

// visibleRef reports whether a referenced element is visible in the view,
// and records a parent changeset when it is visible only through another
// of the author's pending changesets (stacking).
func (u *uploader) visibleRef(k osmdata.Key) bool {
	el, src := u.view(k)
	if el == nil || !el.Visible {
		return false
	}
	if src == fromPending {
		p := u.pendingOf[k]
		auth, hasAuth := u.authoritative[k]
		if p.Changeset != u.cs.ID && (!hasAuth || !auth.Visible) {
			u.parentsOf[p.Changeset] = true
		}
	}
	return true
}

// idList writes ids as cgimap does: sorted, unique, comma-separated.
func idList(ids []int64) string {
	ids = uniqueIDs(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

func uniqueIDs(ids []int64) []int64 {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return slices.Compact(ids)
}

// usedBy returns the 412 for deleting key while a visible way or
// relation of the view still uses it, or nil. Like cgimap, which deletes
// a run of consecutive deletes of one type together, a relation deleted
// later in the same run of relation deletes does not count as a user.
func (u *uploader) usedBy(key osmdata.Key, ops []Operation, i int) (*Error, error) {
	laterInRun := func(osmdata.Key) bool { return false }
	if key.Type == osmdata.Relation {
		run := u.relationDeleteRun(ops, i)
		laterInRun = func(k osmdata.Key) bool { return run[k] > i }
	}
	var ways, rels []int64
	seen := map[osmdata.Key]bool{}
	for _, pk := range append(slices.Clone(u.parents[key]), u.docUsersOf(key)...) {
		if seen[pk] || laterInRun(pk) || pk == key {
			continue
		}
		seen[pk] = true
		p, _ := u.view(pk)
		if p == nil || !p.Visible || !refersTo(p, key) {
			continue
		}
		if pk.Type == osmdata.Way {
			ways = append(ways, pk.ID)
		} else {
			rels = append(rels, pk.ID)
		}
	}
	switch {
	case len(ways) > 0:
		return newError(ErrNodeUsedByWays, &key, key.ID, idList(ways)), nil
	case len(rels) > 0 && key.Type == osmdata.Node:
		return newError(ErrNodeUsedByRelations, &key, key.ID, idList(rels)), nil
	case len(rels) > 0 && key.Type == osmdata.Way:
		return newError(ErrWayUsedByRelations, &key, key.ID, idList(rels)), nil
	case len(rels) > 0:
		return newError(ErrRelationUsedByRelations, &key, key.ID, idList(rels)), nil
	}
	return nil, nil
}

// relationDeleteRun maps the relations deleted by the run of
// consecutive relation deletes holding operation i to their operation's
// index; it is computed once per run.
func (u *uploader) relationDeleteRun(ops []Operation, i int) map[osmdata.Key]int {
	if u.relRun != nil && i >= u.runStart && i < u.runEnd {
		return u.relRun
	}
	isDelete := func(j int) bool { return ops[j].Action == storage.Delete && ops[j].Element.Type == osmdata.Relation }
	start, end := i, i
	for start > 0 && isDelete(start-1) {
		start--
	}
	for end < len(ops) && isDelete(end) {
		end++
	}
	run := make(map[osmdata.Key]int, end-start)
	for j := start; j < end; j++ {
		k := ops[j].Element.Key()
		if k.ID < 0 {
			// Only a relation created earlier can be deleted; its id is
			// known by now.
			if id, ok := u.placeholders[k]; ok {
				k.ID = id
			}
		}
		run[k] = j
	}
	u.relRun, u.runStart, u.runEnd = run, start, end
	return run
}

// refersTo reports whether p's content refers to k.
func refersTo(p *osmdata.Element, k osmdata.Key) bool {
	switch p.Type {
	case osmdata.Way:
		return k.Type == osmdata.Node && slices.Contains(p.Nodes, k.ID)
	case osmdata.Relation:
		return slices.ContainsFunc(p.Members, func(m osmdata.Member) bool { return m.Type == k.Type && m.Ref == k.ID })
	}
	return false
}

// stamp fills what every staged version carries.
func (u *uploader) stamp(e *osmdata.Element) {
	e.Changeset = u.cs.ID
	e.UID = u.who.UserID
	e.User = u.who.DisplayName
	e.Timestamp = u.now
}

func (u *uploader) create(op *Operation, written osmdata.Key, id int64) error {
	e := op.Element
	e.ID, e.Version, e.Visible = id, 1, true
	u.stamp(&e)
	key := e.Key()
	u.doc[key] = len(u.rows)
	u.rows = append(u.rows, storage.PendingChange{Element: e})
	u.created = append(u.created, true)
	u.noteRefs(&e)
	u.grow(nil, &e)
	u.changes++
	u.entries = append(u.entries, DiffEntry{Type: key.Type, Action: storage.Create, OldID: written.ID, NewID: id, NewVersion: 1})
	return nil
}

func (u *uploader) modify(op *Operation, written, key osmdata.Key, base resolved) error {
	prev, _ := u.view(key)
	before := *prev
	e := op.Element
	e.ID, e.Version, e.Visible = key.ID, base.version+1, true
	u.stamp(&e)
	u.stage(key, e, base)
	u.noteRefs(&e)
	u.grow(&before, &e)
	u.changes++
	u.entries = append(u.entries, DiffEntry{Type: key.Type, Action: storage.Modify, OldID: written.ID, NewID: key.ID, NewVersion: e.Version})
	return nil
}

func (u *uploader) remove(written, key osmdata.Key, cur *osmdata.Element, base resolved) error {
	before := *cur
	e := osmdata.Element{Type: key.Type, ID: key.ID, Version: base.version + 1, Visible: false}
	if key.Type == osmdata.Node {
		// A deleted node keeps its last position; writers leave it out.
		e.Lat, e.Lon = before.Lat, before.Lon
	}
	u.stamp(&e)
	u.stage(key, e, base)
	u.grow(&before, nil)
	u.changes++
	u.entries = append(u.entries, DiffEntry{Type: key.Type, Action: storage.Delete, OldID: written.ID, NewID: key.ID, NewVersion: e.Version})
	return nil
}

// skip answers a delete that if-unused skipped: the element keeps its
// version, which the diffResult gives (cgimap skip_deleted_*_ids).
func (u *uploader) skip(written, key osmdata.Key, version int) {
	u.entries = append(u.entries, DiffEntry{Type: key.Type, Action: storage.Delete, OldID: written.ID, NewID: key.ID, NewVersion: version, Skipped: true})
}

// stage records the element's new content and, on its first operation in
// the document, what its net pending row rests on (storage.PendingChange's
// base semantics).
func (u *uploader) stage(key osmdata.Key, e osmdata.Element, base resolved) {
	if j, ok := u.doc[key]; ok {
		u.rows[j].Element = e
		return
	}
	row := storage.PendingChange{Element: e}
	created := false
	switch {
	case base.authoritative:
		row.BaseVersion = base.version
	case base.pending != nil && base.pending.Changeset == u.cs.ID:
		// Already pending in this changeset: the row keeps its base.
		created = base.pending.Action == storage.Create ||
			base.pending.Action == storage.Delete && base.pending.BaseVersion == 0 && base.pending.BaseChangeset == 0
		row.BaseVersion, row.BaseChangeset = base.pending.BaseVersion, base.pending.BaseChangeset
	case base.pending != nil:
		// Stacking on another of the author's changesets.
		row.BaseVersion, row.BaseChangeset = base.version, base.pending.Changeset
		u.parentsOf[base.pending.Changeset] = true
	case base.mergedIn != 0:
		row.BaseVersion, row.BaseChangeset = base.version, base.mergedIn
		u.parentsOf[base.mergedIn] = true
	}
	u.doc[key] = len(u.rows)
	u.rows = append(u.rows, row)
	u.created = append(u.created, created)
}

// docRef is one reference of an element of the document: user refers to
// ref.
type docRef struct{ ref, user osmdata.Key }

// noteRefs remembers which elements e refers to, for later deletes.
func (u *uploader) noteRefs(e *osmdata.Element) {
	k := e.Key()
	for _, n := range e.Nodes {
		u.refLog = append(u.refLog, docRef{osmdata.Key{Type: osmdata.Node, ID: n}, k})
	}
	for _, m := range e.Members {
		u.refLog = append(u.refLog, docRef{osmdata.Key{Type: m.Type, ID: m.Ref}, k})
	}
}

// docUsersOf returns the elements of the document that referred to key
// in the operations so far.
func (u *uploader) docUsersOf(key osmdata.Key) []osmdata.Key {
	if u.docUsers == nil {
		u.docUsers = map[osmdata.Key][]osmdata.Key{}
	}
	for _, r := range u.refLog[u.indexed:] {
		u.docUsers[r.ref] = append(u.docUsers[r.ref], r.user)
	}
	u.indexed = len(u.refLog)
	return u.docUsers[key]
}

// grow extends the changeset's box as OSM does, simplified: a node's old
// and new positions, and the nodes of a way before and after the change
// (their positions when the upload ends). Relations do not grow the box.
func (u *uploader) grow(before, after *osmdata.Element) {
	for _, e := range []*osmdata.Element{before, after} {
		if e == nil {
			continue
		}
		switch e.Type {
		case osmdata.Node:
			if e.Visible {
				u.growPoint(e.Lat, e.Lon)
			}
		case osmdata.Way:
			u.boxNodes = append(u.boxNodes, e.Nodes...)
		}
	}
}

func (u *uploader) growPoint(lat, lon int32) {
	if !u.hasBox {
		u.box, u.hasBox = osmdata.Box{MinLat: lat, MinLon: lon, MaxLat: lat, MaxLon: lon}, true
		return
	}
	u.box.MinLat, u.box.MaxLat = min(u.box.MinLat, lat), max(u.box.MaxLat, lat)
	u.box.MinLon, u.box.MaxLon = min(u.box.MinLon, lon), max(u.box.MaxLon, lon)
}

// finish writes the net pending rows, the parents and the changeset.
func (u *uploader) finish(ctx context.Context) (*DiffResult, error) {
	if err := u.growWayNodes(ctx); err != nil {
		return nil, err
	}
	changes := u.rows
	for i := range changes {
		c := &changes[i]
		c.Changeset, c.Author, c.UploadedAt = u.cs.ID, u.who.UserID, u.now
		switch {
		case u.created[i] && c.Element.Visible:
			c.Action, c.BaseVersion, c.BaseChangeset = storage.Create, 0, 0
		case u.created[i]:
			c.Action, c.BaseVersion, c.BaseChangeset = storage.Delete, 0, 0
		case c.Element.Visible:
			c.Action = storage.Modify
		default:
			c.Action = storage.Delete
		}
	}
	if len(changes) > 0 {
		if err := u.tx.WritePending(ctx, changes); err != nil {
			return nil, fmt.Errorf("write %d pending changes: %w", len(changes), err)
		}
	}
	delete(u.parentsOf, u.cs.ID)
	if len(u.parentsOf) > 0 {
		parents := make([]int64, 0, len(u.parentsOf))
		for id := range u.parentsOf {
			parents = append(parents, id)
		}
		slices.Sort(parents)
		if err := u.tx.AddParents(ctx, parents); err != nil {
			return nil, fmt.Errorf("record parent changesets %v: %w", parents, err)
		}
	}
	cs, err := u.tx.UpdateChangeset(ctx, u.changes, u.box, u.hasBox)
	if err != nil {
		return nil, fmt.Errorf("update changeset %d: %w", u.cs.ID, err)
	}
	return &DiffResult{Entries: u.entries, Changeset: cs}, nil
}

// growWayNodes adds the positions of the nodes of touched ways to the
// box, reading in one go those the upload has not seen.
func (u *uploader) growWayNodes(ctx context.Context) error {
	var unseen []int64
	nodes := uniqueIDs(u.boxNodes)
	for _, id := range nodes {
		if el, _ := u.view(osmdata.Key{Type: osmdata.Node, ID: id}); el == nil {
			unseen = append(unseen, id)
		}
	}
	if len(unseen) > 0 {
		if err := u.load(ctx, map[osmdata.ElementType][]int64{osmdata.Node: unseen}); err != nil {
			return err
		}
	}
	for _, id := range nodes {
		if el, _ := u.view(osmdata.Key{Type: osmdata.Node, ID: id}); el != nil && el.Visible {
			u.growPoint(el.Lat, el.Lon)
		}
	}
	return nil
}
