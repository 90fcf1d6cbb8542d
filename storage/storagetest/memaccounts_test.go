package storagetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/storage"
)

// memAccounts is storage.Accounts written plainly, in memory, for
// memStore: the accounts suite runs against it to show that the suite
// passes a correct store.
type memAccounts struct {
	mu        sync.Mutex
	accounts  map[int64]storage.Account
	tokens    []storage.APIToken
	clients   map[string]storage.OAuthClient
	grants    map[storage.OAuthGrantKind]map[string]storage.OAuthGrant
	secrets   map[string][]byte
	sessions  map[string]storage.WebSession
	nextToken int64
}

func (s *memStore) acc() *memAccounts {
	memAccountsOnce.Lock()
	defer memAccountsOnce.Unlock()
	a := memAccountsOf[s]
	if a == nil {
		a = &memAccounts{
			accounts: map[int64]storage.Account{},
			clients:  map[string]storage.OAuthClient{},
			grants:   map[storage.OAuthGrantKind]map[string]storage.OAuthGrant{},
			secrets:  map[string][]byte{},
			sessions: map[string]storage.WebSession{},
		}
		memAccountsOf[s] = a
	}
	return a
}

// memAccountsOf keeps each memStore's accounts beside it: memStore is
// defined elsewhere, and its fields are the dataset's only.
var (
	memAccountsOnce sync.Mutex
	memAccountsOf   = map[*memStore]*memAccounts{}
)

// hasAccounts reports whether any account exists; Import refuses then.
func (s *memStore) hasAccounts() bool {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.accounts) > 0
}

func (s *memStore) CreateAccount(_ context.Context, na storage.NewAccount) (storage.Account, error) {
	a := s.acc()
	s.mu.Lock()
	defer s.mu.Unlock()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, existing := range a.accounts {
		if storage.AccountNameKey(existing.DisplayName) == storage.AccountNameKey(na.DisplayName) {
			return storage.Account{}, storage.ErrNameTaken
		}
	}
	for _, h := range s.history {
		for _, versions := range h {
			for _, v := range versions {
				if v.User == na.DisplayName {
					return storage.Account{}, storage.ErrNameTaken
				}
			}
		}
	}
	id := s.next.User
	s.next.User++
	s.users[id] = true
	acc := storage.Account{ID: id, DisplayName: na.DisplayName, CreatedAt: time.Now().UTC().Truncate(time.Second),
		Role: na.Role, Trusted: na.Trusted, PasswordHash: na.PasswordHash}
	a.accounts[id] = acc
	return acc, nil
}

func (s *memStore) Account(_ context.Context, id int64) (storage.Account, error) {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	acc, ok := a.accounts[id]
	if !ok {
		return storage.Account{}, storage.ErrNotFound
	}
	return acc, nil
}

func (s *memStore) AccountByName(_ context.Context, name string) (storage.Account, error) {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, acc := range a.accounts {
		if storage.AccountNameKey(acc.DisplayName) == storage.AccountNameKey(name) {
			return acc, nil
		}
	}
	return storage.Account{}, storage.ErrNotFound
}

func (s *memStore) ChangesetCount(_ context.Context, uid int64) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, cs := range s.changesets {
		if cs.UID == uid {
			n++
		}
	}
	return n, nil
}

func (s *memStore) CreateAPIToken(ctx context.Context, uid int64, hash []byte) (storage.APIToken, error) {
	return s.CreateAPITokenUntil(ctx, uid, hash, time.Time{})
}

func (s *memStore) CreateAPITokenUntil(_ context.Context, uid int64, hash []byte, expiresAt time.Time) (storage.APIToken, error) {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.tokens {
		if bytes.Equal(t.Hash, hash) {
			return storage.APIToken{}, fmt.Errorf("duplicate token hash")
		}
	}
	a.nextToken++
	t := storage.APIToken{ID: a.nextToken, UserID: uid, Hash: slices.Clone(hash), CreatedAt: time.Now().UTC().Truncate(time.Second)}
	if !expiresAt.IsZero() {
		t.ExpiresAt = expiresAt.UTC().Truncate(time.Second)
	}
	a.tokens = append(a.tokens, t)
	return t, nil
}

