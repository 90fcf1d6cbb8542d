package bus_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/geocommuns/geocommuns/sync/bus"
)

// NATSVariable names the URL of the machine's NATS (Debian's 2.9.10).
const NATSVariable = "GEOCOMMUNS_TEST_NATS"

// target is one NATS the tests run against.
type target struct {
	name string
	// url starts (or finds) the server and returns its client URL.
	url func(t testing.TB) string
}

var targets = []target{
	{"embedded", func(t testing.TB) string { return startEmbedded(t, t.TempDir(), "127.0.0.1:0").ClientURL() }},
	{"external", externalURL},
}

func externalURL(t testing.TB) string {
	u := os.Getenv(NATSVariable)
	if u == "" {
		t.Skipf("tests against the machine's NATS need it: set %s, e.g. %s=nats://127.0.0.1:4222", NATSVariable, NATSVariable)
	}
	return u
}

func startEmbedded(t testing.TB, dir, listen string) *bus.Embedded {
	t.Helper()
	e, err := bus.StartEmbedded(bus.EmbeddedConfig{StoreDir: dir, Listen: listen})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	return e
}

// connect opens a connection as serve's relay does: reconnecting for
// ever, publishes failing at once while disconnected.
func connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectBufSize(-1), nats.ReconnectWait(100*time.Millisecond),
		nats.RetryOnFailedConnect(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// names gives a test a stream and subject prefix of its own, and deletes
// the stream afterwards, so tests sharing one NATS never meet.
func names(t testing.TB, url string) (stream string, subjects bus.Subjects) {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	id := hex.EncodeToString(b)
	stream, subjects = "GCTEST_"+id, bus.Subjects{Prefix: "gctest" + id}
	t.Cleanup(func() {
		nc, err := nats.Connect(url, nats.Timeout(5*time.Second))
		if err != nil {
			return // an embedded server is gone with its files
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		js.DeleteStream(ctx, stream)
	})
	return stream, subjects
}

// freeAddr finds a TCP port nothing listens on now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// debianServer is the machine's nats-server binary run as a process of
// the test's own, so that the test may stop it.
type debianServer struct {
	t    testing.TB
	addr string
	dir  string
	cmd  *exec.Cmd
}

const debianBinary = "/usr/sbin/nats-server"

func newDebianServer(t testing.TB) *debianServer {
	if _, err := os.Stat(debianBinary); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: install Debian's nats-server", debianBinary)
		}
		t.Skipf("%s is missing: install Debian's nats-server", debianBinary)
	}
	s := &debianServer{t: t, addr: freeAddr(t), dir: t.TempDir()}
	t.Cleanup(s.stop)
	return s
}

func (s *debianServer) url() string { return "nats://" + s.addr }

func (s *debianServer) start() {
	s.t.Helper()
	host, port, _ := net.SplitHostPort(s.addr)
	s.cmd = exec.Command(debianBinary, "-a", host, "-p", port, "-js", "-sd", s.dir)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	// Ready once it accepts a client with JetStream.
	deadline := time.Now().Add(30 * time.Second)
	for {
		nc, err := nats.Connect(s.url())
		if err == nil {
			js, _ := jetstream.New(nc)
			_, err = js.AccountInfo(context.Background())
			nc.Close()
			if err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("nats-server on %s not ready: %v", s.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *debianServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// version asks the server which version it is.
func serverVersion(t testing.TB, url string) string {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	return nc.ConnectedServerVersion()
}
