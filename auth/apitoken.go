package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// APITokenPrefix starts every personal API token, so that a Bearer token
// is known for an API token or an OAuth 2 access token without a lookup,
// and a token pasted somewhere public is recognisable for what it is.
const APITokenPrefix = "gcpat_"

// NewAPIToken returns a new random API token and the hash to store. The
// token itself is shown once and never stored.
func NewAPIToken() (token string, hash []byte, err error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", nil, fmt.Errorf("API token: %w", err)
	}
	token = APITokenPrefix + base64.RawURLEncoding.EncodeToString(secret)
	return token, HashAPIToken(token), nil
}

// HashAPIToken is the SHA-256 of a token, as stored. A fast hash is
// enough: the token is 256 random bits, not a password to guess.
func HashAPIToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// IsAPIToken says whether a Bearer token has the form of an API token.
func IsAPIToken(token string) bool { return strings.HasPrefix(token, APITokenPrefix) }
