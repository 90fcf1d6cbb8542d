package postgres

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// copyBuffer writes rows in PostgreSQL's binary COPY format
// (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4)
// straight into a byte slice. pgx's CopyFrom takes each row as []any and
// finds an encode plan per value; for the staging path, which writes ten
// thousand rows of twenty columns within one request, that costs more CPU
// than everything else the upload does in Go but parsing.
type copyBuffer struct {
	b []byte
}

// Object ids of the array element types the pending tables use.
const (
	oidInt2 = 21
	oidInt8 = 20
	oidText = 25
)

var copySignature = []byte("PGCOPY\n\xff\r\n\x00")

// postgresEpoch is the zero of timestamptz's binary form.
var postgresEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func (c *copyBuffer) header() {
	c.b = append(c.b, copySignature...)
	c.b = binary.BigEndian.AppendUint32(c.b, 0) // flags
	c.b = binary.BigEndian.AppendUint32(c.b, 0) // header extension length
}

func (c *copyBuffer) trailer() { c.b = binary.BigEndian.AppendUint16(c.b, 0xffff) }

// row starts a row of n fields.
func (c *copyBuffer) row(n int) { c.b = binary.BigEndian.AppendUint16(c.b, uint16(n)) }

func (c *copyBuffer) null() { c.b = binary.BigEndian.AppendUint32(c.b, math.MaxUint32) }

func (c *copyBuffer) int2(v int16) {
	c.b = binary.BigEndian.AppendUint32(c.b, 2)
	c.b = binary.BigEndian.AppendUint16(c.b, uint16(v))
}

func (c *copyBuffer) int4(v int32) {
	c.b = binary.BigEndian.AppendUint32(c.b, 4)
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(v))
}

func (c *copyBuffer) int8(v int64) {
	c.b = binary.BigEndian.AppendUint32(c.b, 8)
	c.b = binary.BigEndian.AppendUint64(c.b, uint64(v))
}

func (c *copyBuffer) bool(v bool) {
	c.b = binary.BigEndian.AppendUint32(c.b, 1)
	if v {
		c.b = append(c.b, 1)
	} else {
		c.b = append(c.b, 0)
	}
}

func (c *copyBuffer) text(s string) {
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(len(s)))
	c.b = append(c.b, s...)
}

// timestamptz writes t as microseconds since 2000-01-01 UTC.
func (c *copyBuffer) timestamptz(t time.Time) {
	c.int8(t.Sub(postgresEpoch).Microseconds())
}

// arrayHeader starts a one-dimensional array of n elements without
// NULLs, whose total size is size bytes (the elements with their length
// words). An empty array has no dimension, as PostgreSQL writes '{}'.
func (c *copyBuffer) arrayHeader(oid uint32, n, size int) {
	if n == 0 {
		c.b = binary.BigEndian.AppendUint32(c.b, 12)
		c.b = binary.BigEndian.AppendUint32(c.b, 0) // dimensions
		c.b = binary.BigEndian.AppendUint32(c.b, 0) // no NULLs
		c.b = binary.BigEndian.AppendUint32(c.b, oid)
		return
	}
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(20+size))
	c.b = binary.BigEndian.AppendUint32(c.b, 1)
	c.b = binary.BigEndian.AppendUint32(c.b, 0)
	c.b = binary.BigEndian.AppendUint32(c.b, oid)
	c.b = binary.BigEndian.AppendUint32(c.b, uint32(n))
	c.b = binary.BigEndian.AppendUint32(c.b, 1) // lower bound
}

func (c *copyBuffer) int8Array(vs []int64) {
	c.arrayHeader(oidInt8, len(vs), 12*len(vs))
	for _, v := range vs {
		c.b = binary.BigEndian.AppendUint32(c.b, 8)
		c.b = binary.BigEndian.AppendUint64(c.b, uint64(v))
	}
}

// int2Array writes n int2 elements, the i-th being at(i).
func (c *copyBuffer) int2Array(n int, at func(i int) int16) {
	c.arrayHeader(oidInt2, n, 6*n)
	for i := range n {
		c.b = binary.BigEndian.AppendUint32(c.b, 2)
		c.b = binary.BigEndian.AppendUint16(c.b, uint16(at(i)))
	}
}

// textArray writes n text elements, the i-th being at(i); size is the
// sum of their lengths.
func (c *copyBuffer) textArray(n, size int, at func(i int) string) {
	c.arrayHeader(oidText, n, 4*n+size)
	for i := range n {
		c.text(at(i))
	}
}

// copyRows is the body of a binary COPY that encodes its rows as the
// connection asks for more bytes, so that encoding overlaps with the
// server's work as it did through pgx's CopyFrom.
type copyRows struct {
	n      int
	encode func(i int, c *copyBuffer)
	next   int // the next row to encode
	buf    copyBuffer
	off    int // bytes of buf already read
	ended  bool
}

func (r *copyRows) Read(p []byte) (int, error) {
	for len(r.buf.b)-r.off < len(p) && !r.ended {
		if r.off > 0 {
			r.buf.b = r.buf.b[:copy(r.buf.b, r.buf.b[r.off:])]
			r.off = 0
		}
		// Encode a batch of rows at a time.
		for stop := min(r.next+64, r.n); r.next < stop; r.next++ {
			r.encode(r.next, &r.buf)
		}
		if r.next == r.n {
			r.buf.trailer()
			r.ended = true
		}
	}
	n := copy(p, r.buf.b[r.off:])
	r.off += n
	if n == 0 && r.ended {
		return 0, io.EOF
	}
	return n, nil
}

// copyBinary copies n rows, written by encode, into table's columns in
// one binary COPY on tx's connection, and returns the number of rows the
// server took.
func copyBinary(ctx context.Context, tx pgx.Tx, table string, columns []string, n int, encode func(i int, c *copyBuffer)) (int64, error) {
	quoted := make([]string, len(columns))
	for i, col := range columns {
		quoted[i] = pgx.Identifier{col}.Sanitize()
	}
	sql := fmt.Sprintf("COPY %s (%s) FROM STDIN BINARY", pgx.Identifier{table}.Sanitize(), strings.Join(quoted, ", "))
	rows := &copyRows{n: n, encode: encode}
	rows.buf.header()
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, rows, sql)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
