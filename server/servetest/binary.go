package servetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// buildTimeout bounds the one build of the binary; far above what it
// takes on a busy machine, so that a hang fails instead of stalling.
const buildTimeout = 10 * time.Minute

// The build is shared by every test of the test binary: linking takes
// seconds, and a package like editing/clientstest has dozens of tests.
var (
	mainRunning bool
	buildOnce   sync.Once
	buildDir    string
	binaryPath  string
	buildErr    error
)

// Main runs the tests of m and exits with their status, removing the
// binary Binary built, if any. Call it from TestMain: without it the
// built binary would outlive the test binary.
func Main(m *testing.M) {
	mainRunning = true
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// Binary returns the path of the geocommuns binary built from this
// checkout, building it on the first call; a failed build fails every
// test that asks for it.
func Binary(t testing.TB) string {
	t.Helper()
	if !mainRunning {
		t.Fatal("servetest.Binary needs servetest.Main(m) in the package's TestMain, which removes the built binary")
	}
	buildOnce.Do(build)
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binaryPath
}

func build() {
	dir, err := os.MkdirTemp("", "geocommuns-servetest-")
	if err != nil {
		buildErr = fmt.Errorf("build geocommuns: %w", err)
		return
	}
	buildDir = dir
	path := filepath.Join(dir, "geocommuns")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", path, "github.com/geocommuns/geocommuns/cmd/geocommuns")
	if out, err := cmd.CombinedOutput(); err != nil {
		buildErr = fmt.Errorf("build geocommuns: %w\n%s", err, out)
		return
	}
	binaryPath = path
}
