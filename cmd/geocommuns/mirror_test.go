package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/storage"
)

// TestMirrorSurvivesSIGKILL: trusted contributors edit through the OSM
// API of a source `geocommuns serve` without pause while a `geocommuns
// mirror` of it is killed with SIGKILL at random moments (during the
// dump's import, between merges, inside one) and restarted, a dozen
// times. Once the writes stop and the mirror's recorded position reaches
// the source's last merge, both exports are the same to osmium. The copy
// then serves the map call under `serve --read-only`, which refuses a
// changeset. Before that, the source stops and comes back: the mirror
// reconnects and catches up.
func TestMirrorSurvivesSIGKILL(t *testing.T) {
	osmium := requireOsmium(t)
	for _, backend := range backendNames(t) {
		t.Run(backend, func(t *testing.T) {
			source, replica := newDataset(t, backend), newDataset(t, backend)
			dir := t.TempDir()
			importSmallExtract(t, source, dir)
			clients := trustedMappers(t, source.flags, 3)
			// The clients write as fast as the server answers, for as long
			// as the test runs: the per-user write limit is off here.
			serveFlags := append(slices.Clone(source.flags), "--write-rate", "0")
			src := startServe(t, serveFlags...)

			// Writes go on, one changeset after another per client, until
			// stop; each client's first changeset creates, the others
			// modify, and every fifth round deletes a node it created.
			stop := make(chan struct{})
			var writers sync.WaitGroup
			var closed atomic.Int64 // changesets closed, each one merge
			writeErrs := make(chan error, len(clients))
			for _, c := range clients {
				writers.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						if _, err := c.edit(src.base); err != nil {
							writeErrs <- err
							return
						}
						closed.Add(1)
						if c.round%5 == 0 {
							deleted, err := deleteCreatedNode(c, src.base)
							if err != nil {
								writeErrs <- err
								return
							}
							if deleted {
								closed.Add(1)
							}
						}
					}
				})
			}

			const kills = 12
			mirrorArgs := append([]string{"mirror", "--from", src.base, "--min-backoff", "20ms", "--max-backoff", "500ms"}, replica.flags...)
			var logs strings.Builder
			for i := range kills {
				m := startMirror(t, mirrorArgs)
				time.Sleep(time.Duration(rand.IntN(1500)) * time.Millisecond)
				exited := m.kill(t)
				fmt.Fprintf(&logs, "--- run %d\n%s", i+1, m.log())
				if exited {
					t.Fatalf("mirror exited on its own before kill %d:\n%s", i+1, logs.String())
				}
			}
			close(stop)
			writers.Wait()
			close(writeErrs)
			for err := range writeErrs {
				t.Fatalf("writes: %v", err)
			}

			// The source goes away under the mirror and comes back on the
			// same address with more merges: the mirror reconnects.
			if code := src.stop(t); code != 0 {
				t.Fatalf("source exit status %d after SIGTERM\n%s", code, src.log())
			}
			m := startMirror(t, mirrorArgs)
			m.waitLog(t, "msg=\"mirror: stream ended; reconnecting\"", 3)
			src = startServe(t, append(serveFlags, "--listen", strings.TrimPrefix(src.base, "http://"))...)
			for _, c := range clients {
				if _, err := c.edit(src.base); err != nil {
					t.Fatal(err)
				}
				closed.Add(1)
			}
			// A changeset merges after its close returns: the source is
			// done once it has merged them all.
			last := waitMerges(t, source, closed.Load())
			if last < 3*int64(kills) {
				t.Errorf("only %d merges happened during the %d kills", last, kills)
			}
			waitMirrored(t, replica, last, m)
			if code := m.stop(t); code != 0 {
				t.Errorf("mirror exit status %d after SIGTERM\n%s", code, m.log())
			}
			t.Logf("%d merges mirrored across %d kills", last, kills)

			exports := [2]string{filepath.Join(dir, "source.osm"), filepath.Join(dir, "mirror.osm")}
			for i, ds := range []dataset{source, replica} {
				if r := runBinary(t, nil, append([]string{"export"}, append(ds.flags, exports[i])...)...); r.exit != 0 {
					t.Fatalf("export: %d %s", r.exit, r.stderr)
				}
			}
			if diff := osmiumDiff(t, osmium, exports[0], exports[1]); diff != "" {
				t.Fatalf("the mirror's export differs from the source's:\n%s\nmirror logs:\n%s%s", diff, logs.String(), m.log())
			}
			if code := src.stop(t); code != 0 {
				t.Errorf("source exit status %d after SIGTERM\n%s", code, src.log())
			}

			ro := startServe(t, append(replica.flags, "--read-only")...)
			code, body := ro.get(t, "/api/0.6/map?bbox=1.4,42.4,1.7,42.7")
			if code != http.StatusOK || !strings.Contains(body, `<node id="1"`) {
				t.Errorf("read-only map call: %d\n%s", code, body)
			}
			c := clients[0]
			if _, err := c.open(ro.base); err == nil || !strings.Contains(err.Error(), "405") {
				t.Errorf("read-only server took a changeset: %v", err)
			}
			if code := ro.stop(t); code != 0 {
				t.Errorf("read-only serve exit status %d after SIGTERM\n%s", code, ro.log())
			}
		})
	}
}

