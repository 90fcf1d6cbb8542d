package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// TestAddUserRefusesDeletedAccountNames: account deletion renames a user
// user_ID (storage.Pseudonym), so a new account named so, whatever the
// case or leading zeros, would pass for a deleted one in its history;
// `geocommuns user add` refuses it. Names that only start like one stay
// free, and the pseudonym is its own account's.
func TestAddUserRefusesDeletedAccountNames(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	first, _, err := auth.AddUser(ctx, store, auth.NewUser{Name: "ana", Role: auth.RoleContributor})
	if err != nil {
		t.Fatal(err)
	}
	next := first.ID + 1 // the id the next account gets
	for _, name := range []string{storage.Pseudonym(first.ID), storage.Pseudonym(next), "User_12", "USER_0012", "user_99999999999999999999"} {
		_, _, err := auth.AddUser(ctx, store, auth.NewUser{Name: name, Role: auth.RoleContributor})
		if err == nil || !strings.Contains(err.Error(), "reserved") || !strings.Contains(err.Error(), name) {
			t.Errorf("user add %q: %v, want it refused as a deleted account's name", name, err)
		}
	}
	for _, name := range []string{"user_12a", "user_", "user_name", "auser_12", "user12"} {
		if _, _, err := auth.AddUser(ctx, store, auth.NewUser{Name: name, Role: auth.RoleContributor}); err != nil {
			t.Errorf("user add %q: %v", name, err)
		}
	}
	if err := auth.CheckPseudonym(storage.Pseudonym(first.ID), first.ID); err != nil {
		t.Errorf("the pseudonym of account %d refused for itself: %v", first.ID, err)
	}
	if err := auth.CheckPseudonym(storage.Pseudonym(first.ID), first.ID+1); err == nil {
		t.Errorf("account %d may take account %d's pseudonym", first.ID+1, first.ID)
	}
}
