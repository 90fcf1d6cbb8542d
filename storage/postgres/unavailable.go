package postgres

import (
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/geocommuns/geocommuns/storage"
)

func init() { storage.RecognizeUnavailable(connectionLost) }

// defaultConnectTimeout bounds a connection attempt when the URL sets no
// connect_timeout: a server that does not answer (a host gone, a network
// dropping packets) must fail a request in seconds, not hang it for as
// long as TCP retries.
const defaultConnectTimeout = 5 * time.Second

// connectionLost tells the errors of pgx that mean the server is away
// rather than that a statement failed: a connection that could not be
// made, one the server ended (shutdown, crash, restart), one that broke
// under a statement, and the SQLSTATEs PostgreSQL answers while it is
// stopping or starting. A statement error (a constraint, a syntax error,
// a serialization failure) is not one of them.
func connectionLost(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableState(pgErr.Code)
	}
	if errors.Is(err, pgconn.ErrConnClosed) {
		return true
	}
	// A connection that broke under a statement: pgx returns the socket's
	// own error, often unwrapped (a bare "unexpected EOF" or "read tcp …:
	// connection reset by peer" when the server's processes are killed).
	// The same errors from a client's request body, which it abandoned,
	// count too: the answer goes to nobody either way.
	if errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var netErr *net.OpError
	if errors.As(err, &netErr) && !netErr.Timeout() {
		return true
	}
	// A plain EOF is too common to mean the database, unless pgconn
	// says where it came from.
	return errors.Is(err, io.EOF) && fromPgconn(err)
}

var pgconnPackage = reflect.TypeFor[pgconn.PgError]().PkgPath()

// fromPgconn tells whether an error of pgconn's own types is in err's
// chain: the driver wraps every failure of the connection's socket in one
// (pgconnError, unexported).
func fromPgconn(err error) bool {
	for _, e := range chain(err) {
		t := reflect.TypeOf(e)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.PkgPath() == pgconnPackage {
			return true
		}
	}
	return false
}

// chain is err and every error it wraps, depth first.
func chain(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		out = append(out, e)
		switch w := e.(type) {
		case interface{ Unwrap() error }:
			walk(w.Unwrap())
		case interface{ Unwrap() []error }:
			for _, inner := range w.Unwrap() {
				walk(inner)
			}
		}
	}
	walk(err)
	return out
}

// unavailableState tells the SQLSTATEs of a server that cannot serve now:
// class 08 (connection exception), 57P01 admin_shutdown (pg_ctl stop
// -m fast ends every session with it), 57P02 crash_shutdown, 57P03
// cannot_connect_now ("the database system is starting up" / "is
// shutting down"), 53300 too_many_connections.
func unavailableState(code string) bool {
	switch code {
	case "57P01", "57P02", "57P03", "53300":
		return true
	}
	return strings.HasPrefix(code, "08")
}
