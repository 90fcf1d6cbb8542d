package bench

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// machine is what the write-up says of where and with what the run ran:
// figures mean little without it.
type machine struct {
	CPU        string
	Cores      int
	MemoryGiB  float64
	OS         string
	Go         string
	PostgreSQL string
	SQLite     string
	Commit     string
}

// describeMachine reads the machine and the versions; what it cannot
// read it says so rather than failing the run.
func describeMachine(ctx context.Context, postgresURL string) machine {
	m := machine{
		CPU:    cmpOr(procField("/proc/cpuinfo", "model name"), runtime.GOARCH),
		Cores:  runtime.NumCPU(),
		OS:     runtime.GOOS + "/" + runtime.GOARCH,
		Go:     runtime.Version(),
		Commit: commit(),
		SQLite: sqliteVersion(ctx),
	}
	if kb, err := strconv.ParseFloat(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 64); err == nil {
		m.MemoryGiB = kb / (1 << 20)
	}
	if name := osRelease(); name != "" {
		m.OS = name + ", " + m.OS
	}
	if kernel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OS += ", Linux " + strings.TrimSpace(string(kernel))
	}
	m.PostgreSQL = "not run (no --postgres)"
	if postgresURL != "" {
		m.PostgreSQL = postgresVersion(ctx, postgresURL)
	}
	return m
}

// procField reads "name : value" from a /proc file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func osRelease() string {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

func postgresVersion(ctx context.Context, url string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	return v
}

// sqliteVersion asks the driver the embedded store runs on (registered
// by storage/sqlite) for its SQLite's version.
func sqliteVersion(ctx context.Context) string {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	defer db.Close()
	var v string
	if err := db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&v); err != nil {
		return fmt.Sprintf("unknown (%v)", err)
	}
	return v + " (modernc.org/sqlite)"
}

// commit is the geocommuns commit the binary was built from: stamped by
// go build, or asked of git where go run left it unstamped.
func commit() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			if modified == "true" {
				rev += " (with uncommitted changes)"
			}
			return rev
		}
	}
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown (not built from a git checkout)"
	}
	rev := strings.TrimSpace(string(out))
	if dirty, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(dirty) > 0 {
		rev += " (with uncommitted changes)"
	}
	return rev
}
