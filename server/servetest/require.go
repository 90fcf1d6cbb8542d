package servetest

import (
	"os"
	"testing"
)

// RequireTool skips the test when err says a tool it drives is missing,
// naming what installs it (install), except in CI (CI=true), where
// scripts/setup has installed every tool and a missing one is a failure.
func RequireTool(t testing.TB, what, install string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI (%s): %v", what, install, err)
	}
	t.Skipf("%s is not installed (%s): %v", what, install, err)
}
