package oauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/geocommuns/geocommuns/storage"
)

// The sign-in pages' cookies. The session cookie authorizes these pages
// only: the API and Connect never read it (design.md).
const (
	sessionCookie = "geocommuns_session"
	csrfCookie    = "geocommuns_csrf"
)

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func sha256Of(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func (s *Server) cookie(r *http.Request, name, value string, maxAge time.Duration) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/oauth2/",
		MaxAge:   int(maxAge.Seconds()),
		HttpOnly: true,
		Secure:   s.cfg.SecureCookies || r.TLS != nil,
		// Lax: the consent page is reached by a top-level navigation from
		// the editor's origin, which must carry the session.
		SameSite: http.SameSiteLaxMode,
	}
}

// signedInAccount returns the account of the browser's session, or
// ErrNotFound when it has none (no cookie, an unknown or expired one).
func (s *Server) signedInAccount(r *http.Request) (storage.Account, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return storage.Account{}, storage.ErrNotFound
	}
	ws, err := s.accounts.WebSession(r.Context(), sha256Of(c.Value))
	if err != nil {
		return storage.Account{}, err
	}
	if !time.Now().Before(ws.ExpiresAt) {
		return storage.Account{}, storage.ErrNotFound
	}
	return s.accounts.Account(r.Context(), ws.UserID)
}

// startSession signs the browser in as uid: a new random cookie, only its
// hash stored.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, uid int64) error {
	token, err := randomToken()
	if err != nil {
		return err
	}
	expires := time.Now().Add(s.cfg.SessionLifespan)
	if err := s.accounts.CreateWebSession(r.Context(), storage.WebSession{Hash: sha256Of(token), UserID: uid, ExpiresAt: expires}); err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, token, s.cfg.SessionLifespan))
	return nil
}

// endSession signs the browser out.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.accounts.DeleteWebSession(r.Context(), sha256Of(c.Value)); err != nil {
			return err
		}
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, "", -time.Second))
	return nil
}

// CSRF tokens are signed double-submit tokens: a random cookie, and in
// each form its HMAC under a key only the server has. A page of another
// origin can neither read the cookie nor compute the HMAC of one it
// planted. Register also puts net/http's cross-origin protection (Sec-
// Fetch-Site, Origin) in front of every form.

// csrfToken returns the form token for this browser, setting its cookie
// first when it has none.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) (string, error) {
	value := ""
	if c, err := r.Cookie(csrfCookie); err == nil && c.Value != "" {
		value = c.Value
	} else {
		v, err := randomToken()
		if err != nil {
			return "", err
		}
		value = v
		http.SetCookie(w, s.cookie(r, csrfCookie, value, 0))
	}
	return s.csrfMAC(value), nil
}

func (s *Server) csrfMAC(cookieValue string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("csrf\x00" + cookieValue))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

var errCSRF = errors.New("the form's CSRF token does not match this browser")

// checkCSRF checks the form's token against the browser's cookie.
func (s *Server) checkCSRF(r *http.Request, formToken string) error {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" || formToken == "" {
		return errCSRF
	}
	if !hmac.Equal([]byte(formToken), []byte(s.csrfMAC(c.Value))) {
		return errCSRF
	}
	return nil
}
