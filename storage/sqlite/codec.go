package sqlite

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/geocommuns/geocommuns/osmdata"
)

// The list columns hold JSON so that SQLite's json_each can expand them
// (into current_way_nodes, current_relation_members) inside one
// statement. Their shapes are fixed, so they are written and read here by
// hand: encoding/json's reflection would dominate an import and an export.
//
//	tags     [["key","value"],...]   NULL when there are none
//	nodes    [id,...]
//	members  [[type,id,"role"],...]  type as osmdata.ElementType

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendTags writes tags, or nothing when there are none (stored as NULL).
func appendTags(b []byte, tags osmdata.Tags) []byte {
	if len(tags) == 0 {
		return b
	}
	b = append(b, '[')
	for i, t := range tags {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendJSONString(b, t.Key)
		b = append(b, ',')
		b = appendJSONString(b, t.Value)
		b = append(b, ']')
	}
	return append(b, ']')
}

func appendIDs(b []byte, ids []int64) []byte {
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return append(b, ']')
}

func appendMembers(b []byte, members []osmdata.Member) []byte {
	b = append(b, '[')
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(m.Type), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, m.Ref, 10)
		b = append(b, ',')
		b = appendJSONString(b, m.Role)
		b = append(b, ']')
	}
	return append(b, ']')
}

// idsJSON is the one JSON array parameter that stands in for an array
// parameter in queries (json_each(?)).
func idsJSON(ids []int64) string { return string(appendIDs(nil, ids)) }

func stringsJSON(list []string) string {
	b := []byte{'['}
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return string(append(b, ']'))
}

// jsonScanner reads the fixed shapes above. It accepts insignificant
// whitespace so that rows written by hand (or by SQLite's json functions)
// read too.
type jsonScanner struct {
	b []byte
	i int
}

var errJSONShape = errors.New("unexpected JSON")

func (s *jsonScanner) fail(what string) error {
	return fmt.Errorf("%w at offset %d of %q: want %s", errJSONShape, s.i, s.b, what)
}

func (s *jsonScanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next significant byte, or 0 at the end.
func (s *jsonScanner) peek() byte {
	s.skipSpace()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jsonScanner) expect(c byte) error {
	if s.peek() != c {
		return s.fail(strconv.QuoteRune(rune(c)))
	}
	s.i++
	return nil
}

// list calls item for each element of a JSON array.
func (s *jsonScanner) list(item func() error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.fail("',' or ']'")
		}
	}
}

func (s *jsonScanner) end() error {
	if s.peek() != 0 {
		return s.fail("the end")
	}
	return nil
}

func (s *jsonScanner) int() (int64, error) {
	s.skipSpace()
	start := s.i
	neg := s.i < len(s.b) && s.b[s.i] == '-'
	if neg {
		s.i++
	}
	var v uint64
	digits := 0
	for ; s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9'; s.i++ {
		v = v*10 + uint64(s.b[s.i]-'0')
		digits++
	}
	// 18 digits cannot overflow; longer numbers are not ids.
	if digits == 0 || digits > 18 {
		s.i = start
		return 0, s.fail("an integer")
	}
	if neg {
		return -int64(v), nil
	}
	return int64(v), nil
}

func (s *jsonScanner) string() (string, error) {
	if err := s.expect('"'); err != nil {
		return "", err
	}
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			v := string(s.b[start:s.i])
			s.i++
			return v, nil
		case '\\':
			return s.escapedString(start)
		}
		s.i++
	}
	return "", s.fail("the end of a string")
}

// escapedString finishes a string that has escapes, from its first byte.
func (s *jsonScanner) escapedString(start int) (string, error) {
	out := append([]byte(nil), s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(out), nil
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			break
		}
		s.i += 2
		switch e := s.b[s.i-1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", s.fail("four hex digits")
			}
			if utf16.IsSurrogate(r) && s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
				save := s.i
				s.i += 2
				if r2, ok := s.hex4(); ok {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						out = utf8.AppendRune(out, d)
						continue
					}
				}
				s.i = save
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", s.fail("an escape")
		}
	}
	return "", s.fail("the end of a string")
}

func (s *jsonScanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(s.b[s.i:s.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	s.i += 4
	return rune(v), true
}

// decodeTags reads a tags column; NULL (no bytes) is no tags.
func decodeTags(b []byte) (osmdata.Tags, error) {
	if len(b) == 0 {
		return nil, nil
	}
	s := jsonScanner{b: b}
	var tags osmdata.Tags
	err := s.list(func() error {
		var t osmdata.Tag
		var err error
		if err = s.expect('['); err != nil {
			return err
		}
		if t.Key, err = s.string(); err != nil {
			return err
		}
		if err = s.expect(','); err != nil {
			return err
		}
		if t.Value, err = s.string(); err != nil {
			return err
		}
		tags = append(tags, t)
		return s.expect(']')
	})
	if err == nil {
		err = s.end()
	}
	return tags, err
}

func decodeIDs(b []byte) ([]int64, error) {
	s := jsonScanner{b: b}
	var ids []int64
	err := s.list(func() error {
		id, err := s.int()
		ids = append(ids, id)
		return err
	})
	if err == nil {
		err = s.end()
	}
	return ids, err
}

func decodeMembers(b []byte) ([]osmdata.Member, error) {
	s := jsonScanner{b: b}
	var members []osmdata.Member
	err := s.list(func() error {
		var m osmdata.Member
		if err := s.expect('['); err != nil {
			return err
		}
		t, err := s.int()
		if err != nil {
			return err
		}
		if t < int64(osmdata.Node) || t > int64(osmdata.Relation) {
			return s.fail("a member type")
		}
		m.Type = osmdata.ElementType(t)
		if err := s.expect(','); err != nil {
			return err
		}
		if m.Ref, err = s.int(); err != nil {
			return err
		}
		if err := s.expect(','); err != nil {
			return err
		}
		if m.Role, err = s.string(); err != nil {
			return err
		}
		members = append(members, m)
		return s.expect(']')
	})
	if err == nil {
		err = s.end()
	}
	return members, err
}
