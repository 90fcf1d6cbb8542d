package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

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

// scanRedactable reads rows selecting columns(t, …) followed by
// redactedColumn, and whether each is redacted; it closes rows.
func scanRedactable(rows *sql.Rows, t osmdata.ElementType) ([]osmdata.Element, []bool, error) {
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
	return els, flags, rows.Err()
}

// Redact hides a historical version, with its audit entry, in one write
// transaction.
func (s *Store) Redact(ctx context.Context, r storage.Redaction) (storage.Redaction, error) {
	v := r.Version
	tbl, err := table(v.Element.Type)
	if err != nil {
		return storage.Redaction{}, fmt.Errorf("redact %s: %w", v, err)
	}
	err = s.writeTx(ctx, "redact "+v.String(), func(tx *sql.Tx) error {
		var current bool
		if err := tx.QueryRowContext(ctx, `SELECT is_current FROM `+tbl+` WHERE id = ? AND version = ?`,
			v.Element.ID, v.Version).Scan(&current); err != nil {
			return noRowsAsNotFound(err)
		}
		if current {
			return storage.ErrCannotRedactCurrent
		}
		var created sql.NullInt64
		if err := tx.QueryRowContext(ctx, `
			INSERT INTO redactions (element_type, element_id, version, redaction_id, reason, admin_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, unixepoch())
			ON CONFLICT (element_type, element_id, version) DO UPDATE
				SET redaction_id = excluded.redaction_id, reason = excluded.reason,
					admin_id = excluded.admin_id, created_at = excluded.created_at
			RETURNING created_at`,
			int(v.Element.Type), v.Element.ID, v.Version, r.RedactionID, r.Reason, r.AdminID).Scan(&created); err != nil {
			return err
		}
		r.CreatedAt = unixTime(created)
		if err := markReplicationFiles(ctx, tx, tbl, v); err != nil {
			return err
		}
		return writeAudit(ctx, tx, r.AdminID, storage.AuditRedact, storage.RedactionTarget(v), r.Reason)
	})
	if err != nil {
		return storage.Redaction{}, err
	}
	return r, nil
}

// Unredact shows a redacted version again, with its audit entry.
func (s *Store) Unredact(ctx context.Context, v storage.VersionKey, adminID int64, reason string) error {
	return s.writeTx(ctx, "unredact "+v.String(), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM redactions WHERE element_type = ? AND element_id = ? AND version = ?`,
			int(v.Element.Type), v.Element.ID, v.Version)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return storage.ErrNotFound
		}
		tbl, err := table(v.Element.Type)
		if err != nil {
			return err
		}
		if err := markReplicationFiles(ctx, tx, tbl, v); err != nil {
			return err
		}
		return writeAudit(ctx, tx, adminID, storage.AuditUnredact, storage.RedactionTarget(v), reason)
	})
}

// Redactions returns the redactions of versions of the elements: the
// keys travel as one JSON array of [type, id] pairs.
func (s *Store) Redactions(ctx context.Context, elements []osmdata.Key) ([]storage.Redaction, error) {
	if len(elements) == 0 {
		return nil, nil
	}
	var pairs strings.Builder
	pairs.WriteByte('[')
	for i, k := range elements {
		if i > 0 {
			pairs.WriteByte(',')
		}
		fmt.Fprintf(&pairs, "[%d,%d]", int(k.Type), k.ID)
	}
	pairs.WriteByte(']')
	rows, err := s.reader.QueryContext(ctx, `
		SELECT r.element_type, r.element_id, r.version, r.redaction_id, r.reason, r.admin_id, r.created_at
		FROM json_each(?) AS k CROSS JOIN redactions r
		WHERE r.element_type = k.value->>0 AND r.element_id = k.value->>1
		ORDER BY k.key, r.version`, pairs.String())
	if err != nil {
		return nil, fmt.Errorf("redactions: %w", err)
	}
	defer rows.Close()
	var out []storage.Redaction
	for rows.Next() {
		var r storage.Redaction
		var t int
		var created sql.NullInt64
		if err := rows.Scan(&t, &r.Version.Element.ID, &r.Version.Version, &r.RedactionID, &r.Reason, &r.AdminID, &created); err != nil {
			return nil, fmt.Errorf("redactions: %w", err)
		}
		r.Version.Element.Type = osmdata.ElementType(t)
		r.CreatedAt = unixTime(created)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("redactions: %w", err)
	}
	return out, nil
}

// ElementVersionWithRedacted returns one version, redacted or not, or
// storage.ErrNotFound.
func (s *Store) ElementVersionWithRedacted(ctx context.Context, t osmdata.ElementType, id int64, version int) (osmdata.Element, error) {
	tbl, err := table(t)
	if err != nil {
		return osmdata.Element{}, err
	}
	rows, err := s.reader.QueryContext(ctx, "SELECT "+columns(t, "")+" FROM "+tbl+" WHERE id = ? AND version = ?", id, version)
	if err != nil {
		return osmdata.Element{}, fmt.Errorf("%s %d version %d with redactions: %w", t, id, version, err)
	}
	els, err := scanElements(rows, t)
	if err != nil {
		return osmdata.Element{}, fmt.Errorf("%s %d version %d with redactions: %w", t, id, version, err)
	}
	if len(els) == 0 {
		return osmdata.Element{}, fmt.Errorf("%s %d version %d with redactions: %w", t, id, version, storage.ErrNotFound)
	}
	return els[0], nil
}

// HistoryWithRedacted returns every version of an element, oldest first.
func (s *Store) HistoryWithRedacted(ctx context.Context, t osmdata.ElementType, id int64) ([]osmdata.Element, error) {
	return s.history(ctx, t, id, true)
}

// DeleteAccount pseudonymizes an account in one write transaction.
func (s *Store) DeleteAccount(ctx context.Context, uid, adminID int64, reason string) (storage.Account, error) {
	var a storage.Account
	err := s.writeTx(ctx, fmt.Sprintf("delete account %d", uid), func(tx *sql.Tx) error {
		var err error
		a, err = scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM users WHERE id = ? AND role IS NOT NULL`, uid))
		if err != nil {
			return noRowsAsNotFound(err)
		}
		name := storage.Pseudonym(uid)
		for _, stmt := range []string{
			`UPDATE users SET display_name = ?2, login_name = NULL, password_hash = NULL, role = NULL, trusted = 0 WHERE id = ?1`,
			`UPDATE changesets SET user_name = ?2 WHERE user_id = ?1`,
			`UPDATE nodes SET user_name = ?2 WHERE user_id = ?1`,
			`UPDATE ways SET user_name = ?2 WHERE user_id = ?1`,
			`UPDATE relations SET user_name = ?2 WHERE user_id = ?1`,
			`UPDATE pending_changes SET user_name = ?2 WHERE author_id = ?1`,
		} {
			if _, err := tx.ExecContext(ctx, stmt, uid, name); err != nil {
				return err
			}
		}
		for _, stmt := range []string{
			`UPDATE api_tokens SET revoked_at = coalesce(revoked_at, unixepoch()) WHERE user_id = ?1`,
			`UPDATE oauth_grants SET revoked_at = coalesce(revoked_at, unixepoch()) WHERE user_id = ?1`,
			`DELETE FROM web_sessions WHERE user_id = ?1`,
		} {
			if _, err := tx.ExecContext(ctx, stmt, uid); err != nil {
				return err
			}
		}
		a.DisplayName, a.Role, a.Trusted, a.PasswordHash = name, "", false, ""
		return writeAudit(ctx, tx, adminID, storage.AuditDeleteAccount, storage.AccountTarget(uid), reason)
	})
	if err != nil {
		return storage.Account{}, err
	}
	return a, nil
}

