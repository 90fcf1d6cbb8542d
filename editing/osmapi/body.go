package osmapi

import (
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/geocommuns/geocommuns/editing"
)

// Request bodies of the write calls. A body may come with or without a
// Content-Type (JOSM sends text/xml, iD and osm-api application/xml,
// python's osmapi none), and compressed with gzip or deflate as cgimap
// accepts it (src/request.cpp). The limit applies twice: to the bytes on
// the wire, through http.MaxBytesReader, and to the bytes after
// decompression, so that a small gzip bomb is refused as soon as it
// inflates past the limit. Both give cgimap's 413.

// errBodyTooLarge is what the decompressed body's reader returns past
// the limit.
var errBodyTooLarge = errors.New("request body over the limit")

// limitedReader reads at most limit bytes and then fails with
// errBodyTooLarge (io.LimitReader would end quietly, and a truncated XML
// document would be refused with a misleading parse error).
type limitedReader struct {
	r     io.Reader
	limit int64
	read  int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.read >= l.limit {
		// One byte more tells "exactly the limit" from "over it".
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if max := l.limit - l.read; int64(len(p)) > max {
		p = p[:max]
	}
	n, err := l.r.Read(p)
	l.read += int64(n)
	return n, err
}

// requestBody returns the request's body decompressed and bounded by
// limit. The caller closes it.
func requestBody(w http.ResponseWriter, r *http.Request, limit int64) (io.ReadCloser, *apiError) {
	wire := http.MaxBytesReader(w, r.Body, limit)
	var body io.Reader = wire
	closeAll := wire.Close
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(wire)
		if err != nil {
			return nil, bodyError(err, limit)
		}
		body = &inflating{zr}
	case "deflate":
		zr, err := zlib.NewReader(wire)
		if err != nil {
			return nil, bodyError(err, limit)
		}
		body = &inflating{zr}
	default:
		return nil, newError(editing.ErrBadContentEncoding)
	}
	return struct {
		io.Reader
		io.Closer
	}{&limitedReader{r: body, limit: limit}, closerFunc(closeAll)}, nil
}

// inflating marks what a decompressor fails with, so that a corrupt or
// truncated stream is told from a failing connection.
type inflating struct{ r io.Reader }

type inflateError struct{ err error }

func (e *inflateError) Error() string { return "decompress the request body: " + e.err.Error() }
func (e *inflateError) Unwrap() error { return e.err }

func (z *inflating) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	if err != nil && err != io.EOF && !errors.As(err, new(*http.MaxBytesError)) {
		err = &inflateError{err}
	}
	return n, err
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// bodyError answers a failure to read the body: 413 past either limit,
// 400 for a body that does not decompress, and otherwise the reading
// error itself (a client that went away).
func bodyError(err error, limit int64) *apiError {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge), errors.Is(err, errBodyTooLarge):
		return newError(editing.ErrPayloadTooLarge, limit)
	case errors.As(err, new(*inflateError)), errors.Is(err, gzip.ErrHeader), errors.Is(err, zlib.ErrHeader):
		return &apiError{kind: editing.ErrBadContentEncoding, cause: err}
	}
	return internalError(fmt.Errorf("read the request body: %w", err))
}
