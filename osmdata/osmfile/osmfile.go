// Package osmfile reads OSM snapshot files (.osm, .osm.bz2, .osm.gz,
// .osm.pbf) as streams of elements for import, and writes export files.
//
// Import takes a snapshot: one version of each element, nodes then ways then
// relations, each by ascending id. The reader refuses anything else with an
// error naming the file and the position (XML line and column, or PBF block
// and byte offset) and the last element read: osmChange files (their deletes
// would import as live data), history files, unsorted files.
//
// Truncation: a compressed XML file cut anywhere fails (the decompressor or
// the XML decoder sees the unexpected end), and so does a PBF cut inside a
// block. A PBF cut exactly at a block boundary cannot be told from a shorter
// valid file: the format records neither a block count nor a trailer, and
// the header's bounding box says nothing about how many elements follow.
// Compare element counts with the source (`osmium fileinfo -e`) when in
// doubt.
package osmfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/geocommuns/geocommuns/osmdata"
)

// Errors the reader classifies, for callers that react to the kind of
// refusal; the error texts name the file and the position.
var (
	// ErrNotSnapshot: the file is an osmChange or another document that
	// is not an <osm> snapshot.
	ErrNotSnapshot = errors.New("not an OSM snapshot")
	// ErrHistoryFile: the file holds several versions or deleted
	// versions of elements.
	ErrHistoryFile = errors.New("history file")
	// ErrUnsorted: the elements are not in OSM order.
	ErrUnsorted = errors.New("not sorted")
	// ErrTruncated: the file ends in the middle of its data.
	ErrTruncated = errors.New("truncated file")
)

