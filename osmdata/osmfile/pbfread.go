package osmfile

import (
	"cmp"
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
// where a failing block starts in the file nor whether the input ended
// inside a block, so a blockTracker follows the file's framing and
// hands the scanner its blocks.
type pbfSource struct {
	path    string
	scanner *osmpbf.Scanner
	blocks  *blockTracker
	cur     int64 // stream offset of the block the last element came from
	started bool
	failAt  int64 // stream offset of the block that failed; -1 if unknown
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
			s.failAt = s.blocks.lastStarted().streamOffset
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
	// The decoder's offsets are in its stream, where the blocks before
	// may have grown, inflated: the block is named at its file offset.
	if b, ok := s.blocks.atStreamOffset(off); ok {
		return fmt.Sprintf("block %d at byte offset %d", b.index, b.offset)
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

// blockTracker hands the decoder the PBF stream one block (4-byte
// length, BlobHeader, Blob) at a time, read whole first, and records
// where each block starts, in the file and in the stream the decoder
// reads. It withholds a block that would crash the decoder: a BlobHeader
// whose datasize is negative (osmpbf slices its buffer with it and
// panics in a goroutine of its own, which no recover reaches, so that
// one bad header killed the whole process,
// testdata/fuzz/FuzzPBF/negative_datasize), and the blocks
// checkBlobRawSize and checkDataBlock refuse. Checking a zlib data block
// inflates it; the block then goes to the decoder as a raw blob of the
// inflated data, so that osmpbf does not inflate it a second time (which
// made reading Delaware 0.49 s -> 0.80 s). The decoder's offsets are
// therefore in the stream, not the file: see atStreamOffset.
type blockTracker struct {
	r io.Reader

	mu       sync.Mutex
	blocks   []pbfBlock
	off      int64 // bytes read from the file
	streamed int64 // bytes put in the stream for the decoder

	state     int    // 0: in length prefix, 1: in BlobHeader, 2: in blob data
	need      int64  // bytes left in the current part
	held      []byte // the current block as read so far
	headerLen int    // of the current block's BlobHeader
	check     bool   // whether the current block is a data block
	broken    bool   // framing not followed any more; the decoder reports why
	err       error  // a block withheld from the decoder, for good
	readErr   error  // the file's (io.EOF at its end), after what was read

	out      []byte // the stream for the decoder: out[outStart:] is yet to be read
	outStart int
	chunk    []byte
	inflater blobInflater
}

type pbfBlock struct {
	index        int
	offset       int64 // in the file
	length       int64 // whole block, in the file, once its header is known; 0 before
	streamOffset int64 // in the stream the decoder reads
}

// maxBlobHeaderSize is osmpbf's limit on a BlobHeader (it refuses 64 KiB).
const maxBlobHeaderSize = 64 << 10

func (t *blockTracker) Read(p []byte) (int, error) {
	for t.outStart == len(t.out) {
		if t.err != nil {
			return 0, t.err
		}
		if t.readErr != nil {
			return 0, t.readErr
		}
		t.out, t.outStart = t.out[:0], 0
		t.readPart()
	}
	n := copy(p, t.out[t.outStart:])
	t.outStart += n
	return n, nil
}

// readPart reads the file up to the end of the current part of a block
// at most, so that the stream holds one block at a time.
func (t *blockTracker) readPart() {
	if t.chunk == nil {
		t.chunk = make([]byte, 64<<10)
	}
	size := len(t.chunk)
	switch {
	case t.broken:
	case len(t.held) == 0:
		size = 4 // the next block's length
	default:
		size = int(min(t.need, int64(size)))
	}
	n, err := t.r.Read(t.chunk[:size])
	t.mu.Lock()
	defer t.mu.Unlock()
	t.follow(t.chunk[:n])
	if err != nil && t.err == nil {
		// A block the file ends inside goes to the decoder as far as it
		// goes, for it to report the early end.
		t.emit(t.held)
		t.held = t.held[:0]
		t.readErr = err
	}
}

// follow reads the framing of p, which comes next in the file, and puts
// each block in the stream once it has it whole.
func (t *blockTracker) follow(p []byte) {
	for len(p) > 0 && t.err == nil {
		if t.broken {
			t.off += int64(len(p))
			t.emit(p)
			return
		}
		if len(t.held) == 0 {
			t.blocks = append(t.blocks, pbfBlock{index: len(t.blocks), offset: t.off, streamOffset: t.streamed})
			t.state, t.need = 0, 4
		}
		k := int(min(t.need, int64(len(p))))
		t.held = append(t.held, p[:k]...)
		t.off += int64(k)
		t.need -= int64(k)
		p = p[k:]
		// A part may end where it starts (an empty BlobHeader or Blob).
		for t.need == 0 && len(t.held) > 0 && t.err == nil && !t.broken {
			switch t.state {
			case 0:
				t.headerLen = int(binary.BigEndian.Uint32(t.held))
				t.state, t.need = 1, int64(t.headerLen)
				if t.headerLen >= maxBlobHeaderSize {
					t.passOn()
				}
			case 1:
				t.endHeader()
			case 2:
				t.endBlock()
			}
		}
	}
}

// passOn hands the decoder the rest of the file as it is, from the
// current block on, for it to refuse the block by itself.
func (t *blockTracker) passOn() {
	t.broken = true
	t.emit(t.held)
	t.held = t.held[:0]
}

func (t *blockTracker) endHeader() {
	typ, size, ok := parseBlobHeader(t.held[4:])
	if !ok {
		t.passOn()
		return
	}
	b := &t.blocks[len(t.blocks)-1]
	if size < 0 {
		t.refuse(fmt.Errorf("its BlobHeader gives a negative datasize (%d)", size))
		return
	}
	b.length = int64(len(t.held)) + size
	if size >= maxBlobSize {
		// osmpbf refuses it before reading it, and it need not be held.
		t.passOn()
		return
	}
	// osmpbf decodes every block but a first OSMHeader as data.
	t.check = typ != "OSMHeader" || b.index > 0
	t.state, t.need = 2, size
}

// endBlock checks the block held whole and puts it in the stream:
// refused, as it is, or with its zlib data inflated as a raw blob.
func (t *blockTracker) endBlock() {
	defer func() { t.held = t.held[:0] }()
	header, blob := t.held[4:4+t.headerLen], t.held[4+t.headerLen:]
	fields, ok := parseBlob(blob)
	if !ok {
		t.emit(t.held)
		return
	}
	if err := checkBlobRawSize(fields); err != nil {
		t.refuse(err)
		return
	}
	if !t.check {
		t.emit(t.held)
		return
	}
	// The inflated data goes straight into the stream, after room for
	// the raw block's length, BlobHeader and Blob field headers.
	start := len(t.out)
	prefix := rawBlockPrefixLen(len(header), int(fields.rawSize))
	t.out = slices.Grow(t.out, prefix)[:start+prefix]
	out, inflated, err := checkDataBlock(&t.inflater, fields, t.out)
	t.out = out
	if err != nil {
		t.out = t.out[:start]
		t.refuse(err)
		return
	}
	if !inflated || len(header)+1+protowire.SizeVarint(uint64(rawBlobLen(int(fields.rawSize)))) >= maxBlobHeaderSize ||
		rawBlobLen(int(fields.rawSize)) >= maxBlobSize {
		t.out = t.out[:start]
		t.emit(t.held)
		return
	}
	appendRawBlockPrefix(t.out[start:start], header, int(fields.rawSize))
	t.streamed += int64(len(t.out) - start)
}

// rawBlobLen is the length of a Blob holding n raw bytes: field 2
// raw_size, then field 1 raw.
func rawBlobLen(n int) int {
	return 1 + protowire.SizeVarint(uint64(n)) + 1 + protowire.SizeVarint(uint64(n)) + n
}

// rawBlockPrefixLen is the length of what comes before the raw data in
// a block of n raw bytes whose BlobHeader was header bytes long.
func rawBlockPrefixLen(headerLen, n int) int {
	return 4 + headerLen + 1 + protowire.SizeVarint(uint64(rawBlobLen(n))) + 1 + protowire.SizeVarint(uint64(n)) + 1 + protowire.SizeVarint(uint64(n))
}

// appendRawBlockPrefix appends what comes before n raw bytes in their
// block: the BlobHeader is the file's with a datasize appended, which
// protobuf reads as the one (the last occurrence of a field wins).
func appendRawBlockPrefix(dst, header []byte, n int) []byte {
	blobLen := rawBlobLen(n)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(header)+1+protowire.SizeVarint(uint64(blobLen))))
	dst = append(dst, header...)
	dst = protowire.AppendTag(dst, 3, protowire.VarintType) // datasize
	dst = protowire.AppendVarint(dst, uint64(blobLen))
	dst = protowire.AppendTag(dst, 2, protowire.VarintType) // raw_size
	dst = protowire.AppendVarint(dst, uint64(n))
	dst = protowire.AppendTag(dst, 1, protowire.BytesType) // raw
	return protowire.AppendVarint(dst, uint64(n))
}

// emit puts bytes in the stream as they are.
func (t *blockTracker) emit(p []byte) {
	t.out = append(t.out, p...)
	t.streamed += int64(len(p))
}

// refuse puts the held block in the stream but for its last byte, and
// then err: the decoder reads a part of a block whole (io.ReadFull)
// before it parses it, and without that byte never does.
func (t *blockTracker) refuse(err error) {
	t.emit(t.held[:len(t.held)-1])
	t.err = err
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

// atStreamOffset returns the block starting at off in the stream the
// decoder reads.
func (t *blockTracker) atStreamOffset(off int64) (pbfBlock, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i, found := slices.BinarySearchFunc(t.blocks, off, func(b pbfBlock, off int64) int { return cmp.Compare(b.streamOffset, off) })
	if !found {
		return pbfBlock{}, false
	}
	return t.blocks[i], true
}

// passed returns how many bytes of the file were read.
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
