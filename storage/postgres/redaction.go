package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

var _ storage.Operations = (*Store)(nil)

// redactedColumn is the SQL test of whether the row of table (or alias)
// is a redacted version: the filter every public read applies.
func redactedColumn(t osmdata.ElementType, table string) string {
	return `EXISTS (SELECT 1 FROM redactions r WHERE r.element_type = ` + strconv.Itoa(int(t)) +
		` AND r.element_id = ` + table + `.id AND r.version = ` + table + `.version)`
}

// collectRedactable reads rows selecting readColumns(t, …) followed by
// redactedColumn, and whether each is redacted.
func collectRedactable(rows pgx.Rows, t osmdata.ElementType) ([]osmdata.Element, []bool, error) {
	defer rows.Close()
	s := newElementScanner(t)
	var redacted bool
	s.dest = append(s.dest, &redacted)
	var els []osmdata.Element
	var flags []bool
	for rows.Next() {
		e, err := s.scan(rows)
		if err != nil {
			return nil, nil, err
		}
		els = append(els, e)
		flags = append(flags, redacted)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return els, flags, nil
}

// Redact hides a historical version, with its audit entry, in one
// transaction. A version that is not current now never becomes current
// again (versions only grow), so the check needs no lock.
func (s *Store) Redact(ctx context.Context, r storage.Redaction) (storage.Redaction, error) {
	v := r.Version
	if err := checkType(v.Element.Type); err != nil {
		return storage.Redaction{}, fmt.Errorf("redact %s: %w", v, err)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var current bool
		if err := tx.QueryRow(ctx, `SELECT is_current FROM `+tableOf[v.Element.Type]+` WHERE id = $1 AND version = $2`,
			v.Element.ID, v.Version).Scan(&current); err != nil {
			return asNotFound(err)
		}
		if current {
			return storage.ErrCannotRedactCurrent
		}
		if err := tx.QueryRow(ctx, `
			INSERT INTO redactions (element_type, element_id, version, redaction_id, reason, admin_id)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (element_type, element_id, version) DO UPDATE
				SET redaction_id = EXCLUDED.redaction_id, reason = EXCLUDED.reason,
					admin_id = EXCLUDED.admin_id, created_at = EXCLUDED.created_at
			RETURNING created_at`,
			int16(v.Element.Type), v.Element.ID, v.Version, r.RedactionID, r.Reason, r.AdminID).Scan(&r.CreatedAt); err != nil {
			return err
		}
		r.CreatedAt = r.CreatedAt.UTC()
		if err := markReplicationFiles(ctx, tx, v); err != nil {
			return err
		}
		return writeAudit(ctx, tx, r.AdminID, storage.AuditRedact, storage.RedactionTarget(v), r.Reason)
	})
	if err != nil {
		return storage.Redaction{}, fmt.Errorf("redact %s: %w", v, err)
	}
	return r, nil
}

// Unredact shows a redacted version again, with its audit entry.
func (s *Store) Unredact(ctx context.Context, v storage.VersionKey, adminID int64, reason string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM redactions WHERE element_type = $1 AND element_id = $2 AND version = $3`,
			int16(v.Element.Type), v.Element.ID, v.Version)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrNotFound
		}
		if err := markReplicationFiles(ctx, tx, v); err != nil {
			return err
		}
		return writeAudit(ctx, tx, adminID, storage.AuditUnredact, storage.RedactionTarget(v), reason)
	})
	if err != nil {
		return fmt.Errorf("unredact %s: %w", v, err)
	}
	return nil
}

// Redactions returns the redactions of versions of the elements.
func (s *Store) Redactions(ctx context.Context, elements []osmdata.Key) ([]storage.Redaction, error) {
	if len(elements) == 0 {
		return nil, nil
	}
	types, ids := make([]int16, len(elements)), make([]int64, len(elements))
	for i, k := range elements {
		types[i], ids[i] = int16(k.Type), k.ID
	}
	rows, err := s.pool.Query(ctx, `
		SELECT r.element_type, r.element_id, r.version, r.redaction_id, r.reason, r.admin_id, r.created_at
		FROM unnest($1::smallint[], $2::bigint[]) WITH ORDINALITY AS k(t, id, n)
		JOIN redactions r ON r.element_type = k.t AND r.element_id = k.id
		ORDER BY k.n, r.version`, types, ids)
	if err != nil {
		return nil, fmt.Errorf("redactions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.Redaction, error) {
		var r storage.Redaction
		var t int16
		err := row.Scan(&t, &r.Version.Element.ID, &r.Version.Version, &r.RedactionID, &r.Reason, &r.AdminID, &r.CreatedAt)
		r.Version.Element.Type = osmdata.ElementType(t)
		r.CreatedAt = r.CreatedAt.UTC()
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("redactions: %w", err)
	}
	return out, nil
}

// ElementVersionWithRedacted returns one version, redacted or not, or
// storage.ErrNotFound.
func (s *Store) ElementVersionWithRedacted(ctx context.Context, t osmdata.ElementType, id int64, version int) (osmdata.Element, error) {
	if err := checkType(t); err != nil {
		return osmdata.Element{}, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+readColumns(t, "")+` FROM `+tableOf[t]+`
		WHERE id = $1 AND version = $2`, id, version)
	if err != nil {
		return osmdata.Element{}, fmt.Errorf("%s %d v%d with redactions: %w", t, id, version, err)
	}
	els, err := collectElements(rows, t)
	if err != nil {
		return osmdata.Element{}, fmt.Errorf("%s %d v%d with redactions: %w", t, id, version, err)
	}
	if len(els) == 0 {
		return osmdata.Element{}, fmt.Errorf("%s %d v%d with redactions: %w", t, id, version, storage.ErrNotFound)
	}
	return els[0], nil
}

// HistoryWithRedacted returns every version of an element, oldest first.
func (s *Store) HistoryWithRedacted(ctx context.Context, t osmdata.ElementType, id int64) ([]osmdata.Element, error) {
	return s.history(ctx, t, id, true)
}

// DeleteAccount pseudonymizes an account in one transaction. The
// element tables have no index on user_id: renaming scans them, which
// is acceptable for a rare administrative action.
func (s *Store) DeleteAccount(ctx context.Context, uid, adminID int64, reason string) (storage.Account, error) {
	var a storage.Account
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		a, err = scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM users WHERE id = $1 AND role IS NOT NULL FOR UPDATE`, uid))
		if err != nil {
			return asNotFound(err)
		}
		name := storage.Pseudonym(uid)
		for _, stmt := range []string{
			`UPDATE users SET display_name = $2, login_name = NULL, password_hash = NULL, role = NULL, trusted = false WHERE id = $1`,
			`UPDATE changesets SET user_name = $2 WHERE user_id = $1`,
			`UPDATE nodes SET user_name = $2 WHERE user_id = $1`,
			`UPDATE ways SET user_name = $2 WHERE user_id = $1`,
			`UPDATE relations SET user_name = $2 WHERE user_id = $1`,
			`UPDATE pending_changes SET user_name = $2 WHERE author_id = $1`,
		} {
			if _, err := tx.Exec(ctx, stmt, uid, name); err != nil {
				return err
			}
		}
		for _, stmt := range []string{
			`UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE user_id = $1`,
			`UPDATE oauth_grants SET revoked_at = coalesce(revoked_at, now()) WHERE user_id = $1`,
			`DELETE FROM web_sessions WHERE user_id = $1`,
		} {
			if _, err := tx.Exec(ctx, stmt, uid); err != nil {
				return err
			}
		}
		a.DisplayName, a.Role, a.Trusted, a.PasswordHash = name, "", false, ""
		return writeAudit(ctx, tx, adminID, storage.AuditDeleteAccount, storage.AccountTarget(uid), reason)
	})
	if err != nil {
		return storage.Account{}, fmt.Errorf("delete account %d: %w", uid, err)
	}
	return a, nil
}

