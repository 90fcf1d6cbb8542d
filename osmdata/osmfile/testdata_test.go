package osmfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// realFile returns the path of one of paulmach/osm's real test files.
func realFile(t testing.TB, rel string) string {
	t.Helper()
	dir, err := ModuleTestdata()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// needOsmium skips without osmium-tool, except in CI where it must be there.
func needOsmium(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("osmium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("osmium-tool is required in CI (scripts/setup installs it)")
		}
		t.Skip("osmium-tool not installed (apt-get install osmium-tool); skipping")
	}
	return p
}

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
