package connectapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/geocommuns/geocommuns/editing"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmproto"
	"github.com/geocommuns/geocommuns/storage"
)

// editingCodes maps editing's golden error kinds to Connect codes. The
// OSM API's statuses do not carry over one to one: its 409 is a version
// conflict (ABORTED: re-read and retry), a closed changeset
// (FAILED_PRECONDITION) or another user's changeset (PERMISSION_DENIED);
// limits on the size of a request or a changeset are RESOURCE_EXHAUSTED
// while limits on one element's content are INVALID_ARGUMENT.
var editingCodes = map[editing.ErrorKind]connect.Code{
	editing.ErrUnauthorized:              connect.CodeUnauthenticated,
	editing.ErrNoWritePermission:         connect.CodePermissionDenied,
	editing.ErrChangesetNotFound:         connect.CodeNotFound,
	editing.ErrChangesetNotOwner:         connect.CodePermissionDenied,
	editing.ErrChangesetClosed:           connect.CodeFailedPrecondition,
	editing.ErrChangesetFull:             connect.CodeResourceExhausted,
	editing.ErrChangesetMismatch:         connect.CodeInvalidArgument,
	editing.ErrVersionMismatch:           connect.CodeAborted,
	editing.ErrNodesNotFound:             connect.CodeNotFound,
	editing.ErrWaysNotFound:              connect.CodeNotFound,
	editing.ErrRelationsNotFound:         connect.CodeNotFound,
	editing.ErrAlreadyDeleted:            connect.CodeFailedPrecondition,
	editing.ErrNodeUsedByWays:            connect.CodeFailedPrecondition,
	editing.ErrNodeUsedByRelations:       connect.CodeFailedPrecondition,
	editing.ErrWayUsedByRelations:        connect.CodeFailedPrecondition,
	editing.ErrRelationUsedByRelations:   connect.CodeFailedPrecondition,
	editing.ErrWayNodesMissing:           connect.CodeFailedPrecondition,
	editing.ErrRelationMembersMissing:    connect.CodeFailedPrecondition,
	editing.ErrWayWithoutNodes:           connect.CodeFailedPrecondition,
	editing.ErrTooManyWayNodes:           connect.CodeInvalidArgument,
	editing.ErrTooManyRelationMembers:    connect.CodeInvalidArgument,
	editing.ErrPlaceholderUnknownRef:     connect.CodeInvalidArgument,
	editing.ErrPlaceholderUnknownElement: connect.CodeInvalidArgument,
	editing.ErrPlaceholderDuplicate:      connect.CodeInvalidArgument,
	editing.ErrPlaceholderNotNegative:    connect.CodeInvalidArgument,
	editing.ErrKeyTooLong:                connect.CodeInvalidArgument,
	editing.ErrValueTooLong:              connect.CodeInvalidArgument,
	editing.ErrRoleTooLong:               connect.CodeInvalidArgument,
	editing.ErrKeyEmpty:                  connect.CodeInvalidArgument,
	editing.ErrDuplicateTag:              connect.CodeInvalidArgument,
	editing.ErrLatitudeRange:             connect.CodeInvalidArgument,
	editing.ErrLongitudeRange:            connect.CodeInvalidArgument,
	editing.ErrBadRequest:                connect.CodeInvalidArgument,
	editing.ErrPayloadTooLarge:           connect.CodeResourceExhausted,
	editing.ErrBadContentEncoding:        connect.CodeInvalidArgument,
	editing.ErrNotFound:                  connect.CodeNotFound,
	editing.ErrGone:                      connect.CodeNotFound,
	editing.ErrBBoxFormat:                connect.CodeInvalidArgument,
	editing.ErrBBoxRange:                 connect.CodeInvalidArgument,
	editing.ErrBBoxTooLarge:              connect.CodeResourceExhausted,
	editing.ErrTooManyNodes:              connect.CodeResourceExhausted,
}

