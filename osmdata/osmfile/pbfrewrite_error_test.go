package osmfile_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/geocommuns/geocommuns/osmdata/osmfile"
)

// The decoder reads zlib data blocks inflated, as raw blobs larger than
// the file's blocks, and its offsets are in that stream: an error still
// names the failing block at its offset in the file, whoever finds the
// fault (the block check, osmpbf itself, the element conversion, or the
// early end of the file).
func TestPBFErrorsNameTheFileBlockAfterInflatedBlocks(t *testing.T) {
	// rawPBF's header block, zlib compressed, and three data blocks of
	// five nodes each.
	headerOnly := rawPBF(t)
	headerBlob := headerOnly[4+binary.BigEndian.Uint32(headerOnly):]
	headerContent, _ := protowire.ConsumeBytes(headerBlob[protowire.SizeTag(1):])
	file := appendZlibBlock(t, nil, "OSMHeader", headerContent, uint64(len(headerContent)))
	for first := int64(1); first <= 11; first += 5 {
		data := primitiveBlock(0, 0, denseNodes(first, 5))
		file = appendZlibBlock(t, file, "OSMData", data, uint64(len(data)))
	}
	block4 := len(file)
	file = slices.Clip(file) // each case appends its own fourth block
	badIndex := primitiveBlock(0, 0, denseNodes(16, 5), denseTagged(21, 99))
	outside := primitiveBlock(1_000_000_000_000, 0, denseNodes(16, 5))
	good := primitiveBlock(0, 0, denseNodes(16, 5))
	at := fmt.Sprintf("block 4 at byte offset %d", block4)
	for _, c := range []struct {
		name string
		file []byte
		want []string
	}{
		{"refused by the block check", appendZlibBlock(t, file, "OSMData", badIndex, uint64(len(badIndex))),
			[]string{at, "a node's tag is string 99 of a table of 10", "last element read: node 15 v0"}},
		{"refused by osmpbf", appendZlibBlock(t, file, "OSMData", good, uint64(len(good))+1),
			[]string{at, fmt.Sprintf("raw blob data size %d but expected %d", len(good), len(good)+1), "last element read: node 15 v0"}},
		{"refused in conversion", appendZlibBlock(t, file, "OSMData", outside, uint64(len(outside))),
			[]string{at, "node 16: position", "last element read: node 15 v0"}},
		{"truncated", appendZlibBlock(t, file, "OSMData", good, uint64(len(good)))[:block4+20],
			[]string{at, "ends inside this block, 20 of its", "last element read: node 15 v0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "inflated.osm.pbf")
			if err := os.WriteFile(path, c.file, 0o644); err != nil {
				t.Fatal(err)
			}
			read, err := readAllPBF(path)
			var fe *osmfile.FileError
			if !errors.As(err, &fe) || read != 15 {
				t.Fatalf("%d elements, then %v; want the 15 nodes of blocks 1 to 3, then a *FileError", read, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}

	// The same file with a good fourth block reads whole.
	path := filepath.Join(t.TempDir(), "good.osm.pbf")
	if err := os.WriteFile(path, appendZlibBlock(t, file, "OSMData", good, uint64(len(good))), 0o644); err != nil {
		t.Fatal(err)
	}
	if read, err := readAllPBF(path); err != nil || read != 20 {
		t.Errorf("four good blocks: %d elements, %v; want 20", read, err)
	}
}

// denseNodes is a primitive group of n untagged nodes numbered from
// first, without metadata.
func denseNodes(first int64, n int) []byte {
	ids := make([]int64, n)
	coords := make([]int64, n)
	keysVals := make([]uint64, n)
	for i := range ids {
		ids[i] = first + int64(i)
		coords[i] = int64(i) * 1000
	}
	var dense []byte
	dense = append(dense, packedSint64Delta(1, ids...)...)
	dense = append(dense, packedSint64Delta(8, coords...)...)
	dense = append(dense, packedSint64Delta(9, coords...)...)
	dense = append(dense, packedVarint(10, keysVals...)...)
	g := protowire.AppendTag(nil, 2, protowire.BytesType)
	return protowire.AppendBytes(g, dense)
}

// denseTagged is a group of one node whose tag key is string key.
func denseTagged(id int64, key uint64) []byte {
	var dense []byte
	dense = append(dense, packedSint64Delta(1, id)...)
	dense = append(dense, packedSint64Delta(8, 0)...)
	dense = append(dense, packedSint64Delta(9, 0)...)
	dense = append(dense, packedVarint(10, key, 2, 0)...)
	g := protowire.AppendTag(nil, 2, protowire.BytesType)
	return protowire.AppendBytes(g, dense)
}

// A block whose BlobHeader is empty (length 0), with or without more
// blocks after it, is refused, naming it, rather than waited on forever
// for a header that is already whole (found by FuzzPBF).
func TestPBFEmptyBlobHeader(t *testing.T) {
	file := rawPBF(t, primitiveBlock(0, 0, denseGroup()))
	at := fmt.Sprintf("block 2 at byte offset %d", len(file))
	file = binary.BigEndian.AppendUint32(file, 0)
	for _, c := range []struct {
		name string
		file []byte
	}{
		{"at the end", slices.Clip(file)},
		{"before a block", append(slices.Clip(file), rawPBF(t)...)},
	} {
		path := filepath.Join(t.TempDir(), "empty.osm.pbf")
		if err := os.WriteFile(path, c.file, 0o644); err != nil {
			t.Fatal(err)
		}
		read, err := readAllPBF(path)
		var fe *osmfile.FileError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), at) || read != 3 {
			t.Errorf("%s: %d elements, then %v; want the 3 nodes, then %s refused", c.name, read, err, at)
		}
	}
}
