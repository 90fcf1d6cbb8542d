package osmfile

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dsnet/compress/bzip2"
	"github.com/geocommuns/geocommuns/osmdata"
)

// Writer writes an export file, compressed according to its name.
type Writer struct {
	osmdata.DocumentWriter

	path       string
	file       *os.File
	buf        *bufio.Writer
	compressor io.WriteCloser // nil for plain .osm
	closed     bool
}

// Create creates path (.osm, .osm.gz or .osm.bz2) for writing. Close
// ends the document and must be called, and its error checked: a file
// whose Close failed is incomplete.
func Create(path string, h osmdata.DocumentHeader) (*Writer, error) {
	name := strings.ToLower(filepath.Base(path))
	kind := ""
	switch {
	case strings.HasSuffix(name, ".osm.gz"):
		kind = "gz"
	case strings.HasSuffix(name, ".osm.bz2"):
		kind = "bz2"
	case strings.HasSuffix(name, ".osm"):
	default:
		return nil, fmt.Errorf("create %s: unknown format: expected .osm, .osm.gz or .osm.bz2", path)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	w := &Writer{path: path, file: f, buf: bufio.NewWriterSize(f, 256<<10)}
	var out io.Writer = w.buf
	switch kind {
	case "gz":
		w.compressor = gzip.NewWriter(w.buf)
	case "bz2":
		bz, err := bzip2.NewWriter(w.buf, &bzip2.WriterConfig{Level: bzip2.BestCompression})
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		w.compressor = bz
	}
	if w.compressor != nil {
		out = w.compressor
	}
	w.DocumentWriter = osmdata.NewXMLWriter(out, h)
	return w, nil
}

// Close ends the document, flushes the compressor and closes the file.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	errs := []error{w.DocumentWriter.Close()}
	if w.compressor != nil {
		errs = append(errs, w.compressor.Close())
	}
	errs = append(errs, w.buf.Flush(), w.file.Sync(), w.file.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	return nil
}
