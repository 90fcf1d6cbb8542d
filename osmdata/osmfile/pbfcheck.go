package osmfile

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// osmpbf (github.com/paulmach/osm v0.8.0) trusts the indexes of a data
// block: a string table index past its end, a way's lat/lon list longer
// than its node list, a relation's roles longer than its member types,
// or a group of non-dense nodes (which it refuses with panic) crash the
// decoder's goroutine, and with it the whole process. checkDataBlock
// reads a block as osmpbf will, before it does, and names what would
// crash it; the block tracker then withholds the block (found by
// FuzzPBF; testdata/fuzz/FuzzPBF).

// maxBlobSize is osmpbf's and the format's limit on a block's data.
const maxBlobSize = 32 << 20

// blobFields are the fields of a Blob osmpbf reads, as it reads them:
// the last occurrence of each wins, raw over zlib_data.
type blobFields struct {
	raw, zlibData   []byte
	hasRaw, hasZlib bool
	rawSize         int32 // int32: the low 32 bits of the varint
}

// parseBlob reads a Blob's fields; ok is false for bytes that are not
// protobuf, which osmpbf refuses by itself.
func parseBlob(blob []byte) (b blobFields, ok bool) {
	err := eachField(blob, func(num protowire.Number, typ protowire.Type, v []byte, scalar uint64) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			b.raw, b.hasRaw = v, true
		case num == 2 && typ == protowire.VarintType:
			b.rawSize = int32(scalar)
		case num == 3 && typ == protowire.BytesType:
			b.zlibData, b.hasZlib = v, true
		}
		return nil
	})
	return b, err == nil
}

// checkBlobRawSize refuses a zlib blob (header or data) whose declared
// raw_size is at or over the format's limit ("MUST be less than 32 MiB",
// OSM wiki, PBF Format): osmpbf allocates raw_size and a tenth more
// before it inflates a single byte, so a block of a few bytes asked for
// gigabytes, and over about 1.95 GB the int32 sum overflowed and
// makeslice panicked in the decoder's goroutine, killing the process. A raw blob's raw_size is not used (osmpbf takes the raw
// bytes as they are), nor is that of a blob that is not protobuf (osmpbf
// refuses it by itself).
func checkBlobRawSize(b blobFields) error {
	if b.hasRaw || !b.hasZlib || b.rawSize < maxBlobSize {
		return nil
	}
	return fmt.Errorf("its Blob declares a raw_size of %d bytes, and the PBF format allows an uncompressed block less than %d (32 MiB)", b.rawSize, maxBlobSize)
}

// blobInflater inflates the zlib data of blocks one after the other,
// keeping its decompressor from block to block.
type blobInflater struct {
	src bytes.Reader
	zr  io.ReadCloser // a zlib.Resetter once made
}

// inflate appends zlib data inflated to dst. ok is false when the data
// does not inflate, or inflates to more than a block may hold: osmpbf
// then refuses the blob by itself. rawSize, as declared, only sizes the
// buffer.
func (z *blobInflater) inflate(dst, zdata []byte, rawSize int32) (out []byte, ok bool) {
	z.src.Reset(zdata)
	if z.zr == nil {
		zr, err := zlib.NewReader(&z.src)
		if err != nil {
			return dst, false
		}
		z.zr = zr
	} else if err := z.zr.(zlib.Resetter).Reset(&z.src, nil); err != nil {
		return dst, false
	}
	start := len(dst)
	// One byte past the declared size, to see the end of the data
	// without growing the buffer.
	dst = slices.Grow(dst, int(min(max(rawSize, 0), maxBlobSize))+1)
	for {
		if len(dst) == cap(dst) {
			dst = slices.Grow(dst, len(dst)-start+512)
		}
		n, err := z.zr.Read(dst[len(dst):min(cap(dst), start+maxBlobSize+1)])
		dst = dst[:len(dst)+n]
		if len(dst)-start > maxBlobSize {
			return dst, false
		}
		if err == io.EOF {
			return dst, true
		}
		if err != nil {
			return dst, false
		}
	}
}

// checkDataBlock checks the content of an OSMData blob: its raw data, or
// its zlib data inflated by z and appended to dst. Blobs osmpbf refuses
// by itself (not protobuf, unknown compression, data that does not
// inflate) pass: its own error says why. When the zlib data inflates to
// exactly its declared raw_size, which is what osmpbf accepts, inflated
// is true and the data is out[len(dst):], for the caller to hand osmpbf
// as a raw blob rather than have it inflate the data again.
func checkDataBlock(z *blobInflater, b blobFields, dst []byte) (out []byte, inflated bool, err error) {
	if b.hasRaw {
		return dst, false, checkPrimitiveBlock(b.raw)
	}
	if !b.hasZlib {
		return dst, false, nil
	}
	start := len(dst)
	out, ok := z.inflate(dst, b.zlibData, b.rawSize)
	if !ok {
		return out[:start], false, nil
	}
	if err := checkPrimitiveBlock(out[start:]); err != nil {
		return out[:start], false, err
	}
	if len(out)-start != int(b.rawSize) {
		return out[:start], false, nil
	}
	return out, true, nil
}

