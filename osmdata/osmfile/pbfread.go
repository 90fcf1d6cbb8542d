package osmfile

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/paulmach/osm"
	"github.com/paulmach/osm/osmpbf"
	"google.golang.org/protobuf/encoding/protowire"
)

// pbfSource decodes PBF with osmpbf.Scanner. The scanner reports neither
// where a failing block starts nor whether the input ended inside a block,
// so a blockTracker follows the file's framing as the scanner reads it.
type pbfSource struct {
	path    string
	scanner *osmpbf.Scanner
	blocks  *blockTracker
	cur     int64 // start offset of the block the last element came from
	started bool
	failAt  int64 // start offset of the block that failed; -1 if unknown
}

func newPBFSource(path string, in io.Reader) (*pbfSource, error) {
	bt := &blockTracker{r: in}
	procs := min(runtime.GOMAXPROCS(0), 4)
	s := &pbfSource{path: path, blocks: bt, scanner: osmpbf.New(context.Background(), bt, procs), failAt: -1}
	h, err := s.scanner.Header()
	if err == io.EOF {
		err = fmt.Errorf("%w: the file is empty", ErrTruncated)
	}
	if err != nil {
		s.scanner.Close()
		return nil, &FileError{Path: path, Position: "block 0 (header) at byte offset 0", Err: s.describe(err)}
	}
	if h == nil {
		s.scanner.Close()
		return nil, &FileError{Path: path, Position: "block 0 at byte offset 0", Err: errors.New("no OSMHeader block: not an OSM PBF file")}
	}
	if slices.Contains(h.RequiredFeatures, "HistoricalInformation") {
		s.scanner.Close()
		return nil, &FileError{Path: path, Err: fmt.Errorf("this is a %w (its header requires HistoricalInformation); import takes a snapshot with one version of each element (osmium time-filter makes one)", ErrHistoryFile)}
	}
	return s, nil
}

func (s *pbfSource) next() (*osmdata.Element, error) {
	if !s.scanner.Scan() {
		err := s.scanner.Err()
		if err == nil {
			return nil, io.EOF
		}
		// A block that fails to decode comes with its offset; a failed
		// read comes with none (0, which is the header's), and is where
		// the reading stopped.
		if off := s.scanner.FullyScannedBytes(); off > 0 {
			s.failAt = off
		} else {
			s.failAt = s.blocks.lastStarted().offset
		}
		return nil, s.describe(err)
	}
	s.cur = s.scanner.FullyScannedBytes()
	return elementFromOSM(s.scanner.Object())
}

// describe says that an early end of input is a truncated file.
func (s *pbfSource) describe(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		b, end := s.blocks.lastStarted(), s.blocks.passed()
		if b.length > 0 {
			return fmt.Errorf("%w: the file ends inside this block, %d of its %d bytes in (%v)",
				ErrTruncated, end-b.offset, b.length, err)
		}
		return fmt.Errorf("%w: the file ends inside this block's header (%v)", ErrTruncated, err)
	}
	return err
}

func (s *pbfSource) position() string {
	off := s.cur
	if s.failAt >= 0 {
		off = s.failAt
	}
	if i := s.blocks.index(off); i >= 0 {
		return fmt.Sprintf("block %d at byte offset %d", i, off)
	}
	return fmt.Sprintf("byte offset %d", off)
}

func (s *pbfSource) close() error { return s.scanner.Close() }

// elementFromOSM converts what osmpbf decodes: coordinates are rounded to
// exact 1e-7 units, timestamps to UTC whole seconds.
func elementFromOSM(o osm.Object) (*osmdata.Element, error) {
	switch v := o.(type) {
	case *osm.Node:
		// The decoded position is offset + granularity × value, any
		// float64 a file's numbers make: a position outside the world
		// would wrap around in int32.
		if !(v.Lat >= -90 && v.Lat <= 90 && v.Lon >= -180 && v.Lon <= 180) {
			return nil, fmt.Errorf("node %d: position %g, %g is not within ±90, ±180", v.ID, v.Lat, v.Lon)
		}
		return &osmdata.Element{
			Type: osmdata.Node, ID: int64(v.ID), Version: v.Version, Visible: v.Visible,
			Changeset: int64(v.ChangesetID), Timestamp: wholeSeconds(v.Timestamp),
			UID: int64(v.UserID), User: v.User,
			Lat: osmdata.RoundCoordToFixed(v.Lat), Lon: osmdata.RoundCoordToFixed(v.Lon),
			Tags: tagsFromOSM(v.Tags),
		}, nil
	case *osm.Way:
		nodes := make([]int64, len(v.Nodes))
		for i, n := range v.Nodes {
			nodes[i] = int64(n.ID)
		}
		return &osmdata.Element{
			Type: osmdata.Way, ID: int64(v.ID), Version: v.Version, Visible: v.Visible,
			Changeset: int64(v.ChangesetID), Timestamp: wholeSeconds(v.Timestamp),
			UID: int64(v.UserID), User: v.User, Tags: tagsFromOSM(v.Tags), Nodes: nodes,
		}, nil
	case *osm.Relation:
		members := make([]osmdata.Member, len(v.Members))
		for i, m := range v.Members {
			t, err := osmdata.ParseElementType(string(m.Type))
			if err != nil {
				return nil, fmt.Errorf("relation %d member %d: %w", v.ID, i, err)
			}
			members[i] = osmdata.Member{Type: t, Ref: m.Ref, Role: m.Role}
		}
		return &osmdata.Element{
			Type: osmdata.Relation, ID: int64(v.ID), Version: v.Version, Visible: v.Visible,
			Changeset: int64(v.ChangesetID), Timestamp: wholeSeconds(v.Timestamp),
			UID: int64(v.UserID), User: v.User, Tags: tagsFromOSM(v.Tags), Members: members,
		}, nil
	}
	return nil, fmt.Errorf("unexpected object %T", o)
}

