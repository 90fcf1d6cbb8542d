package servetest

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// stopTimeout is how long a server has to exit after SIGTERM before it
// is killed and the test fails.
const stopTimeout = 30 * time.Second

var listeningLine = regexp.MustCompile(`msg=listening addr=(\S+)`)

// Process is a running `geocommuns serve`.
type Process struct {
	// Base is the server's URL, http://host:port, without a trailing slash.
	Base string

	cmd      *exec.Cmd
	mu       sync.Mutex
	log      strings.Builder
	exited   chan struct{}
	exitErr  error
	stopOnce sync.Once
}

// Start runs `binary serve args...` and waits until it logs that it
// listens. It listens on a free port of 127.0.0.1 unless args give
// --listen. It is stopped when the test ends, and its log is shown when
// the test failed.
func Start(t testing.TB, binary string, args ...string) *Process {
	t.Helper()
	if !givesListen(args) {
		args = slices.Concat([]string{"--listen", "127.0.0.1:0"}, args)
	}
	cmd := exec.Command(binary, slices.Concat([]string{"serve"}, args)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatalf("start serve: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start serve: %v", err)
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stderr)
		lines.Buffer(nil, 1<<20)
		for lines.Scan() {
			line := lines.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		// Wait only once stderr is drained: it closes the pipe.
		p.exitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.Stop(t)
		if t.Failed() {
			t.Logf("server log:\n%s", p.Log())
		}
	})
	select {
	case a := <-addr:
		p.Base = "http://" + a
	case <-p.exited:
		t.Fatalf("serve exited before listening: %v\n%s", p.exitErr, p.Log())
	case <-time.After(commandTimeout):
		t.Fatalf("serve did not listen within %s\n%s", commandTimeout, p.Log())
	}
	return p
}

func givesListen(args []string) bool {
	return slices.ContainsFunc(args, func(arg string) bool {
		name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		return strings.HasPrefix(arg, "-") && name == "listen"
	})
}

// Log returns what the server has logged so far.
func (p *Process) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// Stop sends SIGTERM and waits for a clean exit, killing the server after
// a while; an unclean exit fails the test. Only the first call acts.
func (p *Process) Stop(t testing.TB) {
	t.Helper()
	p.stopOnce.Do(func() {
		select {
		case <-p.exited:
			if p.exitErr != nil {
				t.Errorf("serve exited with %v before it was stopped", p.exitErr)
			}
			return
		default:
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("stop serve: %v", err)
		}
		select {
		case <-p.exited:
			if p.exitErr != nil {
				t.Errorf("serve exited with %v after SIGTERM", p.exitErr)
			}
		case <-time.After(stopTimeout):
			p.cmd.Process.Kill()
			<-p.exited
			t.Errorf("serve did not stop within %s of SIGTERM", stopTimeout)
		}
	})
}
