package osmfile_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/geocommuns/geocommuns/osmdata/osmfile"
)

// appendZlibBlock frames content as a block whose blob is zlib data
// declaring rawSize bytes uncompressed.
func appendZlibBlock(t testing.TB, out []byte, typ string, content []byte, rawSize uint64) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	if _, err := zw.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	var blob []byte
	blob = protowire.AppendTag(blob, 2, protowire.VarintType) // raw_size
	blob = protowire.AppendVarint(blob, rawSize)
	blob = protowire.AppendTag(blob, 3, protowire.BytesType) // zlib_data
	blob = protowire.AppendBytes(blob, z.Bytes())
	var header []byte
	header = protowire.AppendTag(header, 1, protowire.BytesType) // type
	header = protowire.AppendString(header, typ)
	header = protowire.AppendTag(header, 3, protowire.VarintType) // datasize
	header = protowire.AppendVarint(header, uint64(len(blob)))
	out = binary.BigEndian.AppendUint32(out, uint32(len(header)))
	out = append(out, header...)
	return append(out, blob...)
}

// osmpbf allocates a zlib blob's declared raw_size (and a tenth more)
// before inflating it: a .osm.pbf of a few hundred bytes asked for
// gigabytes, and over about 1.95 GB the size overflowed and makeslice
// panicked in the decoder's goroutine, killing the process. The PBF format caps an uncompressed block under 32 MiB; the
// reader refuses a larger declaration naming the block, before the
// decoder allocates anything of the kind, header block or data block,
// and a block declaring its true size still reads.
func TestPBFRawSizeOverTheFormatLimit(t *testing.T) {
	const huge = 1<<31 - 1024 // int32, short of osmpbf's own overflow
	headerOnly := rawPBF(t)
	// rawPBF's header block, zlib compressed.
	headerBlob := headerOnly[4+binary.BigEndian.Uint32(headerOnly):]
	headerContent, _ := protowire.ConsumeBytes(headerBlob[protowire.SizeTag(1):])
	data := primitiveBlock(0, 0, denseGroup())
	withHeader := func(size uint64) []byte {
		return appendZlibBlock(t, nil, "OSMHeader", headerContent, size)
	}
	for _, c := range []struct {
		name     string
		file     []byte
		elements int
		where    string
	}{
		{"data block", appendZlibBlock(t, withHeader(uint64(len(headerContent))), "OSMData", data, huge), 0, "block 1 at byte offset"},
		{"data block, last raw_size wins", appendZlibBlock(t, withHeader(uint64(len(headerContent))), "OSMData", data,
			uint64(1<<32|huge)), 0, "block 1 at byte offset"},
		{"data block declaring 1.5 GB", appendZlibBlock(t, withHeader(uint64(len(headerContent))), "OSMData", data, 1536<<20), 0, "block 1 at byte offset"},
		{"header block", withHeader(huge), 0, "block 0"},
		{"data block at the limit", appendZlibBlock(t, withHeader(uint64(len(headerContent))), "OSMData", data, 32<<20), 0, "block 1 at byte offset"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rawsize.osm.pbf")
			if err := os.WriteFile(path, c.file, 0o644); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			read, err := readAllPBF(path)
			runtime.ReadMemStats(&after)
			var fe *osmfile.FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.where) || !strings.Contains(err.Error(), "raw_size") || read != c.elements {
				t.Errorf("%d elements, then %v; want %d, then %s refused for its raw_size", read, err, c.elements, c.where)
			}
			// The decoder's own buffers are 32 MiB each; a declared
			// raw_size it allocated is 2.4 GB.
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 1<<30 {
				t.Errorf("reading the file allocated %d MB", grown>>20)
			}
		})
	}

	// The same blocks declaring their true sizes read.
	path := filepath.Join(t.TempDir(), "true.osm.pbf")
	file := appendZlibBlock(t, withHeader(uint64(len(headerContent))), "OSMData", data, uint64(len(data)))
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	if read, err := readAllPBF(path); err != nil || read != 3 {
		t.Errorf("zlib blocks with their true raw_size: %d elements, %v; want the 3 nodes", read, err)
	}
}
