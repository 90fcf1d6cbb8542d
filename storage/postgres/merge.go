package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Merge merges changeset id; see storage.Merger. The replication_state
// row is the merge lock and the merge_seq allocator: its UPDATE is the
// transaction's first statement and its row lock is held to commit, so
// merges from every process commit in merge_seq order, and a rolled-back
// merge gives its number to the next one. Imports and Apply lock the same
// row. A conflict is recorded after the rollback, in its own small
// transaction.
func (s *Store) Merge(ctx context.Context, id int64) (storage.OutboxEntry, error) {
	return s.MergeWith(ctx, id, storage.MergeOptions{})
}

// MergeWith is Merge with options (storage.Rebaser): with
// KeepOnMovedBases, a changeset whose only conflicts are moved bases is
// left as it was, for the caller to rebase.
func (s *Store) MergeWith(ctx context.Context, id int64, opts storage.MergeOptions) (storage.OutboxEntry, error) {
	entry, conflicts, err := s.merge(ctx, id)
	if err != nil {
		return storage.OutboxEntry{}, fmt.Errorf("merge changeset %d: %w", id, err)
	}
	if len(conflicts) == 0 {
		// This process's waiters need not wait for the notifications.
		s.feed.signal.Notify()
		s.feed.reviews.Notify()
		return entry, nil
	}
	cerr := &storage.ConflictError{Changeset: id, Conflicts: conflicts}
	if cerr.OnlyWaitsForParents() || (opts.KeepOnMovedBases && cerr.OnlyMovedBases()) {
		return storage.OutboxEntry{}, cerr
	}
	if err := s.recordConflicts(ctx, id, conflicts); err != nil {
		return storage.OutboxEntry{}, fmt.Errorf("merge changeset %d: %w (after %v)", id, err, cerr)
	}
	return storage.OutboxEntry{}, cerr
}

