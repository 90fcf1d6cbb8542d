package osmfile_test

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
)

// FuzzPBF checks the .osm.pbf reader on any bytes: no panic and no hang
// (the decoder runs goroutines over a framing it trusts); every failure
// is a *FileError naming the file; and every element read before the
// end or the failure is what a snapshot may hold: positive id, visible,
// in OSM order, a node's position within ±90/±180.
//
// The seeds are the start of a real extract (delaware-latest.osm.pbf of
// paulmach/osm's testdata: its header block and first data block, zlib
// compressed, which mutations mostly turn into checksum failures) and a
// small file of uncompressed blocks built below, whose mutations reach
// the decoding of the primitive groups themselves.
func FuzzPBF(f *testing.F) {
	f.Add(realPBFPrefix(f))
	f.Add(rawPBF(f, primitiveBlock(0, 0, denseGroup(), waysGroup(), relationsGroup())))
	// Offsets that move coordinates out of range, a header only.
	f.Add(rawPBF(f, primitiveBlock(1_000_000_000_000, -3_000_000_000_000, denseGroup())))
	f.Add(rawPBF(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "in.osm.pbf")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var fe *osmfile.FileError
		r, err := osmfile.Open(path)
		if err != nil {
			if !errors.As(err, &fe) || fe.Path != path {
				t.Fatalf("open: %T %v, want a *FileError naming the file", err, err)
			}
			return
		}
		defer r.Close()
		var prev *osmdata.Element
		for {
			e, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if !errors.As(err, &fe) || fe.Path != path {
					t.Fatalf("next: %T %v, want a *FileError naming the file", err, err)
				}
				if _, again := r.Next(); again.Error() != err.Error() {
					t.Fatalf("after %v, Next says %v", err, again)
				}
				break
			}
			if e.ID <= 0 || !e.Visible || (prev != nil && !prev.Key().Less(e.Key())) {
				t.Fatalf("%s v%d visible=%v handed out after %v", e.Key(), e.Version, e.Visible, prev)
			}
			if e.Type == osmdata.Node && (e.Lat < -900000000 || e.Lat > 900000000 || e.Lon < -1800000000 || e.Lon > 1800000000) {
				t.Fatalf("%s at %d, %d", e.Key(), e.Lat, e.Lon)
			}
			prev = e
		}
	})
}

// realPBFPrefix is the header block and the first data block of
// delaware-latest.osm.pbf: a valid shorter file.
func realPBFPrefix(t testing.TB) []byte {
	dir, err := osmfile.ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "testdata", "delaware-latest.osm.pbf"))
	if err != nil {
		t.Fatal(err)
	}
	end := 0
	for range 2 {
		headerLen := int(binary.BigEndian.Uint32(data[end:]))
		header := data[end+4 : end+4+headerLen]
		size := blobHeaderDataSize(t, header)
		end += 4 + headerLen + size
	}
	return data[:end]
}

func blobHeaderDataSize(t testing.TB, h []byte) int {
	for len(h) > 0 {
		num, typ, n := protowire.ConsumeTag(h)
		if n < 0 {
			break
		}
		h = h[n:]
		if num == 3 && typ == protowire.VarintType {
			v, _ := protowire.ConsumeVarint(h)
			return int(v)
		}
		n = protowire.ConsumeFieldValue(num, typ, h)
		if n < 0 {
			break
		}
		h = h[n:]
	}
	t.Fatal("no datasize in the BlobHeader of delaware-latest.osm.pbf")
	return 0
}

// rawPBF frames an OSMHeader block and the given OSMData blocks as a PBF
// file with uncompressed (raw) blobs.
func rawPBF(t testing.TB, dataBlocks ...[]byte) []byte {
	var header []byte
	for _, feature := range []string{"OsmSchema-V0.6", "DenseNodes"} {
		header = protowire.AppendTag(header, 4, protowire.BytesType)
		header = protowire.AppendString(header, feature)
	}
	header = protowire.AppendTag(header, 16, protowire.BytesType)
	header = protowire.AppendString(header, "geocommuns fuzz seed")
	out := appendBlock(nil, "OSMHeader", header)
	for _, b := range dataBlocks {
		out = appendBlock(out, "OSMData", b)
	}
	return out
}

