package main

import (
	"bufio"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// serveProcess is a running `geocommuns serve`.
type serveProcess struct {
	cmd  *exec.Cmd
	base string
	mu   sync.Mutex
	logs strings.Builder
	done chan error
}

var listeningLine = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startServe runs `geocommuns serve` on a free port and waits until it
// listens.
func startServe(t *testing.T, args ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
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
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	select {
	case a := <-addr:
		s.base = "http://" + a
	case err := <-s.done:
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

// stop sends SIGTERM and returns the exit status.
func (s *serveProcess) stop(t *testing.T) int {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return exitErr.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(time.Minute):
		t.Fatalf("serve did not stop within a minute of SIGTERM\n%s", s.log())
	}
	return -1
}

func (s *serveProcess) get(t *testing.T, path string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// TestServeDemo starts `serve --demo` on an empty data directory: it
// imports Andorra, answers the map call there, the probes and the
// metrics, and stops cleanly on SIGTERM. A second start finds the data
// and imports nothing.
func TestServeDemo(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	s := startServe(t, "--demo", "--data", data)
	if !strings.Contains(s.log(), "msg=\"demo: imported 203265 nodes, 9080 ways, 233 relations") {
		t.Errorf("the log does not say what --demo imported:\n%s", s.log())
	}

	status, body := s.get(t, "/api/0.6/map?bbox=1.52,42.50,1.53,42.51")
	if status != http.StatusOK {
		t.Fatalf("map in Andorra: %d %s", status, body)
	}
	var doc struct {
		Nodes     []struct{} `xml:"node"`
		Ways      []struct{} `xml:"way"`
		Relations []struct{} `xml:"relation"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("map reply: %v", err)
	}
	if len(doc.Nodes) == 0 || len(doc.Ways) == 0 {
		t.Errorf("map in Andorra: %d nodes, %d ways, %d relations; want elements", len(doc.Nodes), len(doc.Ways), len(doc.Relations))
	}
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		if status, body := s.get(t, path); status != http.StatusOK || strings.TrimSpace(body) != want {
			t.Errorf("%s: %d %q", path, status, body)
		}
	}
	status, body = s.get(t, "/metrics")
	if status != http.StatusOK || !strings.Contains(body, `geocommuns_http_requests_total{code="200",route="GET /api/0.6/map"} 1`) {
		t.Errorf("/metrics: %d, no count of the map call:\n%.2000s", status, body)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit status after SIGTERM: %d, want 0\n%s", code, s.log())
	}
	if !strings.Contains(s.log(), "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", s.log())
	}

	again := startServe(t, "--demo", "--data", data)
	if !strings.Contains(again.log(), "demo: the dataset is not empty, nothing imported") {
		t.Errorf("second start with --demo:\n%s", again.log())
	}
	if code := again.stop(t); code != 0 {
		t.Errorf("second start: exit status %d after SIGTERM", code)
	}
}
