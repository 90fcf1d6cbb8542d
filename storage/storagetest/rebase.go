package storagetest

import (
	"testing"

	"github.com/geocommuns/geocommuns/storage"
)

// testRebase covers storage.Rebaser.
func testRebase(t *testing.T, open Opener) {
	if _, ok := open(t).(storage.Rebaser); !ok {
		t.Skip("the store is not a storage.Rebaser")
	}
}
