package postgres

import (
	"testing"

	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/storagetest"
)

func openConformance(t *testing.T) storage.Store { return openTestStore(t) }

func TestConformance(t *testing.T) {
	testURL(t)
	storagetest.Run(t, openConformance)
}

func TestNegativeControl(t *testing.T) {
	testURL(t)
	storagetest.RunNegativeControl(t, openConformance)
}

func TestMapAgreement(t *testing.T) {
	testURL(t)
	storagetest.RunMapAgreement(t, openConformance)
}