func (s *memStore) APIToken(_ context.Context, hash []byte) (storage.APIToken, error) {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.tokens {
		if bytes.Equal(t.Hash, hash) {
			return t, nil
		}
	}
	return storage.APIToken{}, storage.ErrNotFound
}

func (s *memStore) RevokeAPIToken(_ context.Context, id int64) (storage.APIToken, error) {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, t := range a.tokens {
		if t.ID == id {
			if t.RevokedAt.IsZero() {
				a.tokens[i].RevokedAt = time.Now().UTC().Truncate(time.Second)
			}
			return a.tokens[i], nil
		}
	}
	return storage.APIToken{}, storage.ErrNotFound
}

func (s *memStore) CreateOAuthClient(_ context.Context, c storage.OAuthClient) error {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.clients[c.ID]; ok {
		return fmt.Errorf("duplicate client id %q", c.ID)
	}
	c.CreatedAt = time.Now().UTC().Truncate(time.Second)
	a.clients[c.ID] = c
	return nil
}

func (s *memStore) OAuthClient(_ context.Context, id string) (storage.OAuthClient, error) {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.clients[id]
	if !ok {
		return storage.OAuthClient{}, storage.ErrNotFound
	}
	return c, nil
}

func (s *memStore) CreateOAuthGrant(_ context.Context, g storage.OAuthGrant) error {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.grants[g.Kind] == nil {
		a.grants[g.Kind] = map[string]storage.OAuthGrant{}
	}
	if _, ok := a.grants[g.Kind][g.Signature]; ok {
		return fmt.Errorf("duplicate %s grant", g.Kind)
	}
	a.grants[g.Kind][g.Signature] = g
	return nil
}

func (s *memStore) OAuthGrant(_ context.Context, kind storage.OAuthGrantKind, signature string) (storage.OAuthGrant, error) {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	g, ok := a.grants[kind][signature]
	if !ok {
		return storage.OAuthGrant{}, storage.ErrNotFound
	}
	return g, nil
}

func (s *memStore) UseOAuthGrant(_ context.Context, kind storage.OAuthGrantKind, signature string) error {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	g, ok := a.grants[kind][signature]
	switch {
	case !ok:
		return storage.ErrNotFound
	case g.Used:
		return storage.ErrGrantUsed
	}
	g.Used = true
	a.grants[kind][signature] = g
	return nil
}

func (s *memStore) DeleteOAuthGrant(_ context.Context, kind storage.OAuthGrantKind, signature string) error {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.grants[kind], signature)
	return nil
}

func (s *memStore) RevokeOAuthGrants(_ context.Context, kind storage.OAuthGrantKind, requestID string) error {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	for sig, g := range a.grants[kind] {
		if g.RequestID == requestID && g.RevokedAt.IsZero() {
			g.RevokedAt = time.Now().UTC().Truncate(time.Second)
			a.grants[kind][sig] = g
		}
	}
	return nil
}

func (s *memStore) ServerSecret(_ context.Context, name string, candidate []byte) ([]byte, error) {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	if secret, ok := a.secrets[name]; ok {
		return secret, nil
	}
	a.secrets[name] = slices.Clone(candidate)
	return candidate, nil
}

func (s *memStore) CreateWebSession(_ context.Context, ws storage.WebSession) error {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	ws.CreatedAt = time.Now().UTC().Truncate(time.Second)
	a.sessions[string(ws.Hash)] = ws
	return nil
}

func (s *memStore) WebSession(_ context.Context, hash []byte) (storage.WebSession, error) {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	ws, ok := a.sessions[string(hash)]
	if !ok {
		return storage.WebSession{}, storage.ErrNotFound
	}
	return ws, nil
}

func (s *memStore) DeleteWebSession(_ context.Context, hash []byte) error {
	a := s.acc()
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.sessions, string(hash))
	return nil
}

func TestAccounts(t *testing.T) { RunAccounts(t, openMem) }
