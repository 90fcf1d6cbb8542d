// Package reviewapi serves ReviewService (proto/geocommuns/v1
// review_service.proto) over review.Service: the reviewers' queue, the
// detail of one changeset, the decisions, the discussion and the audit
// log. The handlers are thin: they read the caller's identity that the
// server's authentication middleware put in the context (auth.FromContext,
// the same credentials as the OSM API), convert messages, and map the
// review's and the store's errors to Connect codes; who may do what is
// review.Service's decision.
package reviewapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"connectrpc.com/connect"

	"github.com/geocommuns/geocommuns/auth"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
)

// DefaultMaxReadBytes bounds a request message. Review requests carry
// ids, filters and a comment at most, so the upload limit the editing
// services use would only let a client make the server buffer megabytes
// for nothing; Connect's own default is no limit at all.
const DefaultMaxReadBytes = 1 << 20

// MaxQueueLimit is the most changesets one ListQueue answers, and the
// number it answers when the request gives no limit.
const MaxQueueLimit = 100

// Server implements ReviewService.
type Server struct {
	Review *review.Service
	// Logger receives failures of the store, which the client sees as
	// INTERNAL without their text; nil discards.
	Logger *slog.Logger
}

var _ geocommunsv1connect.ReviewServiceHandler = (*Server)(nil)

// Register mounts ReviewService on mux, one route per procedure so that
// the server's metrics and logs, which go by route pattern, tell the
// procedures apart. A maxReadBytes of zero is DefaultMaxReadBytes.
func Register(mux *http.ServeMux, svc *review.Service, maxReadBytes int64, logger *slog.Logger) {
	if maxReadBytes <= 0 {
		maxReadBytes = DefaultMaxReadBytes
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	_, h := geocommunsv1connect.NewReviewServiceHandler(&Server{Review: svc, Logger: logger},
		connect.WithReadMaxBytes(int(maxReadBytes)))
	methods := geocommunsv1.File_geocommuns_v1_review_service_proto.Services().ByName("ReviewService").Methods()
	for i := range methods.Len() {
		mux.Handle("/"+string(methods.Get(i).FullName().Parent())+"/"+string(methods.Get(i).Name()), h)
	}
}

// errUnauthenticated is what a call needing a signed-in caller answers
// without one.
var errUnauthenticated = errors.New("this call needs credentials: HTTP Basic, an API token or an OAuth 2 token")

// signedIn returns the caller as the review sees them, or an
// UNAUTHENTICATED error. A call that changes anything also needs the
// write_api permission, as the OSM API's writes do: a token granted
// read_prefs only must not approve or comment.
func signedIn(ctx context.Context, writes bool) (review.Caller, error) {
	who := auth.FromContext(ctx)
	if who == nil || who.UserID == 0 {
		return review.Caller{}, connect.NewError(connect.CodeUnauthenticated, errUnauthenticated)
	}
	if writes && !who.HasScope(auth.ScopeWriteAPI) {
		return review.Caller{}, connect.NewError(connect.CodePermissionDenied,
			errors.New("this call changes a changeset's review: the credential must grant write_api"))
	}
	return review.Caller{UID: who.UserID, Name: who.DisplayName, Role: string(who.Role)}, nil
}

// reviewCodes map the review's and the store's refusals, most specific
// first.
var reviewCodes = []struct {
	err  error
	code connect.Code
}{
	{storage.ErrSelfReview, connect.CodePermissionDenied},
	{storage.ErrNotOwner, connect.CodePermissionDenied},
	{storage.ErrReviewState, connect.CodeFailedPrecondition},
	{storage.ErrNotMergeable, connect.CodeFailedPrecondition},
	{storage.ErrInvalidSplit, connect.CodeInvalidArgument},
	// Another process moved the changes while the call read them: the
	// client may simply retry.
	{storage.ErrRebaseStale, connect.CodeAborted},
	{storage.ErrNotFound, connect.CodeNotFound},
	{review.ErrForbidden, connect.CodePermissionDenied},
	{review.ErrBadRequest, connect.CodeInvalidArgument},
}

// reviewError turns a failure of review.Service about changeset id into
// a Connect error whose message names the changeset, with a
// ChangesetError detail. Anything not a refusal (a failing store) is
// logged and answered INTERNAL without its text; a cancelled or
// timed-out request as such.
func reviewError(ctx context.Context, logger *slog.Logger, id int64, err error) error {
	switch {
	case storage.IsUnavailable(err):
		// The database is away: UNAVAILABLE, which clients retry, with
		// the same text and Retry-After as the other APIs.
		logger.WarnContext(ctx, "review request failed: the store is unavailable", "changeset", id, "err", err)
		cerr := connect.NewError(connect.CodeUnavailable, errors.New("Database unavailable, retry later"))
		cerr.Meta().Set("Retry-After", strconv.Itoa(storage.UnavailableRetryAfter))
		return cerr
	case errors.Is(err, context.DeadlineExceeded):
		return connect.NewError(connect.CodeDeadlineExceeded, err)
	case errors.Is(err, context.Canceled):
		return connect.NewError(connect.CodeCanceled, err)
	}
	for _, rc := range reviewCodes {
		if !errors.Is(err, rc.err) {
			continue
		}
		msg := err.Error()
		if name := fmt.Sprintf("changeset %d", id); id != 0 && !strings.Contains(msg, name) {
			msg = name + ": " + msg
		}
		cerr := connect.NewError(rc.code, errors.New(msg))
		if id != 0 {
			if d, derr := connect.NewErrorDetail(&geocommunsv1.ChangesetError{ChangesetId: id}); derr == nil {
				cerr.AddDetail(d)
			}
		}
		return cerr
	}
	logger.ErrorContext(ctx, "review request failed", "changeset", id, "err", err)
	return connect.NewError(connect.CodeInternal, errors.New("internal error"))
}
