// Package sqlite is the embedded storage backend: the authoritative
// dataset in one SQLite file, through modernc.org/sqlite (pure Go).
//
// Writes go through one connection whose transactions begin IMMEDIATE, so
// they take SQLite's write lock up front (design.md's merge lock) instead
// of failing half-way when another writer got there first; reads go
// through a separate pool and, in WAL mode, never wait for the writer.
// Another process (a CLI command while `serve` runs) may open the same
// file: its writes wait up to the busy timeout for the lock.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/geocommuns/geocommuns/storage"
)

// FileName is the database file Open creates in its directory.
const FileName = "geocommuns.db"

// busyTimeoutMillis is how long a connection waits for another one's lock.
// An import holds the write lock for its whole duration (tens of seconds
// for a county extract), so writers elsewhere wait rather than fail.
const busyTimeoutMillis = 60000

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a dataset in one SQLite file. It implements storage.Store.
type Store struct {
	queries         // on the read pool
	writer  *sql.DB // one connection, BEGIN IMMEDIATE
	reader  *sql.DB // a pool of query-only connections
	// merged wakes WaitMerge after each of this process's merges.
	merged storage.MergeSignal
	// reviewed wakes WaitReviewEvent after each of this process's review
	// events.
	reviewed storage.MergeSignal
}

var _ storage.Store = (*Store)(nil)

// Open opens (creating it if needed) the dataset in dir, migrated to the
// current schema.
func Open(ctx context.Context, dir string) (*Store, error) {
	writer, err := openWriter(dir)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, writer); err != nil {
		writer.Close()
		return nil, err
	}
	reader, err := openDB(dir, readerDSNParams)
	if err != nil {
		writer.Close()
		return nil, err
	}
	// A few connections per core: reads run in parallel (an export holds
	// one for its whole snapshot) while each connection's page cache
	// stays small.
	reader.SetMaxOpenConns(2 * runtime.GOMAXPROCS(0))
	reader.SetMaxIdleConns(2 * runtime.GOMAXPROCS(0))
	reader.SetConnMaxIdleTime(0)
	return &Store{queries: queries{reader}, writer: writer, reader: reader}, nil
}

// Migrate brings the dataset in dir to the current schema (creating it if
// needed) without opening it for use.
func Migrate(ctx context.Context, dir string) error {
	writer, err := openWriter(dir)
	if err != nil {
		return err
	}
	defer writer.Close()
	return migrate(ctx, writer)
}

// Close releases the store's connections.
func (s *Store) Close() error {
	return errors.Join(s.reader.Close(), s.writer.Close())
}

// Path is the database file of the dataset kept in dir.
func Path(dir string) string { return filepath.Join(dir, FileName) }

// DSN parameters, in modernc.org/sqlite's syntax. busy_timeout comes first
// in the driver's own order, so the journal_mode change waits too.
var (
	commonDSNParams = []string{
		"_pragma=busy_timeout(" + fmt.Sprint(busyTimeoutMillis) + ")",
		"_pragma=journal_mode(WAL)",
		"_pragma=foreign_keys(1)",
		// synchronous stays FULL (the default): with NORMAL a commit can
		// vanish on power loss after subscribers were told of it.
	}
	writerDSNParams = append([]string{"_txlock=immediate"}, commonDSNParams...)
	readerDSNParams = append([]string{"_pragma=query_only(1)"}, commonDSNParams...)
)

func openWriter(dir string) (*sql.DB, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the dataset directory: %w", err)
	}
	db, err := openDB(dir, writerDSNParams)
	if err != nil {
		return nil, err
	}
	// One writer connection: SQLite has one write lock per file anyway, and
	// queuing in database/sql is cheaper than waiting on busy_timeout.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	return db, nil
}

func openDB(dir string, params []string) (*sql.DB, error) {
	path := Path(dir)
	// The driver cuts the DSN at the first '?', so a path holding one would
	// be misread as parameters.
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open %s: a dataset path cannot contain '?'", path)
	}
	db, err := sql.Open("sqlite", path+"?"+strings.Join(params, "&"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	// Only this package's files: Go migrations registered globally (by
	// another backend, say) are not SQLite's.
	provider, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate the SQLite dataset: %w", err)
	}
	return nil
}
