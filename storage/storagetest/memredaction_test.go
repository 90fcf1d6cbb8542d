package storagetest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// memOperations is storage.Operations written plainly, in memory, for
// memStore: the redaction suite runs against it to show that the suite
// passes a correct store.
type memOperations struct {
	redactions map[storage.VersionKey]storage.Redaction
	audit      []storage.AuditEntry
}

// memOperationsOf keeps each memStore's redactions and audit log beside
// it, guarded by the store's own mu (reads take it anyway).
var (
	memOperationsMu sync.Mutex
	memOperationsOf = map[*memStore]*memOperations{}
)

func (s *memStore) ops() *memOperations {
	memOperationsMu.Lock()
	defer memOperationsMu.Unlock()
	o := memOperationsOf[s]
	if o == nil {
		o = &memOperations{redactions: map[storage.VersionKey]storage.Redaction{}}
		memOperationsOf[s] = o
	}
	return o
}

// redacted reports whether a version is redacted; the caller holds s.mu.
func (s *memStore) redacted(e osmdata.Element) bool {
	_, ok := s.ops().redactions[storage.VersionKey{Element: e.Key(), Version: e.Version}]
	return ok
}

func (s *memStore) audit(adminID int64, action, target, reason string) {
	o := s.ops()
	o.audit = append(o.audit, storage.AuditEntry{ID: int64(len(o.audit) + 1), AdminID: adminID, Action: action,
		Target: target, Reason: reason, CreatedAt: time.Now().UTC().Truncate(time.Second)})
}

func (s *memStore) Redact(_ context.Context, r storage.Redaction) (storage.Redaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.history[r.Version.Element.Type][r.Version.Element.ID]
	found := false
	for _, e := range h {
		found = found || e.Version == r.Version.Version
	}
	if !found {
		return storage.Redaction{}, storage.ErrNotFound
	}
	if h[len(h)-1].Version == r.Version.Version {
		return storage.Redaction{}, storage.ErrCannotRedactCurrent
	}
	r.CreatedAt = time.Now().UTC().Truncate(time.Second)
	s.ops().redactions[r.Version] = r
	s.audit(r.AdminID, storage.AuditRedact, storage.RedactionTarget(r.Version), r.Reason)
	return r, nil
}

func (s *memStore) Unredact(_ context.Context, v storage.VersionKey, adminID int64, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ops()
	if _, ok := o.redactions[v]; !ok {
		return storage.ErrNotFound
	}
	delete(o.redactions, v)
	s.audit(adminID, storage.AuditUnredact, storage.RedactionTarget(v), reason)
	return nil
}

func (s *memStore) Redactions(_ context.Context, elements []osmdata.Key) ([]storage.Redaction, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []storage.Redaction
	for _, k := range elements {
		for _, e := range s.history[k.Type][k.ID] {
			if r, ok := s.ops().redactions[storage.VersionKey{Element: k, Version: e.Version}]; ok {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

func (s *memStore) ElementVersionWithRedacted(_ context.Context, t osmdata.ElementType, id int64, version int) (osmdata.Element, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, e := range s.history[t][id] {
		if e.Version == version {
			return clone(e), nil
		}
	}
	return osmdata.Element{}, fmt.Errorf("%s %d v%d: %w", t, id, version, storage.ErrNotFound)
}

func (s *memStore) HistoryWithRedacted(_ context.Context, t osmdata.ElementType, id int64) ([]osmdata.Element, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	h := s.history[t][id]
	if len(h) == 0 {
		return nil, fmt.Errorf("%s %d: %w", t, id, storage.ErrNotFound)
	}
	out := make([]osmdata.Element, 0, len(h))
	for _, e := range h {
		out = append(out, clone(e))
	}
	return out, nil
}

func (s *memStore) DeleteAccount(_ context.Context, uid, adminID int64, reason string) (storage.Account, error) {
	a := s.acc()
	s.mu.Lock()
	defer s.mu.Unlock()
	a.mu.Lock()
	defer a.mu.Unlock()
	acc, ok := a.accounts[uid]
	if !ok {
		return storage.Account{}, storage.ErrNotFound
	}
	name := storage.Pseudonym(uid)
	delete(a.accounts, uid)
	for _, byID := range s.history {
		for _, h := range byID {
			for i := range h {
				if h[i].UID == uid {
					h[i].User = name
				}
			}
		}
	}
	for id, cs := range s.changesets {
		if cs.UID == uid {
			cs.User = name
			s.changesets[id] = cs
		}
	}
	now := time.Now().UTC()
	for i := range a.tokens {
		if a.tokens[i].UserID == uid && a.tokens[i].RevokedAt.IsZero() {
			a.tokens[i].RevokedAt = now
		}
	}
	for _, byKind := range a.grants {
		for sig, g := range byKind {
			if g.UserID == uid && g.RevokedAt.IsZero() {
				g.RevokedAt = now
				byKind[sig] = g
			}
		}
	}
	for k, ws := range a.sessions {
		if ws.UserID == uid {
			delete(a.sessions, k)
		}
	}
	acc.DisplayName, acc.Role, acc.Trusted, acc.PasswordHash = name, "", false, ""
	s.audit(adminID, storage.AuditDeleteAccount, storage.AccountTarget(uid), reason)
	return acc, nil
}

func (s *memStore) AdminAudit(_ context.Context, afterID int64, limit int) ([]storage.AuditEntry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []storage.AuditEntry
	for _, e := range s.ops().audit {
		if e.ID > afterID && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}
