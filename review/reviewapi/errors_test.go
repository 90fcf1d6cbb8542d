package reviewapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"connectrpc.com/connect"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
)

// TestReviewErrorCodes pins the mapping of the review's and the store's
// refusals, wrapped as the service and the backends wrap them, to
// Connect codes with messages naming the changeset; and that a failing
// store is logged and answered without its text.
func TestReviewErrorCodes(t *testing.T) {
	cases := []struct {
		err  error
		code connect.Code
	}{
		{fmt.Errorf("changeset 42 needs the review of roads, none of them yours: %w", review.ErrForbidden), connect.CodePermissionDenied},
		{fmt.Errorf("a comment to the contributor is required to rejected: %w", review.ErrBadRequest), connect.CodeInvalidArgument},
		{fmt.Errorf("changeset 42: %w", storage.ErrNotFound), connect.CodeNotFound},
		{fmt.Errorf("decide on changeset 42: %w", storage.ErrSelfReview), connect.CodePermissionDenied},
		{fmt.Errorf("decide: %w", storage.ErrReviewState), connect.CodeFailedPrecondition},
		{fmt.Errorf("withdraw: %w", storage.ErrNotOwner), connect.CodePermissionDenied},
		{fmt.Errorf("approve part of changeset 42: %w", storage.ErrInvalidSplit), connect.CodeInvalidArgument},
		{fmt.Errorf("merge: %w", storage.ErrNotMergeable), connect.CodeFailedPrecondition},
		{fmt.Errorf("rebase: %w", storage.ErrRebaseStale), connect.CodeAborted},
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	for _, c := range cases {
		err := reviewError(context.Background(), logger, 42, c.err)
		var cerr *connect.Error
		if !errors.As(err, &cerr) || cerr.Code() != c.code {
			t.Errorf("%v: %v, want %v", c.err, err, c.code)
			continue
		}
		if !strings.Contains(cerr.Message(), "changeset 42") || !strings.Contains(cerr.Message(), c.err.Error()[strings.LastIndex(c.err.Error(), ": ")+2:]) {
			t.Errorf("%v: message %q, want it to name changeset 42 and keep the cause", c.err, cerr.Message())
		}
		details := cerr.Details()
		if len(details) != 1 {
			t.Errorf("%v: %d details, want a ChangesetError", c.err, len(details))
			continue
		}
		if v, derr := details[0].Value(); derr != nil || v.(*geocommunsv1.ChangesetError).GetChangesetId() != 42 {
			t.Errorf("%v: detail %v (%v), want changeset 42", c.err, v, derr)
		}
	}
	if logs.Len() != 0 {
		t.Errorf("refusals were logged as failures:\n%s", &logs)
	}

	err := reviewError(context.Background(), logger, 42, errors.New("connection reset by peer: password=secret"))
	if connect.CodeOf(err) != connect.CodeInternal || strings.Contains(err.Error(), "secret") {
		t.Errorf("store failure answered %v, want INTERNAL without its text", err)
	}
	if !strings.Contains(logs.String(), "connection reset") {
		t.Errorf("store failure not logged: %q", &logs)
	}
	if err := reviewError(context.Background(), logger, 42, fmt.Errorf("read: %w", context.DeadlineExceeded)); connect.CodeOf(err) != connect.CodeDeadlineExceeded {
		t.Errorf("deadline answered %v", err)
	}
}
