package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/storage"
)

// PurgeExpiredSignIns deletes the sign-in state that ended before
// `before`; see storage.Accounts. Neither table has an index on its
// times: purged every hour, they hold about a day of ended rows beside the
// live ones, and a scan of that per hour is cheaper than an index that
// every sign-in would write to.
func (s *Store) PurgeExpiredSignIns(ctx context.Context, before time.Time) (storage.PurgedSignIns, error) {
	var purged storage.PurgedSignIns
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		grants, err := tx.Exec(ctx, `DELETE FROM oauth_grants WHERE expires_at < $1 OR revoked_at < $1`, before)
		if err != nil {
			return fmt.Errorf("OAuth grants: %w", err)
		}
		sessions, err := tx.Exec(ctx, `DELETE FROM web_sessions WHERE expires_at < $1`, before)
		if err != nil {
			return fmt.Errorf("web sessions: %w", err)
		}
		purged = storage.PurgedSignIns{OAuthGrants: grants.RowsAffected(), WebSessions: sessions.RowsAffected()}
		return nil
	})
	if err != nil {
		return storage.PurgedSignIns{}, fmt.Errorf("purge sign-ins ended before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return purged, nil
}