// changesetKinds are the errors about the changeset itself, which get a
// ChangesetError detail.
var changesetKinds = map[editing.ErrorKind]bool{
	editing.ErrChangesetNotFound: true,
	editing.ErrChangesetNotOwner: true,
	editing.ErrChangesetClosed:   true,
	editing.ErrChangesetFull:     true,
	editing.ErrChangesetMismatch: true,
}

// codeOfStatus maps an HTTP status for an error kind added to editing
// after editingCodes was written.
func codeOfStatus(status int) connect.Code {
	switch status {
	case http.StatusBadRequest:
		return connect.CodeInvalidArgument
	case http.StatusUnauthorized:
		return connect.CodeUnauthenticated
	case http.StatusForbidden:
		return connect.CodePermissionDenied
	case http.StatusNotFound:
		return connect.CodeNotFound
	case http.StatusConflict, http.StatusGone, http.StatusPreconditionFailed:
		return connect.CodeFailedPrecondition
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return connect.CodeResourceExhausted
	}
	return connect.CodeInternal
}

// editingError turns an editing.Service failure into a Connect error:
// editing's *Error with its OSM text as the message and a detail naming
// the element (type, id as the client gave it, versions) or the
// changeset; a canceled or timed-out request as such; anything else as
// INTERNAL, logged and not shown.
func editingError(ctx context.Context, logger *slog.Logger, changesetID int64, err error) error {
	e := editing.AsError(err)
	if e == nil || storage.IsUnavailable(err) {
		return internalError(ctx, logger, err)
	}
	code, ok := editingCodes[e.Kind]
	if !ok {
		code = codeOfStatus(e.Status)
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	cerr := connect.NewError(code, errors.New(msg))
	if e.HasElement {
		var provided, server *int64
		if e.Kind == editing.ErrVersionMismatch {
			p, s := int64(e.Provided), int64(e.Server)
			provided, server = &p, &s
		}
		addDetail(cerr, &geocommunsv1.ElementError{
			Type: osmproto.TypeToProto(e.Element.Type), Id: e.Element.ID,
			ProvidedVersion: provided, ServerVersion: server,
		})
	}
	if changesetKinds[e.Kind] && changesetID != 0 {
		addDetail(cerr, &geocommunsv1.ChangesetError{ChangesetId: changesetID})
	}
	return cerr
}

// elementError is an error about one element with its detail.
func elementError(code connect.Code, err error, t osmdata.ElementType, id int64, provided, server *int64) error {
	cerr := connect.NewError(code, err)
	addDetail(cerr, &geocommunsv1.ElementError{Type: osmproto.TypeToProto(t), Id: id, ProvidedVersion: provided, ServerVersion: server})
	return cerr
}

func addDetail(cerr *connect.Error, msg proto.Message) {
	d, err := connect.NewErrorDetail(msg)
	if err != nil {
		// Only a message that cannot be marshalled fails here, and ours
		// are plain generated messages.
		panic(err)
	}
	cerr.AddDetail(d)
}

// internalError answers a failure of ours: the request's own end as
// such, anything else logged and answered without its text.
func internalError(ctx context.Context, logger *slog.Logger, err error) error {
	switch {
	case storage.IsUnavailable(err):
		if logger != nil {
			logger.WarnContext(ctx, "connect request failed: the store is unavailable", "err", err)
		}
		return UnavailableError()
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, err)
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, err)
	}
	if logger != nil {
		logger.ErrorContext(ctx, "connect request failed", "err", err)
	}
	return connect.NewError(connect.CodeInternal, errors.New("internal error"))
}

// UnavailableError is the answer to a call the store could not serve
// because the database is away (storage.ErrUnavailable): UNAVAILABLE,
// which Connect and gRPC clients retry, with the OSM API's text and its
// Retry-After among the response headers. Nothing of the call was kept.
func UnavailableError() *connect.Error {
	cerr := connect.NewError(connect.CodeUnavailable, errors.New(editing.Golden[editing.ErrUnavailable].Text))
	cerr.Meta().Set("Retry-After", strconv.Itoa(storage.UnavailableRetryAfter))
	return cerr
}
