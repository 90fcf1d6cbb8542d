package storagetest

import (
	"testing"

	"github.com/geocommuns/geocommuns/storage"
)

func openMem(t *testing.T) storage.Store {
	s := newMemStore()
	t.Cleanup(func() { s.Close() })
	return s
}

// The suite against the plain in-memory semantics: it must pass.
func TestConformance(t *testing.T) { Run(t, openMem) }

// And it must fail against each fault.
func TestNegativeControl(t *testing.T) { RunNegativeControl(t, openMem) }

func TestMapAgreement(t *testing.T) { RunMapAgreement(t, openMem) }
