package osmchange

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// scanner is a streaming XML tokenizer for request bodies. encoding/xml
// decodes about 100,000 small elements a second on our machines (every
// attribute allocated twice, every byte read through an interface),
// which alone would eat the staging budget of an upload, and it counts
// columns in bytes, where cgimap's messages count characters. The
// scanner reads the body in large chunks, hands attributes out as slices
// of its buffer (decoded only when they hold references or whitespace to
// normalize), and checks what a conforming parser must: well-formed
// names, attributes and nesting, unique attribute names, character
// references, characters XML allows, UTF-8. It refuses DOCTYPE (entity
// expansion is an attack surface OSM bodies never need) and encodings
// other than UTF-8.
type scanner struct {
	r        io.Reader
	buf      []byte
	off      int64 // absolute offset of buf[0]
	pos, end int
	eof      bool
	rerr     error // the body's read error, returned as is
	maxToken int
	maxDepth int

	// Lines are counted incrementally up to tracked; colBase is the
	// column (in characters, less one) of buf[0].
	tracked     int
	trackedLine int
	colBase     int

	// The current token, valid until the next call of next.
	name        []byte
	attrs       []attr
	scratch     []byte
	selfClosing bool
	startOff    int64 // '<' of the current tag
	markOff     int64 // start tag: its closing '/' or '>'; end tag: just past its '>'
	closeOff    int64 // just past the "/>" of a self-closing tag

	// Open elements: their names in one arena, and the lines they
	// started on, for libxml2's mismatch message.
	names      []byte
	stack      []openElement
	pendingEnd bool
	rootSeen   bool
	started    bool // something beyond the BOM and the XML declaration
	bomChecked bool
	declAt     int64 // where an XML declaration may stand: 0, or after a BOM
	attrSet    map[string]struct{}
}

type attr struct {
	name, value []byte
}

type openElement struct {
	nameStart int
	line      int
}

type tokenKind uint8

const (
	tokStart tokenKind = iota + 1
	tokEnd
	tokEOF
)

const readChunk = 64 << 10

func newScanner(r io.Reader, maxToken, maxDepth int) *scanner {
	size := readChunk
	return &scanner{r: r, buf: make([]byte, size), trackedLine: 1, maxToken: maxToken, maxDepth: maxDepth,
		attrs: make([]attr, 0, 16), scratch: make([]byte, 0, 1024)}
}

// syntaxError is a well-formedness fault at an absolute offset.
type syntaxError struct {
	off int64
	msg string
}

func (e *syntaxError) Error() string { return e.msg }

var errShort = errors.New("need more input")

// line returns the line of absolute offset abs, which must be in the
// buffer.
func (s *scanner) line(abs int64) int {
	i := int(abs - s.off)
	if i >= s.tracked {
		s.trackedLine += bytes.Count(s.buf[s.tracked:i], newline)
		s.tracked = i
		return s.trackedLine
	}
	return s.trackedLine - bytes.Count(s.buf[i:s.tracked], newline)
}

var newline = []byte{'\n'}

// column returns libxml2's column of abs: characters since the line
// began, plus one.
func (s *scanner) column(abs int64) int {
	i := int(abs - s.off)
	if j := bytes.LastIndexByte(s.buf[:i], '\n'); j >= 0 {
		return utf8.RuneCount(s.buf[j+1:i]) + 1
	}
	return s.colBase + utf8.RuneCount(s.buf[:i]) + 1
}

func (s *scanner) position(abs int64) (int, int) { return s.line(abs), s.column(abs) }