func checkPrimitiveBlock(data []byte) error {
	tableLen := 0
	err := eachField(data, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == 1 && typ == protowire.BytesType {
			// StringTable: repeated bytes s = 1; repeated fields merge.
			return eachField(v, func(num protowire.Number, typ protowire.Type, _ []byte, _ uint64) error {
				if num == 1 && typ == protowire.BytesType {
					tableLen++
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return eachField(data, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != 2 || typ != protowire.BytesType {
			return nil
		}
		return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
			switch num {
			case 1:
				return errors.New("a primitive group of non-dense nodes, which the PBF decoder does not read")
			case 2:
				return checkDenseNodes(v, tableLen)
			case 3:
				return checkWay(v, tableLen)
			case 4:
				return checkRelation(v, tableLen)
			}
			return nil
		})
	})
}

func checkDenseNodes(v []byte, tableLen int) error {
	return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case 5: // DenseInfo
			return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if num != 5 {
					return nil
				}
				// user_sid: packed sint32, delta coded.
				var sid int32
				return eachPacked(typ, v, func(x uint64) error {
					sid += int32(protowire.DecodeZigZag(x & 0xffffffff))
					return inTable("a node's user", int64(sid), tableLen)
				})
			})
		case 10: // keys_vals: packed int32 string indexes, 0 between nodes
			return eachPacked(typ, v, func(x uint64) error {
				return inTable("a node's tag", int64(int32(x)), tableLen)
			})
		}
		return nil
	})
}

func checkWay(v []byte, tableLen int) error {
	nodes := 0 // the length of the node list osmpbf allocates first
	return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, scalar uint64) error {
		switch num {
		case 2, 3: // keys, vals: packed uint32
			return eachPacked(typ, v, func(x uint64) error { return inTable("a way's tag", int64(uint32(x)), tableLen) })
		case 4:
			return checkInfo(v, tableLen, "a way's user")
		case 8, 9, 10: // refs, lats, lons: packed sint64, one node list
			n, err := countPacked(typ, v)
			if err != nil {
				return err
			}
			if nodes == 0 {
				nodes = n
			}
			if n > nodes {
				return fmt.Errorf("a way with %d positions or node ids for its %d nodes", n, nodes)
			}
		}
		return nil
	})
}

func checkRelation(v []byte, tableLen int) error {
	roles, types := -1, -1 // the last list of each, which osmpbf reads
	err := eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case 2, 3:
			return eachPacked(typ, v, func(x uint64) error { return inTable("a relation's tag", int64(uint32(x)), tableLen) })
		case 4:
			return checkInfo(v, tableLen, "a relation's user")
		case 8: // roles_sid: packed int32
			n, err := countPacked(typ, v)
			if err != nil {
				return err
			}
			roles = n
			return eachPacked(typ, v, func(x uint64) error { return inTable("a member's role", int64(int32(x)), tableLen) })
		case 10: // types
			n, err := countPacked(typ, v)
			if err != nil {
				return err
			}
			types = n
		}
		return nil
	})
	if err == nil && roles > max(types, 0) {
		err = fmt.Errorf("a relation with %d roles for %d member types", roles, max(types, 0))
	}
	return err
}

func checkInfo(v []byte, tableLen int, what string) error {
	return eachField(v, func(num protowire.Number, typ protowire.Type, _ []byte, scalar uint64) error {
		if num == 5 && typ == protowire.VarintType { // user_sid: uint32
			return inTable(what, int64(uint32(scalar)), tableLen)
		}
		return nil
	})
}

func inTable(what string, i int64, tableLen int) error {
	if i < 0 || i >= int64(tableLen) {
		return fmt.Errorf("%s is string %d of a table of %d", what, i, tableLen)
	}
	return nil
}

// errMalformed stops a walk over bytes that are not protobuf. osmpbf's
// own scanner reads a block's fields as they come, and may reach a bad
// index before a malformed field, so a malformed block is refused too.
var errMalformed = errors.New("the block is not a valid protobuf message")

// eachField calls f with each field of a message: its bytes for a
// length-delimited field, its value for a varint.
func eachField(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, scalar uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
		var v []byte
		var scalar uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			scalar, n = protowire.ConsumeVarint(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
		if err := f(num, typ, v, scalar); err != nil {
			return err
		}
	}
	return nil
}

// eachPacked calls f with each varint of a packed field (or the one value
// of an unpacked one).
func eachPacked(typ protowire.Type, v []byte, f func(uint64) error) error {
	if typ != protowire.BytesType {
		return nil // osmpbf reads packed fields only, and refuses others
	}
	for len(v) > 0 {
		x, n := protowire.ConsumeVarint(v)
		if n < 0 {
			return errMalformed
		}
		v = v[n:]
		if err := f(x); err != nil {
			return err
		}
	}
	return nil
}

func countPacked(typ protowire.Type, v []byte) (int, error) {
	n := 0
	err := eachPacked(typ, v, func(uint64) error { n++; return nil })
	return n, err
}
