package webapp

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
)

// A web session is a signed cookie, uid.expiry.nonce.mac, with no row
// in the store: the key is the dataset's server secret named
// "review-session", so every process serving the dataset accepts the
// cookies of the others. The CSRF token is derived from the nonce under
// the same key; the page reads it from /review/api/me.
const (
	sessionCookie = "geocommuns_review"
	secretName    = "review-session"
	csrfHeader    = "X-CSRF-Token"
	cookiePath    = "/review"
)

var errNoSession = errors.New("no valid web session")

type sessions struct {
	accounts storage.Accounts
	lifespan time.Duration
	secure   bool

	// The key is read on first use, and again after a failure: the store
	// may not answer yet when the process starts.
	mu  sync.Mutex
	key []byte
}

func (s *sessions) signingKey(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	key, err := auth.ServerSecret(ctx, s.accounts, secretName)
	if err != nil {
		return nil, fmt.Errorf("web session key: %w", err)
	}
	s.key = key
	return key, nil
}

func mac(key []byte, purpose, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose + "\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// start signs the browser in as acc and returns the session's CSRF
// token.
func (s *sessions) start(w http.ResponseWriter, r *http.Request, uid int64) (string, error) {
	key, err := s.signingKey(r.Context())
	if err != nil {
		return "", err
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("web session nonce: %w", err)
	}
	expires := time.Now().Add(s.lifespan)
	payload := fmt.Sprintf("%d.%d.%s", uid, expires.Unix(), base64.RawURLEncoding.EncodeToString(nonce))
	http.SetCookie(w, s.cookie(r, payload+"."+mac(key, secretName, payload), s.lifespan))
	return mac(key, "csrf", payload), nil
}

// end signs the browser out. The cookie is the whole session, so what
// signing out does is have the browser drop it.
func (s *sessions) end(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, s.cookie(r, "", -time.Second))
}

func (s *sessions) cookie(r *http.Request, value string, maxAge time.Duration) *http.Cookie {
	return &http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     cookiePath,
		MaxAge:   int(maxAge.Seconds()),
		HttpOnly: true,
		Secure:   s.secure || r.TLS != nil,
		// Strict: the app is only ever reached from its own pages, so no
		// cross-site request needs the session.
		SameSite: http.SameSiteStrictMode,
	}
}

// read returns the account of the request's session, errNoSession when
// it has none that is valid. The account is read again each time, so a
// changed role applies at once and a removed account is signed out.
func (s *sessions) read(r *http.Request) (signedIn, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return signedIn{}, errNoSession
	}
	payload, sig, ok := cutLast(c.Value, ".")
	if !ok {
		return signedIn{}, errNoSession
	}
	key, err := s.signingKey(r.Context())
	if err != nil {
		return signedIn{}, err
	}
	if !hmac.Equal([]byte(sig), []byte(mac(key, secretName, payload))) {
		return signedIn{}, errNoSession
	}
	fields := strings.Split(payload, ".")
	if len(fields) != 3 {
		return signedIn{}, errNoSession
	}
	uid, err1 := strconv.ParseInt(fields[0], 10, 64)
	expires, err2 := strconv.ParseInt(fields[1], 10, 64)
	if err1 != nil || err2 != nil || !time.Now().Before(time.Unix(expires, 0)) {
		return signedIn{}, errNoSession
	}
	acc, err := s.accounts.Account(r.Context(), uid)
	if errors.Is(err, storage.ErrNotFound) {
		return signedIn{}, errNoSession
	}
	if err != nil {
		return signedIn{}, fmt.Errorf("account %d of the web session: %w", uid, err)
	}
	return signedIn{
		caller: review.Caller{UID: acc.ID, Name: acc.DisplayName, Role: acc.Role},
		csrf:   mac(key, "csrf", payload),
	}, nil
}

func validCSRF(given, want string) bool {
	return given != "" && hmac.Equal([]byte(given), []byte(want))
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// me is what the page knows of who is signed in.
type me struct {
	UID  int64  `json:"uid"`
	User string `json:"user"`
	Role string `json:"role"`
	CSRF string `json:"csrf"`
}

func (a *App) signIn(w http.ResponseWriter, r *http.Request) {
	var body struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if body.User == "" || body.Password == "" {
		writeError(w, http.StatusBadRequest, "user and password are both required")
		return
	}
	id, err := a.cfg.Authenticator.SignIn(r.Context(), body.User, body.Password)
	if auth.IsRejection(err) {
		writeError(w, http.StatusUnauthorized, "incorrect user name or password")
		return
	}
	if err != nil {
		a.internalError(w, r, "sign in", err)
		return
	}
	csrf, err := a.sessions.start(w, r, id.UserID)
	if err != nil {
		a.internalError(w, r, "start a web session", err)
		return
	}
	writeJSON(w, http.StatusOK, me{UID: id.UserID, User: id.DisplayName, Role: string(id.Role), CSRF: csrf})
}

func (a *App) signOut(w http.ResponseWriter, r *http.Request, _ signedIn) {
	a.sessions.end(w, r)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (a *App) me(w http.ResponseWriter, r *http.Request, who signedIn) {
	writeJSON(w, http.StatusOK, me{UID: who.caller.UID, User: who.caller.Name, Role: who.caller.Role, CSRF: who.csrf})
}

func (a *App) config(w http.ResponseWriter, r *http.Request, _ signedIn) {
	writeJSON(w, http.StatusOK, map[string]string{"basemap": a.cfg.Basemap, "attribution": a.cfg.Attribution})
}