func (s *Store) merge(ctx context.Context, id int64) (storage.OutboxEntry, []storage.MergeConflict, error) {
	// Round trips, not statements, are most of a small merge's time, so
	// the statements go in three pipelines: begin, the lock and the
	// inputs; PlanMerge's reads, then the writes that need no plan; and,
	// after the COPY of the version rows, the writes that record the
	// merge.
	var seq int64
	var at time.Time
	var cs osmdata.Changeset
	var changes []storage.PendingChange
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	// clock_timestamp, not now(): the time the lock was granted, so that
	// merge times follow merge_seq.
	b.Queue(`UPDATE replication_state SET last_seq = last_seq + 1 WHERE id = 1
		RETURNING last_seq, date_trunc('second', clock_timestamp())`).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&seq, &at); err != nil {
			return fmt.Errorf("take the merge lock: %w", err)
		}
		return nil
	})
	b.Queue(`SELECT `+changesetColumns+` FROM changesets WHERE id = $1 FOR UPDATE`, id).QueryRow(func(row pgx.Row) error {
		var err error
		if cs, err = scanChangeset(row); err != nil {
			return fmt.Errorf("lock the changeset: %w", err)
		}
		return nil
	})
	b.Queue(`SELECT `+pendingColumns+` FROM pending_changes p WHERE p.changeset_id = $1 ORDER BY p.seq`, id).Query(func(rows pgx.Rows) error {
		var err error
		if changes, err = collectPending(rows, nil); err != nil {
			return fmt.Errorf("read pending changes: %w", err)
		}
		return nil
	})
	br := s.pool.SendBatch(ctx, b)
	tx := br.Tx()
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := br.Close(); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return storage.OutboxEntry{}, nil, storage.ErrNotFound
		}
		return storage.OutboxEntry{}, nil, err
	}
	at = at.UTC()
	if cs.ReviewState != osmdata.ReviewSubmitted && cs.ReviewState != osmdata.ReviewApproved {
		return storage.OutboxEntry{}, nil, fmt.Errorf("review state %q: %w", cs.ReviewState, storage.ErrNotMergeable)
	}

	// Two writes need nothing of the plan, so they ride at the end of
	// PlanMerge's reads and run on the server while PlanMerge works on the
	// client: retiring the current rows of every element the changeset
	// changes, and the final version of each change that does not build
	// on a parent changeset, which is its base plus one (checked below).
	// A conflict rolls both back with the rest.
	ids := map[osmdata.ElementType][]int64{}
	for i := range changes {
		e := &changes[i].Element
		ids[e.Type] = append(ids[e.Type], e.ID)
	}
	mtx := &mergeTx{stageTx: stageTx{queries: queries{tx}, tx: tx}, ahead: []queuedWrite{
		{retireCurrent, retireArgs(ids)},
		{`UPDATE pending_changes SET final_version = base_version + 1 WHERE changeset_id = $1 AND base_changeset_id = 0`, []any{id}},
	}}
	defer mtx.settle() // before the rollback: the connection is busy until then
	if len(changes) >= parallelReadsFrom {
		// Not from the pool: merges waiting for the lock hold pooled
		// connections, and the merge that holds it must not wait for one.
		// Only the holder of the lock opens this connection, so a
		// database sees one at a time. Without it the merge still works,
		// in one pipeline.
		if conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy()); err == nil {
			defer conn.Close(context.WithoutCancel(ctx))
			mtx.reader = conn
		}
	}
	plan, conflicts, err := storage.PlanMerge(ctx, mtx, cs, changes, at)
	if err == nil {
		err = mtx.settle()
	}
	if err == nil && len(mtx.ahead) > 0 {
		err = errors.New("PlanMerge did not read through ReadForMerge, which sends the writes ahead of the plan")
	}
	if err != nil || len(conflicts) > 0 {
		return storage.OutboxEntry{}, conflicts, err
	}
	stacked, err := stackedFinalVersions(plan, changes)
	if err != nil {
		return storage.OutboxEntry{}, nil, err
	}

	lastIndex := make(map[osmdata.Key]int, len(plan.Versions))
	types := make([]int16, len(plan.Versions))
	elemIDs := make([]int64, len(plan.Versions))
	oldVersions := make([]int32, len(plan.Versions))
	newVersions := make([]int32, len(plan.Versions))
	for i := range plan.Versions {
		e := &plan.Versions[i]
		lastIndex[e.Key()] = i
		types[i], elemIDs[i] = int16(e.Type), e.ID
		oldVersions[i], newVersions[i] = int32(plan.OldVersions[i]), int32(e.Version)
	}
	if err := copyVersionRows(ctx, tx, plan.Versions, ids, lastIndex); err != nil {
		return storage.OutboxEntry{}, nil, err
	}
	b = &pgx.Batch{}
	queueDerivedRows(b, plan)
	if len(stacked.ids) > 0 {
		b.Queue(`UPDATE pending_changes p SET final_version = u.v
			FROM unnest($2::smallint[], $3::bigint[], $4::integer[]) AS u(t, i, v)
			WHERE p.changeset_id = $1 AND p.elem_type = u.t AND p.elem_id = u.i`, id, stacked.types, stacked.ids, stacked.versions)
	}
	var minLat, minLon, maxLat, maxLon *int32
	if plan.HasBox {
		minLat, minLon, maxLat, maxLon = &plan.Box.MinLat, &plan.Box.MinLon, &plan.Box.MaxLat, &plan.Box.MaxLon
	}
	b.Queue(`UPDATE changesets SET review_state = 'merged', is_open = false,
			closed_at = CASE WHEN is_open THEN least(closed_at, `+dbNow+`) ELSE closed_at END,
			num_changes = $2, min_lat = $3, min_lon = $4, max_lat = $5, max_lon = $6
		WHERE id = $1`, id, len(plan.Versions), minLat, minLon, maxLat, maxLon)
	b.Queue(`INSERT INTO outbox (merge_seq, changeset_id, merged_at, elem_types, elem_ids, old_versions, new_versions)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, seq, id, at, types, elemIDs, oldVersions, newVersions)
	queueMergeNotify(b, s.feed.channel, seq)
	// Last: the review event counter is locked from here to the commit.
	var events []osmdata.ReviewEvent
	queueReviewEvents(b, s.feed.reviewChannel, []osmdata.ReviewEvent{{Changeset: id, Kind: osmdata.EventMerged, State: osmdata.ReviewMerged}}, &events)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return storage.OutboxEntry{}, nil, fmt.Errorf("record the merge (derived rows, final versions, changeset, outbox, notifications, review event): %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return storage.OutboxEntry{}, nil, fmt.Errorf("commit: %w", err)
	}
	return plan.Entry(seq, id, at), nil, nil
}

// parallelReadsFrom is the number of changes from which PlanMerge's reads
// run on a second connection, beside the writes that need no plan: a
// connection costs milliseconds to open, and the reads of ten thousand
// changes take a hundred.
var parallelReadsFrom = 2000

// finalVersionRows are final versions to record on pending rows.
type finalVersionRows struct {
	types    []int16
	ids      []int64
	versions []int32
}

// stackedFinalVersions returns the final versions of the changes that
// build on a parent changeset, which the early statement (base plus one)
// leaves out. It checks that the plan gave every other change its base
// plus one and wrote one version per change, which that statement takes
// for granted.
func stackedFinalVersions(plan storage.MergePlan, changes []storage.PendingChange) (finalVersionRows, error) {
	var out finalVersionRows
	if len(plan.Versions) != len(changes) {
		return out, fmt.Errorf("the plan has %d versions for %d pending changes", len(plan.Versions), len(changes))
	}
	byKey := make(map[osmdata.Key]*storage.PendingChange, len(changes))
	for i := range changes {
		byKey[changes[i].Element.Key()] = &changes[i]
	}
	for i := range plan.Versions {
		e := &plan.Versions[i]
		p, ok := byKey[e.Key()]
		switch {
		case !ok:
			return out, fmt.Errorf("the plan writes %s, which is not pending in the changeset", e.Key())
		case p.BaseChangeset != 0:
			out.types, out.ids, out.versions = append(out.types, int16(e.Type)), append(out.ids, e.ID), append(out.versions, int32(e.Version))
		case e.Version != p.BaseVersion+1:
			return out, fmt.Errorf("the plan gives %s version %d on base %d", e.Key(), e.Version, p.BaseVersion)
		}
	}
	return out, nil
}

// queueDerivedRows queues the changes to current_way_nodes and
// current_relation_members, which hold the nodes and members of current
// visible ways and relations: only for those whose nodes, members or
// visibility the merge changes. A retag leaves them as they are, and a
// way of a thousand nodes that only changed its tags costs nothing here.
func queueDerivedRows(b *pgx.Batch, plan storage.MergePlan) {
	var goneWays, goneRelations []int64
	var nodes wayNodeRows
	var members memberRows
	for i := range plan.Versions {
		e, old := &plan.Versions[i], &plan.Old[i]
		if old.Visible == e.Visible && (!e.Visible || slices.Equal(old.Nodes, e.Nodes) && slices.Equal(old.Members, e.Members)) {
			continue
		}
		switch e.Type {
		case osmdata.Way:
			if old.Visible {
				goneWays = append(goneWays, e.ID)
			}
			if e.Visible {
				nodes.add(e)
			}
		case osmdata.Relation:
			if old.Visible {
				goneRelations = append(goneRelations, e.ID)
			}
			if e.Visible {
				members.add(e)
			}
		}
	}
	if len(goneWays) > 0 {
		b.Queue(`DELETE FROM current_way_nodes WHERE way_id = ANY($1)`, goneWays)
	}
	if nodes.len() > 0 {
		b.Queue(`INSERT INTO current_way_nodes (way_id, seq, node_id)
			SELECT * FROM unnest($1::bigint[], $2::integer[], $3::bigint[])`, nodes.wayIDs, nodes.seqs, nodes.nodeIDs)
	}
	if len(goneRelations) > 0 {
		b.Queue(`DELETE FROM current_relation_members WHERE relation_id = ANY($1)`, goneRelations)
	}
	if members.len() > 0 {
		b.Queue(`INSERT INTO current_relation_members (relation_id, seq, member_type, member_id, role)
			SELECT * FROM unnest($1::bigint[], $2::integer[], $3::smallint[], $4::bigint[], $5::text[])`,
			members.relationIDs, members.seqs, members.types, members.memberIDs, members.roles)
	}
}

// recordConflicts marks the changeset conflicted (reopening it, as
// SetReviewState does) with its report and its conflicted event, unless
// another merge attempt moved it on meanwhile.
func (s *Store) recordConflicts(ctx context.Context, id int64, conflicts []storage.MergeConflict) error {
	return s.inReviewTx(ctx, "record conflicts", func(tx pgx.Tx) error {
		_, err := s.writeConflicts(ctx, tx, id, conflicts)
		return err
	})
}

// writeConflicts does recordConflicts' work in tx and says whether the
// changeset was submitted or approved, and so is now conflicted.
func (s *Store) writeConflicts(ctx context.Context, tx pgx.Tx, id int64, conflicts []storage.MergeConflict) (bool, error) {
	n := len(conflicts)
	types, ids := make([]int16, n), make([]int64, n)
	kinds, messages, details := make([]string, n), make([]string, n), make([]string, n)
	bases, currents := make([]int32, n), make([]int32, n)
	parents := make([]int64, n)
	for i, c := range conflicts {
		types[i], ids[i], kinds[i], messages[i] = int16(c.Element.Type), c.Element.ID, string(c.Kind), c.Message
		bases[i], currents[i], parents[i] = int32(c.BaseVersion), int32(c.CurrentVersion), c.Parent
		var err error
		if details[i], err = storage.EncodeConflictDetail(c); err != nil {
			return false, err
		}
	}
	tag, err := tx.Exec(ctx, `UPDATE changesets SET review_state = 'conflicted', is_open = true, opened_at = `+dbNow+`,
			closed_at = `+dbNow+` + `+idleInterval+`
		WHERE id = $1 AND review_state IN ('submitted', 'approved')`, id)
	if err != nil {
		return false, fmt.Errorf("mark conflicted: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM merge_conflicts WHERE changeset_id = $1`, id); err != nil {
		return false, fmt.Errorf("clear the previous report: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO merge_conflicts
			(changeset_id, elem_type, elem_id, kind, base_version, current_version, parent_id, message, detail)
		SELECT $1, t, i, k, b, c, p, m, d
		FROM unnest($2::smallint[], $3::bigint[], $4::text[], $5::integer[], $6::integer[], $7::bigint[], $8::text[], $9::text[])
			WITH ORDINALITY AS u(t, i, k, b, c, p, m, d, o) ORDER BY o`,
		id, types, ids, kinds, bases, currents, parents, messages, details); err != nil {
		return false, fmt.Errorf("write the report: %w", err)
	}
	if _, err := s.writeReviewEvents(ctx, tx, osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventConflicted,
		Comment: storage.ConflictSummary(conflicts), State: osmdata.ReviewConflicted}); err != nil {
		return false, fmt.Errorf("write the conflicted event: %w", err)
	}
	return true, nil
}

// MergeConflicts returns the report of the changeset's last conflicted
// merge.
func (s *Store) MergeConflicts(ctx context.Context, id int64) ([]storage.MergeConflict, error) {
	return mergeConflicts(ctx, s.pool, id)
}

// ConflictReport is MergeConflicts of the upload's changeset on its
// transaction (storage.StageTx).
func (t *stageTx) ConflictReport(ctx context.Context) ([]storage.MergeConflict, error) {
	return mergeConflicts(ctx, t.tx, t.cs.ID)
}

func mergeConflicts(ctx context.Context, db dbtx, id int64) ([]storage.MergeConflict, error) {
	rows, err := db.Query(ctx, `SELECT elem_type, elem_id, kind, base_version, current_version, parent_id, message, detail
		FROM merge_conflicts WHERE changeset_id = $1 ORDER BY elem_type, elem_id, kind`, id)
	if err != nil {
		return nil, fmt.Errorf("conflicts of changeset %d: %w", id, err)
	}
	defer rows.Close()
	var out []storage.MergeConflict
	for rows.Next() {
		var c storage.MergeConflict
		var t int16
		var kind string
		var base, cur int32
		var detail string
		if err := rows.Scan(&t, &c.Element.ID, &kind, &base, &cur, &c.Parent, &c.Message, &detail); err != nil {
			return nil, fmt.Errorf("conflicts of changeset %d: %w", id, err)
		}
		c.Element.Type, c.Kind, c.BaseVersion, c.CurrentVersion = osmdata.ElementType(t), storage.ConflictKind(kind), int(base), int(cur)
		if err := storage.DecodeConflictDetail(detail, &c); err != nil {
			return nil, fmt.Errorf("conflicts of changeset %d: %w", id, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("conflicts of changeset %d: %w", id, err)
	}
	return out, nil
}

// Outbox reads merges after afterSeq in merge_seq order.
func (s *Store) Outbox(ctx context.Context, afterSeq int64, limit int) ([]storage.OutboxEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT merge_seq, changeset_id, merged_at, elem_types, elem_ids, old_versions, new_versions
		FROM outbox WHERE merge_seq > $1 ORDER BY merge_seq LIMIT $2`, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox after %d: %w", afterSeq, err)
	}
	defer rows.Close()
	var out []storage.OutboxEntry
	for rows.Next() {
		var e storage.OutboxEntry
		var types []int16
		var ids []int64
		var olds, news []int32
		if err := rows.Scan(&e.Seq, &e.Changeset, &e.MergedAt, &types, &ids, &olds, &news); err != nil {
			return nil, fmt.Errorf("outbox after %d: %w", afterSeq, err)
		}
		if len(ids) != len(types) || len(olds) != len(types) || len(news) != len(types) {
			return nil, fmt.Errorf("outbox row %d: element arrays of different lengths", e.Seq)
		}
		e.MergedAt = e.MergedAt.UTC()
		e.Versions = make([]storage.MergedVersion, len(types))
		for i := range types {
			e.Versions[i] = storage.MergedVersion{Element: osmdata.Key{Type: osmdata.ElementType(types[i]), ID: ids[i]},
				OldVersion: int(olds[i]), NewVersion: int(news[i])}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox after %d: %w", afterSeq, err)
	}
	return out, nil
}

// LastMergeSeq reads the counter row without locking it.
func (s *Store) LastMergeSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.pool.QueryRow(ctx, `SELECT last_seq FROM replication_state WHERE id = 1`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("last merge_seq: %w", err)
	}
	return seq, nil
}

