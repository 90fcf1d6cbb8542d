package osmfile

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const paulmachOSM = "github.com/paulmach/osm"

// ModuleTestdata returns the same directory as ModuleDir; both names are
// in use.
func ModuleTestdata() (string, error) { return ModuleDir() }

// ModuleDir returns the directory of the github.com/paulmach/osm
// module, whose testdata/ holds real extracts (delaware-latest.osm.pbf,
// andorra-latest.osm.bz2, changeset_38162206.osc) and whose
// osmgeojson/testdata/benchmark.osm is a real /api/0.6/map reply. Tests
// and `serve --demo` read them from there rather than keeping copies.
func ModuleDir() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", paulmachOSM).Output()
	if dir := strings.TrimSpace(string(out)); err == nil && dir != "" {
		return dir, nil
	}
	modcache := os.Getenv("GOMODCACHE")
	if modcache == "" {
		if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
			modcache = strings.TrimSpace(string(out))
		}
	}
	if modcache == "" {
		if home, err := os.UserHomeDir(); err == nil {
			modcache = filepath.Join(home, "go", "pkg", "mod")
		}
	}
	dir := filepath.Join(modcache, paulmachOSM+"@v0.8.0")
	if _, err := os.Stat(filepath.Join(dir, "testdata")); err != nil {
		return "", fmt.Errorf("locate %s: not found by `go list -m` nor at %s (run `go mod download %s`)", paulmachOSM, dir, paulmachOSM)
	}
	return dir, nil
}