func appendBlock(out []byte, typ string, content []byte) []byte {
	var blob []byte
	blob = protowire.AppendTag(blob, 1, protowire.BytesType) // raw
	blob = protowire.AppendBytes(blob, content)
	blob = protowire.AppendTag(blob, 2, protowire.VarintType) // raw_size
	blob = protowire.AppendVarint(blob, uint64(len(content)))
	var header []byte
	header = protowire.AppendTag(header, 1, protowire.BytesType) // type
	header = protowire.AppendString(header, typ)
	header = protowire.AppendTag(header, 3, protowire.VarintType) // datasize
	header = protowire.AppendVarint(header, uint64(len(blob)))
	out = binary.BigEndian.AppendUint32(out, uint32(len(header)))
	out = append(out, header...)
	return append(out, blob...)
}

// The string table of the seed's primitive block.
var seedStrings = []string{"", "highway", "residential", "name", "Rue d'exemple", "type", "multipolygon", "outer", "ana", "inner"}

func primitiveBlock(latOffset, lonOffset int64, groups ...[]byte) []byte {
	var table []byte
	for _, s := range seedStrings {
		table = protowire.AppendTag(table, 1, protowire.BytesType)
		table = protowire.AppendString(table, s)
	}
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, table)
	for _, g := range groups {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, g)
	}
	if latOffset != 0 || lonOffset != 0 {
		b = protowire.AppendTag(b, 19, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(latOffset))
		b = protowire.AppendTag(b, 20, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(lonOffset))
	}
	return b
}

// packedSint64Delta encodes values as PBF's delta-coded packed sint64.
func packedSint64Delta(field protowire.Number, values ...int64) []byte {
	var p []byte
	prev := int64(0)
	for _, v := range values {
		p = protowire.AppendVarint(p, protowire.EncodeZigZag(v-prev))
		prev = v
	}
	b := protowire.AppendTag(nil, field, protowire.BytesType)
	return protowire.AppendBytes(b, p)
}

func packedVarint(field protowire.Number, values ...uint64) []byte {
	var p []byte
	for _, v := range values {
		p = protowire.AppendVarint(p, v)
	}
	b := protowire.AppendTag(nil, field, protowire.BytesType)
	return protowire.AppendBytes(b, p)
}

// denseGroup holds three nodes with versions, times, users and tags; in
// units of 100 nanodegrees (the default granularity), at ±90/±180 among
// others.
func denseGroup() []byte {
	var info []byte
	info = append(info, packedVarint(1, 1, 2, 1)...)                                 // version
	info = append(info, packedSint64Delta(2, 1600000000, 1600000100, 1700000000)...) // timestamp
	info = append(info, packedSint64Delta(3, 10, 11, 12)...)                         // changeset
	info = append(info, packedVarint(4, protowire.EncodeZigZag(7), 0, 0)...)         // uid, sint32 delta
	info = append(info, packedVarint(5, protowire.EncodeZigZag(8), 0, 0)...)         // user_sid, sint32 delta
	var dense []byte
	dense = append(dense, packedSint64Delta(1, 1, 2, 5)...)
	dense = protowire.AppendTag(dense, 5, protowire.BytesType)
	dense = protowire.AppendBytes(dense, info)
	dense = append(dense, packedSint64Delta(8, 900000000, -900000000, 425000000)...)
	dense = append(dense, packedSint64Delta(9, 1800000000, -1800000000, -15000000)...)
	dense = append(dense, packedVarint(10, 0, 3, 4, 0, 0)...) // keys_vals: none; name; none
	var g []byte
	g = protowire.AppendTag(g, 2, protowire.BytesType)
	return protowire.AppendBytes(g, dense)
}

