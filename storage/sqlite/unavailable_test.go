package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/geocommuns/geocommuns/storage"
)

// A write that finds the database locked by another process past its
// busy_timeout is the embedded store's outage: storage.IsUnavailable
// must say so, so that the API answers 503 with Retry-After, while other
// SQLite errors stay what they are.
func TestLockedDatabaseIsUnavailable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	holder := openRaw(t, path, 60000)
	waiter := openRaw(t, path, 0) // busy_timeout already run out
	if _, err := holder.ExecContext(ctx, "CREATE TABLE t (x integer)"); err != nil {
		t.Fatal(err)
	}

	lock, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, err := lock.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	_, err = waiter.ExecContext(ctx, "INSERT INTO t VALUES (1)")
	if err == nil {
		t.Fatal("a write while another connection holds the write lock succeeded")
	}
	if !storage.IsUnavailable(err) {
		t.Errorf("the locked database's error %q is not storage.ErrUnavailable", err)
	}
	if _, err := lock.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}

	// The negative control: a statement error is no outage.
	_, err = waiter.ExecContext(ctx, "INSERT INTO missing VALUES (1)")
	if err == nil {
		t.Fatal("an insert into a missing table succeeded")
	}
	if storage.IsUnavailable(err) {
		t.Errorf("the statement error %q counts as unavailable", err)
	}
	if storage.IsUnavailable(errors.New("database is locked")) {
		t.Error("a plain error with SQLite's text counts as unavailable: only the driver's code should")
	}
}

func openRaw(t *testing.T, path string, busyMillis int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout("+strconv.Itoa(busyMillis)+")")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}
