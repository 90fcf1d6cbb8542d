package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// environment is what every scenario shares: where the real data is, and
// how many times to measure.
type environment struct {
	dataDir string
	repeat  int
	// postgresURL is --postgres, for baselines a SQLite run measures on
	// PostgreSQL (the feed's NOTIFY round trip); empty when not given.
	postgresURL string
	// quick is --quick: scenarios pick their reduced sizes.
	quick bool
	// contributors is --contributors, for the load scenario.
	contributors int
}

func newEnvironment(cfg Config) (*environment, error) {
	dir := cfg.DataDir
	if dir == "" {
		modDir, err := osmfile.ModuleDir()
		if err != nil {
			return nil, fmt.Errorf("find the real data (give --data-dir): %w", err)
		}
		dir = modDir
	}
	return &environment{dataDir: dir, repeat: max(cfg.Repeat, 1), postgresURL: cfg.PostgresURL, quick: cfg.Quick, contributors: cfg.Contributors}, nil
}

func (e *environment) file(rel string) string { return filepath.Join(e.dataDir, rel) }

// backend opens fresh, empty stores of one kind, each private to one
// measurement and removed by the returned cleanup.
type backend interface {
	name() string
	open(ctx context.Context) (storage.Store, func(), error)
}

// copyBaseliner is the plain bulk copy each backend offers as the anchor
// for its import figure: the same rows, already in memory, into the same
// tables.
type copyBaseliner interface {
	CopyBaseline(ctx context.Context, elements []osmdata.Element) (time.Duration, error)
}

type sqliteBackend struct{}

func (sqliteBackend) name() string { return "sqlite" }

func (sqliteBackend) open(ctx context.Context) (storage.Store, func(), error) {
	dir, err := os.MkdirTemp("", "geocommuns-bench-")
	if err != nil {
		return nil, nil, fmt.Errorf("temp dir: %w", err)
	}
	s, err := sqlite.Open(ctx, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("open sqlite store: %w", err)
	}
	return s, func() { s.Close(); os.RemoveAll(dir) }, nil
}

type postgresBackend struct{ url string }

func (postgresBackend) name() string { return "postgres" }

func (p postgresBackend) open(ctx context.Context) (storage.Store, func(), error) {
	schema := "bench_" + randomSuffix()
	s, err := postgres.Open(ctx, postgres.Config{URL: p.url, Schema: schema})
	if err != nil {
		return nil, nil, fmt.Errorf("open postgres store: %w", err)
	}
	return s, func() {
		s.Close()
		if err := dropSchema(context.Background(), p.url, schema); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		}
	}, nil
}

func dropSchema(ctx context.Context, url, schema string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	return nil
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
