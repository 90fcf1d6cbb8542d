package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.Reviews = (*Store)(nil)

// withExtra scans a changeset row followed by more columns: scanChangeset
// reads the first ones, extra receives the rest.
type withExtra struct {
	row   scanner
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra...)...) }

// reviewed reads changeset id inside tx, whose BEGIN IMMEDIATE holds the
// write lock: nothing else moves it until the action commits.
func reviewed(ctx context.Context, tx *sql.Tx, id int64) (c osmdata.Changeset, approvalsRequired int, validated bool, err error) {
	c, err = scanChangeset(withExtra{tx.QueryRowContext(ctx, `SELECT `+changesetColumns+`, approvals_required,
			EXISTS (SELECT 1 FROM changeset_validations v WHERE v.changeset_id = changesets.id)
		FROM changesets WHERE id = ?`, id), []any{&approvalsRequired, &validated}})
	if errors.Is(err, sql.ErrNoRows) {
		return c, 0, false, fmt.Errorf("changeset %d: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return c, 0, false, fmt.Errorf("read changeset %d: %w", id, err)
	}
	return c, approvalsRequired, validated, nil
}

// moveReviewState moves the changeset to state with the very update
// SetReviewState makes (changes_requested reopens it).
func moveReviewState(ctx context.Context, tx *sql.Tx, id int64, state osmdata.ReviewState) (osmdata.Changeset, error) {
	update, err := reviewStateUpdate(state)
	if err != nil {
		return osmdata.Changeset{}, fmt.Errorf("changeset %d: %w", id, err)
	}
	c, err := scanChangeset(tx.QueryRowContext(ctx, update, id, string(state)))
	if err != nil {
		return c, fmt.Errorf("move changeset %d to %s: %w", id, state, err)
	}
	return c, nil
}

// ceilUnix is t in whole seconds rounded up: a column of whole seconds is
// before t exactly when it is before ceilUnix(t).
func ceilUnix(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

// SaveValidation replaces the changeset's validation and findings in one
// write transaction.
func (s *Store) SaveValidation(ctx context.Context, changeset int64, v storage.Validation) error {
	return s.writeTx(ctx, fmt.Sprintf("save the validation of changeset %d", changeset), func(tx *sql.Tx) error {
		if _, _, _, err := reviewed(ctx, tx, changeset); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO changeset_validations (changeset_id, risk, computed_at) VALUES (?, ?, unixepoch())
			ON CONFLICT (changeset_id) DO UPDATE SET risk = excluded.risk, computed_at = excluded.computed_at`, changeset, v.Risk); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM changeset_findings WHERE changeset_id = ?`, changeset); err != nil {
			return err
		}
		if len(v.Findings) == 0 {
			return nil
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO changeset_findings (changeset_id, ordinal, rule, severity, elements, message, lon, lat)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, f := range v.Findings {
			var lon, lat sql.NullFloat64
			if f.HasLocation {
				lon, lat = sql.NullFloat64{Float64: f.Lon, Valid: true}, sql.NullFloat64{Float64: f.Lat, Valid: true}
			}
			if _, err := stmt.ExecContext(ctx, changeset, i+1, f.Rule, f.Severity, storage.EncodeFindingElements(f.Elements), f.Message, lon, lat); err != nil {
				return fmt.Errorf("finding %d (%s): %w", i+1, f.Rule, err)
			}
		}
		return nil
	})
}

// Validation reads the validation and its findings in one statement, so
// that a concurrent SaveValidation shows whole or not at all.
func (s *Store) Validation(ctx context.Context, changeset int64) (storage.Validation, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT v.risk, v.computed_at, f.rule, f.severity, f.elements, f.message, f.lon, f.lat
		FROM changeset_validations v LEFT JOIN changeset_findings f ON f.changeset_id = v.changeset_id
		WHERE v.changeset_id = ? ORDER BY f.ordinal`, changeset)
	if err != nil {
		return storage.Validation{}, fmt.Errorf("validation of changeset %d: %w", changeset, err)
	}
	defer rows.Close()
	var v storage.Validation
	for rows.Next() {
		var (
			at                                int64
			rule, severity, elements, message sql.NullString
			lon, lat                          sql.NullFloat64
		)
		if err := rows.Scan(&v.Risk, &at, &rule, &severity, &elements, &message, &lon, &lat); err != nil {
			return storage.Validation{}, fmt.Errorf("validation of changeset %d: %w", changeset, err)
		}
		v.At = time.Unix(at, 0).UTC()
		if !rule.Valid {
			continue
		}
		f := storage.Finding{Rule: rule.String, Severity: severity.String, Message: message.String}
		if f.Elements, err = storage.DecodeFindingElements(elements.String); err != nil {
			return storage.Validation{}, fmt.Errorf("validation of changeset %d: %w", changeset, err)
		}
		if lon.Valid && lat.Valid {
			f.Lon, f.Lat, f.HasLocation = lon.Float64, lat.Float64, true
		}
		v.Findings = append(v.Findings, f)
	}
	if err := rows.Err(); err != nil {
		return storage.Validation{}, fmt.Errorf("validation of changeset %d: %w", changeset, err)
	}
	return v, nil
}

// SetReviewScopes replaces the scopes of the submission and forgets
// every approval of an earlier one.
func (s *Store) SetReviewScopes(ctx context.Context, changeset int64, scopes []string, approvalsRequired int) error {
	return s.writeTx(ctx, fmt.Sprintf("set the review scopes of changeset %d", changeset), func(tx *sql.Tx) error {
		if _, _, _, err := reviewed(ctx, tx, changeset); err != nil {
			return err
		}
		for _, stmt := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM changeset_scopes WHERE changeset_id = ?`, []any{changeset}},
			{`DELETE FROM changeset_approvals WHERE changeset_id = ?`, []any{changeset}},
			{`INSERT OR IGNORE INTO changeset_scopes (changeset_id, scope) SELECT ?, value FROM json_each(?)`,
				[]any{changeset, stringsJSON(scopes)}},
			{`UPDATE changesets SET approvals_required = ? WHERE id = ?`, []any{max(approvalsRequired, 1), changeset}},
		} {
			if _, err := tx.ExecContext(ctx, stmt.sql, stmt.args...); err != nil {
				return err
			}
		}
		return nil
	})
}

