package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Changeset times are the database's, in whole seconds as OSM shows them,
// so that every process agrees on when a changeset closes.
const dbNow = `date_trunc('second', now())`

var (
	idleInterval   = `interval '` + strconv.Itoa(int(storage.ChangesetIdle/time.Second)) + ` seconds'`
	maxAgeInterval = `interval '` + strconv.Itoa(int(storage.ChangesetMaxAge/time.Second)) + ` seconds'`
	maxChanges     = strconv.Itoa(storage.MaxChangesetChanges)
	// nextClose is closed_at after activity: an hour idle, but never past
	// the end of the open window (OSM's update_closed_at).
	nextClose = `least(` + dbNow + ` + ` + idleInterval + `, coalesce(opened_at, created_at) + ` + maxAgeInterval + `)`
	// isOpen is OSM's "open": not closed, not past its closing time, not
	// full. The sweeper turns the last two into a closed is_open.
	isOpen = `(is_open AND closed_at > now() AND num_changes < ` + maxChanges + `)`
)

// changesetColumns is what scanChangeset reads.
var changesetColumns = `id, user_id, user_name, created_at, closed_at, ` + isOpen + `, tags,
	num_changes, min_lat, min_lon, max_lat, max_lon, review_state`

type scanner interface{ Scan(dest ...any) error }

func scanChangeset(row scanner) (osmdata.Changeset, error) {
	var (
		c                              osmdata.Changeset
		closed                         *time.Time
		tags                           []string
		changes                        int32
		minLat, minLon, maxLat, maxLon *int32
		review                         string
	)
	if err := row.Scan(&c.ID, &c.UID, &c.User, &c.CreatedAt, &closed, &c.Open, &tags,
		&changes, &minLat, &minLon, &maxLat, &maxLon, &review); err != nil {
		return osmdata.Changeset{}, err
	}
	c.CreatedAt = c.CreatedAt.UTC()
	if closed != nil {
		c.ClosedAt = closed.UTC()
	}
	var err error
	if c.Tags, err = unflattenTags(tags); err != nil {
		return osmdata.Changeset{}, fmt.Errorf("changeset %d: %w", c.ID, err)
	}
	c.NumChanges = int(changes)
	if minLat != nil && minLon != nil && maxLat != nil && maxLon != nil {
		c.HasBox = true
		c.Box = osmdata.Box{MinLat: *minLat, MinLon: *minLon, MaxLat: *maxLat, MaxLon: *maxLon}
	}
	c.ReviewState = osmdata.ReviewState(review)
	return c, nil
}

func tagArray(tags osmdata.Tags) []string {
	if len(tags) == 0 {
		return nil
	}
	return flattenTags(make([]string, 0, 2*len(tags)), tags)
}

// CreateChangeset opens a changeset with the next changeset id.
func (s *Store) CreateChangeset(ctx context.Context, c storage.NewChangeset) (osmdata.Changeset, error) {
	cs, err := scanChangeset(s.pool.QueryRow(ctx, `INSERT INTO changesets
			(id, user_id, user_name, created_at, opened_at, closed_at, is_open, tags, review_state)
		VALUES (nextval('changeset_id_seq'), $1, $2, `+dbNow+`, `+dbNow+`, `+dbNow+` + `+idleInterval+`, true, $3, '')
		RETURNING `+changesetColumns, c.UID, c.User, tagArray(c.Tags)))
	if err != nil {
		return osmdata.Changeset{}, fmt.Errorf("create changeset: %w", err)
	}
	return cs, nil
}

