package osmapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/storage"
)

// reply is how an error is answered. cgimap answers three kinds of errors
// three ways (src/process_request.cpp): a 404 as an empty HTML document, a
// 405 as an empty document with an Allow header, and every other error as
// text/plain carrying the message, repeated in an Error header.
type reply int

const (
	replyText     reply = iota // text/plain body and Error header
	replyEmpty404              // text/html; charset=utf-8, Content-Length 0
	replyEmpty405              // text/html, Content-Length 0, Allow header
	// text/plain; charset=utf-8 with WWW-Authenticate, no Error header
	// (respond_401)
	replyUnauthorized
)

// golden is one error reply: a row of the one golden table
// (editing.Golden) and how cgimap answers its status.
type golden struct {
	editing.GoldenText
	Reply reply
}

// errorKind names one row of the golden table.
type errorKind = editing.ErrorKind

// The read errors, as this package has always named them.
const (
	errNotFound              = editing.ErrNotFound
	errGone                  = editing.ErrGone
	errMethodNotAllowed      = editing.ErrMethodNotAllowed
	errBBoxFormat            = editing.ErrBBoxFormat
	errBBoxRange             = editing.ErrBBoxRange
	errBBoxTooLarge          = editing.ErrBBoxTooLarge
	errTooManyNodes          = editing.ErrTooManyNodes
	errNodesParam            = editing.ErrNodesParam
	errWaysParam             = editing.ErrWaysParam
	errRelationsParam        = editing.ErrRelationsParam
	errNotAcceptable         = editing.ErrNotAcceptable
	errEncodingNotAcceptable = editing.ErrEncodingNotAcceptable
	errAcceptEmpty           = editing.ErrAcceptEmpty
	errAcceptMalformed       = editing.ErrAcceptMalformed
	errAcceptMediaType       = editing.ErrAcceptMediaType
	errAcceptWildcard        = editing.ErrAcceptWildcard
	errAcceptParameter       = editing.ErrAcceptParameter
	errAcceptQuality         = editing.ErrAcceptQuality
	errInternal              = editing.ErrInternal
)

// replyFor is how cgimap answers a status (src/process_request.cpp):
// respond_404, process_not_allowed, respond_401, respond_error.
func replyFor(status int) reply {
	switch status {
	case http.StatusNotFound:
		return replyEmpty404
	case http.StatusMethodNotAllowed:
		return replyEmpty405
	case http.StatusUnauthorized:
		return replyUnauthorized
	}
	return replyText
}

// apiError is an error answered to the client with a golden text.
type apiError struct {
	kind errorKind
	args []any
	// text, when set, is the message already formatted (an editing or
	// parser error carries its own).
	text   string
	status int
	// cause is logged, never sent.
	cause error
	// textOn404 sends a 404's text, which cgimap leaves out: for
	// openstreetmap-website's calls, whose clients read it
	// (python-osmapi's NotSubscribedApiError).
	textOn404 bool
}

func newError(kind errorKind, args ...any) *apiError { return &apiError{kind: kind, args: args} }

// internalError answers a failure of ours: 503 with Retry-After when the
// store is away (unavailableError), otherwise a 500 whose cause is logged.
func internalError(cause error) *apiError {
	if storage.IsUnavailable(cause) {
		return unavailableError(cause)
	}
	return &apiError{kind: errInternal, cause: cause}
}

// unavailableError answers a call the store could not serve because the
// database is away (storage.ErrUnavailable): nothing was kept, and the
// same call may succeed later, so a client is told when to retry rather
// than shown a 500.
func unavailableError(cause error) *apiError {
	return &apiError{kind: editing.ErrUnavailable, cause: cause}
}

// editingError answers an editing failure with its own status and text.
func editingError(e *editing.Error) *apiError {
	return &apiError{kind: e.Kind, text: e.Message, status: e.Status, cause: e}
}

func (e *apiError) golden() golden {
	g := golden{GoldenText: editing.Golden[e.kind]}
	if e.status != 0 {
		g.Status = e.status
	}
	g.Reply = replyFor(g.Status)
	if e.textOn404 && g.Reply == replyEmpty404 {
		g.Reply = replyText
	}
	return g
}

func (e *apiError) message() string {
	g := e.golden()
	if e.text != "" {
		return e.text
	}
	if len(e.args) == 0 {
		return g.Text
	}
	return fmt.Sprintf(g.Text, e.args...)
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%d %s", e.golden().Status, e.message())
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

func (e *apiError) Unwrap() error { return e.cause }

// allowedMethods is what every read route accepts, in cgimap's order
// (src/http.cpp list_methods).
const allowedMethods = "GET, HEAD, OPTIONS"

// writeError answers err as cgimap does. A client sending
// "X-Error-Format: xml" gets the message in an <osmError> document with
// status 200, except for 404 and 405 (cgimap
// test/message.testcore/map_400_xml.case and node_404_xml.case).
func writeError(w http.ResponseWriter, r *http.Request, err *apiError) {
	g := err.golden()
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	if g.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(storage.UnavailableRetryAfter))
	}
	switch g.Reply {
	case replyEmpty404:
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", "0")
		w.WriteHeader(g.Status)
		return
	case replyEmpty405:
		h.Set("Allow", allowedMethods)
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", "0")
		w.WriteHeader(g.Status)
		return
	case replyUnauthorized:
		msg := err.message()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("WWW-Authenticate", `Basic realm="Web Password", charset="UTF-8"`)
		h.Set("Content-Length", fmt.Sprint(len(msg)))
		w.WriteHeader(g.Status)
		_, _ = w.Write([]byte(msg))
		return
	}
	msg := err.message()
	if strings.EqualFold(r.Header.Get("X-Error-Format"), "xml") {
		h.Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n<osmError>\r\n<status>%d %s</status>\r\n<message>%s</message>\r\n</osmError>\r\n",
			g.Status, http.StatusText(g.Status), xmlEscape(msg))
		return
	}
	header := msg
	if len(header) > 250 {
		header = header[:250]
	}
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Length", fmt.Sprint(len(msg)))
	h.Set("Error", strings.ReplaceAll(header, "\n", " "))
	w.WriteHeader(g.Status)
	_, _ = w.Write([]byte(msg))
}