// mergeTx is PlanMerge's view of the merge transaction.
type mergeTx struct {
	stageTx
	// ahead are writes ReadForMerge sends after its reads, and open the
	// results of that pipeline while the writes may still run: settle
	// waits for them. Every method that sends a statement on tx settles
	// first.
	ahead []queuedWrite
	open  pgx.BatchResults
	// reader, when set, is a connection of its own for ReadForMerge's
	// reads, which then run at the same time as the writes ahead. It
	// sees the dataset as the transaction did before writing: every
	// writer of elements holds the merge lock, which the transaction
	// holds, and its own writes are not committed.
	reader *pgx.Conn
}

type queuedWrite struct {
	sql  string
	args []any
}

// settle waits for the writes ReadForMerge sent ahead and reports their
// error; later calls report nothing.
func (t *mergeTx) settle() error {
	if t.open == nil {
		return nil
	}
	err := t.open.Close()
	t.open = nil
	if err != nil {
		return fmt.Errorf("write ahead of the plan (retire the current versions, final versions): %w", err)
	}
	return nil
}

func (t *mergeTx) Changeset(ctx context.Context, id int64) (osmdata.Changeset, error) {
	if err := t.settle(); err != nil {
		return osmdata.Changeset{}, err
	}
	return t.stageTx.Changeset(ctx, id)
}

func (t *mergeTx) ChangesetParents(ctx context.Context, id int64) ([]int64, error) {
	if err := t.settle(); err != nil {
		return nil, err
	}
	rows, err := t.tx.Query(ctx, `SELECT parent FROM changeset_parents WHERE child = $1 ORDER BY parent`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

func (t *mergeTx) FinalVersions(ctx context.Context, changeset int64) (map[osmdata.Key]storage.FinalVersion, error) {
	if err := t.settle(); err != nil {
		return nil, err
	}
	rows, err := t.tx.Query(ctx, `SELECT elem_type, elem_id, version, final_version FROM pending_changes
		WHERE changeset_id = $1 AND final_version IS NOT NULL`, changeset)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[osmdata.Key]storage.FinalVersion{}
	for rows.Next() {
		var t int16
		var id int64
		var v, f int32
		if err := rows.Scan(&t, &id, &v, &f); err != nil {
			return nil, err
		}
		out[osmdata.Key{Type: osmdata.ElementType(t), ID: id}] = storage.FinalVersion{Provisional: int(v), Final: int(f)}
	}
	return out, rows.Err()
}

var _ storage.Merger = (*Store)(nil)
