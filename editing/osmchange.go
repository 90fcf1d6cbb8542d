package editing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmchange"
	"github.com/geocommuns/geocommuns/storage"
)

// ParserGolden holds the golden rows of the request-body parsers. They
// live in osmdata/osmchange, which cannot import this package; together
// with Golden they are the one table of every text the API answers.
var ParserGolden = osmchange.GoldenErrors

// parserKinds are the parser errors that are also editing kinds, so
// that Connect maps them as it maps the service's own checks.
var parserKinds = map[osmchange.Kind]ErrorKind{
	osmchange.KindWayWithoutNodes:    ErrWayWithoutNodes,
	osmchange.KindTooManyWayNodes:    ErrTooManyWayNodes,
	osmchange.KindTooManyMembers:     ErrTooManyRelationMembers,
	osmchange.KindTooManyTags:        ErrTooManyTags,
	osmchange.KindKeyTooLong:         ErrKeyTooLong,
	osmchange.KindValueTooLong:       ErrValueTooLong,
	osmchange.KindRoleTooLong:        ErrRoleTooLong,
	osmchange.KindKeyEmpty:           ErrKeyEmpty,
	osmchange.KindDuplicateTag:       ErrDuplicateTag,
	osmchange.KindLatRange:           ErrLatitudeRange,
	osmchange.KindLonRange:           ErrLongitudeRange,
	osmchange.KindPlaceholderNotNeg:  ErrPlaceholderNotNegative,
	osmchange.KindChangesetKeyLong:   ErrChangesetKeyTooLong,
	osmchange.KindChangesetValueLong: ErrChangesetValueTooLong,
	osmchange.KindTooManyElements:    ErrPayloadTooLarge,
	osmchange.KindTokenTooLong:       ErrPayloadTooLarge,
}

// ParseError turns a request-body error into the service's error: the
// parser's status and text (with cgimap's line and column), and the kind
// it corresponds to (ErrBadRequest for the parser's own). Anything else,
// such as the body's read error, is returned unchanged.
func ParseError(err error) error {
	var pe *osmchange.Error
	if !errors.As(err, &pe) {
		return err
	}
	kind, ok := parserKinds[pe.Kind]
	if !ok {
		kind = ErrBadRequest
	}
	return &Error{Kind: kind, Status: pe.Status, Message: pe.Message, cause: err}
}

// parserLimits are the parser's limits for this service.
func (s *Service) parserLimits() osmchange.Limits {
	return osmchange.Limits{MaxWayNodes: s.limits.MaxWayNodes, MaxRelationMembers: s.limits.MaxRelationMembers,
		MaxTags: s.limits.MaxTags, MaxElements: s.limits.MaxXMLElements}
}

// ReadChangesetBody reads the body of PUT /changeset/create and PUT
// /changeset/ID.
func (s *Service) ReadChangesetBody(body io.Reader) (osmdata.Tags, error) {
	tags, err := osmchange.ReadChangeset(body, s.parserLimits())
	if err != nil {
		return nil, ParseError(err)
	}
	return tags, nil
}

// ReadElementBody reads the body of a single-element call.
func (s *Service) ReadElementBody(body io.Reader, t osmdata.ElementType, action storage.Action) (osmdata.Element, error) {
	op, err := osmchange.ReadElement(body, t, osmdata.Action(action), s.parserLimits())
	if err != nil {
		return osmdata.Element{}, ParseError(err)
	}
	return op.Element, nil
}

// UploadOsmChange parses an osmChange document from body (already
// decompressed and bounded by the caller) as a stream, stopping at the
// first malformed or over-limit element, then stages it as Upload does.
// As in cgimap, which locks the changeset before it parses, an unknown,
// foreign or closed changeset is answered before the body is read.
func (s *Service) UploadOsmChange(ctx context.Context, who *auth.Identity, id int64, body io.Reader) (*DiffResult, error) {
	if err := requireAuthor(who); err != nil {
		return nil, err
	}
	cs, err := s.store.Changeset(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, newError(ErrChangesetNotFound, nil)
	case err != nil:
		return nil, fmt.Errorf("read changeset %d: %w", id, err)
	case cs.UID != who.UserID:
		return nil, newError(ErrChangesetNotOwner, nil)
	case !osmdata.ChangesetOpen(&cs, time.Now()):
		return nil, closedError(cs)
	}
	var early *ahead
	if store, ok := s.store.(storage.EarlyReader); ok {
		early = startAhead(ctx, store, s.limits.MaxChangesetChanges-cs.NumChanges)
		defer early.wait() // nothing runs on after the answer
	}
	ops, err := s.parseOsmChange(body, early)
	if err != nil {
		return nil, err
	}
	res, err := s.uploadAfter(ctx, who, id, ops, early)
	return s.submitIfFull(ctx, res, err)
}

// parseOsmChange reads an osmChange document into operations, in
// document order, handing them over to early (when not nil) a chunk at a
// time.
func (s *Service) parseOsmChange(body io.Reader, early *ahead) ([]Operation, error) {
	if early != nil {
		defer early.handedOver()
	}
	rd := osmchange.NewReader(body, s.parserLimits())
	// Past opChunk operations, they are gathered in chunks and copied once
	// at the end: growing one slice by doubling allocated and cleared four
	// times the final size for an upload of ten thousand.
	const opChunk = 1024
	var full [][]Operation
	ops := make([]Operation, 0, 16)
	for {
		op, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, ParseError(err)
		}
		if len(ops) == cap(ops) && cap(ops) >= opChunk {
			full = append(full, ops)
			if early != nil {
				early.parsed(ops)
			}
			ops = make([]Operation, 0, opChunk)
		}
		ops = append(ops, Operation{Action: storage.Action(op.Action), IfUnused: op.IfUnused, Element: op.Element})
	}
	if early != nil {
		early.parsed(ops)
	}
	if len(full) == 0 {
		return ops, nil
	}
	n := len(ops)
	for _, c := range full {
		n += len(c)
	}
	all := make([]Operation, 0, n)
	for _, c := range full {
		all = append(all, c...)
	}
	return append(all, ops...), nil
}
