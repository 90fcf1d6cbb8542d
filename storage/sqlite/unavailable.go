package sqlite

import (
	"errors"

	"modernc.org/sqlite"

	"github.com/geocommuns/geocommuns/storage"
)

func init() { storage.RecognizeUnavailable(lockedOut) }

// Primary result codes of SQLite (https://sqlite.org/rescode.html); an
// extended code carries its primary one in the low byte.
const (
	sqliteBusy   = 5 // SQLITE_BUSY: another connection holds the lock
	sqliteLocked = 6 // SQLITE_LOCKED: a conflict inside one connection's cache
)

// lockedOut tells SQLite's "database is locked" once busy_timeout has
// run out: another process (an import, a backup, a CLI command) holds the
// write lock. The embedded store's counterpart of a PostgreSQL server
// that is away: the call may succeed later, so it is answered 503 with
// Retry-After rather than 500.
func lockedOut(err error) bool {
	var sqliteErr *sqlite.Error
	if !errors.As(err, &sqliteErr) {
		return false
	}
	switch sqliteErr.Code() & 0xff {
	case sqliteBusy, sqliteLocked:
		return true
	}
	return false
}
