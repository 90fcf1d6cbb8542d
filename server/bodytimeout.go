package server

import (
	"io"
	"net/http"
	"time"
)

// A request body is read under a deadline of its own, BodyReadTimeout
// from the end of the headers, set on the connection through
// http.ResponseController (the per-request read deadline): past it the
// body's Read fails with os.ErrDeadlineExceeded, which the OSM API
// answers 408. A server-wide http.Server.ReadTimeout would do the same
// for every request alike, Subscribe's stream included.
//
// The deadline is lifted as soon as the body has been read whole: on
// HTTP/1.1 net/http then keeps reading the connection in the background
// to notice a client that goes away, and a deadline passing there would
// cancel the request's context in the middle of a long reply.

// withBodyDeadline sets the body's read deadline on r's connection and
// returns r with a body that lifts it at its end. A request without a
// body is left alone.
func (s *Server) withBodyDeadline(rc *http.ResponseController, r *http.Request) *http.Request {
	if r.Body == nil || r.Body == http.NoBody {
		return r
	}
	if err := rc.SetReadDeadline(time.Now().Add(s.cfg.BodyReadTimeout)); err != nil {
		// Not every ResponseWriter supports deadlines: RequestTimeout's
		// context still ends the handler then.
		return r
	}
	r2 := *r
	r2.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
	return &r2
}

// deadlineBody lifts the read deadline once the body has ended.
type deadlineBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	lifted bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.lifted {
		b.lifted = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
