package osmapi

import (
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/geocommuns/geocommuns/editing"
)

// Request bodies of the write calls. A body may come with or without a
// Content-Type (JOSM sends text/xml, iD and osm-api application/xml,
// python's osmapi none), and compressed with gzip or deflate as cgimap
// accepts it (src/request.cpp). The limit applies twice: to the bytes on
// the wire, through http.MaxBytesReader, and to the bytes after
// decompression. Both give cgimap's 413. A compressed body is also
// bounded by its ratio, decompressed over compressed size, so that a gzip
// bomb is refused (413 too) after a few kilobytes rather than after it
// has inflated to the size limit; and a body that does not arrive before
// the server's read deadline is answered 408.

// errBodyTooLarge is what the decompressed body's reader returns past
// the limit.
var errBodyTooLarge = errors.New("request body over the limit")

// inflatesTooMuchError is what it returns when the body inflates more
// than the ratio allows.
type inflatesTooMuchError struct{ maxRatio int64 }

func (e *inflatesTooMuchError) Error() string {
	return fmt.Sprintf("request body inflates over %d times its compressed size", e.maxRatio)
}

// DefaultMaxInflateRatio is how many times its compressed size a body
// may inflate to. osmChange and changeset XML compress ten to twenty
// times with gzip; a gzip bomb (a run of one byte) a thousand times.
const DefaultMaxInflateRatio = 100

// ratioFloor is how much a compressed body may inflate to whatever its
// ratio: a small body of repetitive XML may compress far better than a
// large one, and a bomb is still stopped after this much.
const ratioFloor = 64 << 10

// countingReader counts the compressed bytes read off the wire.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// limitedReader reads at most limit bytes and then fails with
// errBodyTooLarge (io.LimitReader would end quietly, and a truncated XML
// document would be refused with a misleading parse error). When wire
// is set, the body is decompressed from it and fails with
// *inflatesTooMuchError once it has inflated past ratioFloor and more than
// maxRatio times what was read off the wire: a gzip bomb is refused
// after ratioFloor bytes, never inflated whole, and the parser reading
// it holds no more than it has been handed.
type limitedReader struct {
	r        io.Reader
	limit    int64
	read     int64
	wire     *countingReader
	maxRatio int64
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
	if l.wire != nil && l.read > ratioFloor && l.read > l.maxRatio*max(l.wire.n, 1) {
		return 0, &inflatesTooMuchError{l.maxRatio}
	}
	return n, err
}

// requestBody returns the request's body decompressed and bounded by
// limit and, when compressed, by maxRatio. The caller closes it.
func requestBody(w http.ResponseWriter, r *http.Request, limit int64, maxRatio int) (io.ReadCloser, *apiError) {
	wire := http.MaxBytesReader(w, r.Body, limit)
	counted := &countingReader{r: wire}
	var body io.Reader = wire
	bounded := &limitedReader{limit: limit, maxRatio: int64(maxRatio)}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(counted)
		if err != nil {
			return nil, bodyError(err, limit)
		}
		body, bounded.wire = &inflating{zr}, counted
	case "deflate":
		zr, err := zlib.NewReader(counted)
		if err != nil {
			return nil, bodyError(err, limit)
		}
		body, bounded.wire = &inflating{zr}, counted
	default:
		return nil, newError(editing.ErrBadContentEncoding)
	}
	bounded.r = body
	return struct {
		io.Reader
		io.Closer
	}{bounded, wire}, nil
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

// bodyError answers a failure to read the body: 413 past either limit,
// 408 for a body that did not arrive before the read deadline the server
// sets, 400 for a body that does not decompress, and otherwise the
// reading error itself (a client that went away).
func bodyError(err error, limit int64) *apiError {
	var tooLarge *http.MaxBytesError
	var inflated *inflatesTooMuchError
	switch {
	case errors.As(err, &tooLarge), errors.Is(err, errBodyTooLarge):
		return newError(editing.ErrPayloadTooLarge, limit)
	case errors.As(err, &inflated):
		return newError(editing.ErrPayloadInflatesTooMuch, inflated.maxRatio)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &apiError{kind: editing.ErrBodyTooSlow, cause: err}
	case errors.As(err, new(*inflateError)), errors.Is(err, gzip.ErrHeader), errors.Is(err, zlib.ErrHeader):
		return &apiError{kind: editing.ErrBadContentEncoding, cause: err}
	}
	return internalError(fmt.Errorf("read the request body: %w", err))
}

// isBodyError tells whether err comes from reading the body rather than
// from what it holds.
func isBodyError(err error) bool {
	return errors.As(err, new(*http.MaxBytesError)) || errors.Is(err, errBodyTooLarge) ||
		errors.As(err, new(*inflatesTooMuchError)) || errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, new(*inflateError))
}
