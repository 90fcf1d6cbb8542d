package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Changeset times are the database's clock, unixepoch(), in whole
// seconds as the other timestamps here.
var (
	idleSeconds   = strconv.Itoa(int(storage.ChangesetIdle / time.Second))
	maxAgeSeconds = strconv.Itoa(int(storage.ChangesetMaxAge / time.Second))
	maxChanges    = strconv.Itoa(storage.MaxChangesetChanges)
	// nextClose is closed_at after activity: an hour idle, but never past
	// the end of the open window (OSM's update_closed_at).
	nextClose = `min(unixepoch() + ` + idleSeconds + `, coalesce(opened_at, created_at) + ` + maxAgeSeconds + `)`
	// isOpen is OSM's "open": not closed, not past its closing time, not
	// full. The sweeper turns the last two into a closed is_open.
	isOpen = `(is_open AND closed_at > unixepoch() AND num_changes < ` + maxChanges + `)`
)

// changesetColumns is what scanChangeset reads.
var changesetColumns = `id, user_id, user_name, created_at, closed_at, ` + isOpen + `, tags, num_changes,
	min_lat, min_lon, max_lat, max_lon, review_state`

type scanner interface{ Scan(dest ...any) error }

func scanChangeset(row scanner) (osmdata.Changeset, error) {
	var (
		cs                             osmdata.Changeset
		userName                       sql.NullString
		created                        int64
		closed                         sql.NullInt64
		tags                           []byte
		minLat, minLon, maxLat, maxLon sql.NullInt64
		review                         string
	)
	if err := row.Scan(&cs.ID, &cs.UID, &userName, &created, &closed, &cs.Open, &tags,
		&cs.NumChanges, &minLat, &minLon, &maxLat, &maxLon, &review); err != nil {
		return osmdata.Changeset{}, err
	}
	cs.User = userName.String
	cs.CreatedAt = time.Unix(created, 0).UTC()
	if closed.Valid {
		cs.ClosedAt = time.Unix(closed.Int64, 0).UTC()
	}
	var err error
	if cs.Tags, err = decodeTags(tags); err != nil {
		return osmdata.Changeset{}, fmt.Errorf("tags of changeset %d: %w", cs.ID, err)
	}
	if minLat.Valid && minLon.Valid && maxLat.Valid && maxLon.Valid {
		cs.HasBox = true
		cs.Box = osmdata.Box{MinLat: int32(minLat.Int64), MinLon: int32(minLon.Int64),
			MaxLat: int32(maxLat.Int64), MaxLon: int32(maxLon.Int64)}
	}
	cs.ReviewState = osmdata.ReviewState(review)
	return cs, nil
}

// tagsColumn is a tags column's value: JSON, or NULL for no tags.
func tagsColumn(tags osmdata.Tags) any {
	if len(tags) == 0 {
		return nil
	}
	return string(appendTags(nil, tags))
}

// writeTx runs fn in one write transaction (BEGIN IMMEDIATE).
func (s *Store) writeTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// CreateChangeset opens a changeset with the next changeset id.
func (s *Store) CreateChangeset(ctx context.Context, c storage.NewChangeset) (osmdata.Changeset, error) {
	var cs osmdata.Changeset
	err := s.writeTx(ctx, "create changeset", func(tx *sql.Tx) error {
		id, err := takeIDs(ctx, tx, "changeset", 1)
		if err != nil {
			return err
		}
		cs, err = scanChangeset(tx.QueryRowContext(ctx, `INSERT INTO changesets
				(id, user_id, user_name, created_at, opened_at, closed_at, is_open, tags, review_state)
			VALUES (?, ?, ?, unixepoch(), unixepoch(), unixepoch() + `+idleSeconds+`, 1, ?, '')
			RETURNING `+changesetColumns, id, c.UID, c.User, tagsColumn(c.Tags)))
		return err
	})
	return cs, err
}

