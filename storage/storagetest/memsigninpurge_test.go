package storagetest

import (
	"context"
	"time"

	"github.com/geocommuns/geocommuns/storage"
)

func (s *memStore) PurgeExpiredSignIns(_ context.Context, before time.Time) (storage.PurgedSignIns, error) {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	var purged storage.PurgedSignIns
	for _, ofKind := range a.grants {
		for sig, g := range ofKind {
			revoked := !g.RevokedAt.IsZero() && g.RevokedAt.Before(before)
			if g.ExpiresAt.Before(before) || revoked {
				delete(ofKind, sig)
				purged.OAuthGrants++
			}
		}
	}
	for key, ws := range a.sessions {
		if ws.ExpiresAt.Before(before) {
			delete(a.sessions, key)
			purged.WebSessions++
		}
	}
	return purged, nil
}
