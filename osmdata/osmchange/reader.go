package osmchange

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/geocommuns/geocommuns/osmdata"
)

// Action is what an operation does; it is osmdata's, whose values are
// storage.Action's.
type Action = osmdata.Action

const (
	Create = osmdata.ActionCreate
	Modify = osmdata.ActionModify
	Delete = osmdata.ActionDelete
)

// Operation is one element of an osmChange document, as the client
// wrote it.
type Operation struct {
	Action Action
	// IfUnused is <delete if-unused="…">: cgimap sets it when the
	// attribute is present, whatever its value.
	IfUnused bool
	// Element has the id as given (negative placeholders in creates, and
	// in way nodes and members anywhere), Version as given (0 for a
	// create of an upload), Changeset as given, Visible false for a
	// delete. Tags keep their document order.
	Element osmdata.Element
	// Line is the line of the element's start tag, for messages.
	Line int
}

// Limits bound what one request body may hold; zero fields take the
// defaults below.
type Limits struct {
	// MaxElements is the most XML elements a body may hold, counted as
	// they are read (413).
	MaxElements int
	// MaxDepth is the deepest nesting of XML elements read at all.
	MaxDepth int
	// MaxTokenBytes is the longest single start tag.
	MaxTokenBytes int
	// MaxTags is the most tags an element may have (cgimap's
	// element_max_tags).
	MaxTags int
	// MaxWayNodes and MaxRelationMembers are openstreetmap.org's limits
	// (2,000 and 32,000); the parser counts them all and refuses a way
	// or relation over them, as cgimap's parser does.
	MaxWayNodes        int
	MaxRelationMembers int
}

// Defaults of Limits.
const (
	// DefaultMaxElements lets through any body of real elements under
	// the default 50 MB upload limit (a way node is at least 15 bytes).
	DefaultMaxElements   = 5_000_000
	DefaultMaxDepth      = 32
	DefaultMaxTokenBytes = 1 << 20
	// DefaultMaxTags: cgimap has no default; 5,000 is far beyond any
	// element of openstreetmap.org.
	DefaultMaxTags            = 5000
	DefaultMaxWayNodes        = 2000
	DefaultMaxRelationMembers = 32000
	// MaxStringLength is the most characters of a key, value or role.
	MaxStringLength = 255
)

// WithDefaults fills zero fields with the defaults.
func (l Limits) WithDefaults() Limits {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&l.MaxElements, DefaultMaxElements)
	set(&l.MaxDepth, DefaultMaxDepth)
	set(&l.MaxTokenBytes, DefaultMaxTokenBytes)
	set(&l.MaxTags, DefaultMaxTags)
	set(&l.MaxWayNodes, DefaultMaxWayNodes)
	set(&l.MaxRelationMembers, DefaultMaxRelationMembers)
	return l
}

// Reader reads an osmChange document as a stream, one element at a
// time, strictly in document order: <create>, <modify> and <delete>
// blocks may interleave in any order and number. It stops at the first
// fault with an *Error holding cgimap's status and text (or the body's
// own read error, such as *http.MaxBytesError, unchanged).
type Reader struct {
	s      *scanner
	limits Limits
	// diff reads documents servers write (replication diffs, changeset
	// downloads): ids of creates are real, versions kept, metadata read.
	diff bool

	action   Action
	ifUnused bool
	elements int
	err      error

	// The element being read.
	op             Operation
	hasLat, hasLon bool
	tags           osmdata.Tags
	nodes          []int64
	members        []osmdata.Member
	tagSet         map[string]struct{}
	intern         map[string]string
}

// NewReader reads an upload (POST /api/0.6/changeset/ID/upload) with
// cgimap's rules: creates must use negative placeholder ids, their
// version is ignored (0), modifies and deletes need a positive version.
func NewReader(r io.Reader, limits Limits) *Reader {
	limits = limits.WithDefaults()
	return &Reader{s: newScanner(r, limits.MaxTokenBytes, limits.MaxDepth), limits: limits,
		intern: make(map[string]string, 256)}
}

// NewDiffReader reads an osmChange document as servers write it
// (replication diffs, /changeset/ID/download): ids and versions of
// creates are kept as written, and timestamp, uid, user and visible are
// read too. Every other rule and text is NewReader's.
func NewDiffReader(r io.Reader, limits Limits) *Reader {
	rd := NewReader(r, limits)
	rd.diff = true
	return rd
}

// ReadAll reads every operation of r.
func ReadAll(r *Reader) ([]*Operation, error) {
	var ops []*Operation
	for {
		op, err := r.Next()
		if err == io.EOF {
			return ops, nil
		}
		if err != nil {
			return ops, err
		}
		ops = append(ops, op)
	}
}

