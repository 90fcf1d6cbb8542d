package clientstest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The binary is built once per test binary, into a temporary directory,
// and every test runs it as an operator would: `geocommuns import`,
// `user add`, `oauth-app add`, then `serve`.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "geocommuns-clientstest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "geocommuns")
	build := exec.Command("go", "build", "-o", binary, "github.com/geocommuns/geocommuns/cmd/geocommuns")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build geocommuns: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// commandTimeout bounds one CLI command on the small fixture; clientTimeout
// one client session; both are far above what they take, so that a hang
// fails the test instead of stalling the package.
const (
	commandTimeout = time.Minute
	clientTimeout  = time.Minute
)

// runCommand runs a geocommuns subcommand on the dataset, with stdin,
// and returns its stdout; a failure fails the test. The dataset's flags
// go right after the subcommand's name, where every subcommand reads
// them.
func runCommand(t *testing.T, ds dataset, stdin string, subcommand string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, slices.Concat([]string{subcommand}, ds.flags, args)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("geocommuns %s %s: %v\n%s", subcommand, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

const postgresVariable = "GEOCOMMUNS_TEST_POSTGRES"

// backends are the backends to run on: SQLite always, PostgreSQL when
// GEOCOMMUNS_TEST_POSTGRES names a server.
func backends(t *testing.T) []string {
	t.Helper()
	if os.Getenv(postgresVariable) == "" {
		t.Logf("PostgreSQL not tested: set %s, e.g. %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable", postgresVariable, postgresVariable)
		return []string{"sqlite"}
	}
	return []string{"sqlite", "postgres"}
}

// dataset is where one test's data lives, as the command-line flags
// every subcommand takes.
type dataset struct {
	backend string
	flags   []string
}

var nonIdentifier = regexp.MustCompile(`[^a-z0-9_]+`)

// newDataset names an empty dataset: a SQLite directory, or a fresh
// PostgreSQL schema dropped when the test ends.
func newDataset(t *testing.T, backend string) dataset {
	t.Helper()
	if backend == "sqlite" {
		return dataset{backend, []string{"--data", filepath.Join(t.TempDir(), "data")}}
	}
	url := os.Getenv(postgresVariable)
	name := nonIdentifier.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	schema := "t_clients_" + name + "_" + hex.EncodeToString(suffix)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return dataset{backend, []string{"--postgres", url, "--schema", schema}}
}

// serveProcess is a running `geocommuns serve`.
type serveProcess struct {
	cmd  *exec.Cmd
	base string
	mu   sync.Mutex
	logs strings.Builder
	done chan error
}

var listeningLine = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startServe runs `geocommuns serve` on a free port over the dataset and
// waits until it listens; it is stopped with SIGTERM when the test ends,
// and a server that does not stop cleanly fails the test.
func startServe(t *testing.T, ds dataset) *serveProcess {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--listen", "127.0.0.1:0"}, ds.flags...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serveProcess{cmd: cmd, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() { s.stop(t) })
	select {
	case a := <-addr:
		s.base = "http://" + a
	case err := <-s.done:
		s.done <- err
		t.Fatalf("serve exited before listening: %v\n%s", err, s.log())
	case <-time.After(commandTimeout):
		t.Fatalf("serve did not listen within %s\n%s", commandTimeout, s.log())
	}
	return s
}

func (s *serveProcess) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// stop sends SIGTERM and waits for a clean exit (kills after a while).
func (s *serveProcess) stop(t *testing.T) {
	t.Helper()
	if s.cmd.ProcessState != nil {
		return
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("stop serve: %v", err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM\n%s", err, s.log())
		}
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		t.Errorf("serve did not stop within 30 s of SIGTERM\n%s", s.log())
	}
}

// requireClient skips the test when a client is not installed, naming
// what installs it, except in CI, where every client must be there.
func requireClient(t *testing.T, what, install string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI (%s): %v", what, install, err)
	}
	t.Skipf("%s is not installed (%s): %v", what, install, err)
}
