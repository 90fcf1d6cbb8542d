package sqlite_test

import (
	"context"
	"testing"

	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/sqlite"
	"github.com/geocommuns/geocommuns/storage/storagetest"
)

// open is the conformance suite's opener: a new dataset in the test's own
// temporary directory.
func open(t *testing.T) storage.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func openStore(t *testing.T) *sqlite.Store { return open(t).(*sqlite.Store) }

func TestConformance(t *testing.T)     { storagetest.Run(t, open) }
func TestNegativeControl(t *testing.T) { storagetest.RunNegativeControl(t, open) }
func TestMapAgreement(t *testing.T)    { storagetest.RunMapAgreement(t, open) }