// takeIDs advances the next_ids row name by n and returns the first id
// taken.
func takeIDs(ctx context.Context, tx *sql.Tx, name string, n int) (int64, error) {
	var first int64
	err := tx.QueryRowContext(ctx, `UPDATE next_ids SET next_id = next_id + ?1 WHERE name = ?2
		RETURNING next_id - ?1`, n, name).Scan(&first)
	if err != nil {
		return 0, fmt.Errorf("take %d %s ids: %w", n, name, err)
	}
	return first, nil
}

// ownChangeset reads changeset id inside tx (whose BEGIN IMMEDIATE has
// locked the database) and checks that uid owns it and that it is open.
func ownChangeset(ctx context.Context, tx *sql.Tx, id, uid int64) (osmdata.Changeset, error) {
	c, err := scanChangeset(tx.QueryRowContext(ctx, `SELECT `+changesetColumns+` FROM changesets WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("changeset %d: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("read changeset %d: %w", id, err)
	}
	if c.UID != uid {
		return c, fmt.Errorf("changeset %d of user %d, not %d: %w", id, c.UID, uid, storage.ErrNotOwner)
	}
	if !c.Open {
		return c, fmt.Errorf("changeset %d closed at %s: %w", id, c.ClosedAt.Format(time.RFC3339), storage.ErrChangesetClosed)
	}
	return c, nil
}

// changeOwnChangeset runs update (an UPDATE … WHERE id = ?1 RETURNING
// changesetColumns, with args after the id) on an open changeset of uid.
func (s *Store) changeOwnChangeset(ctx context.Context, id, uid int64, what, update string, args ...any) (osmdata.Changeset, error) {
	var c osmdata.Changeset
	err := s.writeTx(ctx, what, func(tx *sql.Tx) error {
		if _, err := ownChangeset(ctx, tx, id, uid); err != nil {
			return err
		}
		var err error
		c, err = scanChangeset(tx.QueryRowContext(ctx, update, append([]any{id}, args...)...))
		return err
	})
	return c, err
}

// UpdateChangesetTags replaces the tags; like any change of an open
// changeset, it moves closed_at (OSM's update_closed_at).
func (s *Store) UpdateChangesetTags(ctx context.Context, id, uid int64, tags osmdata.Tags) (osmdata.Changeset, error) {
	return s.changeOwnChangeset(ctx, id, uid, "update changeset tags",
		`UPDATE changesets SET tags = ?2, closed_at = `+nextClose+` WHERE id = ?1 RETURNING `+changesetColumns,
		tagsColumn(tags))
}

// CloseChangeset closes and submits, with the submitted event by the
// author.
func (s *Store) CloseChangeset(ctx context.Context, id, uid int64) (osmdata.Changeset, error) {
	var c osmdata.Changeset
	err := s.inReviewTx(ctx, "close changeset", func(tx *sql.Tx) error {
		if _, err := ownChangeset(ctx, tx, id, uid); err != nil {
			return err
		}
		var err error
		c, err = scanChangeset(tx.QueryRowContext(ctx, `UPDATE changesets
			SET is_open = 0, closed_at = unixepoch(), review_state = 'submitted', policy_decided = 0
			WHERE id = ?1 RETURNING `+changesetColumns, id))
		if err != nil {
			return err
		}
		if err := forgetSubmission(ctx, tx, []int64{id}); err != nil {
			return err
		}
		_, err = writeReviewEvents(ctx, tx, osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventSubmitted,
			ActorUID: uid, State: osmdata.ReviewSubmitted})
		return err
	})
	if err != nil {
		return osmdata.Changeset{}, err
	}
	return c, nil
}

// forgetSubmission clears the approvals and the validation of the
// submissions before, in the transaction that resubmits: they were given
// to content the contributor has since changed, and must not count in the
// moment before the policy validates the new submission and records its
// scopes (reviewers cannot decide until then: storage.CheckReviewable).
// The scopes stay, so the same reviewers are asked meanwhile.
func forgetSubmission(ctx context.Context, tx *sql.Tx, ids []int64) error {
	for _, stmt := range []string{
		`UPDATE changeset_scopes SET approved_by = 0 WHERE changeset_id IN (SELECT value FROM json_each(?)) AND approved_by <> 0`,
		`DELETE FROM changeset_approvals WHERE changeset_id IN (SELECT value FROM json_each(?))`,
		`DELETE FROM changeset_findings WHERE changeset_id IN (SELECT value FROM json_each(?))`,
		`DELETE FROM changeset_validations WHERE changeset_id IN (SELECT value FROM json_each(?))`,
	} {
		if _, err := tx.ExecContext(ctx, stmt, idsJSON(ids)); err != nil {
			return fmt.Errorf("forget the review of the earlier submission: %w", err)
		}
	}
	return nil
}

// CloseDueChangesets closes and submits the open changesets past their
// closing time or full. One statement in its own write transaction:
// SQLite's write lock does what SKIP LOCKED does on PostgreSQL, every
// sweeper of the file sees the others' closes. Their submitted events
// (by the system) are numbered in changeset id order.
func (s *Store) CloseDueChangesets(ctx context.Context) ([]int64, error) {
	var ids []int64
	err := s.inReviewTx(ctx, "close due changesets", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE changesets
			SET is_open = 0, closed_at = min(closed_at, unixepoch()), review_state = 'submitted', policy_decided = 0
			WHERE is_open AND (closed_at <= unixepoch() OR num_changes >= `+maxChanges+`)
			RETURNING id`)
		if err != nil {
			return err
		}
		if ids, err = scanIDs(rows); err != nil || len(ids) == 0 {
			return err
		}
		slices.Sort(ids)
		if err := forgetSubmission(ctx, tx, ids); err != nil {
			return err
		}
		events := make([]osmdata.ReviewEvent, len(ids))
		for i, id := range ids {
			events[i] = osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventSubmitted, State: osmdata.ReviewSubmitted}
		}
		_, err = writeReviewEvents(ctx, tx, events...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

func scanIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// reviewStateUpdate is the UPDATE … WHERE id = ?1 RETURNING
// changesetColumns that moves a changeset to state (?2): SetReviewState's,
// and the review decisions' (reviews.go), so that both reopen alike.
func reviewStateUpdate(state osmdata.ReviewState) (string, error) {
	switch state {
	case osmdata.ReviewNone:
		return "", errors.New("the state cannot go back to none")
	case osmdata.ReviewChangesRequested, osmdata.ReviewConflicted:
		return `UPDATE changesets SET review_state = ?2, policy_decided = 0, is_open = 1, opened_at = unixepoch(),
			closed_at = unixepoch() + ` + idleSeconds + ` WHERE id = ?1 RETURNING ` + changesetColumns, nil
	}
	return `UPDATE changesets SET review_state = ?2, policy_decided = 0, is_open = 0,
			closed_at = CASE WHEN is_open THEN min(closed_at, unixepoch()) ELSE closed_at END
			WHERE id = ?1 RETURNING ` + changesetColumns, nil
}

// SetReviewState records a review decision and its event; see
// storage.Editing.
func (s *Store) SetReviewState(ctx context.Context, id int64, state osmdata.ReviewState, note storage.ReviewNote) (osmdata.Changeset, error) {
	update, err := reviewStateUpdate(state)
	if err != nil {
		return osmdata.Changeset{}, fmt.Errorf("set review state of changeset %d: %w", id, err)
	}
	var c osmdata.Changeset
	err = s.inReviewTx(ctx, fmt.Sprintf("set review state of changeset %d", id), func(tx *sql.Tx) error {
		var err error
		c, err = scanChangeset(tx.QueryRowContext(ctx, update, id, string(state)))
		if errors.Is(err, sql.ErrNoRows) {
			return storage.ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = writeReviewEvents(ctx, tx, osmdata.ReviewEvent{Changeset: id, Kind: osmdata.StateEvent(state),
			ActorUID: note.ActorUID, Scope: note.Scope, Comment: note.Comment, State: state})
		return err
	})
	if err != nil {
		return osmdata.Changeset{}, err
	}
	return c, nil
}

// BackdateChangeset moves a changeset's times d (whole seconds) into the
// past, as if it had been opened and last used d earlier. It is for
// tests and operations (replaying a timeline); it is not part of
// storage.Editing.
func (s *Store) BackdateChangeset(ctx context.Context, id int64, d time.Duration) error {
	return s.writeTx(ctx, fmt.Sprintf("backdate changeset %d", id), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE changesets SET created_at = created_at - ?2,
			opened_at = opened_at - ?2, closed_at = closed_at - ?2 WHERE id = ?1`, id, int64(d/time.Second))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, storage.ErrNotFound)
		}
		return nil
	})
}

// Changesets answers GET /api/0.6/changesets, newest first.
func (s *Store) Changesets(ctx context.Context, q storage.ChangesetQuery) ([]osmdata.Changeset, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "?" + strconv.Itoa(len(args))
	}
	if len(q.IDs) > 0 {
		where = append(where, "id IN (SELECT value FROM json_each("+arg(idsJSON(q.IDs))+"))")
	}
	if q.UID != 0 {
		where = append(where, "user_id = "+arg(q.UID))
	}
	if q.DisplayName != "" {
		where = append(where, "user_id IN (SELECT id FROM users WHERE display_name = "+arg(q.DisplayName)+")")
	}
	if q.Box != nil {
		// openstreetmap-website's ChangesetsController: the changeset's
		// box overlaps the query's, edges excluded.
		where = append(where, "min_lon < "+arg(q.Box.MaxLon)+" AND max_lon > "+arg(q.Box.MinLon)+
			" AND min_lat < "+arg(q.Box.MaxLat)+" AND max_lat > "+arg(q.Box.MinLat))
	}
	if !q.ClosedAfter.IsZero() {
		// Whole seconds: closed at or after a fractional time means from
		// the next second.
		after := q.ClosedAfter.Unix()
		if q.ClosedAfter.Nanosecond() > 0 {
			after++
		}
		where = append(where, "closed_at >= "+arg(after))
	}
	if !q.CreatedBefore.IsZero() {
		where = append(where, "created_at <= "+arg(q.CreatedBefore.Unix()))
	}
	if q.OnlyOpen {
		where = append(where, isOpen)
	}
	if q.OnlyClosed {
		where = append(where, "NOT "+isOpen)
	}
	if len(q.ReviewStates) > 0 {
		states := make([]string, len(q.ReviewStates))
		for i, st := range q.ReviewStates {
			states[i] = string(st)
		}
		where = append(where, "review_state IN (SELECT value FROM json_each("+arg(stringsJSON(states))+"))")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	query := `SELECT ` + changesetColumns + ` FROM changesets`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY created_at DESC, id DESC LIMIT " + arg(limit)
	rows, err := s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("changesets: %w", err)
	}
	defer rows.Close()
	var out []osmdata.Changeset
	for rows.Next() {
		c, err := scanChangeset(rows)
		if err != nil {
			return nil, fmt.Errorf("changesets: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("changesets: %w", err)
	}
	return out, nil
}

// ChangesetParents lists the changesets id builds on.
func (s *Store) ChangesetParents(ctx context.Context, id int64) ([]int64, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT parent FROM changeset_parents WHERE child = ? ORDER BY parent`, id)
	if err != nil {
		return nil, fmt.Errorf("parents of changeset %d: %w", id, err)
	}
	parents, err := scanIDs(rows)
	if err != nil {
		return nil, fmt.Errorf("parents of changeset %d: %w", id, err)
	}
	return parents, nil
}