// Next returns the next operation, or io.EOF after the document ended
// well-formed.
func (r *Reader) Next() (*Operation, error) {
	if r.err != nil {
		return nil, r.err
	}
	op, err := r.next()
	if err != nil {
		r.err = r.describe(err)
		return nil, r.err
	}
	return op, nil
}

// describe turns the scanner's syntax errors into cgimap-style texts
// with their position.
func (r *Reader) describe(err error) error {
	var se *syntaxError
	if errors.As(err, &se) {
		line, col := r.s.position(se.off)
		return newError(KindBadXML, line, col, se.msg)
	}
	return err
}

func (r *Reader) next() (*Operation, error) {
	for {
		kind, err := r.s.next()
		if err != nil {
			return nil, err
		}
		switch kind {
		case tokEOF:
			return nil, io.EOF
		case tokStart:
			r.elements++
			if r.elements > r.limits.MaxElements {
				return nil, newError(KindTooManyElements, 0, 0, r.limits.MaxElements)
			}
			if err := r.start(); err != nil {
				return nil, err
			}
		case tokEnd:
			op, err := r.end()
			if op != nil || err != nil {
				return op, err
			}
		}
	}
}

// failAt builds kind's error at the current tag's position (where
// libxml2 stands when it calls the SAX handler).
func (r *Reader) failAt(kind Kind, args ...any) error {
	line, col := r.s.position(r.s.markOff)
	return newError(kind, line, col, args...)
}

// object is cgimap's OSMObject::to_string: "Node -1".
func (r *Reader) object() string {
	return fmt.Sprintf("%s %d", typeTitle(r.op.Element.Type), r.op.Element.ID)
}

func typeTitle(t osmdata.ElementType) string {
	switch t {
	case osmdata.Node:
		return "Node"
	case osmdata.Way:
		return "Way"
	}
	return "Relation"
}

func (r *Reader) start() error {
	s := r.s
	switch len(s.stack) {
	case 1:
		if string(s.name) != "osmChange" {
			return r.failAt(KindUnknownTopLevel, s.name)
		}
	case 2:
		r.ifUnused = false
		switch string(s.name) {
		case "create":
			r.action = Create
		case "modify":
			r.action = Modify
		case "delete":
			r.action = Delete
			for _, a := range s.attrs {
				if string(a.name) == "if-unused" {
					r.ifUnused = true
				}
			}
		default:
			return r.failAt(KindUnknownAction, s.name)
		}
	case 3:
		var t osmdata.ElementType
		switch string(s.name) {
		case "node":
			t = osmdata.Node
		case "way":
			t = osmdata.Way
		case "relation":
			t = osmdata.Relation
		default:
			return r.failAt(KindUnknownElement, s.name)
		}
		return r.startObject(t, r.action)
	case 4:
		return r.child()
	default:
		return r.failAt(KindNestedTooDeep)
	}
	return nil
}

// startObject is cgimap's init_object and init_node: id, changeset and
// version in document order, their presence, then lat and lon.
func (r *Reader) startObject(t osmdata.ElementType, action Action) error {
	r.op = Operation{Action: action, IfUnused: r.ifUnused && action == Delete,
		Element: osmdata.Element{Type: t, Visible: action != Delete}, Line: r.s.line(r.s.startOff)}
	r.hasLat, r.hasLon = false, false
	r.tags, r.nodes, r.members = r.tags[:0], r.nodes[:0], r.members[:0]
	e := &r.op.Element
	var hasID, hasChangeset, hasVersion bool
	for _, a := range r.s.attrs {
		switch string(a.name) {
		case "id":
			v, res := parseInt(a.value)
			switch {
			case res == numInvalid:
				return r.failAt(KindIDNotNumeric)
			case res == numRange:
				return r.failAt(KindIDTooLarge)
			case v == 0:
				return r.failAt(KindIDZero)
			}
			e.ID, hasID = v, true
		case "changeset":
			v, res := parseInt(a.value)
			switch {
			case res == numInvalid:
				return r.failAt(KindChangesetNotNumeric)
			case res == numRange:
				return r.failAt(KindChangesetTooLarge)
			case v <= 0:
				return r.failAt(KindChangesetNotPos)
			}
			e.Changeset, hasChangeset = v, true
		case "version":
			v, res := parseInt(a.value)
			switch {
			case res == numInvalid:
				return r.failAt(KindVersionNotNumeric)
			case res == numRange || v > math.MaxInt:
				return r.failAt(KindVersionTooLarge)
			case v < 0:
				return r.failAt(KindVersionNegative)
			}
			e.Version, hasVersion = int(v), true
		default:
			if r.diff {
				if err := r.metadata(a); err != nil {
					return err
				}
			}
		}
	}
	if !hasID {
		return r.failAt(KindIDMissing)
	}
	if !hasChangeset {
		return r.failAt(KindChangesetMissing, r.object())
	}
	switch {
	case action == Create && !r.diff:
		e.Version = 0
	case action == Modify || action == Delete:
		if !hasVersion {
			return r.failAt(KindVersionMissing, r.object())
		}
		if e.Version < 1 {
			return r.failAt(KindVersionInvalid, e.Version, r.object())
		}
	}
	if t != osmdata.Node {
		return nil
	}
	for _, a := range r.s.attrs {
		switch string(a.name) {
		case "lat":
			v, err := r.coordinate(a.value, 90, KindLatNotNumeric, KindLatTooLarge, KindLatRange, KindLatNotFinite)
			if err != nil {
				return err
			}
			e.Lat, r.hasLat = v, true
		case "lon":
			v, err := r.coordinate(a.value, 180, KindLonNotNumeric, KindLonTooLarge, KindLonRange, KindLonNotFinite)
			if err != nil {
				return err
			}
			e.Lon, r.hasLon = v, true
		}
	}
	return nil
}