// deleteCreatedNode deletes the last node of the mapper's way in a
// changeset of its own, after taking the node out of the way; it leaves
// a way of two nodes alone.
func deleteCreatedNode(m *mapper, base string) (bool, error) {
	if len(m.order) <= 2 {
		return false, nil
	}
	gone := m.order[len(m.order)-1]
	cs, err := m.open(base)
	if err != nil {
		return false, err
	}
	var body strings.Builder
	fmt.Fprintf(&body, `<osmChange version="0.6"><modify><way id="%d" changeset="%d" version="%d">`, m.way, cs, m.ways[m.way])
	for _, n := range m.order[:len(m.order)-1] {
		fmt.Fprintf(&body, `<nd ref="%d"/>`, n)
	}
	fmt.Fprintf(&body, `<tag k="highway" v="track"/></way></modify><delete><node id="%d" changeset="%d" version="%d"/></delete></osmChange>`, gone, cs, m.nodes[gone])
	diff, err := m.upload(base, cs, body.String())
	if err != nil {
		return false, err
	}
	for _, d := range diff {
		if d.kind == "way" {
			m.ways[d.NewID] = d.NewVersion
		}
	}
	m.order = m.order[:len(m.order)-1]
	delete(m.nodes, gone)
	return true, m.close(base, cs)
}

// mirrorProcess is a running `geocommuns mirror`.
type mirrorProcess struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startMirror(t *testing.T, args []string) *mirrorProcess {
	t.Helper()
	m := &mirrorProcess{cmd: exec.Command(binary, args...), logs: &syncBuffer{}, done: make(chan error, 1)}
	m.cmd.Stderr = m.logs
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { m.done <- m.cmd.Wait() }()
	t.Cleanup(func() {
		if m.cmd.ProcessState == nil {
			m.cmd.Process.Kill()
		}
	})
	return m
}

func (m *mirrorProcess) log() string { return m.logs.String() }

// waitLog waits until the mirror has logged text n times.
func (m *mirrorProcess) waitLog(t *testing.T, text string, n int) {
	t.Helper()
	deadline := time.Now().Add(commandTimeout)
	for strings.Count(m.log(), text) < n {
		select {
		case err := <-m.done:
			t.Fatalf("mirror exited (%v) before logging %s %d times\n%s", err, text, n, m.log())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("mirror has not logged %s %d times after %s\n%s", text, n, commandTimeout, m.log())
		}
	}
}

// kill sends SIGKILL and waits; it reports whether the process had
// exited by itself before.
func (m *mirrorProcess) kill(t *testing.T) bool {
	t.Helper()
	select {
	case <-m.done:
		return true
	default:
	}
	if err := m.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-m.done
	return false
}

// stop sends SIGTERM and returns the exit status.
func (m *mirrorProcess) stop(t *testing.T) int {
	t.Helper()
	if err := m.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-m.done:
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return exitErr.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(time.Minute):
		t.Fatalf("mirror did not stop within a minute of SIGTERM\n%s", m.log())
	}
	return -1
}

// openDataset opens a dataset named by command-line flags, as the
// commands do.
func openDataset(t *testing.T, ds dataset) storage.Store {
	t.Helper()
	var sf storeFlags
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	sf.register(fs)
	if err := fs.Parse(ds.flags); err != nil {
		t.Fatal(err)
	}
	st, err := sf.open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// waitMerges waits until the dataset has n merges (merge_seq is
// gapless) and returns the last merge_seq.
func waitMerges(t *testing.T, ds dataset, n int64) int64 {
	t.Helper()
	st := openDataset(t, ds)
	deadline := time.Now().Add(commandTimeout)
	for {
		seq, err := st.LastMergeSeq(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if seq >= n {
			return seq
		}
		if time.Now().After(deadline) {
			t.Fatalf("the source has merged %d of %d changesets after %s", seq, n, commandTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitMirrored waits until the mirror's recorded position reaches last.
func waitMirrored(t *testing.T, ds dataset, last int64, m *mirrorProcess) {
	t.Helper()
	st, ok := openDataset(t, ds).(storage.Mirror)
	if !ok {
		t.Fatal("the store records no mirror position")
	}
	deadline := time.Now().Add(commandTimeout)
	var pos storage.MirrorPosition
	for time.Now().Before(deadline) {
		var err error
		pos, _, err = st.MirrorPosition(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if pos.Imported && pos.MergeSeq >= last {
			return
		}
		select {
		case err := <-m.done:
			t.Fatalf("mirror exited (%v) at %+v, source at merge %d\n%s", err, pos, last, m.log())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("mirror at %+v after %s, source at merge %d\n%s", pos, commandTimeout, last, m.log())
}
