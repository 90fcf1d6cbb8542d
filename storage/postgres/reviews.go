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

var _ storage.Reviews = (*Store)(nil)

// withExtra scans a changeset row followed by more columns: scanChangeset
// reads the first ones, extra receives the rest.
type withExtra struct {
	row   scanner
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra...)...) }

// lockReviewed locks changeset id for the rest of tx, before anything
// else the action writes: the review event counter is locked after it
// (writeReviewEvents), and a merge or another decision waits for it.
func lockReviewed(ctx context.Context, tx pgx.Tx, id int64) (c osmdata.Changeset, approvalsRequired int, validated bool, err error) {
	c, err = scanChangeset(withExtra{tx.QueryRow(ctx, `SELECT `+changesetColumns+`, approvals_required,
			EXISTS (SELECT 1 FROM changeset_validations v WHERE v.changeset_id = changesets.id)
		FROM changesets WHERE id = $1 FOR UPDATE`, id), []any{&approvalsRequired, &validated}})
	if errors.Is(err, pgx.ErrNoRows) {
		return c, 0, false, fmt.Errorf("changeset %d: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return c, 0, false, fmt.Errorf("lock changeset %d: %w", id, err)
	}
	return c, approvalsRequired, validated, nil
}

// moveReviewState moves the locked changeset to state with the very
// update SetReviewState makes (changes_requested reopens it).
func moveReviewState(ctx context.Context, tx pgx.Tx, id int64, state osmdata.ReviewState) (osmdata.Changeset, error) {
	update, err := reviewStateUpdate(state)
	if err != nil {
		return osmdata.Changeset{}, fmt.Errorf("changeset %d: %w", id, err)
	}
	c, err := scanChangeset(tx.QueryRow(ctx, update, id, string(state)))
	if err != nil {
		return c, fmt.Errorf("move changeset %d to %s: %w", id, state, err)
	}
	return c, nil
}

// SaveValidation replaces the changeset's validation and findings in one
// transaction, the findings in one statement.
func (s *Store) SaveValidation(ctx context.Context, changeset int64, v storage.Validation) error {
	n := len(v.Findings)
	rules, severities, elements, messages := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	lons, lats := make([]*float64, n), make([]*float64, n)
	for i, f := range v.Findings {
		rules[i], severities[i], elements[i], messages[i] = f.Rule, f.Severity, storage.EncodeFindingElements(f.Elements), f.Message
		if f.HasLocation {
			lons[i], lats[i] = &f.Lon, &f.Lat
		}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, _, _, err := lockReviewed(ctx, tx, changeset); err != nil {
			return err
		}
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO changeset_validations (changeset_id, risk, computed_at) VALUES ($1, $2, `+dbNow+`)
			ON CONFLICT (changeset_id) DO UPDATE SET risk = excluded.risk, computed_at = excluded.computed_at`, changeset, v.Risk)
		b.Queue(`DELETE FROM changeset_findings WHERE changeset_id = $1`, changeset)
		if n > 0 {
			b.Queue(`INSERT INTO changeset_findings (changeset_id, ordinal, rule, severity, elements, message, lon, lat)
				SELECT $1, f.o, f.r, f.s, f.e::jsonb, f.m, f.x, f.y
				FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[])
					WITH ORDINALITY AS f(r, s, e, m, x, y, o)`,
				changeset, rules, severities, elements, messages, lons, lats)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("save the validation of changeset %d: %w", changeset, err)
	}
	return nil
}

// Validation reads the validation and its findings in one statement, so
// that a concurrent SaveValidation shows whole or not at all.
func (s *Store) Validation(ctx context.Context, changeset int64) (storage.Validation, error) {
	rows, err := s.pool.Query(ctx, `SELECT v.risk, v.computed_at, f.rule, f.severity, f.elements::text, f.message, f.lon, f.lat
		FROM changeset_validations v LEFT JOIN changeset_findings f ON f.changeset_id = v.changeset_id
		WHERE v.changeset_id = $1 ORDER BY f.ordinal`, changeset)
	if err != nil {
		return storage.Validation{}, fmt.Errorf("validation of changeset %d: %w", changeset, err)
	}
	defer rows.Close()
	var v storage.Validation
	for rows.Next() {
		var (
			rule, severity, elements, message *string
			lon, lat                          *float64
		)
		if err := rows.Scan(&v.Risk, &v.At, &rule, &severity, &elements, &message, &lon, &lat); err != nil {
			return storage.Validation{}, fmt.Errorf("validation of changeset %d: %w", changeset, err)
		}
		v.At = v.At.UTC()
		if rule == nil {
			continue
		}
		f := storage.Finding{Rule: *rule, Severity: *severity, Message: *message}
		if f.Elements, err = storage.DecodeFindingElements(*elements); err != nil {
			return storage.Validation{}, fmt.Errorf("validation of changeset %d: %w", changeset, err)
		}
		if lon != nil && lat != nil {
			f.Lon, f.Lat, f.HasLocation = *lon, *lat, true
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, _, _, err := lockReviewed(ctx, tx, changeset); err != nil {
			return err
		}
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM changeset_scopes WHERE changeset_id = $1`, changeset)
		b.Queue(`DELETE FROM changeset_approvals WHERE changeset_id = $1`, changeset)
		b.Queue(`INSERT INTO changeset_scopes (changeset_id, scope) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
			changeset, scopes)
		b.Queue(`UPDATE changesets SET approvals_required = $2 WHERE id = $1`, changeset, max(approvalsRequired, 1))
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("set the review scopes of changeset %d: %w", changeset, err)
	}
	return nil
}

// ReviewScopes lists the scopes by name.
func (s *Store) ReviewScopes(ctx context.Context, changeset int64) ([]storage.ScopeApproval, error) {
	rows, err := s.pool.Query(ctx, `SELECT scope, approved_by FROM changeset_scopes WHERE changeset_id = $1 ORDER BY scope`, changeset)
	if err != nil {
		return nil, fmt.Errorf("review scopes of changeset %d: %w", changeset, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[storage.ScopeApproval])
	if err != nil {
		return nil, fmt.Errorf("review scopes of changeset %d: %w", changeset, err)
	}
	return out, nil
}

// Assign records the assignee and the assigned event.
func (s *Store) Assign(ctx context.Context, changeset, reviewer int64) (osmdata.ReviewEvent, error) {
	var written []osmdata.ReviewEvent
	err := s.inReviewTx(ctx, fmt.Sprintf("assign changeset %d to %d", changeset, reviewer), func(tx pgx.Tx) error {
		c, _, validated, err := lockReviewed(ctx, tx, changeset)
		if err != nil {
			return err
		}
		if err := storage.CheckReviewable(c, validated, reviewer); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE changesets SET assignee = $2 WHERE id = $1`, changeset, reviewer); err != nil {
			return err
		}
		written, err = s.writeReviewEvents(ctx, tx, osmdata.ReviewEvent{Changeset: changeset, Kind: osmdata.EventAssigned,
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
	err := s.inReviewTx(ctx, fmt.Sprintf("%s on changeset %d by %d", d.Kind, d.Changeset, d.Reviewer), func(tx pgx.Tx) error {
		var ev osmdata.ReviewEvent
		var err error
		if c, ev, err = decide(ctx, tx, d); err != nil {
			return err
		}
		_, err = s.writeReviewEvents(ctx, tx, ev)
		return err
	})
	if err != nil {
		return osmdata.Changeset{}, err
	}
	return c, nil
}

// decide locks d's changeset, checks d and records it (Decide, and the
// approval of ApprovePart). It returns the changeset after the decision
// and the decision's event, for the caller to write last in tx with any
// other events of the transaction.
func decide(ctx context.Context, tx pgx.Tx, d storage.Decision) (osmdata.Changeset, osmdata.ReviewEvent, error) {
	locked, required, validated, err := lockReviewed(ctx, tx, d.Changeset)
	if err != nil {
		return osmdata.Changeset{}, osmdata.ReviewEvent{}, err
	}
	if err := storage.CheckReviewable(locked, validated, d.Reviewer); err != nil {
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
			ev.State = locked.ReviewState
			return locked, ev, nil
		}
	}
	c, err := moveReviewState(ctx, tx, d.Changeset, state)
	if err != nil {
		return osmdata.Changeset{}, osmdata.ReviewEvent{}, err
	}
	ev.State = state
	return c, ev, nil
}

// approveScopes records d's approval on the locked changeset: the needed
// scopes it covers (all of them when d names none) and the reviewer among
// the distinct approvers. It returns the scopes it counted for (none
// when d named none) and whether the changeset is now approved.
func approveScopes(ctx context.Context, tx pgx.Tx, d storage.Decision, required int) (counted []string, done bool, err error) {
	rows, err := tx.Query(ctx, `SELECT scope, approved_by FROM changeset_scopes WHERE changeset_id = $1 ORDER BY scope`, d.Changeset)
	if err != nil {
		return nil, false, fmt.Errorf("read the scopes: %w", err)
	}
	needed, err := pgx.CollectRows(rows, pgx.RowToStructByPos[storage.ScopeApproval])
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
	var approvers int
	b := &pgx.Batch{}
	if len(needed) > 0 {
		b.Queue(`UPDATE changeset_scopes SET approved_by = $2
			WHERE changeset_id = $1 AND approved_by = 0 AND ($3::text[] IS NULL OR scope = ANY($3::text[]))`,
			d.Changeset, d.Reviewer, counted)
	}
	b.Queue(`INSERT INTO changeset_approvals (changeset_id, reviewer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		d.Changeset, d.Reviewer)
	b.Queue(`SELECT count(*) FROM changeset_approvals WHERE changeset_id = $1`, d.Changeset).QueryRow(func(row pgx.Row) error {
		return row.Scan(&approvers)
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, false, fmt.Errorf("record the approval: %w", err)
	}
	return counted, waiting == 0 && approvers >= max(required, 1), nil
}

// Withdraw reopens the author's submitted or approved changeset.
func (s *Store) Withdraw(ctx context.Context, changeset, author int64) (osmdata.Changeset, error) {
	var c osmdata.Changeset
	err := s.inReviewTx(ctx, fmt.Sprintf("withdraw changeset %d", changeset), func(tx pgx.Tx) error {
		locked, _, _, err := lockReviewed(ctx, tx, changeset)
		if err != nil {
			return err
		}
		if locked.UID != author {
			return fmt.Errorf("changeset %d of user %d, not %d: %w", changeset, locked.UID, author, storage.ErrNotOwner)
		}
		if locked.ReviewState != osmdata.ReviewSubmitted && locked.ReviewState != osmdata.ReviewApproved {
			return fmt.Errorf("changeset %d is %q, neither submitted nor approved: %w", changeset, locked.ReviewState, storage.ErrReviewState)
		}
		if c, err = moveReviewState(ctx, tx, changeset, osmdata.ReviewChangesRequested); err != nil {
			return err
		}
		_, err = s.writeReviewEvents(ctx, tx, osmdata.ReviewEvent{Changeset: changeset, Kind: osmdata.EventWithdrawn,
			ActorUID: author, State: c.ReviewState})
		return err
	})
	if err != nil {
		return osmdata.Changeset{}, err
	}
	return c, nil
}

// flatTagMatch is true when the flattened tag array col (k1, v1, k2, v2)
// has the key key and, unless value is ”, that value: keys sit at odd
// positions only, so a value equal to the key does not match.
func flatTagMatch(col, key, value string) string {
	return `EXISTS (SELECT 1 FROM generate_subscripts(` + col + `, 1) AS i
		WHERE i % 2 = 1 AND ` + col + `[i] = ` + key + ` AND (` + value + ` = '' OR ` + col + `[i + 1] = ` + value + `))`
}

// ReviewQueue is one statement: the filters, the order and the page, with
// each item's rules, finding counts and scopes read by subqueries of the
// page's rows only.
func (s *Store) ReviewQueue(ctx context.Context, f storage.QueueFilter) ([]storage.QueueItem, error) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	states := []string{string(osmdata.ReviewSubmitted)}
	if len(f.States) > 0 {
		states = states[:0]
		for _, st := range f.States {
			states = append(states, string(st))
		}
	}
	where := []string{"c.review_state = ANY(" + arg(states) + "::text[])"}
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
		key, value := arg(f.TagKey)+"::text", arg(f.TagValue)+"::text"
		// New tags of the pending content; old tags are the current
		// authoritative version of what it modifies or deletes.
		where = append(where, `EXISTS (SELECT 1 FROM pending_changes p WHERE p.changeset_id = c.id AND (`+
			flatTagMatch("p.tags", key, value)+` OR (p.action <> `+strconv.Itoa(int(storage.Create))+` AND CASE p.elem_type
				WHEN 1 THEN EXISTS (SELECT 1 FROM nodes e WHERE e.id = p.elem_id AND e.is_current AND `+flatTagMatch("e.tags", key, value)+`)
				WHEN 2 THEN EXISTS (SELECT 1 FROM ways e WHERE e.id = p.elem_id AND e.is_current AND `+flatTagMatch("e.tags", key, value)+`)
				ELSE EXISTS (SELECT 1 FROM relations e WHERE e.id = p.elem_id AND e.is_current AND `+flatTagMatch("e.tags", key, value)+`)
			END)))`)
	}
	if f.Contributor != 0 {
		where = append(where, "c.user_id = "+arg(f.Contributor))
	}
	if !f.SubmittedBefore.IsZero() {
		where = append(where, "c.closed_at < "+arg(f.SubmittedBefore))
	}
	order := "c.closed_at, c.id"
	if len(f.Scopes) > 0 {
		mine := "EXISTS (SELECT 1 FROM changeset_scopes ms WHERE ms.changeset_id = c.id AND ms.approved_by = 0 AND ms.scope = ANY(" +
			arg(f.Scopes) + "::text[]))"
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
	sql := `SELECT ` + changesetColumns + `, coalesce(v.risk, 0), c.assignee, coalesce(c.escalated_submission = c.closed_at, false),
			ARRAY(SELECT DISTINCT fr.rule FROM changeset_findings fr WHERE fr.changeset_id = c.id ORDER BY fr.rule),
			(SELECT count(*) FILTER (WHERE fc.severity = 'error') FROM changeset_findings fc WHERE fc.changeset_id = c.id),
			(SELECT count(*) FILTER (WHERE fc.severity <> 'error') FROM changeset_findings fc WHERE fc.changeset_id = c.id),
			ARRAY(SELECT sc.scope FROM changeset_scopes sc WHERE sc.changeset_id = c.id ORDER BY sc.scope),
			ARRAY(SELECT sc.approved_by FROM changeset_scopes sc WHERE sc.changeset_id = c.id ORDER BY sc.scope)
		FROM changesets c LEFT JOIN changeset_validations v ON v.changeset_id = c.id
		WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY ` + order + `
		LIMIT ` + arg(limit)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("review queue: %w", err)
	}
	defer rows.Close()
	var items []storage.QueueItem
	for rows.Next() {
		var (
			it             storage.QueueItem
			errs, warnings int64
			scopes         []string
			approvers      []int64
		)
		it.Changeset, err = scanChangeset(withExtra{rows, []any{&it.Risk, &it.Assignee, &it.Escalated, &it.Rules,
			&errs, &warnings, &scopes, &approvers}})
		if err != nil {
			return nil, fmt.Errorf("review queue: %w", err)
		}
		it.Errors, it.Warnings, it.SubmittedAt = int(errs), int(warnings), it.Changeset.ClosedAt
		for i, sc := range scopes {
			it.Scopes = append(it.Scopes, storage.ScopeApproval{Scope: sc, ApprovedBy: approvers[i]})
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("review queue: %w", err)
	}
	return items, nil
}

// EscalateWaiting marks the submissions waiting since before olderThan.
// A submission is marked by its own closing time, so a resubmission
// (which closes later) waits afresh. SKIP LOCKED leaves a changeset that
// a decision holds to the next round, and lets every process escalate.
func (s *Store) EscalateWaiting(ctx context.Context, olderThan time.Time) ([]int64, error) {
	var ids []int64
	err := s.inReviewTx(ctx, "escalate waiting changesets", func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `WITH due AS (
				SELECT id FROM changesets
				WHERE review_state = 'submitted' AND closed_at < $1 AND escalated_submission IS DISTINCT FROM closed_at
				FOR UPDATE SKIP LOCKED)
			UPDATE changesets c SET escalated_submission = c.closed_at FROM due WHERE c.id = due.id
			RETURNING c.id`, olderThan)
		if err != nil {
			return err
		}
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil || len(ids) == 0 {
			return err
		}
		slices.Sort(ids)
		events := make([]osmdata.ReviewEvent, len(ids))
		for i, id := range ids {
			events[i] = osmdata.ReviewEvent{Changeset: id, Kind: osmdata.EventEscalated, State: osmdata.ReviewSubmitted}
		}
		_, err = s.writeReviewEvents(ctx, tx, events...)
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
	var found int
	err := s.pool.QueryRow(ctx, `WITH cs AS (SELECT id FROM changesets WHERE id = $1),
			added AS (INSERT INTO changeset_subscriptions (changeset_id, user_id) SELECT id, $2 FROM cs ON CONFLICT DO NOTHING)
		SELECT count(*) FROM cs`, changeset, uid).Scan(&found)
	if err != nil {
		return fmt.Errorf("subscribe user %d to changeset %d: %w", uid, changeset, err)
	}
	if found == 0 {
		return fmt.Errorf("subscribe user %d to changeset %d: %w", uid, changeset, storage.ErrNotFound)
	}
	return nil
}

// UnsubscribeChangeset ends uid's subscription, if any.
func (s *Store) UnsubscribeChangeset(ctx context.Context, changeset, uid int64) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM changeset_subscriptions WHERE changeset_id = $1 AND user_id = $2`, changeset, uid); err != nil {
		return fmt.Errorf("unsubscribe user %d from changeset %d: %w", uid, changeset, err)
	}
	return nil
}

// Subscribers lists the subscribed user ids in order.
func (s *Store) Subscribers(ctx context.Context, changeset int64) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT user_id FROM changeset_subscriptions WHERE changeset_id = $1 ORDER BY user_id`, changeset)
	if err != nil {
		return nil, fmt.Errorf("subscribers of changeset %d: %w", changeset, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
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
	err := s.pool.QueryRow(ctx, `WITH mine AS (SELECT id, review_state FROM changesets WHERE user_id = $1),
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