func waysGroup() []byte {
	var way []byte
	way = protowire.AppendTag(way, 1, protowire.VarintType)
	way = protowire.AppendVarint(way, 3)
	way = append(way, packedVarint(2, 1)...) // highway
	way = append(way, packedVarint(3, 2)...) // residential
	way = append(way, infoMessage(1, 1600000000, 10, 7, 8)...)
	way = append(way, packedSint64Delta(8, 1, 2, 5, 1)...)
	var g []byte
	g = protowire.AppendTag(g, 3, protowire.BytesType)
	return protowire.AppendBytes(g, way)
}

func relationsGroup() []byte {
	var rel []byte
	rel = protowire.AppendTag(rel, 1, protowire.VarintType)
	rel = protowire.AppendVarint(rel, 4)
	rel = append(rel, packedVarint(2, 5)...) // type
	rel = append(rel, packedVarint(3, 6)...) // multipolygon
	rel = append(rel, infoMessage(2, 1600000000, 11, 7, 8)...)
	rel = append(rel, packedVarint(8, 7, 9, 0)...)      // roles
	rel = append(rel, packedSint64Delta(9, 3, 1, 4)...) // members
	rel = append(rel, packedVarint(10, 1, 0, 2)...)     // way, node, relation
	var g []byte
	g = protowire.AppendTag(g, 4, protowire.BytesType)
	return protowire.AppendBytes(g, rel)
}

func infoMessage(version, timestamp, changeset, uid, userSID uint64) []byte {
	var info []byte
	for i, v := range []uint64{version, timestamp, changeset, uid, userSID} {
		info = protowire.AppendTag(info, protowire.Number(i+1), protowire.VarintType)
		info = protowire.AppendVarint(info, v)
	}
	b := protowire.AppendTag(nil, 4, protowire.BytesType)
	return protowire.AppendBytes(b, info)
}

// A PBF's lat_offset and lon_offset move every position of a block; a
// file whose numbers put a node outside the world is refused, naming the
// node, rather than read with a position wrapped around in int32 (found
// by FuzzPBF; testdata/fuzz/FuzzPBF/node_outside_the_world).
func TestPBFNodeOutsideTheWorld(t *testing.T) {
	data := rawPBF(t, primitiveBlock(1_000_000_000_000, -3_000_000_000_000, denseGroup()))
	path := filepath.Join(t.TempDir(), "outside.osm.pbf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := osmfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	e, err := r.Next()
	var fe *osmfile.FileError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "node 1: position 1090, -2820 is not within ±90, ±180") {
		t.Fatalf("read %v, %v; want node 1 refused for its position", e, err)
	}
}

// negativeDataSizePBF is a valid file whose next block's BlobHeader
// gives a negative datasize (an int32 in protobuf, so any varint with
// bit 31 set), before or after the OSMHeader.
func negativeDataSizePBF(t testing.TB, afterHeader bool, size int64) []byte {
	var header []byte
	header = protowire.AppendTag(header, 1, protowire.BytesType)
	header = protowire.AppendString(header, "OSMData")
	header = protowire.AppendTag(header, 3, protowire.VarintType)
	header = protowire.AppendVarint(header, uint64(size))
	var data []byte
	if afterHeader {
		data = rawPBF(t, primitiveBlock(0, 0, denseGroup()))
	}
	data = binary.BigEndian.AppendUint32(data, uint32(len(header)))
	data = append(data, header...)
	return append(data, rawPBF(t)...)
}

