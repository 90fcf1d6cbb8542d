package server

import (
	"context"
	"time"

	"github.com/geocommuns/geocommuns/storage"
)

const (
	// signInPurgePeriod is how often ended sign-in state is purged.
	signInPurgePeriod = time.Hour
	// signInPurgeAge is how long an expired or revoked grant, or an
	// expired web session, is kept. Far longer than a code lives, so that
	// a used code is still there to tell its reuse from an unknown code,
	// and so that a token expired or revoked lately is still answered as
	// such rather than as unknown.
	signInPurgeAge = 24 * time.Hour
)

// purgeSignIns purges ended sign-in state once right away, then every
// signInPurgePeriod, until ctx is done: nothing else deletes the code
// every editor's sign-in leaves behind, nor expired tokens and web
// sessions. Every process runs it; purges racing each other delete each
// row once. A failed purge is logged and retried at the next period.
func (s *Server) purgeSignIns(ctx context.Context) {
	ticker := time.NewTicker(signInPurgePeriod)
	defer ticker.Stop()
	for {
		s.purgeSignInsOnce(ctx, time.Now().Add(-signInPurgeAge))
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (s *Server) purgeSignInsOnce(ctx context.Context, before time.Time) {
	purged, err := s.store.PurgeExpiredSignIns(ctx, before)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return
	case storage.IsUnavailable(err):
		s.logger.Warn("sign-in purge: the store is unavailable; retrying at the next period", "err", err)
		return
	default:
		s.logger.Warn("sign-in purge failed; retrying at the next period", "err", err)
		return
	}
	if purged.OAuthGrants > 0 || purged.WebSessions > 0 {
		s.logger.Info("purged ended sign-in state", "oauth_grants", purged.OAuthGrants,
			"web_sessions", purged.WebSessions, "ended_before", before.UTC().Format(time.RFC3339))
	}
}