// lockOwnChangeset locks changeset id for the rest of tx and checks that
// uid owns it and that it is open.
func lockOwnChangeset(ctx context.Context, tx pgx.Tx, id, uid int64) (osmdata.Changeset, error) {
	c, err := scanChangeset(tx.QueryRow(ctx, `SELECT `+changesetColumns+` FROM changesets WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("changeset %d: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("lock changeset %d: %w", id, err)
	}
	if c.UID != uid {
		return c, fmt.Errorf("changeset %d of user %d, not %d: %w", id, c.UID, uid, storage.ErrNotOwner)
	}
	if !c.Open {
		return c, fmt.Errorf("changeset %d closed at %s: %w", id, c.ClosedAt.Format(time.RFC3339), storage.ErrChangesetClosed)
	}
	return c, nil
}

// changeOwnChangeset runs update (an UPDATE … WHERE id = $1 RETURNING
// changesetColumns, with args after the id) on an open changeset of uid.
func (s *Store) changeOwnChangeset(ctx context.Context, id, uid int64, what, update string, args ...any) (osmdata.Changeset, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return osmdata.Changeset{}, fmt.Errorf("%s: begin: %w", what, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := lockOwnChangeset(ctx, tx, id, uid); err != nil {
		return osmdata.Changeset{}, fmt.Errorf("%s: %w", what, err)
	}
	c, err := scanChangeset(tx.QueryRow(ctx, update, append([]any{id}, args...)...))
	if err != nil {
		return osmdata.Changeset{}, fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return osmdata.Changeset{}, fmt.Errorf("%s: commit: %w", what, err)
	}
	return c, nil
}

// UpdateChangesetTags replaces the tags; like any change of an open
// changeset, it moves closed_at (OSM's update_closed_at).
func (s *Store) UpdateChangesetTags(ctx context.Context, id, uid int64, tags osmdata.Tags) (osmdata.Changeset, error) {
	return s.changeOwnChangeset(ctx, id, uid, "update changeset tags",
		`UPDATE changesets SET tags = $2, closed_at = `+nextClose+` WHERE id = $1 RETURNING `+changesetColumns,
		tagArray(tags))
}

// CloseChangeset closes and submits, with the submitted event by the
// author.
func (s *Store) CloseChangeset(ctx context.Context, id, uid int64) (osmdata.Changeset, error) {
	var c osmdata.Changeset
	err := s.inReviewTx(ctx, "close changeset", func(tx pgx.Tx) error {
		if _, err := lockOwnChangeset(ctx, tx, id, uid); err != nil {
			return err
		}
		var err error
		c, err = scanChangeset(tx.QueryRow(ctx, `UPDATE changesets
			SET is_open = false, closed_at = `+dbNow+`, review_state = 'submitted', policy_decided = false
			WHERE id = $1 RETURNING `+changesetColumns, id))
		if err != nil {
			return err
		}
		if err := forgetSubmission(ctx, tx, []int64{id}); err != nil {
			return err
		}
		_, err = s.writeReviewEvents(ctx, tx, osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventSubmitted,
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
func forgetSubmission(ctx context.Context, tx pgx.Tx, ids []int64) error {
	for _, stmt := range []string{
		`UPDATE changeset_scopes SET approved_by = 0 WHERE changeset_id = ANY($1) AND approved_by <> 0`,
		`DELETE FROM changeset_approvals WHERE changeset_id = ANY($1)`,
		`DELETE FROM changeset_findings WHERE changeset_id = ANY($1)`,
		`DELETE FROM changeset_validations WHERE changeset_id = ANY($1)`,
	} {
		if _, err := tx.Exec(ctx, stmt, ids); err != nil {
			return fmt.Errorf("forget the review of the earlier submission: %w", err)
		}
	}
	return nil
}

// CloseDueChangesets closes and submits the open changesets past their
// closing time or full. SKIP LOCKED leaves a changeset that an upload
// holds (it may move closed_at) to a later sweep, and lets sweepers of
// several processes run at once without closing anything twice.
//
// Their submitted events (by the system) are numbered in changeset id
// order by one statement, after the changesets are locked.
func (s *Store) CloseDueChangesets(ctx context.Context) ([]int64, error) {
	var ids []int64
	err := s.inReviewTx(ctx, "close due changesets", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `WITH due AS (
				SELECT id FROM changesets
				WHERE is_open AND (closed_at <= now() OR num_changes >= `+maxChanges+`)
				FOR UPDATE SKIP LOCKED)
			UPDATE changesets c SET is_open = false, closed_at = least(c.closed_at, `+dbNow+`), review_state = 'submitted', policy_decided = false
			FROM due WHERE c.id = due.id
			RETURNING c.id`)
		if err != nil {
			return err
		}
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil || len(ids) == 0 {
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
		_, err = s.writeReviewEvents(ctx, tx, events...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// reviewStateUpdate is the UPDATE … WHERE id = $1 RETURNING
// changesetColumns that moves a changeset to state ($2): SetReviewState's,
// and the review decisions' (reviews.go), so that both reopen alike.
func reviewStateUpdate(state osmdata.ReviewState) (string, error) {
	switch state {
	case osmdata.ReviewNone:
		return "", errors.New("the state cannot go back to none")
	case osmdata.ReviewChangesRequested, osmdata.ReviewConflicted:
		return `UPDATE changesets SET review_state = $2, policy_decided = false, is_open = true, opened_at = ` + dbNow + `,
			closed_at = ` + dbNow + ` + ` + idleInterval + ` WHERE id = $1 RETURNING ` + changesetColumns, nil
	}
	return `UPDATE changesets SET review_state = $2, policy_decided = false, is_open = false,
			closed_at = CASE WHEN is_open THEN least(closed_at, ` + dbNow + `) ELSE closed_at END
			WHERE id = $1 RETURNING ` + changesetColumns, nil
}

// SetReviewState records a review decision and its event; see
// storage.Editing.
func (s *Store) SetReviewState(ctx context.Context, id int64, state osmdata.ReviewState, note storage.ReviewNote) (osmdata.Changeset, error) {
	update, err := reviewStateUpdate(state)
	if err != nil {
		return osmdata.Changeset{}, fmt.Errorf("set review state of changeset %d: %w", id, err)
	}
	var c osmdata.Changeset
	err = s.inReviewTx(ctx, fmt.Sprintf("set review state of changeset %d", id), func(tx pgx.Tx) error {
		var err error
		c, err = scanChangeset(tx.QueryRow(ctx, update, id, string(state)))
		if errors.Is(err, pgx.ErrNoRows) {
			return storage.ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = s.writeReviewEvents(ctx, tx, osmdata.ReviewEvent{Changeset: id, Kind: osmdata.StateEvent(state),
			ActorUID: note.ActorUID, Scope: note.Scope, Comment: note.Comment, State: state})
		return err
	})
	if err != nil {
		return osmdata.Changeset{}, err
	}
	return c, nil
}

// BackdateChangeset moves a changeset's times d into the past, as if it
// had been opened and last used d earlier. It is for tests and
// operations (replaying a timeline); it is not part of storage.Editing.
func (s *Store) BackdateChangeset(ctx context.Context, id int64, d time.Duration) error {
	tag, err := s.pool.Exec(ctx, `UPDATE changesets SET created_at = created_at - $2 * interval '1 microsecond',
			opened_at = opened_at - $2 * interval '1 microsecond', closed_at = closed_at - $2 * interval '1 microsecond'
		WHERE id = $1`, id, d.Microseconds())
	if err != nil {
		return fmt.Errorf("backdate changeset %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("backdate changeset %d: %w", id, storage.ErrNotFound)
	}
	return nil
}

// Changesets answers GET /api/0.6/changesets, newest first.
func (s *Store) Changesets(ctx context.Context, q storage.ChangesetQuery) ([]osmdata.Changeset, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if len(q.IDs) > 0 {
		where = append(where, "id = ANY("+arg(q.IDs)+"::bigint[])")
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
		where = append(where, "closed_at >= "+arg(q.ClosedAfter))
	}
	if !q.CreatedBefore.IsZero() {
		where = append(where, "created_at <= "+arg(q.CreatedBefore))
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
		where = append(where, "review_state = ANY("+arg(states)+"::text[])")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	sql := `SELECT ` + changesetColumns + ` FROM changesets`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY created_at DESC, id DESC LIMIT " + arg(limit)
	rows, err := s.pool.Query(ctx, sql, args...)
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
	rows, err := s.pool.Query(ctx, `SELECT parent FROM changeset_parents WHERE child = $1 ORDER BY parent`, id)
	if err != nil {
		return nil, fmt.Errorf("parents of changeset %d: %w", id, err)
	}
	parents, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("parents of changeset %d: %w", id, err)
	}
	return parents, nil
}
