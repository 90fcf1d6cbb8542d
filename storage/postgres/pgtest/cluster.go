package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ClusterBinaries is where Debian's postgresql-15 puts initdb and
// pg_ctl; scripts/setup installs it.
const ClusterBinaries = "/usr/lib/postgresql/15/bin"

// clusterTimeout bounds each pg_ctl and initdb run: far above what they
// take on a busy machine, so that a hang fails instead of stalling.
const clusterTimeout = 2 * time.Minute

// Cluster is a PostgreSQL server of the test's own, for tests that stop
// and start it (an outage) without touching the shared server every
// other test uses. Its data lives in a temporary directory; trust
// authentication, user postgres, database postgres, on a free port of
// 127.0.0.1.
type Cluster struct {
	// URL connects to the cluster's postgres database.
	URL string

	dir  string // owned by the postgres user: data/, the socket, the log
	port int
	os   *user.User
}

// StartCluster creates and starts a cluster, stopped and removed when
// the test ends. PostgreSQL refuses to run as root, so when the test
// runs as root the binaries run as the postgres user. Where the binaries
// are missing the test skips, naming the package, except in CI (CI=true),
// where it fails.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	initdb := filepath.Join(ClusterBinaries, "initdb")
	if _, err := os.Stat(initdb); err != nil {
		msg := fmt.Sprintf("a private PostgreSQL cluster needs %s (Debian package postgresql-15, which scripts/setup installs): %v", initdb, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	c := &Cluster{}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("PostgreSQL does not run as root, and there is no postgres user to run it as: %v", err)
		}
		c.os = u
	}
	dir, err := os.MkdirTemp("", "geocommuns-pgcluster-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	t.Cleanup(func() {
		if err := c.run("pg_ctl", "stop", "-D", c.dataDir(), "-m", "immediate", "-w"); err != nil && c.Running() {
			t.Errorf("stop the private cluster: %v", err)
		}
		os.RemoveAll(dir)
	})
	if c.os != nil {
		uid, _ := strconv.Atoi(c.os.Uid)
		gid, _ := strconv.Atoi(c.os.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.run("initdb", "-D", c.dataDir(), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		t.Fatalf("initdb: %v", err)
	}
	c.port = freePort(t)
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start() error {
	// The socket goes into the cluster's own directory, not the shared
	// server's /var/run/postgresql; fsync off since nothing here must
	// survive a power cut, only a stop of the server, which it does.
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", c.port, c.dir)
	if err := c.run("pg_ctl", "start", "-D", c.dataDir(), "-w", "-t", "60", "-l", filepath.Join(c.dir, "server.log"), "-o", opts); err != nil {
		return fmt.Errorf("start the private cluster: %w\n%s", err, c.Log())
	}
	return nil
}

// Stop stops the server as `pg_ctl stop -m mode` does: "fast" ends every
// session (SQLSTATE 57P01) and shuts down cleanly, "immediate" kills the
// server's processes, as a crash would, and recovers from the WAL at the
// next start.
func (c *Cluster) Stop(mode string) error {
	if err := c.run("pg_ctl", "stop", "-D", c.dataDir(), "-m", mode, "-w", "-t", "60"); err != nil {
		return fmt.Errorf("stop the private cluster (-m %s): %w", mode, err)
	}
	return nil
}

// Running reports whether the server's postmaster runs (pg_ctl status).
func (c *Cluster) Running() bool {
	return c.run("pg_ctl", "status", "-D", c.dataDir()) == nil
}

// Log is the server's log so far, for failure messages.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	return string(b)
}

// CreateDatabase creates a database on the cluster and returns its URL.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, c.URL)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name), nil
}

// run runs one of the cluster binaries, as the postgres user when the
// test runs as root.
func (c *Cluster) run(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(ClusterBinaries, name), args...)
	cmd.Dir = c.dir
	if c.os != nil {
		uid, _ := strconv.ParseUint(c.os.Uid, 10, 32)
		gid, _ := strconv.ParseUint(c.os.Gid, 10, 32)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Env = append(os.Environ(), "HOME="+c.dir, "USER=postgres", "LOGNAME=postgres")
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return fmt.Errorf("%s %v: %w\n%s", name, args, err, out)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
