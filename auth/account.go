package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/geocommuns/geocommuns/storage"
)

// ParseRole returns the role named s, or false.
func ParseRole(s string) (Role, bool) {
	switch r := Role(s); r {
	case RoleContributor, RoleReviewer, RoleAdmin:
		return r, true
	}
	return "", false
}

// ValidateDisplayName checks a new account's name as openstreetmap.org
// does (app/models/user.rb: 3 to 255 characters, no leading or trailing
// space, none of the characters that break URLs), and refuses a colon
// too: HTTP Basic splits user from password at the first one.
func ValidateDisplayName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case !utf8.ValidString(name):
		return errors.New("the display name is not valid UTF-8")
	case n < 3 || n > 255:
		return fmt.Errorf("the display name must have 3 to 255 characters, not %d", n)
	case strings.TrimSpace(name) != name:
		return errors.New("the display name may not start or end with a space")
	case strings.ContainsAny(name, "/;.,?%#:"):
		return errors.New(`the display name may not contain any of / ; . , ? % # :`)
	case strings.ContainsFunc(name, unicode.IsControl):
		return errors.New("the display name may not contain control characters")
	}
	// A new account has no id yet (the store allocates it), so no name
	// of a deleted account's form can be its own.
	return CheckPseudonym(name, 0)
}

// CheckPseudonym refuses name for the account uid when it has the form
// deleted accounts are renamed to (storage.Pseudonym, user_ID) and is
// not uid's own: otherwise a live account could pass for a deleted one
// in every changeset, version and discussion. Names are unique up to
// case and leading zeros read the same, so "User_012" is user_12's.
func CheckPseudonym(name string, uid int64) error {
	if uid > 0 && name == storage.Pseudonym(uid) {
		return nil
	}
	prefix, digits := name[:min(len(name), len("user_"))], name[min(len(name), len("user_")):]
	if !strings.EqualFold(prefix, "user_") || digits == "" || strings.ContainsFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) {
		return nil
	}
	return fmt.Errorf("the display name %q is reserved: deleted accounts are renamed user_ID, and this would read as one of them", name)
}

// NewUser is what `geocommuns user add` asks for.
type NewUser struct {
	Name    string
	Role    Role
	Trusted bool
	// Password is empty for an account that signs in with API tokens
	// only.
	Password string
}

// AddUser creates an account and its first API token, which it returns:
// the token is shown once and only its hash is stored.
func AddUser(ctx context.Context, accounts storage.Accounts, u NewUser) (storage.Account, string, error) {
	if err := ValidateDisplayName(u.Name); err != nil {
		return storage.Account{}, "", err
	}
	if _, ok := ParseRole(string(u.Role)); !ok {
		return storage.Account{}, "", fmt.Errorf("unknown role %q: contributor, reviewer or admin", u.Role)
	}
	hash := ""
	if u.Password != "" {
		var err error
		if hash, err = HashPassword(u.Password); err != nil {
			return storage.Account{}, "", err
		}
	}
	acc, err := accounts.CreateAccount(ctx, storage.NewAccount{
		DisplayName: u.Name, Role: string(u.Role), Trusted: u.Trusted, PasswordHash: hash,
	})
	if err != nil {
		return storage.Account{}, "", err
	}
	token, _, err := CreateAPIToken(ctx, accounts, acc.ID)
	return acc, token, err
}

// CreateAPIToken issues a new API token for a user, valid until revoked,
// and returns it with its stored record; only its hash is stored.
func CreateAPIToken(ctx context.Context, accounts storage.Accounts, uid int64) (string, storage.APIToken, error) {
	return CreateExpiringAPIToken(ctx, accounts, uid, time.Time{})
}

// CreateExpiringAPIToken is CreateAPIToken for a token that stops
// working at expiresAt (zero: never), a script's or a guest's.
func CreateExpiringAPIToken(ctx context.Context, accounts storage.Accounts, uid int64, expiresAt time.Time) (string, storage.APIToken, error) {
	token, hash, err := NewAPIToken()
	if err != nil {
		return "", storage.APIToken{}, err
	}
	stored, err := accounts.CreateAPITokenUntil(ctx, uid, hash, expiresAt)
	if err != nil {
		return "", storage.APIToken{}, err
	}
	return token, stored, nil
}
