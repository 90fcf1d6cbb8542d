package server_test

import (
	"testing"

	"github.com/geocommuns/geocommuns/server/servetest"
)

// TestMain is the one of this package's test binary: the tests that run
// the built geocommuns binary (limits_test.go, and any other that asks
// servetest for it) share its one build, which Main removes at exit.
func TestMain(m *testing.M) {
	servetest.Main(m)
}