// coordinate is cgimap's Node::set_lat / set_lon: the number, its
// range, then finiteness, in that order (NaN passes the range test).
func (r *Reader) coordinate(b []byte, limit float64, notNumeric, tooLarge, outside, notFinite Kind) (int32, error) {
	if v, ok := plainCoordinate(b, int64(limit)*osmdata.CoordScale); ok {
		return v, nil
	}
	f, res := parseFloat(b)
	switch res {
	case numInvalid:
		return 0, r.failAt(notNumeric)
	case numRange:
		return 0, r.failAt(tooLarge)
	}
	if f < -limit || f > limit {
		return 0, r.failAt(outside)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, r.failAt(notFinite)
	}
	// osmdata.ParseFixedCoord's rounding, which keeps seven decimals
	// exact; cgimap computes round(lat * 1e7) the same way.
	return osmdata.RoundCoordToFixed(f), nil
}

// metadata reads the attributes servers write and uploads leave out.
func (r *Reader) metadata(a attr) error {
	e := &r.op.Element
	switch string(a.name) {
	case "timestamp":
		t, err := time.Parse(time.RFC3339, string(a.value))
		if err != nil {
			return r.failAt(KindBadXML, fmt.Sprintf("Invalid timestamp %q", a.value))
		}
		e.Timestamp = t.UTC().Truncate(time.Second)
	case "uid":
		v, res := parseInt(a.value)
		if res != numOK || v < 0 {
			return r.failAt(KindBadXML, fmt.Sprintf("Invalid uid %q", a.value))
		}
		e.UID = v
	case "user":
		e.User = r.str(a.value)
	case "visible":
		switch string(a.value) {
		case "true":
			e.Visible = true
		case "false":
			e.Visible = false
		default:
			return r.failAt(KindBadXML, fmt.Sprintf("Invalid visible %q", a.value))
		}
	}
	return nil
}

// child reads a tag, way node or member; cgimap ignores other children.
func (r *Reader) child() error {
	switch string(r.s.name) {
	case "tag":
		return r.tag()
	case "nd":
		if r.op.Element.Type == osmdata.Way {
			return r.wayNode()
		}
	case "member":
		if r.op.Element.Type == osmdata.Relation {
			return r.member()
		}
	}
	return nil
}

func (r *Reader) tag() error {
	var k, v []byte
	var hasK, hasV bool
	for _, a := range r.s.attrs {
		switch string(a.name) {
		case "k":
			k, hasK = a.value, true
		case "v":
			v, hasV = a.value, true
		}
	}
	if !hasK {
		return r.failAt(KindTagKMissing, r.object())
	}
	if !hasV {
		return r.failAt(KindTagVMissing, r.object())
	}
	if len(k) == 0 {
		return r.failAt(KindKeyEmpty, r.object())
	}
	if tooLong(k) {
		return r.failAt(KindKeyTooLong, r.object())
	}
	if tooLong(v) {
		return r.failAt(KindValueTooLong, r.object())
	}
	if r.duplicateKey(k) {
		return r.failAt(KindDuplicateTag, r.object(), k)
	}
	r.tags = append(r.tags, osmdata.Tag{Key: r.str(k), Value: r.str(v)})
	return nil
}

// duplicateKey tells whether the element already has key k: by
// comparison for the few tags most elements have, by a set beyond.
func (r *Reader) duplicateKey(k []byte) bool {
	const linear = 16
	if len(r.tags) < linear {
		for _, t := range r.tags {
			if t.Key == string(k) {
				return true
			}
		}
		return false
	}
	if r.tagSet == nil {
		r.tagSet = make(map[string]struct{})
	}
	if len(r.tags) == linear {
		clear(r.tagSet)
		for _, t := range r.tags {
			r.tagSet[t.Key] = struct{}{}
		}
	}
	if _, ok := r.tagSet[string(k)]; ok {
		return true
	}
	r.tagSet[string(k)] = struct{}{}
	return false
}