func scanScopes(rows *sql.Rows, err error) ([]storage.ScopeApproval, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storage.ScopeApproval
	for rows.Next() {
		var sc storage.ScopeApproval
		if err := rows.Scan(&sc.Scope, &sc.ApprovedBy); err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, rows.Err()
}

// ReviewScopes lists the scopes by name.
func (s *Store) ReviewScopes(ctx context.Context, changeset int64) ([]storage.ScopeApproval, error) {
	out, err := scanScopes(s.reader.QueryContext(ctx, `SELECT scope, approved_by FROM changeset_scopes
		WHERE changeset_id = ? ORDER BY scope`, changeset))
	if err != nil {
		return nil, fmt.Errorf("review scopes of changeset %d: %w", changeset, err)
	}
	return out, nil
}

// Assign records the assignee and the assigned event.
func (s *Store) Assign(ctx context.Context, changeset, reviewer int64) (osmdata.ReviewEvent, error) {
	var written []osmdata.ReviewEvent
	err := s.inReviewTx(ctx, fmt.Sprintf("assign changeset %d to %d", changeset, reviewer), func(tx *sql.Tx) error {
		c, _, validated, err := reviewed(ctx, tx, changeset)
		if err != nil {
			return err
		}
		if err := storage.CheckReviewable(c, validated, reviewer); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE changesets SET assignee = ? WHERE id = ?`, reviewer, changeset); err != nil {
			return err
		}
		written, err = writeReviewEvents(ctx, tx, osmdata.ReviewEvent{Changeset: changeset, Kind: osmdata.EventAssigned,
			ActorUID: reviewer, State: c.ReviewState})
		return err
	})
	if err != nil {
		return osmdata.ReviewEvent{}, err
	}
	return written[0], nil
}

// Decide records a decision; see storage.Reviews.
func (s *Store) Decide(ctx context.Context, d storage.Decision) (osmdata.Changeset, error) {
	var c osmdata.Changeset
	err := s.inReviewTx(ctx, fmt.Sprintf("%s on changeset %d by %d", d.Kind, d.Changeset, d.Reviewer), func(tx *sql.Tx) error {
		var ev osmdata.ReviewEvent
		var err error
		if c, ev, err = decide(ctx, tx, d); err != nil {
			return err
		}
		_, err = writeReviewEvents(ctx, tx, ev)
		return err
	})
	if err != nil {
		return osmdata.Changeset{}, err
	}
	return c, nil
}

// decide checks and records d on its changeset (Decide, and the approval
// of ApprovePart). It returns the changeset after the decision and the
// decision's event, for the caller to write with any other events of the
// transaction.
func decide(ctx context.Context, tx *sql.Tx, d storage.Decision) (osmdata.Changeset, osmdata.ReviewEvent, error) {
	current, required, validated, err := reviewed(ctx, tx, d.Changeset)
	if err != nil {
		return osmdata.Changeset{}, osmdata.ReviewEvent{}, err
	}
	if err := storage.CheckReviewable(current, validated, d.Reviewer); err != nil {
		return osmdata.Changeset{}, osmdata.ReviewEvent{}, err
	}
	ev := osmdata.ReviewEvent{Changeset: d.Changeset, Kind: d.Kind, ActorUID: d.Reviewer, Comment: d.Comment,
		Scope: strings.Join(d.Scopes, ",")}
	state, err := storage.DecisionState(d.Kind)
	if err != nil {
		return osmdata.Changeset{}, osmdata.ReviewEvent{}, err
	}
	if state == osmdata.ReviewApproved {
		counted, done, err := approveScopes(ctx, tx, d, required)
		if err != nil {
			return osmdata.Changeset{}, osmdata.ReviewEvent{}, err
		}
		ev.Scope = strings.Join(counted, ",")
		if !done {
			ev.State = current.ReviewState
			return current, ev, nil
		}
	}
	c, err := moveReviewState(ctx, tx, d.Changeset, state)
	if err != nil {
		return osmdata.Changeset{}, osmdata.ReviewEvent{}, err
	}
	ev.State = state
	return c, ev, nil
}

// approveScopes records d's approval: the needed scopes it covers (all of
// them when d names none) and the reviewer among the distinct approvers.
// It returns the scopes it counted for (none when d named none) and
// whether the changeset is now approved.
func approveScopes(ctx context.Context, tx *sql.Tx, d storage.Decision, required int) (counted []string, done bool, err error) {
	needed, err := scanScopes(tx.QueryContext(ctx, `SELECT scope, approved_by FROM changeset_scopes
		WHERE changeset_id = ? ORDER BY scope`, d.Changeset))
	if err != nil {
		return nil, false, fmt.Errorf("read the scopes: %w", err)
	}
	waiting := 0
	for _, sc := range needed {
		covered := len(d.Scopes) == 0 || slices.Contains(d.Scopes, sc.Scope)
		if covered && len(d.Scopes) > 0 {
			counted = append(counted, sc.Scope)
		}
		if sc.ApprovedBy == 0 && !covered {
			waiting++
		}
	}
	if len(needed) > 0 && len(d.Scopes) > 0 && len(counted) == 0 {
		return nil, false, fmt.Errorf("changeset %d needs none of the scopes %s: %w",
			d.Changeset, strings.Join(d.Scopes, ", "), storage.ErrReviewState)
	}
	if len(needed) > 0 {
		mark := `UPDATE changeset_scopes SET approved_by = ? WHERE changeset_id = ? AND approved_by = 0`
		args := []any{d.Reviewer, d.Changeset}
		if len(d.Scopes) > 0 {
			mark += ` AND scope IN (SELECT value FROM json_each(?))`
			args = append(args, stringsJSON(counted))
		}
		if _, err := tx.ExecContext(ctx, mark, args...); err != nil {
			return nil, false, fmt.Errorf("mark the scopes approved: %w", err)
		}
	}
	var approvers int
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO changeset_approvals (changeset_id, reviewer_id) VALUES (?, ?)`,
		d.Changeset, d.Reviewer); err != nil {
		return nil, false, fmt.Errorf("record the approver: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM changeset_approvals WHERE changeset_id = ?`, d.Changeset).Scan(&approvers); err != nil {
		return nil, false, fmt.Errorf("count the approvers: %w", err)
	}
	return counted, waiting == 0 && approvers >= max(required, 1), nil
}

// Withdraw reopens the author's submitted or approved changeset.
func (s *Store) Withdraw(ctx context.Context, changeset, author int64) (osmdata.Changeset, error) {
	var c osmdata.Changeset
	err := s.inReviewTx(ctx, fmt.Sprintf("withdraw changeset %d", changeset), func(tx *sql.Tx) error {
		current, _, _, err := reviewed(ctx, tx, changeset)
		if err != nil {
			return err
		}
		if current.UID != author {
			return fmt.Errorf("changeset %d of user %d, not %d: %w", changeset, current.UID, author, storage.ErrNotOwner)
		}
		if current.ReviewState != osmdata.ReviewSubmitted && current.ReviewState != osmdata.ReviewApproved {
			return fmt.Errorf("changeset %d is %q, neither submitted nor approved: %w", changeset, current.ReviewState, storage.ErrReviewState)
		}
		if c, err = moveReviewState(ctx, tx, changeset, osmdata.ReviewChangesRequested); err != nil {
			return err
		}
		_, err = writeReviewEvents(ctx, tx, osmdata.ReviewEvent{Changeset: changeset, Kind: osmdata.EventWithdrawn,
			ActorUID: author, State: c.ReviewState})
		return err
	})
	if err != nil {
		return osmdata.Changeset{}, err
	}
	return c, nil
}

// jsonTagMatch is true when the JSON tag list col ([["k","v"],...]) has
// the key key and, unless value is ”, that value.
func jsonTagMatch(col, key, value string) string {
	return `EXISTS (SELECT 1 FROM json_each(` + col + `) AS t
		WHERE json_extract(t.value, '$[0]') = ` + key + ` AND (` + value + ` = '' OR json_extract(t.value, '$[1]') = ` + value + `))`
}

// ReviewQueue is one statement: the filters, the order and the page, with
// each item's rules, finding counts and scopes read by subqueries of the
// page's rows only.
func (s *Store) ReviewQueue(ctx context.Context, f storage.QueueFilter) ([]storage.QueueItem, error) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "?" + strconv.Itoa(len(args))
	}
	states := []string{string(osmdata.ReviewSubmitted)}
	if len(f.States) > 0 {
		states = states[:0]
		for _, st := range f.States {
			states = append(states, string(st))
		}
	}
	where := []string{"c.review_state IN (SELECT value FROM json_each(" + arg(stringsJSON(states)) + "))"}
	if f.MinRisk != 0 {
		where = append(where, "coalesce(v.risk, 0) >= "+arg(f.MinRisk))
	}
	if f.Rule != "" {
		where = append(where, "EXISTS (SELECT 1 FROM changeset_findings rf WHERE rf.changeset_id = c.id AND rf.rule = "+arg(f.Rule)+")")
	}
	if f.Box != nil {
		// The changeset's box meets the filter's, edges included.
		where = append(where, "c.min_lat <= "+arg(f.Box.MaxLat)+" AND c.max_lat >= "+arg(f.Box.MinLat)+
			" AND c.min_lon <= "+arg(f.Box.MaxLon)+" AND c.max_lon >= "+arg(f.Box.MinLon))
	}
	if f.TagKey != "" {
		key, value := arg(f.TagKey), arg(f.TagValue)
		// New tags of the pending content; old tags are the current
		// authoritative version of what it modifies or deletes.
		where = append(where, `EXISTS (SELECT 1 FROM pending_changes p WHERE p.changeset_id = c.id AND (`+
			jsonTagMatch("p.tags", key, value)+` OR (p.action <> `+strconv.Itoa(int(storage.Create))+` AND CASE p.elem_type
				WHEN 1 THEN EXISTS (SELECT 1 FROM nodes e WHERE e.id = p.elem_id AND e.is_current AND `+jsonTagMatch("e.tags", key, value)+`)
				WHEN 2 THEN EXISTS (SELECT 1 FROM ways e WHERE e.id = p.elem_id AND e.is_current AND `+jsonTagMatch("e.tags", key, value)+`)
				ELSE EXISTS (SELECT 1 FROM relations e WHERE e.id = p.elem_id AND e.is_current AND `+jsonTagMatch("e.tags", key, value)+`)
			END)))`)
	}
	if f.Contributor != 0 {
		where = append(where, "c.user_id = "+arg(f.Contributor))
	}
	if !f.SubmittedBefore.IsZero() {
		where = append(where, "c.closed_at < "+arg(ceilUnix(f.SubmittedBefore)))
	}
	order := "c.closed_at, c.id"
	if len(f.Scopes) > 0 {
		mine := "EXISTS (SELECT 1 FROM changeset_scopes ms WHERE ms.changeset_id = c.id AND ms.approved_by = 0 AND ms.scope IN (SELECT value FROM json_each(" +
			arg(stringsJSON(f.Scopes)) + ")))"
		if f.OnlyScopes {
			where = append(where, mine)
		} else {
			order = mine + " DESC, " + order
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	query := `SELECT ` + changesetColumns + `, coalesce(v.risk, 0), c.assignee, coalesce(c.escalated_submission = c.closed_at, 0),
			(SELECT json_group_array(DISTINCT fr.rule) FROM changeset_findings fr WHERE fr.changeset_id = c.id),
			(SELECT count(*) FROM changeset_findings fc WHERE fc.changeset_id = c.id AND fc.severity = 'error'),
			(SELECT count(*) FROM changeset_findings fc WHERE fc.changeset_id = c.id AND fc.severity <> 'error'),
			(SELECT json_group_array(json_array(sc.scope, sc.approved_by)) FROM changeset_scopes sc WHERE sc.changeset_id = c.id)
		FROM changesets c LEFT JOIN changeset_validations v ON v.changeset_id = c.id
		WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY ` + order + `
		LIMIT ` + arg(limit)
	rows, err := s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("review queue: %w", err)
	}
	defer rows.Close()
	var items []storage.QueueItem
	for rows.Next() {
		var (
			it            storage.QueueItem
			rules, scopes string
		)
		it.Changeset, err = scanChangeset(withExtra{rows, []any{&it.Risk, &it.Assignee, &it.Escalated, &rules,
			&it.Errors, &it.Warnings, &scopes}})
		if err != nil {
			return nil, fmt.Errorf("review queue: %w", err)
		}
		it.SubmittedAt = it.Changeset.ClosedAt
		if err := json.Unmarshal([]byte(rules), &it.Rules); err != nil {
			return nil, fmt.Errorf("review queue: rules of changeset %d: %w", it.Changeset.ID, err)
		}
		slices.Sort(it.Rules)
		var pairs [][2]json.RawMessage
		if err := json.Unmarshal([]byte(scopes), &pairs); err != nil {
			return nil, fmt.Errorf("review queue: scopes of changeset %d: %w", it.Changeset.ID, err)
		}
		for _, p := range pairs {
			var sc storage.ScopeApproval
			if err := errors.Join(json.Unmarshal(p[0], &sc.Scope), json.Unmarshal(p[1], &sc.ApprovedBy)); err != nil {
				return nil, fmt.Errorf("review queue: scopes of changeset %d: %w", it.Changeset.ID, err)
			}
			it.Scopes = append(it.Scopes, sc)
		}
		slices.SortFunc(it.Scopes, func(a, b storage.ScopeApproval) int { return strings.Compare(a.Scope, b.Scope) })
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("review queue: %w", err)
	}
	return items, nil
}

// EscalateWaiting marks the submissions waiting since before olderThan.
// A submission is marked by its own closing time, so a resubmission
// (which closes later) waits afresh.
func (s *Store) EscalateWaiting(ctx context.Context, olderThan time.Time) ([]int64, error) {
	var ids []int64
	err := s.inReviewTx(ctx, "escalate waiting changesets", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE changesets SET escalated_submission = closed_at
			WHERE review_state = 'submitted' AND closed_at < ? AND escalated_submission IS NOT closed_at
			RETURNING id`, ceilUnix(olderThan))
		if err != nil {
			return err
		}
		if ids, err = scanIDs(rows); err != nil || len(ids) == 0 {
			return err
		}
		slices.Sort(ids)
		events := make([]osmdata.ReviewEvent, len(ids))
		for i, id := range ids {
			events[i] = osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventEscalated, State: osmdata.ReviewSubmitted}
		}
		_, err = writeReviewEvents(ctx, tx, events...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// SubscribeChangeset subscribes uid; subscribing twice is one
// subscription.
func (s *Store) SubscribeChangeset(ctx context.Context, changeset, uid int64) error {
	return s.writeTx(ctx, fmt.Sprintf("subscribe user %d to changeset %d", uid, changeset), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO changeset_subscriptions (changeset_id, user_id)
			SELECT id, ? FROM changesets WHERE id = ?`, uid, changeset)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		// Nothing inserted: already subscribed, or no such changeset.
		var found int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM changesets WHERE id = ?`, changeset).Scan(&found); err != nil {
			return err
		}
		if found == 0 {
			return storage.ErrNotFound
		}
		return nil
	})
}

// UnsubscribeChangeset ends uid's subscription, if any.
func (s *Store) UnsubscribeChangeset(ctx context.Context, changeset, uid int64) error {
	return s.writeTx(ctx, fmt.Sprintf("unsubscribe user %d from changeset %d", uid, changeset), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM changeset_subscriptions WHERE changeset_id = ? AND user_id = ?`, changeset, uid)
		return err
	})
}