// FileError reports a failure while reading a file, with where it
// happened and what was read last.
type FileError struct {
	Path     string
	Position string // "line 12, column 3" or "block 4 at byte offset 1234"; may be empty
	Last     string // the last element read, "node 42 v3"; empty before the first
	Err      error
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Position != "" {
		b.WriteString(": ")
		b.WriteString(e.Position)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	if e.Last != "" {
		b.WriteString(" (last element read: ")
		b.WriteString(e.Last)
		b.WriteString(")")
	} else {
		b.WriteString(" (no element read yet)")
	}
	return b.String()
}

func (e *FileError) Unwrap() error { return e.Err }

// source is one file format's decoder.
type source interface {
	next() (*osmdata.Element, error)
	// position describes where the decoder is, for error messages.
	position() string
	close() error
}

// Reader streams the elements of one file in file order.
type Reader struct {
	path   string
	file   *os.File
	size   int64
	read   *countingReader
	src    source
	last   *osmdata.Element
	err    error
	closed bool
}

// Open opens one snapshot file, choosing the format by its name (and by
// its first bytes when the name does not tell).
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r := &Reader{path: path, file: f, size: st.Size(), read: &countingReader{r: f}}
	if err := r.start(); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

type format int

const (
	formatUnknown format = iota
	formatXML
	formatXMLGzip
	formatXMLBzip2
	formatPBF
)

func formatFromName(path string) format {
	name := strings.ToLower(filepath.Base(path))
	switch {
	case strings.HasSuffix(name, ".pbf"):
		return formatPBF
	case strings.HasSuffix(name, ".osm.gz"), strings.HasSuffix(name, ".xml.gz"):
		return formatXMLGzip
	case strings.HasSuffix(name, ".osm.bz2"), strings.HasSuffix(name, ".xml.bz2"):
		return formatXMLBzip2
	case strings.HasSuffix(name, ".osm"), strings.HasSuffix(name, ".xml"):
		return formatXML
	}
	return formatUnknown
}

// formatFromMagic recognizes the first bytes of each format: a PBF starts
// with a 4-byte length and a BlobHeader whose type is "OSMHeader".
func formatFromMagic(head []byte) format {
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return formatXMLGzip
	case bytes.HasPrefix(head, []byte("BZh")):
		return formatXMLBzip2
	case len(head) >= 6 && bytes.Contains(head[4:], []byte("OSMHeader")):
		return formatPBF
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(t) > 0 && t[0] == '<' {
		return formatXML
	}
	return formatUnknown
}

func (r *Reader) start() error {
	br := bufio.NewReaderSize(r.read, 64<<10)
	head, _ := br.Peek(32)
	ft := formatFromName(r.path)
	if ft == formatUnknown {
		ft = formatFromMagic(head)
	} else if m := formatFromMagic(head); m != formatUnknown && m != ft {
		return &FileError{Path: r.path, Err: fmt.Errorf("the file's name says %s but its content is %s", ft, m)}
	}
	var err error
	switch ft {
	case formatPBF:
		r.src, err = newPBFSource(r.path, br)
	case formatXML, formatXMLGzip, formatXMLBzip2:
		r.src, err = newXMLSource(r.path, br, ft)
	default:
		return &FileError{Path: r.path, Err: errors.New("unknown format: expected .osm, .osm.gz, .osm.bz2 or .osm.pbf")}
	}
	return err
}

func (f format) String() string {
	switch f {
	case formatXML:
		return "OSM XML"
	case formatXMLGzip:
		return "gzip-compressed data"
	case formatXMLBzip2:
		return "bzip2-compressed data"
	case formatPBF:
		return "OSM PBF"
	}
	return "unknown"
}

// Next returns the next element, or io.EOF at the end of the file. Each
// element is newly allocated and the caller's to keep. After an error
// every call returns the same error.
func (r *Reader) Next() (*osmdata.Element, error) {
	if r.err != nil {
		return nil, r.err
	}
	e, err := r.src.next()
	if err == io.EOF {
		r.err = io.EOF
		return nil, io.EOF
	}
	if err == nil {
		err = r.checkSnapshot(e)
	}
	if err != nil {
		var fe *FileError
		if !errors.As(err, &fe) {
			err = r.fail(err)
		}
		r.err = err
		return nil, err
	}
	r.last = e
	return e, nil
}

// checkSnapshot refuses what a snapshot cannot hold: deleted versions,
// an element twice, elements out of OSM order.
func (r *Reader) checkSnapshot(e *osmdata.Element) error {
	if e.ID <= 0 {
		return fmt.Errorf("%s has a placeholder id (not positive): elements never uploaded, as an editor's file holds them, cannot be imported", e.Key())
	}
	if !e.Visible {
		return fmt.Errorf("%s v%d has visible=\"false\": %w; import takes a snapshot with one current version of each element (osmium time-filter makes one)",
			e.Key(), e.Version, ErrHistoryFile)
	}
	if r.last == nil {
		return nil
	}
	prev, cur := r.last.Key(), e.Key()
	if prev == cur {
		return fmt.Errorf("%s appears twice (v%d, then v%d): %w; import takes a snapshot with one version of each element (osmium time-filter makes one)",
			cur, r.last.Version, e.Version, ErrHistoryFile)
	}
	if !prev.Less(cur) {
		return fmt.Errorf("%s comes after %s: file %w (OSM order is nodes, ways, relations, each by ascending id); sort it with `osmium sort`",
			cur, prev, ErrUnsorted)
	}
	return nil
}

func (r *Reader) fail(err error) error {
	fe := &FileError{Path: r.path, Position: r.src.position(), Err: err}
	if r.last != nil {
		fe.Last = fmt.Sprintf("%s v%d", r.last.Key(), r.last.Version)
	}
	return fe
}

// Progress reports how many bytes of the file (as stored on disk) have
// been read, out of its size.
func (r *Reader) Progress() (read, total int64) { return r.read.n.Load(), r.size }

// Close releases the file.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.src.close()
	if cerr := r.file.Close(); err == nil {
		err = cerr
	}
	return err
}

// countingReader counts the bytes read from the file on disk; the PBF
// decoder reads from another goroutine, hence the atomic counter.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
