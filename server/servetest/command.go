package servetest

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// commandTimeout bounds one CLI command, or the wait for serve to listen;
// far above what each takes on a small dataset, so that a hang fails the
// test instead of stalling the package.
const commandTimeout = time.Minute

// Run runs binary with args and stdin, and returns its stdout; a failure
// fails the test with the command's stderr.
func Run(t testing.TB, binary, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("geocommuns %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}