// fill discards what was consumed and reads more. It returns false at
// the end of the body.
func (s *scanner) fill() bool {
	if s.eof {
		return false
	}
	if s.pos > 0 {
		abs := s.off + int64(s.pos)
		s.line(abs)
		s.colBase = s.column(abs) - 1
		s.tracked -= s.pos
		n := copy(s.buf, s.buf[s.pos:s.end])
		s.off = abs
		s.end = n
		s.pos = 0
	}
	if s.end == len(s.buf) {
		grown := make([]byte, 2*len(s.buf))
		copy(grown, s.buf[:s.end])
		s.buf = grown
	}
	for tries := 0; tries < 100; tries++ {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.rerr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	s.eof, s.rerr = true, io.ErrNoProgress
	return false
}

func (s *scanner) syntax(i int, format string, args ...any) error {
	return &syntaxError{off: s.off + int64(i), msg: fmt.Sprintf(format, args...)}
}

// next returns the next start or end tag (a self-closing tag is both),
// or tokEOF after the root element closed and nothing but comments,
// processing instructions and whitespace followed.
func (s *scanner) next() (tokenKind, error) {
	if s.pendingEnd {
		s.pendingEnd = false
		s.markOff = s.closeOff
		s.popName()
		return tokEnd, nil
	}
	if !s.bomChecked {
		s.bomChecked = true
		for s.end < len(bom) && s.fill() {
		}
		if bytes.HasPrefix(s.buf[:s.end], bom) {
			s.pos = len(bom)
			s.declAt = int64(len(bom))
		}
	}
	for {
		if err := s.skipText(); err != nil {
			return 0, err
		}
		if s.pos >= s.end {
			return s.atEOF()
		}
		kind, err := s.markup()
		if err == errShort {
			if !s.fill() {
				if s.rerr != nil {
					return 0, s.rerr
				}
				return 0, s.unfinished()
			}
			continue
		}
		if err != nil || kind != 0 {
			return kind, err
		}
	}
}

// atEOF ends the document: it must have had one root element, closed.
func (s *scanner) atEOF() (tokenKind, error) {
	if s.rerr != nil {
		return 0, s.rerr
	}
	if len(s.stack) > 0 {
		return 0, s.unfinished()
	}
	if !s.rootSeen {
		return 0, s.syntax(s.pos, "Document is empty")
	}
	return tokEOF, nil
}

// unfinished is libxml2's complaint about a body that ends inside an
// element or a tag.
func (s *scanner) unfinished() error {
	if n := len(s.stack); n > 0 {
		top := s.stack[n-1]
		return s.syntax(s.end, "Premature end of data in tag %s line %d", s.names[top.nameStart:], top.line)
	}
	if s.pos < s.end {
		return s.syntax(s.end, "Couldn't find end of Start Tag")
	}
	return s.syntax(s.end, "Document is empty")
}

// skipText consumes character data up to the next '<', checking it as a
// conforming parser must; outside the root element only whitespace may
// appear.
func (s *scanner) skipText() error {
	for {
		b := s.buf[s.pos:s.end]
		i := 0
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i < len(b) && b[i] == '<' {
			s.pos += i
			return nil
		}
		if i == len(b) {
			s.pos += i
			if !s.fill() {
				return nil
			}
			continue
		}
		if len(s.stack) == 0 {
			s.pos += i
			if s.rootSeen {
				return s.syntax(s.pos, "Extra content at the end of the document")
			}
			return s.syntax(s.pos, "Start tag expected, '<' not found")
		}
		k := bytes.IndexByte(b[i:], '<')
		seg := b[i:]
		final := k >= 0
		if final {
			seg = b[i : i+k]
		}
		n, err := s.checkText(seg, s.pos+i, final || s.eof)
		if err != nil {
			return err
		}
		s.pos += i + n
		if final {
			return nil
		}
		if !s.fill() && s.pos >= s.end {
			return nil
		}
	}
}

// checkText checks character data: references, characters and "]]>".
// Unless final, it stops before a reference, character or "]]" the
// segment may cut, and returns how far it got.
func (s *scanner) checkText(seg []byte, base int, final bool) (int, error) {
	for i := 0; i < len(seg); {
		c := seg[i]
		switch {
		case c >= 0x20 && c < utf8.RuneSelf && c != '&' && c != ']':
			i++
		case c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '&':
			n, err := s.reference(seg[i:], base+i, nil)
			if err == errShort {
				if final {
					return i, s.syntax(base+i, "EntityRef: expecting ';'")
				}
				return i, nil
			}
			if err != nil {
				return i, err
			}
			i += n
		case c == ']':
			if i+2 < len(seg) {
				if seg[i+1] == ']' && seg[i+2] == '>' {
					return i, s.syntax(base+i, "Sequence ']]>' not allowed in content")
				}
				i++
				continue
			}
			if !final {
				return i, nil
			}
			i++
		case c < 0x20:
			return i, s.syntax(base+i, "PCDATA invalid Char value %d", c)
		default:
			r, n := utf8.DecodeRune(seg[i:])
			if r == utf8.RuneError && n <= 1 {
				if !final && !utf8.FullRune(seg[i:]) {
					return i, nil
				}
				return i, s.syntax(base+i, "Input is not proper UTF-8, indicate encoding !")
			}
			if r == 0xFFFE || r == 0xFFFF {
				return i, s.syntax(base+i, "PCDATA invalid Char value %d", r)
			}
			i += n
		}
	}
	return len(seg), nil
}

// checkChars checks the characters of a comment, PI or CDATA section.
func (s *scanner) checkChars(seg []byte, base int) error {
	for i := 0; i < len(seg); {
		c := seg[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return s.syntax(base+i, "PCDATA invalid Char value %d", c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(seg[i:])
		if (r == utf8.RuneError && n <= 1) || r == 0xFFFE || r == 0xFFFF {
			return s.syntax(base+i, "Input is not proper UTF-8, indicate encoding !")
		}
		i += n
	}
	return nil
}

// markup reads the construct at s.pos ('<'). It returns kind 0 for
// comments, processing instructions and CDATA, errShort when the buffer
// ends inside the construct.
//
// No construct may be longer than maxToken: markup looks at no more than
// that, so a body gives the same result however its reads are cut.
func (s *scanner) markup() (tokenKind, error) {
	b := s.buf[s.pos:s.end]
	window := len(b) > s.maxToken
	if window {
		b = b[:s.maxToken+1]
	}
	if len(b) < 2 {
		return 0, errShort
	}
	var kind tokenKind
	var err error
	switch b[1] {
	case '/':
		kind, err = s.endTag(b)
	case '?':
		err = s.processingInstruction(b)
	case '!':
		err = s.bang(b)
	default:
		kind, err = s.startTag(b)
	}
	if err == errShort && window {
		return 0, newError(KindTokenTooLong, 0, 0, s.maxToken)
	}
	return kind, err
}

// begin notes that the document proper began: an XML declaration is
// no longer allowed.
func (s *scanner) begin() error {
	s.started = true
	return nil
}

func (s *scanner) startTag(b []byte) (tokenKind, error) {
	if err := s.begin(); err != nil {
		return 0, err
	}
	i := 1
	if !nameStart[b[i]] {
		return 0, s.syntax(s.pos+i, "StartTag: invalid element name")
	}
	j := i + 1
	for j < len(b) && nameChar[b[j]] {
		j++
	}
	if j >= len(b) {
		return 0, errShort
	}
	name := b[i:j]
	s.attrs = s.attrs[:0]
	s.scratch = s.scratch[:0]
	i = j
	for {
		ws := i
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i >= len(b) {
			return 0, errShort
		}
		c := b[i]
		if c == '>' {
			s.selfClosing = false
			s.markOff = s.off + int64(s.pos+i)
			i++
			break
		}
		if c == '/' {
			if i+1 >= len(b) {
				return 0, errShort
			}
			if b[i+1] != '>' {
				return 0, s.syntax(s.pos+i, "Couldn't find end of Start Tag %s", name)
			}
			s.selfClosing = true
			s.markOff = s.off + int64(s.pos+i)
			i += 2
			break
		}
		if i == ws || !nameStart[c] {
			return 0, s.syntax(s.pos+i, "attributes construct error")
		}
		k := i + 1
		for k < len(b) && nameChar[b[k]] {
			k++
		}
		if k >= len(b) {
			return 0, errShort
		}
		an := b[i:k]
		i = k
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i >= len(b) {
			return 0, errShort
		}
		if b[i] != '=' {
			return 0, s.syntax(s.pos+i, "Specification mandates value for attribute %s", an)
		}
		i++
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i >= len(b) {
			return 0, errShort
		}
		q := b[i]
		if q != '"' && q != '\'' {
			return 0, s.syntax(s.pos+i, "AttValue: \" or ' expected")
		}
		i++
		vs := i
		decode, nonASCII := false, false
		for i < len(b) {
			c := b[i]
			if attrPlain[c] {
				i++
				continue
			}
			if c == q {
				break
			}
			switch {
			case c == '<':
				return 0, s.syntax(s.pos+i, "Unescaped '<' not allowed in attributes values")
			case c == '&' || c == '\t' || c == '\n' || c == '\r':
				decode = true
			case c >= utf8.RuneSelf:
				nonASCII = true
			case c < 0x20:
				return 0, s.syntax(s.pos+i, "invalid character in attribute value")
			}
			i++
		}
		if i >= len(b) {
			return 0, errShort
		}
		val := b[vs:i]
		i++
		if nonASCII {
			if err := s.checkUTF8(val, s.pos+vs); err != nil {
				return 0, err
			}
		}
		if decode {
			var err error
			if val, err = s.decodeAttr(val, s.pos+vs); err != nil {
				return 0, err
			}
		}
		if s.redefined(an) {
			return 0, s.syntax(s.pos+vs-1, "Attribute %s redefined", an)
		}
		s.attrs = append(s.attrs, attr{name: an, value: val})
	}
	if i > s.maxToken {
		return 0, newError(KindTokenTooLong, 0, 0, s.maxToken)
	}
	if len(s.stack) == 0 && s.rootSeen {
		return 0, s.syntax(s.pos, "Extra content at the end of the document")
	}
	if nameHasNonASCII(name) {
		if err := s.checkUTF8(name, s.pos+1); err != nil {
			return 0, err
		}
	}
	if len(s.stack) >= s.maxDepth {
		line, col := s.position(s.markOff)
		return 0, newError(KindNestedTooDeep, line, col)
	}
	s.startOff = s.off + int64(s.pos)
	s.rootSeen = true
	s.stack = append(s.stack, openElement{nameStart: len(s.names), line: s.line(s.startOff)})
	s.names = append(s.names, name...)
	s.name = name
	if s.selfClosing {
		s.pendingEnd = true
		s.closeOff = s.off + int64(s.pos+i)
	}
	s.pos += i
	return tokStart, nil
}

// redefined tells whether the tag being read already has attribute
// name: by comparison for the few attributes OSM elements have, by a set
// beyond, so that a tag of thousands of attributes stays linear.
func (s *scanner) redefined(name []byte) bool {
	const linear = 16
	if len(s.attrs) < linear {
		for _, a := range s.attrs {
			if bytes.Equal(a.name, name) {
				return true
			}
		}
		return false
	}
	if s.attrSet == nil {
		s.attrSet = make(map[string]struct{})
	}
	if len(s.attrs) == linear {
		clear(s.attrSet)
		for _, a := range s.attrs {
			s.attrSet[string(a.name)] = struct{}{}
		}
	}
	if _, ok := s.attrSet[string(name)]; ok {
		return true
	}
	s.attrSet[string(name)] = struct{}{}
	return false
}

func nameHasNonASCII(name []byte) bool {
	for _, c := range name {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

func (s *scanner) checkUTF8(b []byte, base int) error {
	if !utf8.Valid(b) {
		for i := 0; i < len(b); {
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n <= 1 {
				return s.syntax(base+i, "Input is not proper UTF-8, indicate encoding !")
			}
			i += n
		}
	}
	if bytes.Contains(b, []byte("\xEF\xBF\xBE")) || bytes.Contains(b, []byte("\xEF\xBF\xBF")) {
		return s.syntax(base, "invalid character in attribute value")
	}
	return nil
}

// popName drops the innermost open element and points s.name at its
// name, which stays valid until the next start tag.
func (s *scanner) popName() {
	top := s.stack[len(s.stack)-1]
	s.stack = s.stack[:len(s.stack)-1]
	s.name = s.names[top.nameStart:]
	s.names = s.names[:top.nameStart]
}

func (s *scanner) endTag(b []byte) (tokenKind, error) {
	if err := s.begin(); err != nil {
		return 0, err
	}
	i := 2
	if i >= len(b) {
		return 0, errShort
	}
	if !nameStart[b[i]] {
		return 0, s.syntax(s.pos+i, "xmlParseEndTag: '</' not found")
	}
	j := i + 1
	for j < len(b) && nameChar[b[j]] {
		j++
	}
	name := b[i:j]
	for j < len(b) && isSpace(b[j]) {
		j++
	}
	if j >= len(b) {
		return 0, errShort
	}
	if b[j] != '>' {
		return 0, s.syntax(s.pos+j, "expected '>'")
	}
	j++
	if len(s.stack) == 0 {
		return 0, s.syntax(s.pos, "Start tag expected, '<' not found")
	}
	top := s.stack[len(s.stack)-1]
	if open := s.names[top.nameStart:]; !bytes.Equal(open, name) {
		return 0, s.syntax(s.pos+j, "Opening and ending tag mismatch: %s line %d and %s", open, top.line, name)
	}
	s.popName()
	s.pos += j
	s.markOff = s.off + int64(s.pos)
	return tokEnd, nil
}

// processingInstruction reads <?target …?>; the XML declaration is one
// only at the very start of the body.
func (s *scanner) processingInstruction(b []byte) error {
	end := bytes.Index(b[2:], []byte("?>"))
	if end < 0 {
		return errShort
	}
	body := b[2 : 2+end]
	n := 0
	for n < len(body) && nameChar[body[n]] {
		n++
	}
	if n == 0 || !nameStart[body[0]] {
		return s.syntax(s.pos+2, "xmlParsePI : no target name")
	}
	if n < len(body) && !isSpace(body[n]) {
		return s.syntax(s.pos+2+n, "ParsePI: PI %s space expected", body[:n])
	}
	if len(body[:n]) == 3 && (body[0]|0x20) == 'x' && (body[1]|0x20) == 'm' && (body[2]|0x20) == 'l' {
		if s.started || s.off+int64(s.pos) != s.declAt {
			return s.syntax(s.pos, "XML declaration allowed only at the start of the document")
		}
		if err := s.xmlDecl(body[n:], s.pos+2+n); err != nil {
			return err
		}
		s.started = true
	} else {
		if err := s.begin(); err != nil {
			return err
		}
		if err := s.checkChars(body[n:], s.pos+2+n); err != nil {
			return err
		}
	}
	s.pos += 2 + end + 2
	return nil
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// maxReference bounds a reference's length, leading zeros included.
const maxReference = 32

// xmlDecl checks the declaration's pseudo-attributes: a version, and an
// encoding we can read.
func (s *scanner) xmlDecl(b []byte, base int) error {
	var sawVersion bool
	for i := 0; ; {
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i >= len(b) {
			break
		}
		k := i
		for k < len(b) && nameChar[b[k]] {
			k++
		}
		name := string(b[i:k])
		for k < len(b) && isSpace(b[k]) {
			k++
		}
		if k >= len(b) || b[k] != '=' {
			return s.syntax(base+k, "parsing XML declaration: '?>' expected")
		}
		k++
		for k < len(b) && isSpace(b[k]) {
			k++
		}
		if k >= len(b) || (b[k] != '"' && b[k] != '\'') {
			return s.syntax(base+k, "String not started expecting ' or \"")
		}
		q := b[k]
		e := bytes.IndexByte(b[k+1:], q)
		if e < 0 {
			return s.syntax(base+k, "String not closed expecting \" or '")
		}
		value := string(b[k+1 : k+1+e])
		switch name {
		case "version":
			// libxml2 reads 1.x with a warning; encoding/xml and every
			// OSM client write 1.0.
			if value != "1.0" {
				return s.syntax(base+k, "Unsupported version '%s'", value)
			}
			sawVersion = true
		case "encoding":
			switch lower(value) {
			case "utf-8", "utf8", "us-ascii", "ascii":
			default:
				return s.syntax(base+k, "Unsupported encoding %s", value)
			}
		case "standalone":
		default:
			return s.syntax(base+i, "parsing XML declaration: '?>' expected")
		}
		i = k + 1 + e + 1
	}
	if !sawVersion {
		return s.syntax(base, "Malformed declaration expecting version")
	}
	return nil
}

func lower(v string) string {
	b := []byte(v)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// bang reads comments and CDATA sections; DOCTYPE is refused.
func (s *scanner) bang(b []byte) error {
	switch {
	case bytes.HasPrefix(b, []byte("<!--")):
		if err := s.begin(); err != nil {
			return err
		}
		p := bytes.Index(b[4:], []byte("--"))
		if p < 0 || 4+p+2 >= len(b) {
			return errShort
		}
		if b[4+p+2] != '>' {
			return s.syntax(s.pos+4+p, "Double hyphen within comment")
		}
		if err := s.checkChars(b[4:4+p], s.pos+4); err != nil {
			return err
		}
		s.pos += 4 + p + 3
		return nil
	case bytes.HasPrefix(b, []byte("<![CDATA[")):
		if len(s.stack) == 0 {
			return s.syntax(s.pos, "Start tag expected, '<' not found")
		}
		p := bytes.Index(b[9:], []byte("]]>"))
		if p < 0 {
			return errShort
		}
		if err := s.checkChars(b[9:9+p], s.pos+9); err != nil {
			return err
		}
		s.pos += 9 + p + 3
		return nil
	case len(b) < 9 && bytes.HasPrefix([]byte("<![CDATA["), b), len(b) < 4 && bytes.HasPrefix([]byte("<!--"), b):
		return errShort
	case len(b) < 9 && bytes.HasPrefix([]byte("<!DOCTYPE"), b):
		return errShort
	case bytes.HasPrefix(b, []byte("<!DOCTYPE")):
		return s.syntax(s.pos, "DOCTYPE is not allowed in OSM API requests")
	}
	return s.syntax(s.pos+1, "StartTag: invalid element name")
}

// reference reads the entity or character reference at b[0] ('&'),
// appending its character to dst when dst is not nil. It returns the
// bytes read and the extended dst through s.scratch when decoding.
func (s *scanner) reference(b []byte, base int, dst *[]byte) (int, error) {
	semi := -1
	for i := 1; i < len(b) && i < maxReference; i++ {
		if b[i] == ';' {
			semi = i
			break
		}
		if !nameChar[b[i]] && b[i] != '#' {
			return 0, s.syntax(base+i, "EntityRef: expecting ';'")
		}
	}
	if semi < 0 {
		if len(b) < maxReference {
			return 0, errShort
		}
		return 0, s.syntax(base, "EntityRef: expecting ';'")
	}
	ref := b[1:semi]
	var r rune
	switch string(ref) {
	case "lt":
		r = '<'
	case "gt":
		r = '>'
	case "amp":
		r = '&'
	case "apos":
		r = '\''
	case "quot":
		r = '"'
	default:
		if len(ref) < 2 || ref[0] != '#' {
			if len(ref) == 0 {
				return 0, s.syntax(base+1, "xmlParseEntityRef: no name")
			}
			return 0, s.syntax(base, "Entity '%s' not defined", ref)
		}
		digits, bitBase := ref[1:], 10
		if digits[0] == 'x' {
			digits, bitBase = digits[1:], 16
		}
		v, err := strconv.ParseUint(string(digits), bitBase, 32)
		if err != nil || len(digits) == 0 || !isXMLChar(rune(v)) || digits[0] == '+' {
			return 0, s.syntax(base, "xmlParseCharRef: invalid xmlChar value %d", v)
		}
		r = rune(v)
	}
	if dst != nil {
		*dst = utf8.AppendRune(*dst, r)
	}
	return semi + 1, nil
}

func isXMLChar(r rune) bool {
	switch {
	case r == 0x9 || r == 0xA || r == 0xD:
		return true
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// decodeAttr resolves references and normalizes literal whitespace to
// spaces (XML 1.0 §3.3.3, after §2.11's line-end handling), into scratch.
func (s *scanner) decodeAttr(v []byte, base int) ([]byte, error) {
	start := len(s.scratch)
	out := s.scratch
	for i := 0; i < len(v); {
		c := v[i]
		switch c {
		case '&':
			n, err := s.reference(v[i:], base+i, &out)
			if err == errShort {
				err = s.syntax(base+i, "EntityRef: expecting ';'")
			}
			if err != nil {
				return nil, err
			}
			i += n
		case '\r':
			out = append(out, ' ')
			i++
			if i < len(v) && v[i] == '\n' {
				i++
			}
		case '\t', '\n':
			out = append(out, ' ')
			i++
		default:
			out = append(out, c)
			i++
		}
	}
	s.scratch = out
	return out[start:len(out):len(out)], nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

var nameStart, nameChar, attrPlain [256]bool

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		start := b == '_' || b == ':' || ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') || b >= utf8.RuneSelf
		nameStart[c] = start
		nameChar[c] = start || b == '-' || b == '.' || ('0' <= b && b <= '9')
		attrPlain[c] = b >= 0x20 && b < utf8.RuneSelf && b != '<' && b != '&' && b != '"' && b != '\''
	}
}
