package osmapi

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/geocommuns/geocommuns/osmdata"
)

// replyBuffer batches the document writer's small writes into large
// ones for the connection.
const replyBuffer = 64 << 10

// successHeaders sets what cgimap sends with every document
// (src/process_request.cpp generate_response).
func successHeaders(w http.ResponseWriter, f format, compressed bool) {
	h := w.Header()
	h.Set("Content-Type", f.mimeType()+"; charset=utf-8")
	h.Set("Cache-Control", "private, max-age=0, must-revalidate")
	if compressed {
		h.Set("Content-Encoding", "gzip")
	}
}

// startReply negotiates the format and the encoding, writes the headers,
// and returns the body writer to use and a function that finishes it.
// It has answered the client itself when ok is false.
func (a *API) startReply(w http.ResponseWriter, r *http.Request, available []format, extra func(http.Header)) (body io.Writer, f format, finish func() error, ok bool) {
	f, err := negotiate(r, available)
	if err != nil {
		writeError(w, r, err)
		return nil, 0, nil, false
	}
	compressed, err := gzipAccepted(r.Header.Get("Accept-Encoding"))
	if err != nil {
		writeError(w, r, err)
		return nil, 0, nil, false
	}
	successHeaders(w, f, compressed)
	if extra != nil {
		extra(w.Header())
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return io.Discard, f, func() error { return nil }, true
	}
	var out io.Writer = w
	var gz *gzip.Writer
	if compressed {
		gz, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
		out = gz
	}
	buf := bufio.NewWriterSize(out, replyBuffer)
	finish = func() error {
		err := buf.Flush()
		if gz != nil {
			err = errors.Join(err, gz.Close())
		}
		return err
	}
	return buf, f, finish, true
}

// writeDocument streams doc through osmdata's writer for the negotiated
// format.
func (a *API) writeDocument(w http.ResponseWriter, r *http.Request, doc *document) {
	var extra func(http.Header)
	if doc.attachment != "" {
		// Only on success, as cgimap: browsers show nothing useful for a
		// 400 sent as an attachment (src/api06/map_handler.cpp).
		extra = func(h http.Header) {
			h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", doc.attachment))
		}
	}
	body, f, finish, ok := a.startReply(w, r, availableFormats, extra)
	if !ok {
		return
	}
	err := writeElements(newDocumentWriter(f, body, a.header()), doc)
	if ferr := finish(); err == nil {
		err = ferr
	}
	if err != nil {
		// The status is sent; all that is left is to say so in the log.
		// Mostly a client that went away.
		a.logger().Log(r.Context(), slog.LevelInfo, "reply cut short", "path", r.URL.Path, "err", err)
	}
}

func newDocumentWriter(f format, w io.Writer, h osmdata.DocumentHeader) osmdata.DocumentWriter {
	if f == formatJSON {
		return osmdata.NewJSONWriter(w, h)
	}
	return osmdata.NewXMLWriter(w, h)
}

func writeElements(dw osmdata.DocumentWriter, doc *document) error {
	if doc.bounds != nil {
		if err := dw.WriteBounds(*doc.bounds); err != nil {
			return fmt.Errorf("write bounds: %w", err)
		}
	}
	for i := range doc.elements {
		if err := dw.WriteElement(&doc.elements[i]); err != nil {
			return fmt.Errorf("write %s: %w", doc.elements[i].Key(), err)
		}
	}
	if err := dw.Close(); err != nil {
		return fmt.Errorf("end document: %w", err)
	}
	return nil
}

// xmlEscape escapes text for an XML attribute or element.
func xmlEscape(s string) string {
	if !strings.ContainsAny(s, `<>&"'`) {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}
