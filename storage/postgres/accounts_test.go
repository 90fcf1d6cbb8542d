package postgres

import (
	"testing"

	"github.com/geocommuns/geocommuns/storage/storagetest"
)

func TestAccounts(t *testing.T) {
	testURL(t)
	storagetest.RunAccounts(t, openConformance)
}
