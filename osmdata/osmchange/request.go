package osmchange

import (
	"io"

	"github.com/geocommuns/geocommuns/osmdata"
)

// ReadChangeset reads the body of PUT /api/0.6/changeset/create and PUT
// /api/0.6/changeset/ID: <osm><changeset><tag k v/>…</changeset></osm>.
// As in cgimap, tags of several <changeset> elements merge and a
// repeated key takes its last value (in the position it first had);
// elements inside a tag are ignored.
func ReadChangeset(r io.Reader, limits Limits) (osmdata.Tags, error) {
	rd := NewReader(r, limits)
	tags, err := rd.changesetBody()
	if err != nil {
		return nil, rd.describe(err)
	}
	return tags, nil
}

func (r *Reader) changesetBody() (osmdata.Tags, error) {
	s := r.s
	var tags osmdata.Tags
	found := false
	for {
		kind, err := s.next()
		if err != nil {
			return nil, err
		}
		switch kind {
		case tokEOF:
			return tags, nil
		case tokEnd:
			if len(s.stack) == 0 && !found {
				return nil, r.failAt(KindNoChangeset)
			}
		case tokStart:
			r.elements++
			if r.elements > r.limits.MaxElements {
				return nil, newError(KindTooManyElements, 0, 0, r.limits.MaxElements)
			}
			switch len(s.stack) {
			case 1:
				if string(s.name) != "osm" {
					return nil, r.failAt(KindOsmRootExpected)
				}
			case 2:
				if string(s.name) != "changeset" {
					return nil, r.failAt(KindChangesetExpected)
				}
				found = true
			case 3:
				if string(s.name) != "tag" {
					return nil, r.failAt(KindTagExpected)
				}
				t, err := r.changesetTag()
				if err != nil {
					return nil, err
				}
				tags = setTag(tags, t)
			}
		}
	}
}

func (r *Reader) changesetTag() (osmdata.Tag, error) {
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
	switch {
	case !hasK:
		return osmdata.Tag{}, r.failAt(KindChangesetKMissing)
	case !hasV:
		return osmdata.Tag{}, r.failAt(KindChangesetVMissing)
	case len(k) == 0:
		return osmdata.Tag{}, r.failAt(KindChangesetKeyEmpty)
	case tooLong(k):
		return osmdata.Tag{}, r.failAt(KindChangesetKeyLong)
	case tooLong(v):
		return osmdata.Tag{}, r.failAt(KindChangesetValueLong)
	}
	return osmdata.Tag{Key: string(k), Value: string(v)}, nil
}

func setTag(tags osmdata.Tags, t osmdata.Tag) osmdata.Tags {
	for i := range tags {
		if tags[i].Key == t.Key {
			tags[i].Value = t.Value
			return tags
		}
	}
	return append(tags, t)
}

// ReadElement reads the body of PUT /api/0.6/{type}/create (action
// Create), PUT /api/0.6/{type}/ID (Modify) and DELETE /api/0.6/{type}/ID
// (Delete): <osm><node …/></osm>, with the attribute, tag, way node and
// member rules and texts of an osmChange element. A create needs no id
// (openstreetmap-website ignores it): its Element.ID is -1, a
// placeholder like those of uploads. A modify or delete needs id and
// version. Only the first element of the type counts.
func ReadElement(r io.Reader, t osmdata.ElementType, action Action, limits Limits) (*Operation, error) {
	rd := NewReader(r, limits)
	op, err := rd.elementBody(t, action)
	if err != nil {
		return nil, rd.describe(err)
	}
	return op, nil
}

func (r *Reader) elementBody(t osmdata.ElementType, action Action) (*Operation, error) {
	s := r.s
	var op *Operation
	reading := false
	for {
		kind, err := s.next()
		if err != nil {
			return nil, err
		}
		switch kind {
		case tokEOF:
			return op, nil
		case tokEnd:
			switch {
			case len(s.stack) == 0 && op == nil:
				return nil, r.failAt(KindNoElement, t, t)
			case len(s.stack) == 1 && reading:
				reading = false
				if op, err = r.finishObject(); err != nil {
					return nil, err
				}
			}
		case tokStart:
			r.elements++
			if r.elements > r.limits.MaxElements {
				return nil, newError(KindTooManyElements, 0, 0, r.limits.MaxElements)
			}
			switch len(s.stack) {
			case 1:
				if string(s.name) != "osm" {
					return nil, r.failAt(KindOsmRootExpected)
				}
			case 2:
				if string(s.name) != t.String() {
					return nil, r.failAt(KindElementExpected, t)
				}
				if op == nil {
					if err := r.startSingle(t, action); err != nil {
						return nil, err
					}
					reading = true
				}
			case 3:
				if reading {
					if err := r.child(); err != nil {
						return nil, err
					}
				}
			default:
				if reading {
					return nil, r.failAt(KindNestedTooDeep)
				}
			}
		}
	}
}

// startSingle reads the element's attributes as an osmChange element of
// action, a create's id being optional and replaced by -1.
func (r *Reader) startSingle(t osmdata.ElementType, action Action) error {
	if action != Create {
		return r.startObject(t, action)
	}
	attrs := r.s.attrs
	kept := attrs[:0:0]
	for _, a := range attrs {
		if string(a.name) != "id" {
			kept = append(kept, a)
		}
	}
	r.s.attrs = append(kept, attr{name: []byte("id"), value: []byte("-1")})
	return r.startObject(t, action)
}