// osmpbf slices its block buffer with a BlobHeader's datasize, and a
// negative one panicked in the decoder's goroutine, killing the process
// (an import, or serve --demo) whatever the caller recovers. The reader
// refuses such a block as any other broken one, naming it, and keeps
// the elements read before it.
func TestPBFNegativeDataSize(t *testing.T) {
	for _, c := range []struct {
		afterHeader bool
		size        int64
		elements    int
		where       string
	}{
		{true, -1, 3, "block 2 at byte offset 265"},
		{true, 1 << 31, 3, "block 2 at byte offset 265"},
		{false, -1, 0, "block 0"},
	} {
		path := filepath.Join(t.TempDir(), "negative.osm.pbf")
		if err := os.WriteFile(path, negativeDataSizePBF(t, c.afterHeader, c.size), 0o644); err != nil {
			t.Fatal(err)
		}
		read, err := readAllPBF(path)
		var fe *osmfile.FileError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.where) || !strings.Contains(err.Error(), "datasize") || read != c.elements {
			t.Errorf("datasize %d: %d elements, then %v; want %d, then a refusal of %s's datasize", c.size, read, err, c.elements, c.where)
		}
	}
}

// readAllPBF counts the elements read before the first error.
func readAllPBF(path string) (int, error) {
	r, err := osmfile.Open(path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	for n := 0; ; n++ {
		if _, err := r.Next(); err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return n, err
		}
	}
}

// osmpbf indexes a data block's string table and lists without checking
// them, in a goroutine of its own: one bad index crashed the process
// (FuzzPBF found a node's tag past the string table,
// testdata/fuzz/FuzzPBF/3d744ba040fffdcb). The reader checks each data
// block before the decoder gets it, and refuses it naming what is wrong.
func TestPBFDataBlockIndexes(t *testing.T) {
	group := func(field protowire.Number, fields ...[]byte) []byte {
		var m []byte
		for _, f := range fields {
			m = append(m, f...)
		}
		g := protowire.AppendTag(nil, field, protowire.BytesType)
		return protowire.AppendBytes(g, m)
	}
	id := func(v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), v)
	}
	dense := func(keysVals ...uint64) []byte {
		return group(2, packedSint64Delta(1, 1), packedSint64Delta(8, 1), packedSint64Delta(9, 1), packedVarint(10, keysVals...))
	}
	for _, c := range []struct {
		name  string
		group []byte
		want  string
	}{
		{"node tag past the table", dense(3, 83, 0), "a node's tag is string 83 of a table of 10"},
		{"negative node tag", dense(uint64(1<<64-1), 3, 0), "a node's tag is string -1 of a table of 10"},
		{"way tag past the table", group(3, id(3), packedVarint(2, 10), packedVarint(3, 2), packedSint64Delta(8, 1)), "a way's tag is string 10"},
		{"way with more positions than nodes", group(3, id(3), packedSint64Delta(8, 1), packedSint64Delta(9, 1, 2)), "a way with 2 positions or node ids for its 1 nodes"},
		{"way user past the table", group(3, id(3), infoMessage(1, 1, 1, 1, 99)), "a way's user is string 99"},
		{"role past the table", group(4, id(4), packedVarint(8, 99), packedSint64Delta(9, 3), packedVarint(10, 1)), "a member's role is string 99"},
		{"more roles than types", group(4, id(4), packedVarint(8, 7, 7), packedSint64Delta(9, 3, 4), packedVarint(10, 1)), "a relation with 2 roles for 1 member types"},
		{"non-dense nodes", group(1, id(1)), "non-dense nodes"},
	} {
		path := filepath.Join(t.TempDir(), "bad.osm.pbf")
		if err := os.WriteFile(path, rawPBF(t, primitiveBlock(0, 0, denseGroup()), primitiveBlock(0, 0, c.group)), 0o644); err != nil {
			t.Fatal(err)
		}
		read, err := readAllPBF(path)
		var fe *osmfile.FileError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "block 2 at byte offset") || !strings.Contains(err.Error(), c.want) || read != 3 {
			t.Errorf("%s: %d elements, then %v; want the 3 nodes of block 1, then block 2 refused: %s", c.name, read, err, c.want)
		}
	}
}
