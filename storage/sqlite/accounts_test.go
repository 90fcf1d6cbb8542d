package sqlite_test

import (
	"testing"

	"github.com/geocommuns/geocommuns/storage/storagetest"
)

func TestAccounts(t *testing.T) { storagetest.RunAccounts(t, open) }