// Subscribers lists the subscribed user ids in order.
func (s *Store) Subscribers(ctx context.Context, changeset int64) ([]int64, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT user_id FROM changeset_subscriptions WHERE changeset_id = ? ORDER BY user_id`, changeset)
	if err != nil {
		return nil, fmt.Errorf("subscribers of changeset %d: %w", changeset, err)
	}
	ids, err := scanIDs(rows)
	if err != nil {
		return nil, fmt.Errorf("subscribers of changeset %d: %w", changeset, err)
	}
	return ids, nil
}

// MergedWithoutRejection counts from the review log: the author's merged
// changesets whose merged event follows the last rejected event of any
// of the author's changesets. Imported changesets have no event and are
// older than any rejection: they count while the author has none.
func (s *Store) MergedWithoutRejection(ctx context.Context, author int64) (int, error) {
	var n int
	err := s.reader.QueryRowContext(ctx, `WITH mine AS (SELECT id, review_state FROM changesets WHERE user_id = ?1),
			last_rejection AS (
				SELECT coalesce(max(e.seq), 0) AS seq FROM review_events e JOIN mine ON e.changeset_id = mine.id
				WHERE e.kind = 'rejected')
		SELECT count(*) FROM mine, last_rejection r
		WHERE mine.review_state = 'merged' AND (r.seq = 0 OR EXISTS (
			SELECT 1 FROM review_events e WHERE e.changeset_id = mine.id AND e.kind = 'merged' AND e.seq > r.seq))`,
		author).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("merged changesets of user %d since a rejection: %w", author, err)
	}
	return n, nil
}
