package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.Splitter = (*Store)(nil)

// ApprovePart records the approval of part of a changeset; see
// storage.Splitter. Its one transaction locks the changeset as Decide
// does, then moves the pending rows left out (with the provisional
// versions they superseded and their node runs) to a new changeset of
// the author's, reopened as a request for changes reopens one. The
// author's reference blocks (pending_ref_blocks) name no changeset and
// stay as they are.
func (s *Store) ApprovePart(ctx context.Context, d storage.Decision, leave []osmdata.Key) (approved, returned osmdata.Changeset, err error) {
	if d.Kind != osmdata.EventApproved {
		return approved, returned, fmt.Errorf("approve part of changeset %d: a %q is not an approval", d.Changeset, d.Kind)
	}
	types, ids := splitKeys(leave)
	err = s.inReviewTx(ctx, fmt.Sprintf("approve part of changeset %d by %d", d.Changeset, d.Reviewer), func(tx pgx.Tx) error {
		var approval osmdata.ReviewEvent
		var err error
		if approved, approval, err = decide(ctx, tx, d); err != nil {
			return err
		}
		var total, staying int
		if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE (p.elem_type, p.elem_id) NOT IN (
				SELECT * FROM unnest($2::smallint[], $3::bigint[])))
			FROM pending_changes p WHERE p.changeset_id = $1`, d.Changeset, types, ids).Scan(&total, &staying); err != nil {
			return fmt.Errorf("count the changes: %w", err)
		}
		if err := storage.CheckSplit(d.Changeset, total, total-staying, len(ids)); err != nil {
			return err
		}
		if returned, err = splitOff(ctx, tx, d.Changeset, types, ids); err != nil {
			return err
		}
		if approved, err = settleSplitCounts(ctx, tx, approved, returned.NumChanges, staying); err != nil {
			return err
		}
		_, err = s.writeReviewEvents(ctx, tx, storage.SplitEvents(d, returned.ID, approval)...)
		return err
	})
	if err != nil {
		return osmdata.Changeset{}, osmdata.Changeset{}, err
	}
	return approved, returned, nil
}

// splitKeys returns the distinct keys as parallel arrays.
func splitKeys(keys []osmdata.Key) ([]int16, []int64) {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b osmdata.Key) int {
		if a == b {
			return 0
		}
		if a.Less(b) {
			return -1
		}
		return 1
	})
	keys = slices.Compact(keys)
	types, ids := make([]int16, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		types[i], ids[i] = int16(k.Type), k.ID
	}
	return types, ids
}

// splitOff creates the author's new changeset (the original's tags,
// parents and box, its changes the moved ones), moves the pending rows
// of the keys to it and returns it reopened for changes.
func splitOff(ctx context.Context, tx pgx.Tx, original int64, types []int16, ids []int64) (osmdata.Changeset, error) {
	var id int64
	// The box stays the original's on both sides: an upload grew it by
	// positions before and after each change as the upload saw them,
	// which no row keeps, so it cannot be cut in two; the original's
	// holds both parts, and a merge writes each changeset's exact box.
	if err := tx.QueryRow(ctx, `INSERT INTO changesets
			(id, user_id, user_name, created_at, opened_at, closed_at, is_open, tags, review_state, num_changes,
			 min_lat, min_lon, max_lat, max_lon)
		SELECT nextval('changeset_id_seq'), user_id, user_name, `+dbNow+`, `+dbNow+`, `+dbNow+` + `+idleInterval+`, true, tags, '', $2,
			min_lat, min_lon, max_lat, max_lon
		FROM changesets WHERE id = $1
		RETURNING id`, original, len(ids)).Scan(&id); err != nil {
		return osmdata.Changeset{}, fmt.Errorf("create the changeset of the part left out: %w", err)
	}
	var nodes []storage.PendingChange
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO changeset_parents (child, parent)
		SELECT $1::bigint, $2::bigint UNION SELECT $1, parent FROM changeset_parents WHERE child = $2`, id, original)
	b.Queue(`UPDATE pending_changes p SET changeset_id = $2
		FROM unnest($3::smallint[], $4::bigint[]) AS k(t, id)
		WHERE p.changeset_id = $1 AND p.elem_type = k.t AND p.elem_id = k.id
		RETURNING p.elem_id, p.elem_type = 1 AND p.visible, p.lat, p.lon`, original, id, types, ids).Query(func(rows pgx.Rows) error {
		defer rows.Close()
		for rows.Next() {
			e := osmdata.Element{Type: osmdata.Node, Visible: true}
			var visibleNode bool
			var lat, lon *int32
			if err := rows.Scan(&e.ID, &visibleNode, &lat, &lon); err != nil {
				return err
			}
			if visibleNode && lat != nil && lon != nil {
				e.Lat, e.Lon = *lat, *lon
				nodes = append(nodes, storage.PendingChange{Element: e})
			}
		}
		return rows.Err()
	})
	// Superseded provisional versions resolve to their changeset's row
	// of the element, which is now the new changeset's.
	b.Queue(`UPDATE pending_versions v SET changeset_id = $2
		FROM unnest($3::smallint[], $4::bigint[]) AS k(t, id)
		WHERE v.changeset_id = $1 AND v.elem_type = k.t AND v.elem_id = k.id`, original, id, types, ids)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return osmdata.Changeset{}, fmt.Errorf("move the changes left out to changeset %d: %w", id, err)
	}
	if err := moveNodeRuns(ctx, tx, original, id, nodes); err != nil {
		return osmdata.Changeset{}, err
	}
	return moveReviewState(ctx, tx, id, osmdata.ReviewChangesRequested)
}

// moveNodeRuns lists the moved visible nodes in runs of the new changeset and
// takes them out of the original's, so that the overlay's box reads
// (pending_node_boxes) find each node in the changeset that holds it.
func moveNodeRuns(ctx context.Context, tx pgx.Tx, original, id int64, moved []storage.PendingChange) error {
	runs := nodeRuns(moved)
	if len(runs.ids) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO pending_node_boxes (changeset_id, min_lat, min_lon, max_lat, max_lon, node_ids)
		SELECT $1, r.min_lat, r.min_lon, r.max_lat, r.max_lon, ($8::bigint[])[r.lo:r.hi]
		FROM unnest($2::int[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[])
			AS r(min_lat, min_lon, max_lat, max_lon, lo, hi)`,
		id, runs.minLat, runs.minLon, runs.maxLat, runs.maxLon, runs.lo, runs.hi, runs.ids)
	b.Queue(`UPDATE pending_node_boxes SET node_ids = ARRAY(SELECT n FROM unnest(node_ids) AS n WHERE n <> ALL ($2::bigint[]))
		WHERE changeset_id = $1 AND node_ids && $2::bigint[]`, original, runs.ids)
	b.Queue(`DELETE FROM pending_node_boxes WHERE changeset_id = $1 AND cardinality(node_ids) = 0`, original)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("move the runs of %d nodes to changeset %d: %w", len(runs.ids), id, err)
	}
	return nil
}

// settleSplitCounts takes the moved changes off the original's count,
// which still counts at least one change per element it holds.
func settleSplitCounts(ctx context.Context, tx pgx.Tx, c osmdata.Changeset, moved, staying int) (osmdata.Changeset, error) {
	c, err := scanChangeset(tx.QueryRow(ctx, `UPDATE changesets SET num_changes = greatest(num_changes - $2, $3)
		WHERE id = $1 RETURNING `+changesetColumns, c.ID, moved, staying))
	if err != nil {
		return c, fmt.Errorf("count the changes of changeset %d after the split: %w", c.ID, err)
	}
	return c, nil
}
