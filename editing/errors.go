package editing

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// ErrorKind names one row of the golden table (golden.go): one error a
// client may see, with cgimap's status and text.
type ErrorKind int

// Error is an editing failure a client should see: the HTTP layer answers
// Status with Message as cgimap does, the Connect layer maps Status to a
// code and puts Element and the versions in the details.
type Error struct {
	Kind    ErrorKind
	Status  int
	Message string
	// Element is the element the error is about, when there is one; its
	// id is as the client wrote it (a placeholder stays negative).
	Element    osmdata.Key
	HasElement bool
	// Provided and Server are the versions of a version mismatch: the
	// one the client cited and the one it would have needed to cite
	// (what the author's overlay shows).
	Provided, Server int
	// cause is kept for logs and errors.Is; it is never shown.
	cause error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.cause)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

func (e *Error) Unwrap() error { return e.cause }

// AsError returns the *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// newError builds the error of kind with its golden text, formatted with
// args; key, when not nil, names the element.
func newError(kind ErrorKind, key *osmdata.Key, args ...any) *Error {
	g, ok := Golden[kind]
	if !ok {
		g = GoldenText{Status: http.StatusInternalServerError, Text: fmt.Sprintf("unknown error kind %d", kind)}
	}
	e := &Error{Kind: kind, Status: g.Status, Message: g.Text}
	if len(args) > 0 && strings.Contains(g.Text, "%") {
		e.Message = fmt.Sprintf(g.Text, args...)
	}
	if key != nil {
		e.Element, e.HasElement = *key, true
	}
	return e
}

// withCause attaches the underlying error for logs.
func (e *Error) withCause(err error) *Error {
	e.cause = err
	return e
}

// closedError is cgimap's refusal of a closed changeset, with its closing
// time as cgimap formats it; a changeset closed because it is full says
// the current time (cgimap changeset_updater.cpp lock_current_changeset).
func closedError(cs osmdata.Changeset) *Error {
	if cs.NumChanges >= storage.MaxChangesetChanges && (cs.Open || cs.ClosedAt.After(time.Now())) {
		return newError(ErrChangesetFull, nil, cs.ID, time.Now().UTC().Format(closedAtLayout))
	}
	return newError(ErrChangesetClosed, nil, cs.ID, cs.ClosedAt.UTC().Format(closedAtLayout))
}

// closedAtLayout is cgimap's to_char(closed_at, 'YYYY-MM-DD HH24:MI:SS "UTC"').
const closedAtLayout = "2006-01-02 15:04:05 UTC"