func wholeSeconds(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func tagsFromOSM(tags osm.Tags) osmdata.Tags {
	if len(tags) == 0 {
		return nil
	}
	out := make(osmdata.Tags, len(tags))
	for i, t := range tags {
		out[i] = osmdata.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

// blockTracker passes the PBF stream through and records where each block
// (4-byte length, BlobHeader, Blob) starts, by reading the BlobHeader's
// datasize as the bytes go by. It also withholds a BlobHeader whose
// datasize is negative: osmpbf slices its buffer with it and panics in a
// goroutine of its own, which no recover reaches, so that one bad header
// killed the whole process (testdata/fuzz/FuzzPBF/negative_datasize).
type blockTracker struct {
	r io.Reader

	mu     sync.Mutex
	blocks []pbfBlock
	off    int64  // bytes passed through
	state  int    // 0: in length prefix, 1: in BlobHeader, 2: in blob data
	need   int64  // bytes left in the current part
	buf    []byte // length prefix or BlobHeader being collected
	blob   []byte // the blob being collected, for checkBlobRawSize and checkDataBlock
	check  bool   // whether the blob being collected is a data block
	broken bool   // framing unreadable; the decoder reports why
	err    error  // a block withheld from the decoder, for good
}

type pbfBlock struct {
	index  int
	offset int64
	length int64 // whole block, once its header is known; 0 before
}

func (t *blockTracker) Read(p []byte) (int, error) {
	t.mu.Lock()
	err := t.err
	t.mu.Unlock()
	if err != nil {
		return 0, err
	}
	n, err := t.r.Read(p)
	t.mu.Lock()
	defer t.mu.Unlock()
	if passed, refused := t.follow(p[:n]); refused != nil {
		// The decoder reads a BlobHeader whole (io.ReadFull) before it
		// parses it: without its last byte it never does.
		return passed, refused
	}
	return n, err
}

// follow reads the framing of p. When a BlobHeader is refused, it
// returns how many bytes of p come before that header's last byte, and
// why.
func (t *blockTracker) follow(p []byte) (int, error) {
	passed := 0
	for passed < len(p) && !t.broken {
		rest := p[passed:]
		switch t.state {
		case 0:
			if len(t.buf) == 0 {
				t.blocks = append(t.blocks, pbfBlock{index: len(t.blocks), offset: t.off})
			}
			k := min(4-len(t.buf), len(rest))
			t.buf = append(t.buf, rest[:k]...)
			t.off += int64(k)
			passed += k
			if len(t.buf) == 4 {
				t.need = int64(binary.BigEndian.Uint32(t.buf))
				t.buf = t.buf[:0]
				t.state = 1
				if t.need > 64<<10 {
					t.broken = true
				}
			}
		case 1:
			k := int(min(t.need, int64(len(rest))))
			t.buf = append(t.buf, rest[:k]...)
			t.off += int64(k)
			t.need -= int64(k)
			passed += k
			if t.need == 0 {
				typ, size, ok := parseBlobHeader(t.buf)
				if !ok {
					t.broken = true
					break
				}
				b := &t.blocks[len(t.blocks)-1]
				if size < 0 {
					t.err = fmt.Errorf("its BlobHeader gives a negative datasize (%d)", size)
					return passed - 1, t.err
				}
				b.length = 4 + int64(len(t.buf)) + size
				t.buf = t.buf[:0]
				t.need = size
				t.state = 2
				// osmpbf decodes every block but a first OSMHeader as data.
				t.check = typ != "OSMHeader" || b.index > 0
				t.blob = t.blob[:0]
				if size == 0 {
					t.state = 0
				}
			}
		case 2:
			k := min(t.need, int64(len(rest)))
			t.blob = append(t.blob, rest[:k]...)
			t.off += k
			t.need -= k
			passed += int(k)
			if t.need == 0 {
				t.state = 0
				err := checkBlobRawSize(t.blob)
				if err == nil && t.check {
					err = checkDataBlock(t.blob)
				}
				if err != nil {
					t.err = err
					return passed - 1, t.err
				}
			}
		}
	}
	return len(p), nil
}

// parseBlobHeader reads the type (field 1) and datasize (field 3, int32,
// required) of a BlobHeader as protobuf does: the last occurrence wins,
// and an int32 is the low 32 bits of its varint.
func parseBlobHeader(h []byte) (typ string, size int64, ok bool) {
	var size32 int32
	found := false
	err := eachField(h, func(num protowire.Number, wt protowire.Type, v []byte, scalar uint64) error {
		switch {
		case num == 1 && wt == protowire.BytesType:
			typ = string(v)
		case num == 3 && wt == protowire.VarintType:
			size32, found = int32(scalar), true
		}
		return nil
	})
	return typ, int64(size32), err == nil && found
}

// index returns the number of the block starting at off (0 is the header).
func (t *blockTracker) index(off int64) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, b := range t.blocks {
		if b.offset == off {
			return b.index
		}
	}
	return -1
}

// passed returns how many bytes went through.
func (t *blockTracker) passed() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.off
}

func (t *blockTracker) lastStarted() pbfBlock {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.blocks) == 0 {
		return pbfBlock{}
	}
	return t.blocks[len(t.blocks)-1]
}
