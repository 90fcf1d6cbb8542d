package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.Splitter = (*Store)(nil)

// leftOut is a CTE of the elements left out, from a JSON list
// [[type, id], ...] in parameter ?2.
const leftOut = `WITH left_out (t, id) AS (
	SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?2)) `

// ApprovePart records the approval of part of a changeset; see
// storage.Splitter. Its one write transaction checks and records the
// approval as Decide does, then moves the pending rows left out (with
// the provisional versions they superseded) to a new changeset of the
// author's, reopened as a request for changes reopens one. The author's
// reference candidates (pending_refs) name no changeset and stay.
func (s *Store) ApprovePart(ctx context.Context, d storage.Decision, leave []osmdata.Key) (approved, returned osmdata.Changeset, err error) {
	if d.Kind != osmdata.EventApproved {
		return approved, returned, fmt.Errorf("approve part of changeset %d: a %q is not an approval", d.Changeset, d.Kind)
	}
	keys, n := splitKeysJSON(leave)
	err = s.inReviewTx(ctx, fmt.Sprintf("approve part of changeset %d by %d", d.Changeset, d.Reviewer), func(tx *sql.Tx) error {
		var approval osmdata.ReviewEvent
		var err error
		if approved, approval, err = decide(ctx, tx, d); err != nil {
			return err
		}
		var total, staying int
		if err := tx.QueryRowContext(ctx, leftOut+`SELECT count(*),
				coalesce(sum((p.elem_type, p.elem_id) NOT IN (SELECT t, id FROM left_out)), 0)
			FROM pending_changes p WHERE p.changeset_id = ?1`, d.Changeset, keys).Scan(&total, &staying); err != nil {
			return fmt.Errorf("count the changes: %w", err)
		}
		if err := storage.CheckSplit(d.Changeset, total, total-staying, n); err != nil {
			return err
		}
		if returned, err = splitOff(ctx, tx, d.Changeset, keys, n); err != nil {
			return err
		}
		if approved, err = scanChangeset(tx.QueryRowContext(ctx, `UPDATE changesets SET num_changes = max(num_changes - ?2, ?3)
			WHERE id = ?1 RETURNING `+changesetColumns, d.Changeset, n, staying)); err != nil {
			return fmt.Errorf("count the changes of changeset %d after the split: %w", d.Changeset, err)
		}
		_, err = writeReviewEvents(ctx, tx, storage.SplitEvents(d, returned.ID, approval)...)
		return err
	})
	if err != nil {
		return osmdata.Changeset{}, osmdata.Changeset{}, err
	}
	return approved, returned, nil
}

// splitKeysJSON returns the distinct keys as JSON [[type, id], ...] (the
// form of a finding's elements) and their number.
func splitKeysJSON(keys []osmdata.Key) (string, int) {
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
	return storage.EncodeFindingElements(keys), len(keys)
}

// splitOff creates the author's new changeset (the original's tags,
// parents and box, its changes the n moved ones), moves the pending rows
// of keys to it and returns it reopened for changes.
func splitOff(ctx context.Context, tx *sql.Tx, original int64, keys string, n int) (osmdata.Changeset, error) {
	id, err := takeIDs(ctx, tx, "changeset", 1)
	if err != nil {
		return osmdata.Changeset{}, err
	}
	// The box stays the original's on both sides: an upload grew it by
	// positions before and after each change as the upload saw them,
	// which no row keeps, so it cannot be cut in two; the original's
	// holds both parts, and a merge writes each changeset's exact box.
	for _, stmt := range []struct {
		what, sql string
		args      []any
	}{
		{"create the changeset of the part left out", `INSERT INTO changesets
				(id, user_id, user_name, created_at, opened_at, closed_at, is_open, tags, review_state, num_changes,
				 min_lat, min_lon, max_lat, max_lon)
			SELECT ?2, user_id, user_name, unixepoch(), unixepoch(), unixepoch() + ` + idleSeconds + `, 1, tags, '', ?3,
				min_lat, min_lon, max_lat, max_lon
			FROM changesets WHERE id = ?1`, []any{original, id, n}},
		{"record its parents", `INSERT INTO changeset_parents (child, parent)
			SELECT ?2, ?1 UNION SELECT ?2, parent FROM changeset_parents WHERE child = ?1`, []any{original, id}},
		{"move the changes left out", leftOut + `UPDATE pending_changes SET changeset_id = ?3
			WHERE changeset_id = ?1 AND (elem_type, elem_id) IN (SELECT t, id FROM left_out)`, []any{original, keys, id}},
		// Superseded provisional versions resolve to their changeset's
		// row of the element, which is now the new changeset's.
		{"move the versions they superseded", leftOut + `UPDATE pending_versions SET changeset_id = ?3
			WHERE changeset_id = ?1 AND (elem_type, elem_id) IN (SELECT t, id FROM left_out)`, []any{original, keys, id}},
	} {
		if _, err := tx.ExecContext(ctx, stmt.sql, stmt.args...); err != nil {
			return osmdata.Changeset{}, fmt.Errorf("%s (changeset %d): %w", stmt.what, id, err)
		}
	}
	return moveReviewState(ctx, tx, id, osmdata.ReviewChangesRequested)
}
