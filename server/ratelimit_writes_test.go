package server

import (
	"testing"

	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
)

// The Connect procedures the limit counts are read from proto/'s
// idempotency levels: every call that changes something (issue 9 names
// ChangesetService's and ReviewService's decisions and comments), and no
// read or feed.
func TestConnectWritesAreTheProceduresThatChangeSomething(t *testing.T) {
	writes := []string{
		geocommunsv1connect.ChangesetServiceCreateChangesetProcedure,
		geocommunsv1connect.ChangesetServiceUploadChangesProcedure,
		geocommunsv1connect.ChangesetServiceCloseChangesetProcedure,
		geocommunsv1connect.ReviewServiceAssignProcedure,
		geocommunsv1connect.ReviewServiceApproveProcedure,
		geocommunsv1connect.ReviewServiceApproveElementsProcedure,
		geocommunsv1connect.ReviewServiceRequestChangesProcedure,
		geocommunsv1connect.ReviewServiceRejectProcedure,
		geocommunsv1connect.ReviewServiceWithdrawProcedure,
		geocommunsv1connect.ReviewServiceCommentProcedure,
		geocommunsv1connect.ReviewServiceRevertProcedure,
	}
	reads := []string{
		geocommunsv1connect.ChangesetServiceGetChangesetProcedure,
		geocommunsv1connect.ChangesetServiceListChangesetsProcedure,
		geocommunsv1connect.MapServiceGetMapProcedure,
		geocommunsv1connect.MapServiceGetElementProcedure,
		geocommunsv1connect.MapServiceGetHistoryProcedure,
		geocommunsv1connect.ReviewServiceListQueueProcedure,
		geocommunsv1connect.ReviewServiceGetReviewProcedure,
		geocommunsv1connect.ReviewServiceListAuditLogProcedure,
		geocommunsv1connect.SyncServiceSubscribeProcedure,
	}
	for _, p := range writes {
		if !connectWrites[p] {
			t.Errorf("%s is not limited as a write", p)
		}
	}
	for _, p := range reads {
		if connectWrites[p] {
			t.Errorf("%s is limited as a write, but it changes nothing", p)
		}
	}
	if len(connectWrites) != len(writes) {
		t.Errorf("%d procedures limited, want the %d above: %v", len(connectWrites), len(writes), connectWrites)
	}
}
