package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Merge merges changeset id; see storage.Merger. BEGIN IMMEDIATE takes
// SQLite's one write lock, held to commit, as PostgreSQL's
// replication_state row lock is; the same row's UPDATE allocates
// merge_seq, and a rolled-back merge gives its number back. A conflict is
// recorded after the rollback, in its own small transaction.
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
		s.merged.Notify()
		s.reviewed.Notify()
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
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return storage.OutboxEntry{}, nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var seq, unix int64
	if err := tx.QueryRowContext(ctx, `UPDATE replication_state SET last_seq = last_seq + 1 WHERE id = 1
		RETURNING last_seq, unixepoch()`).Scan(&seq, &unix); err != nil {
		return storage.OutboxEntry{}, nil, fmt.Errorf("take the merge lock: %w", err)
	}
	at := time.Unix(unix, 0).UTC()
	cs, err := scanChangeset(tx.QueryRowContext(ctx, `SELECT `+changesetColumns+` FROM changesets WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return storage.OutboxEntry{}, nil, storage.ErrNotFound
	}
	if err != nil {
		return storage.OutboxEntry{}, nil, fmt.Errorf("read the changeset: %w", err)
	}
	if cs.ReviewState != osmdata.ReviewSubmitted && cs.ReviewState != osmdata.ReviewApproved {
		return storage.OutboxEntry{}, nil, fmt.Errorf("review state %q: %w", cs.ReviewState, storage.ErrNotMergeable)
	}
	changes, err := collectPending(tx.QueryContext(ctx, `SELECT `+pendingColumns+` FROM pending_changes p WHERE p.changeset_id = ? ORDER BY p.seq`, id))
	if err != nil {
		return storage.OutboxEntry{}, nil, fmt.Errorf("read pending changes: %w", err)
	}
	plan, conflicts, err := storage.PlanMerge(ctx, &mergeTx{stageTx: stageTx{queries: queries{tx}, tx: tx}}, cs, changes, at)
	if err != nil || len(conflicts) > 0 {
		return storage.OutboxEntry{}, conflicts, err
	}

	byType := map[osmdata.ElementType][]int64{}
	last := make(map[osmdata.Key]int, len(plan.Versions))
	rows := make([][4]int64, len(plan.Versions))
	for i := range plan.Versions {
		e := &plan.Versions[i]
		byType[e.Type] = append(byType[e.Type], e.ID)
		last[e.Key()] = i
		rows[i] = [4]int64{int64(e.Type), e.ID, int64(plan.OldVersions[i]), int64(e.Version)}
	}
	if err := writeVersions(ctx, tx, plan.Versions, byType, last); err != nil {
		return storage.OutboxEntry{}, nil, err
	}
	versions, err := json.Marshal(rows)
	if err != nil {
		return storage.OutboxEntry{}, nil, fmt.Errorf("encode versions: %w", err)
	}
	if len(rows) == 0 {
		versions = []byte("[]")
	}
	// Materialized, the versions drive the join through the primary key;
	// joined straight to json_each, SQLite scans the whole array for each
	// pending row (ten thousand rows took minutes).
	if _, err := tx.ExecContext(ctx, `WITH v(t, i, f) AS MATERIALIZED (SELECT value ->> 0, value ->> 1, value ->> 3 FROM json_each(?2))
		UPDATE pending_changes SET final_version = v.f
		FROM v
		WHERE changeset_id = ?1 AND elem_type = v.t AND elem_id = v.i`, id, string(versions)); err != nil {
		return storage.OutboxEntry{}, nil, fmt.Errorf("record final versions: %w", err)
	}
	var minLat, minLon, maxLat, maxLon any
	if plan.HasBox {
		minLat, minLon, maxLat, maxLon = plan.Box.MinLat, plan.Box.MinLon, plan.Box.MaxLat, plan.Box.MaxLon
	}
	if _, err := tx.ExecContext(ctx, `UPDATE changesets SET review_state = 'merged', is_open = 0,
			closed_at = CASE WHEN is_open THEN min(closed_at, unixepoch()) ELSE closed_at END,
			num_changes = ?2, min_lat = ?3, min_lon = ?4, max_lat = ?5, max_lon = ?6
		WHERE id = ?1`, id, len(plan.Versions), minLat, minLon, maxLat, maxLon); err != nil {
		return storage.OutboxEntry{}, nil, fmt.Errorf("mark merged: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (merge_seq, changeset_id, merged_at, versions) VALUES (?, ?, ?, ?)`,
		seq, id, unix, string(versions)); err != nil {
		return storage.OutboxEntry{}, nil, fmt.Errorf("write the outbox row: %w", err)
	}
	if _, err := writeReviewEvents(ctx, tx, osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventMerged, State: osmdata.ReviewMerged}); err != nil {
		return storage.OutboxEntry{}, nil, err
	}
	if err := tx.Commit(); err != nil {
		return storage.OutboxEntry{}, nil, fmt.Errorf("commit: %w", err)
	}
	return plan.Entry(seq, id, at), nil, nil
}

// recordConflicts marks the changeset conflicted (reopening it, as
// SetReviewState does) with its report and its conflicted event, unless
// another merge attempt moved it on meanwhile.
func (s *Store) recordConflicts(ctx context.Context, id int64, conflicts []storage.MergeConflict) error {
	return s.inReviewTx(ctx, "record conflicts", func(tx *sql.Tx) error {
		_, err := writeConflicts(ctx, tx, id, conflicts)
		return err
	})
}