// AdminAudit returns audit entries after afterID, oldest first.
func (s *Store) AdminAudit(ctx context.Context, afterID int64, limit int) ([]storage.AuditEntry, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, admin_id, action, target, reason, created_at FROM admin_audit
		WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("admin audit: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.AuditEntry, error) {
		var e storage.AuditEntry
		err := row.Scan(&e.ID, &e.AdminID, &e.Action, &e.Target, &e.Reason, &e.CreatedAt)
		e.CreatedAt = e.CreatedAt.UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("admin audit: %w", err)
	}
	return out, nil
}

// writeAudit records an administrator's action in its transaction.
func writeAudit(ctx context.Context, tx pgx.Tx, adminID int64, action, target, reason string) error {
	if _, err := tx.Exec(ctx, `INSERT INTO admin_audit (admin_id, action, target, reason) VALUES ($1, $2, $3, $4)`,
		adminID, action, target, reason); err != nil {
		return fmt.Errorf("audit %s %s: %w", action, target, err)
	}
	return nil
}

// markReplicationFiles counts a pending rendering on the stored
// replication files holding the merge that wrote version v (its
// changeset's) or replaced it (version v+1's changeset's). Imported
// versions have no merge. It scans replication_files: a rare action.
func markReplicationFiles(ctx context.Context, tx pgx.Tx, v storage.VersionKey) error {
	if _, err := tx.Exec(ctx, `
		UPDATE replication_files SET redactions_pending = redactions_pending + 1
		WHERE replication_seq IN (
			SELECT f.replication_seq FROM outbox o
			JOIN replication_files f ON o.merge_seq BETWEEN f.first_merge_seq AND f.last_merge_seq
			WHERE o.changeset_id IN (
				SELECT changeset_id FROM `+tableOf[v.Element.Type]+` WHERE id = $1 AND version IN ($2, $2 + 1)))`,
		v.Element.ID, v.Version); err != nil {
		return fmt.Errorf("mark the replication files holding %s: %w", v, err)
	}
	return nil
}

var _ storage.ReplicationRewriter = (*Store)(nil)

// ReplicationRedactionsPending returns file seq's pending renderings.
func (s *Store) ReplicationRedactionsPending(ctx context.Context, seq int64) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT redactions_pending FROM replication_files WHERE replication_seq = $1`, seq).Scan(&n); err != nil {
		return 0, fmt.Errorf("replication file %d: %w", seq, asNotFound(err))
	}
	return n, nil
}

// RewriteReplicationFile replaces file seq's content if its count is
// still pending.
func (s *Store) RewriteReplicationFile(ctx context.Context, seq int64, pending int, oscGzip []byte) error {
	if _, err := s.pool.Exec(ctx, `UPDATE replication_files SET osc_gz = $3, redactions_pending = 0
		WHERE replication_seq = $1 AND redactions_pending = $2`, seq, pending, oscGzip); err != nil {
		return fmt.Errorf("rewrite replication file %d: %w", seq, err)
	}
	return nil
}
