package postgres

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/geocommuns/geocommuns/osmdata"
)

// nodeColumnTypes are the types of readColumns(osmdata.Node, …), in order.
var nodeColumnTypes = []uint32{
	pgtype.Int8OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.BoolOID, pgtype.TimestamptzOID,
	pgtype.Int8OID, pgtype.TextOID, pgtype.TextArrayOID, pgtype.Int4OID, pgtype.Int4OID,
}

// nodeDecoder reads node rows from their binary values instead of through
// rows.Scan, whose per-column dispatch, per-row strings and per-tag
// strings made decoding the 49,000 nodes of a large map call its largest
// share of Go time (bench map). A row's user name is shared with every
// other row of that user, and a row's tag strings are cut from one string
// and their Tag values from a shared array (each slice capped at its own
// length, so appending to one never writes into another's).
type nodeDecoder struct {
	users    map[string]string
	tagArena []osmdata.Tag
	text     []byte
	bounds   []int
}

// newNodeDecoder returns a decoder when every column of rows but the
// user's name comes in the binary format, with the types readColumns(osmdata.Node, …) has, and
// nil otherwise (then rows.Scan reads them).
func newNodeDecoder(rows pgx.Rows) *nodeDecoder {
	fds := rows.FieldDescriptions()
	if len(fds) != len(nodeColumnTypes) {
		return nil
	}
	for i, fd := range fds {
		// A text value's bytes are the same in either format (pgx asks
		// for text columns in the text one).
		binaryOrText := fd.Format == pgtype.BinaryFormatCode || fd.DataTypeOID == pgtype.TextOID
		if !binaryOrText || fd.DataTypeOID != nodeColumnTypes[i] {
			return nil
		}
	}
	return &nodeDecoder{users: map[string]string{}}
}

var errMalformedTags = errors.New("malformed tag array")

// pgEpoch is PostgreSQL's timestamp origin, 2000-01-01 UTC.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func (d *nodeDecoder) decode(vals [][]byte) (osmdata.Element, error) {
	e := osmdata.Element{Type: osmdata.Node}
	for i, v := range vals {
		if v == nil && i != 7 {
			return e, fmt.Errorf("scan node: column %d is NULL", i)
		}
	}
	if len(vals[0]) != 8 || len(vals[1]) != 4 || len(vals[2]) != 8 || len(vals[3]) != 1 || len(vals[4]) != 8 ||
		len(vals[5]) != 8 || len(vals[8]) != 4 || len(vals[9]) != 4 {
		return e, fmt.Errorf("scan node: unexpected value sizes")
	}
	e.ID = int64(binary.BigEndian.Uint64(vals[0]))
	e.Version = int(int32(binary.BigEndian.Uint32(vals[1])))
	e.Changeset = int64(binary.BigEndian.Uint64(vals[2]))
	e.Visible = vals[3][0] != 0
	micros := int64(binary.BigEndian.Uint64(vals[4]))
	if micros == 1<<63-1 || micros == -1<<63 {
		return e, fmt.Errorf("node %d v%d: infinite timestamp", e.ID, e.Version)
	}
	e.Timestamp = pgEpoch.Add(time.Duration(micros) * time.Microsecond)
	e.UID = int64(binary.BigEndian.Uint64(vals[5]))
	user, ok := d.users[string(vals[6])]
	if !ok {
		user = string(vals[6])
		d.users[user] = user
	}
	e.User = user
	e.Lat = int32(binary.BigEndian.Uint32(vals[8]))
	e.Lon = int32(binary.BigEndian.Uint32(vals[9]))
	if vals[7] != nil {
		tags, err := d.tags(vals[7])
		if err != nil {
			return e, fmt.Errorf("node %d v%d: %w", e.ID, e.Version, err)
		}
		e.Tags = tags
	}
	return e, nil
}

// tags reads a text[] in the binary format (ndim, has-null flag, element
// type, then per dimension its length and lower bound, then each element
// as a length and its bytes) as k1, v1, k2, v2 (unflattenTags).
func (d *nodeDecoder) tags(b []byte) (osmdata.Tags, error) {
	bad := errMalformedTags
	if len(b) < 12 {
		return nil, bad
	}
	ndim := int32(binary.BigEndian.Uint32(b))
	if ndim == 0 {
		return nil, nil
	}
	if ndim != 1 || len(b) < 20 {
		return nil, bad
	}
	n := int(int32(binary.BigEndian.Uint32(b[12:])))
	b = b[20:]
	if n < 0 || n > len(b)/4 {
		return nil, bad
	}
	if n%2 != 0 {
		return nil, fmt.Errorf("tag array of odd length %d", n)
	}
	if n == 0 {
		return nil, nil
	}
	d.text, d.bounds = d.text[:0], d.bounds[:0]
	for range n {
		if len(b) < 4 {
			return nil, bad
		}
		l := int(int32(binary.BigEndian.Uint32(b)))
		b = b[4:]
		if l < 0 || l > len(b) {
			// Or NULL (-1), which no write stores.
			return nil, bad
		}
		d.text = append(d.text, b[:l]...)
		d.bounds = append(d.bounds, len(d.text))
		b = b[l:]
	}
	text := string(d.text)
	if len(d.tagArena) < n/2 {
		d.tagArena = make([]osmdata.Tag, max(n/2, 1024))
	}
	tags := d.tagArena[: n/2 : n/2]
	d.tagArena = d.tagArena[n/2:]
	start := 0
	for i := range tags {
		k, v := d.bounds[2*i], d.bounds[2*i+1]
		tags[i] = osmdata.Tag{Key: text[start:k], Value: text[k:v]}
		start = v
	}
	return tags, nil
}
