package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/geocommuns/geocommuns/storage"
)

// PurgeExpiredSignIns deletes the sign-in state that ended before
// `before`; see storage.Accounts. Neither table has an index on its
// times: purged every hour, they hold about a day of ended rows beside the
// live ones, and a scan of that per hour is cheaper than an index that
// every sign-in would write to.
func (s *Store) PurgeExpiredSignIns(ctx context.Context, before time.Time) (storage.PurgedSignIns, error) {
	purged, err := s.purgeExpiredSignIns(ctx, before.Unix())
	if err != nil {
		return storage.PurgedSignIns{}, fmt.Errorf("purge sign-ins ended before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return purged, nil
}

func (s *Store) purgeExpiredSignIns(ctx context.Context, before int64) (storage.PurgedSignIns, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return storage.PurgedSignIns{}, err
	}
	defer tx.Rollback()
	grants, err := tx.ExecContext(ctx, `DELETE FROM oauth_grants WHERE expires_at < ? OR revoked_at < ?`, before, before)
	if err != nil {
		return storage.PurgedSignIns{}, fmt.Errorf("OAuth grants: %w", err)
	}
	sessions, err := tx.ExecContext(ctx, `DELETE FROM web_sessions WHERE expires_at < ?`, before)
	if err != nil {
		return storage.PurgedSignIns{}, fmt.Errorf("web sessions: %w", err)
	}
	var purged storage.PurgedSignIns
	if purged.OAuthGrants, err = grants.RowsAffected(); err != nil {
		return storage.PurgedSignIns{}, err
	}
	if purged.WebSessions, err = sessions.RowsAffected(); err != nil {
		return storage.PurgedSignIns{}, err
	}
	if err := tx.Commit(); err != nil {
		return storage.PurgedSignIns{}, err
	}
	return purged, nil
}
