package storagetest

import (
	"testing"

	"github.com/geocommuns/geocommuns/storage"
)

// testSplit covers storage.Splitter.
func testSplit(t *testing.T, open Opener) {
	if _, ok := open(t).(storage.Splitter); !ok {
		t.Skip("the store is not a storage.Splitter")
	}
}
