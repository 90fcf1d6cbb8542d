package osmfile

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"reflect"
	"runtime"
	"testing"

	"github.com/paulmach/osm/osmpbf"
	"google.golang.org/protobuf/encoding/protowire"
)

// The block tracker hands osmpbf each zlib data block it has inflated to
// check as a raw blob. Delaware, zlib compressed in ~100 blocks, reads
// through that rewrite as osmpbf reads the file itself: the same
// elements in the same order.
func TestPBFRewrittenBlocksReadAsTheFile(t *testing.T) {
	path := realFile(t, "testdata/delaware-latest.osm.pbf")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	direct := osmpbf.New(context.Background(), f, min(runtime.GOMAXPROCS(0), 4))
	defer direct.Close()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for direct.Scan() {
		want, err := elementFromOSM(direct.Object())
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Next()
		if err != nil {
			t.Fatalf("element %d (%s): %v", n, want.Key(), err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("element %d read through the rewrite as %+v, osmpbf reads %+v", n, got, want)
		}
		n++
	}
	if err := direct.Err(); err != nil {
		t.Fatal(err)
	}
	if e, err := r.Next(); err != io.EOF {
		t.Fatalf("after the %d elements osmpbf reads: %v, %v", n, e, err)
	}
	if n != 723870+73144+1644 {
		t.Errorf("%d elements", n)
	}
}

// What the decoder gets: the OSMHeader block byte for byte, each zlib
// data block as a raw blob of its data, at the stream offsets the tracker
// records; a stream of raw blocks goes through unchanged.
func TestPBFStreamHasRawDataBlocks(t *testing.T) {
	src, err := os.ReadFile(realFile(t, "testdata/delaware-latest.osm.pbf"))
	if err != nil {
		t.Fatal(err)
	}
	bt := &blockTracker{r: bytes.NewReader(src)}
	stream, err := io.ReadAll(bt)
	if err != nil {
		t.Fatal(err)
	}
	in, out := splitBlocks(t, src), splitBlocks(t, stream)
	if len(in) < 10 || len(out) != len(in) || len(bt.blocks) != len(in) {
		t.Fatalf("%d blocks in the file, %d in the stream, %d tracked", len(in), len(out), len(bt.blocks))
	}
	if !bytes.Equal(out[0].whole, in[0].whole) {
		t.Error("the OSMHeader block was changed")
	}
	streamOffset := int64(0)
	for i := range in {
		b := bt.blocks[i]
		if b.offset != in[i].offset || b.length != int64(len(in[i].whole)) || b.streamOffset != streamOffset {
			t.Fatalf("block %d tracked as %+v; it is at %d (%d bytes) in the file, at %d in the stream",
				i, b, in[i].offset, len(in[i].whole), streamOffset)
		}
		streamOffset += int64(len(out[i].whole))
		if i == 0 {
			continue
		}
		inBlob, _ := parseBlob(in[i].blob)
		outBlob, _ := parseBlob(out[i].blob)
		if !inBlob.hasZlib || inBlob.hasRaw {
			t.Fatalf("block %d of the file is not zlib data", i)
		}
		if !outBlob.hasRaw || outBlob.hasZlib || len(outBlob.raw) != int(inBlob.rawSize) || outBlob.rawSize != inBlob.rawSize {
			t.Fatalf("block %d went to the decoder as %d raw bytes (raw_size %d, zlib %v); its data is %d bytes",
				i, len(outBlob.raw), outBlob.rawSize, outBlob.hasZlib, inBlob.rawSize)
		}
		if typ, _, _ := parseBlobHeader(out[i].header); typ != "OSMData" {
			t.Fatalf("block %d went to the decoder as %q", i, typ)
		}
	}

	again, err := io.ReadAll(&blockTracker{r: bytes.NewReader(stream)})
	if err != nil || !bytes.Equal(again, stream) {
		t.Errorf("raw blocks were changed (%v)", err)
	}
}

type framedBlock struct {
	offset              int64
	whole, header, blob []byte
}

// splitBlocks cuts a PBF at its blocks, reading the framing by itself.
func splitBlocks(t *testing.T, data []byte) []framedBlock {
	t.Helper()
	var blocks []framedBlock
	for off := 0; off < len(data); {
		headerLen := int(binary.BigEndian.Uint32(data[off:]))
		header := data[off+4 : off+4+headerLen]
		size := -1
		for h := header; len(h) > 0; {
			num, typ, n := protowire.ConsumeTag(h)
			h = h[n:]
			if num == 3 && typ == protowire.VarintType {
				v, _ := protowire.ConsumeVarint(h)
				size = int(v)
			}
			h = h[protowire.ConsumeFieldValue(num, typ, h):]
		}
		if size < 0 {
			t.Fatalf("no datasize in the block at %d", off)
		}
		end := off + 4 + headerLen + size
		blocks = append(blocks, framedBlock{offset: int64(off), whole: data[off:end], header: header, blob: data[off+4+headerLen : end]})
		off = end
	}
	return blocks
}