// AdminAudit returns audit entries after afterID, oldest first.
func (s *Store) AdminAudit(ctx context.Context, afterID int64, limit int) ([]storage.AuditEntry, error) {
	rows, err := s.reader.QueryContext(ctx, `
		SELECT id, admin_id, action, target, reason, created_at FROM admin_audit
		WHERE id > ? ORDER BY id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("admin audit: %w", err)
	}
	defer rows.Close()
	var out []storage.AuditEntry
	for rows.Next() {
		var e storage.AuditEntry
		var created sql.NullInt64
		if err := rows.Scan(&e.ID, &e.AdminID, &e.Action, &e.Target, &e.Reason, &created); err != nil {
			return nil, fmt.Errorf("admin audit: %w", err)
		}
		e.CreatedAt = unixTime(created)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("admin audit: %w", err)
	}
	return out, nil
}

// writeAudit records an administrator's action in its transaction.
func writeAudit(ctx context.Context, tx *sql.Tx, adminID int64, action, target, reason string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO admin_audit (admin_id, action, target, reason, created_at)
		VALUES (?, ?, ?, ?, unixepoch())`, adminID, action, target, reason); err != nil {
		return fmt.Errorf("audit %s %s: %w", action, target, err)
	}
	return nil
}

// markReplicationFiles counts a pending rendering on the stored
// replication files holding the merge that wrote version v (its
// changeset's) or replaced it (version v+1's changeset's). Imported
// versions have no merge. It scans replication_files: a rare action.
func markReplicationFiles(ctx context.Context, tx *sql.Tx, tbl string, v storage.VersionKey) error {
	if _, err := tx.ExecContext(ctx, `
		UPDATE replication_files SET redactions_pending = redactions_pending + 1
		WHERE replication_seq IN (
			SELECT f.replication_seq FROM outbox o
			JOIN replication_files f ON o.merge_seq BETWEEN f.first_merge_seq AND f.last_merge_seq
			WHERE o.changeset_id IN (
				SELECT changeset_id FROM `+tbl+` WHERE id = ?1 AND version IN (?2, ?2 + 1)))`,
		v.Element.ID, v.Version); err != nil {
		return fmt.Errorf("mark the replication files holding %s: %w", v, err)
	}
	return nil
}

var _ storage.ReplicationRewriter = (*Store)(nil)

// ReplicationRedactionsPending returns file seq's pending renderings.
func (s *Store) ReplicationRedactionsPending(ctx context.Context, seq int64) (int, error) {
	var n int
	if err := s.reader.QueryRowContext(ctx, `SELECT redactions_pending FROM replication_files WHERE replication_seq = ?`, seq).Scan(&n); err != nil {
		return 0, fmt.Errorf("replication file %d: %w", seq, noRowsAsNotFound(err))
	}
	return n, nil
}

// RewriteReplicationFile replaces file seq's content if its count is
// still pending.
func (s *Store) RewriteReplicationFile(ctx context.Context, seq int64, pending int, oscGzip []byte) error {
	return s.writeTx(ctx, fmt.Sprintf("rewrite replication file %d", seq), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE replication_files SET osc_gz = ?3, redactions_pending = 0
			WHERE replication_seq = ?1 AND redactions_pending = ?2`, seq, pending, oscGzip)
		return err
	})
}