// writeConflicts does recordConflicts' work in tx and says whether the
// changeset was submitted or approved, and so is now conflicted.
func writeConflicts(ctx context.Context, tx *sql.Tx, id int64, conflicts []storage.MergeConflict) (bool, error) {
	details := make([]string, len(conflicts))
	for i, c := range conflicts {
		var err error
		if details[i], err = storage.EncodeConflictDetail(c); err != nil {
			return false, err
		}
	}
	res, err := tx.ExecContext(ctx, `UPDATE changesets SET review_state = 'conflicted', is_open = 1, opened_at = unixepoch(),
			closed_at = unixepoch() + `+idleSeconds+`
		WHERE id = ? AND review_state IN ('submitted', 'approved')`, id)
	if err != nil {
		return false, fmt.Errorf("mark conflicted: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM merge_conflicts WHERE changeset_id = ?`, id); err != nil {
		return false, fmt.Errorf("clear the previous report: %w", err)
	}
	for i, c := range conflicts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO merge_conflicts
				(changeset_id, elem_type, elem_id, kind, base_version, current_version, parent_id, message, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, int64(c.Element.Type), c.Element.ID, string(c.Kind), c.BaseVersion, c.CurrentVersion, c.Parent, c.Message, details[i]); err != nil {
			return false, fmt.Errorf("write the report: %w", err)
		}
	}
	if _, err := writeReviewEvents(ctx, tx, osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventConflicted,
		Comment: storage.ConflictSummary(conflicts), State: osmdata.ReviewConflicted}); err != nil {
		return false, fmt.Errorf("write the conflicted event: %w", err)
	}
	return true, nil
}

// MergeConflicts returns the report of the changeset's last conflicted
// merge.
func (s *Store) MergeConflicts(ctx context.Context, id int64) ([]storage.MergeConflict, error) {
	return mergeConflicts(ctx, s.reader, id)
}

// ConflictReport is MergeConflicts of the upload's changeset on its
// transaction (storage.StageTx).
func (t *stageTx) ConflictReport(ctx context.Context) ([]storage.MergeConflict, error) {
	return mergeConflicts(ctx, t.tx, t.cs.ID)
}

func mergeConflicts(ctx context.Context, db dbtx, id int64) ([]storage.MergeConflict, error) {
	rows, err := db.QueryContext(ctx, `SELECT elem_type, elem_id, kind, base_version, current_version, parent_id, message, detail
		FROM merge_conflicts WHERE changeset_id = ? ORDER BY elem_type, elem_id, kind`, id)
	if err != nil {
		return nil, fmt.Errorf("conflicts of changeset %d: %w", id, err)
	}
	defer rows.Close()
	var out []storage.MergeConflict
	for rows.Next() {
		var c storage.MergeConflict
		var t int64
		var kind, detail string
		if err := rows.Scan(&t, &c.Element.ID, &kind, &c.BaseVersion, &c.CurrentVersion, &c.Parent, &c.Message, &detail); err != nil {
			return nil, fmt.Errorf("conflicts of changeset %d: %w", id, err)
		}
		c.Element.Type, c.Kind = osmdata.ElementType(t), storage.ConflictKind(kind)
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
	rows, err := s.reader.QueryContext(ctx, `SELECT merge_seq, changeset_id, merged_at, versions
		FROM outbox WHERE merge_seq > ? ORDER BY merge_seq LIMIT ?`, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox after %d: %w", afterSeq, err)
	}
	defer rows.Close()
	var out []storage.OutboxEntry
	for rows.Next() {
		var e storage.OutboxEntry
		var unix int64
		var versions string
		if err := rows.Scan(&e.Seq, &e.Changeset, &unix, &versions); err != nil {
			return nil, fmt.Errorf("outbox after %d: %w", afterSeq, err)
		}
		var vs [][4]int64
		if err := json.Unmarshal([]byte(versions), &vs); err != nil {
			return nil, fmt.Errorf("outbox row %d: %w", e.Seq, err)
		}
		e.MergedAt = time.Unix(unix, 0).UTC()
		e.Versions = make([]storage.MergedVersion, len(vs))
		for i, v := range vs {
			e.Versions[i] = storage.MergedVersion{Element: osmdata.Key{Type: osmdata.ElementType(v[0]), ID: v[1]},
				OldVersion: int(v[2]), NewVersion: int(v[3])}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("outbox after %d: %w", afterSeq, err)
	}
	return out, nil
}

// LastMergeSeq reads the counter row.
func (s *Store) LastMergeSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.reader.QueryRowContext(ctx, `SELECT last_seq FROM replication_state WHERE id = 1`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("last merge_seq: %w", err)
	}
	return seq, nil
}

// mergeTx is PlanMerge's view of the merge transaction.
type mergeTx struct {
	stageTx
}

func (t *mergeTx) ChangesetParents(ctx context.Context, id int64) ([]int64, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT parent FROM changeset_parents WHERE child = ? ORDER BY parent`, id)
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

func (t *mergeTx) FinalVersions(ctx context.Context, changeset int64) (map[osmdata.Key]storage.FinalVersion, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT elem_type, elem_id, version, final_version FROM pending_changes
		WHERE changeset_id = ? AND final_version IS NOT NULL`, changeset)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[osmdata.Key]storage.FinalVersion{}
	for rows.Next() {
		var t, id int64
		var f storage.FinalVersion
		if err := rows.Scan(&t, &id, &f.Provisional, &f.Final); err != nil {
			return nil, err
		}
		out[osmdata.Key{Type: osmdata.ElementType(t), ID: id}] = f
	}
	return out, rows.Err()
}

var _ storage.Merger = (*Store)(nil)
