package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Backup writes a copy of the dataset, one consistent snapshot of its
// last commit, to dest, a directory that must not exist yet and that Open
// then opens as a dataset of its own. It runs while the store (and other
// processes, `serve` among them) keep writing: VACUUM INTO reads in a
// read transaction, which in WAL mode never blocks the writer.
//
// Of the dataset directory only the database file is copied: its -wal
// and -shm files are SQLite's and folded into the copy, and the embedded
// NATS server's files (nats/) hold nothing the outbox does not, which
// `serve` republishes into an empty stream.
func (s *Store) Backup(ctx context.Context, dest string) error {
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("back up to %s: it already exists, and a backup goes to a new directory: %w", dest, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("back up to %s: %w", dest, err)
	}
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("back up to %s: %w", dest, err)
	}
	// The copy is written beside dest and renamed into place whole, so
	// an interrupted backup never leaves a directory that opens as a
	// smaller dataset.
	partial, err := os.MkdirTemp(parent, "."+filepath.Base(dest)+".partial-")
	if err != nil {
		return fmt.Errorf("back up to %s: %w", dest, err)
	}
	if err := s.vacuumInto(ctx, Path(partial)); err != nil {
		return errors.Join(fmt.Errorf("back up to %s: %w", dest, err), os.RemoveAll(partial))
	}
	if err := os.Rename(partial, dest); err != nil {
		return errors.Join(fmt.Errorf("back up to %s: %w", dest, err), os.RemoveAll(partial))
	}
	if err := syncPath(parent); err != nil {
		return fmt.Errorf("back up to %s: %w", dest, err)
	}
	return nil
}

// vacuumInto writes the database to the new file path and makes it
// durable.
func (s *Store) vacuumInto(ctx context.Context, path string) error {
	conn, err := s.reader.Conn(ctx)
	if err != nil {
		return fmt.Errorf("a read connection: %w", err)
	}
	defer conn.Close()
	// query_only forbids writing the new file too, so it is lifted on
	// this connection, which is then closed rather than handed back to
	// the read pool able to write.
	defer conn.Raw(func(any) error { return driver.ErrBadConn })
	if _, err := conn.ExecContext(ctx, "PRAGMA query_only = 0"); err != nil {
		return fmt.Errorf("a read connection for VACUUM INTO: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("VACUUM INTO %s: %w", path, err)
	}
	// SQLite does not fsync the file VACUUM INTO writes: a crash soon
	// after would leave a backup that says it succeeded but is torn.
	if err := syncPath(path); err != nil {
		return err
	}
	return syncPath(filepath.Dir(path))
}

// syncPath flushes a file, or a directory's entries, to disk.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}