// tooLong tells whether b has more than MaxStringLength characters, as
// cgimap's unicode_strlen counts them.
func tooLong(b []byte) bool {
	return len(b) > MaxStringLength && utf8.RuneCount(b) > MaxStringLength
}

func (r *Reader) wayNode() error {
	found := false
	for _, a := range r.s.attrs {
		if string(a.name) != "ref" {
			continue
		}
		v, res := parseInt(a.value)
		switch {
		case res == numInvalid:
			return r.failAt(KindWayNodeNotNumeric)
		case res == numRange:
			return r.failAt(KindWayNodeTooLarge)
		case v == 0:
			return r.failAt(KindWayNodeZero)
		}
		r.nodes = append(r.nodes, v)
		found = true
	}
	if !found {
		return r.failAt(KindNdRefMissing, r.object())
	}
	return nil
}

func (r *Reader) member() error {
	var m osmdata.Member
	var hasType, hasRef bool
	for _, a := range r.s.attrs {
		switch string(a.name) {
		case "type":
			switch {
			case equalFold(a.value, "node"):
				m.Type = osmdata.Node
			case equalFold(a.value, "way"):
				m.Type = osmdata.Way
			case equalFold(a.value, "relation"):
				m.Type = osmdata.Relation
			default:
				return r.failAt(KindMemberTypeInvalid, a.value)
			}
			hasType = true
		case "ref":
			v, res := parseInt(a.value)
			switch {
			case res == numInvalid:
				return r.failAt(KindMemberRefNotNumeric)
			case res == numRange:
				return r.failAt(KindMemberRefTooLarge)
			case v == 0:
				return r.failAt(KindMemberRefZero)
			}
			m.Ref, hasRef = v, true
		case "role":
			if tooLong(a.value) {
				return r.failAt(KindRoleTooLong)
			}
			m.Role = r.str(a.value)
		}
	}
	if !hasType {
		return r.failAt(KindMemberTypeMissing)
	}
	if !hasRef {
		return r.failAt(KindMemberRefMissing)
	}
	r.members = append(r.members, m)
	return nil
}

func equalFold(b []byte, lower string) bool {
	return len(b) == len(lower) && hasPrefixFold(b, lower)
}

// end closes an element; closing an object checks it as cgimap's
// is_valid does and hands it out.
func (r *Reader) end() (*Operation, error) {
	switch len(r.s.stack) {
	case 1:
		r.action, r.ifUnused = 0, false
	case 2:
		return r.finishObject()
	}
	return nil, nil
}

func (r *Reader) finishObject() (*Operation, error) {
	e := &r.op.Element
	action := r.op.Action
	if action != Delete {
		switch e.Type {
		case osmdata.Way:
			if len(r.nodes) == 0 {
				return nil, newError(KindWayWithoutNodes, 0, 0, e.ID)
			}
			if len(r.nodes) > r.limits.MaxWayNodes {
				return nil, newError(KindTooManyWayNodes, 0, 0, len(r.nodes), e.ID, r.limits.MaxWayNodes)
			}
		case osmdata.Relation:
			if len(r.members) > r.limits.MaxRelationMembers {
				return nil, newError(KindTooManyMembers, 0, 0, len(r.members), e.ID, r.limits.MaxRelationMembers)
			}
		}
	}
	if len(r.tags) > r.limits.MaxTags {
		return nil, r.failAt(KindTooManyTags, r.limits.MaxTags)
	}
	if action == Create && !r.diff && e.ID >= 0 {
		return nil, r.failAt(KindPlaceholderNotNeg)
	}
	if e.Type == osmdata.Node && action != Delete && (!r.hasLat || !r.hasLon) {
		return nil, r.failAt(KindNodeIncomplete, r.object())
	}
	op := r.op
	if action == Delete {
		// cgimap checks a delete's coordinates but never uses them, and
		// a deleted version has none.
		op.Element.Lat, op.Element.Lon = 0, 0
	}
	if len(r.tags) > 0 {
		op.Element.Tags = slices.Clone(r.tags)
	}
	if len(r.nodes) > 0 {
		op.Element.Nodes = slices.Clone(r.nodes)
	}
	if len(r.members) > 0 {
		op.Element.Members = slices.Clone(r.members)
	}
	return &op, nil
}

// str returns b as a string, sharing the strings of short values seen
// before: keys and common values repeat across thousands of elements.
func (r *Reader) str(b []byte) string {
	const maxInterned, maxEntries = 32, 16384
	if len(b) > maxInterned {
		return string(b)
	}
	if s, ok := r.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(r.intern) < maxEntries {
		r.intern[s] = s
	}
	return s
}
