package reviewapi

import (
	"context"
	"fmt"

	"connectrpc.com/connect"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmproto"
	"github.com/geocommuns/geocommuns/storage"
)

// ListQueue lists the review queue for a reviewer.
func (s *Server) ListQueue(ctx context.Context, req *connect.Request[geocommunsv1.ListQueueRequest]) (*connect.Response[geocommunsv1.ListQueueResponse], error) {
	caller, err := signedIn(ctx, false)
	if err != nil {
		return nil, err
	}
	m := req.Msg
	f := storage.QueueFilter{
		MinRisk:         int(m.GetMinRisk()),
		Rule:            m.GetRule(),
		TagKey:          m.GetTagKey(),
		TagValue:        m.GetTagValue(),
		Contributor:     m.GetContributorUid(),
		SubmittedBefore: osmproto.TimeFromProto(m.GetSubmittedBefore()),
		OnlyScopes:      m.GetOnlyMine(),
		Limit:           MaxQueueLimit,
	}
	if l := int(m.GetLimit()); l > 0 && l < MaxQueueLimit {
		f.Limit = l
	}
	if m.GetTagValue() != "" && m.GetTagKey() == "" {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("tag_value %q needs a tag_key", m.GetTagValue()))
	}
	for _, ps := range m.GetStates() {
		st, ok := reviewStateFromProto(ps)
		if !ok {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("states: %v is not a review state a changeset can be in", ps))
		}
		f.States = append(f.States, st)
	}
	if m.GetBbox() != nil {
		box := osmproto.BoxFromProto(m.GetBbox())
		if !validBox(box) {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("bbox %+v: edges must lie within ±90 and ±180 degrees, min below max", m.GetBbox()))
		}
		f.Box = &box
	}
	items, err := s.Review.Queue(ctx, caller, f)
	if err != nil {
		return nil, reviewError(ctx, s.Logger, 0, err)
	}
	out := &geocommunsv1.ListQueueResponse{Items: make([]*geocommunsv1.QueueItem, len(items))}
	for i := range items {
		it := &items[i]
		out.Items[i] = &geocommunsv1.QueueItem{
			Changeset:   changesetToProto(&it.Changeset),
			Risk:        int32(it.Risk),
			Rules:       it.Rules,
			Errors:      int32(it.Errors),
			Warnings:    int32(it.Warnings),
			Assignee:    it.Assignee,
			Scopes:      scopesToProto(it.Scopes),
			SubmittedAt: osmproto.TimeToProto(it.SubmittedAt),
			Escalated:   it.Escalated,
		}
	}
	return connect.NewResponse(out), nil
}

// GetReview returns the detail of one changeset; anyone may read it.
func (s *Server) GetReview(ctx context.Context, req *connect.Request[geocommunsv1.GetReviewRequest]) (*connect.Response[geocommunsv1.GetReviewResponse], error) {
	id := req.Msg.GetChangesetId()
	d, err := s.Review.Review(ctx, id)
	if err != nil {
		return nil, reviewError(ctx, s.Logger, id, err)
	}
	out := &geocommunsv1.GetReviewResponse{
		Changeset:   changesetToProto(&d.Changeset),
		Risk:        int32(d.Validation.Risk),
		ValidatedAt: osmproto.TimeToProto(d.Validation.At),
		Scopes:      scopesToProto(d.Scopes),
		Findings:    make([]*geocommunsv1.Finding, len(d.Validation.Findings)),
		Elements:    make([]*geocommunsv1.ElementReview, len(d.Elements)),
		Events:      make([]*geocommunsv1.ReviewEvent, len(d.Events)),
	}
	for i, f := range d.Validation.Findings {
		pf := &geocommunsv1.Finding{Rule: f.Rule, Severity: f.Severity, Message: f.Message}
		for _, k := range f.Elements {
			pf.Elements = append(pf.Elements, &geocommunsv1.ElementRef{Type: osmproto.TypeToProto(k.Type), Id: k.ID})
		}
		if f.HasLocation {
			lat, lon := osmdata.RoundCoordToFixed(f.Lat), osmdata.RoundCoordToFixed(f.Lon)
			pf.LatE7, pf.LonE7 = &lat, &lon
		}
		out.Findings[i] = pf
	}
	for i, e := range d.Elements {
		out.Elements[i] = &geocommunsv1.ElementReview{
			Action:  actionToProto(e.Action),
			Old:     elementToProto(e.Old),
			New:     elementToProto(e.New),
			Current: elementToProto(e.Current),
		}
	}
	for i := range d.Events {
		out.Events[i] = osmproto.ReviewEventToProto(&d.Events[i])
	}
	out.Conflicts = conflictsToProto(d.Conflicts)
	return connect.NewResponse(out), nil
}

// Assign makes the caller the changeset's assignee.
func (s *Server) Assign(ctx context.Context, req *connect.Request[geocommunsv1.AssignRequest]) (*connect.Response[geocommunsv1.AssignResponse], error) {
	caller, err := signedIn(ctx, true)
	if err != nil {
		return nil, err
	}
	id := req.Msg.GetChangesetId()
	ev, err := s.Review.Assign(ctx, caller, id)
	if err != nil {
		return nil, reviewError(ctx, s.Logger, id, err)
	}
	return connect.NewResponse(&geocommunsv1.AssignResponse{Event: osmproto.ReviewEventToProto(&ev)}), nil
}

// Approve approves the caller's scopes of the changeset.
func (s *Server) Approve(ctx context.Context, req *connect.Request[geocommunsv1.ApproveRequest]) (*connect.Response[geocommunsv1.ApproveResponse], error) {
	caller, err := signedIn(ctx, true)
	if err != nil {
		return nil, err
	}
	id := req.Msg.GetChangesetId()
	cs, err := s.Review.Approve(ctx, caller, id, req.Msg.GetComment())
	if err != nil {
		return nil, reviewError(ctx, s.Logger, id, err)
	}
	return connect.NewResponse(&geocommunsv1.ApproveResponse{Changeset: changesetToProto(&cs)}), nil
}

// RequestChanges reopens the changeset for its author.
func (s *Server) RequestChanges(ctx context.Context, req *connect.Request[geocommunsv1.RequestChangesRequest]) (*connect.Response[geocommunsv1.RequestChangesResponse], error) {
	caller, err := signedIn(ctx, true)
	if err != nil {
		return nil, err
	}
	id := req.Msg.GetChangesetId()
	cs, err := s.Review.RequestChanges(ctx, caller, id, req.Msg.GetComment())
	if err != nil {
		return nil, reviewError(ctx, s.Logger, id, err)
	}
	return connect.NewResponse(&geocommunsv1.RequestChangesResponse{Changeset: changesetToProto(&cs)}), nil
}

// Reject rejects the changeset.
func (s *Server) Reject(ctx context.Context, req *connect.Request[geocommunsv1.RejectRequest]) (*connect.Response[geocommunsv1.RejectResponse], error) {
	caller, err := signedIn(ctx, true)
	if err != nil {
		return nil, err
	}
	id := req.Msg.GetChangesetId()
	cs, err := s.Review.Reject(ctx, caller, id, req.Msg.GetComment())
	if err != nil {
		return nil, reviewError(ctx, s.Logger, id, err)
	}
	return connect.NewResponse(&geocommunsv1.RejectResponse{Changeset: changesetToProto(&cs)}), nil
}

// Withdraw takes the author's submitted changeset back.
func (s *Server) Withdraw(ctx context.Context, req *connect.Request[geocommunsv1.WithdrawRequest]) (*connect.Response[geocommunsv1.WithdrawResponse], error) {
	caller, err := signedIn(ctx, true)
	if err != nil {
		return nil, err
	}
	id := req.Msg.GetChangesetId()
	cs, err := s.Review.Withdraw(ctx, caller, id)
	if err != nil {
		return nil, reviewError(ctx, s.Logger, id, err)
	}
	return connect.NewResponse(&geocommunsv1.WithdrawResponse{Changeset: changesetToProto(&cs)}), nil
}

// Comment adds a discussion comment.
func (s *Server) Comment(ctx context.Context, req *connect.Request[geocommunsv1.CommentRequest]) (*connect.Response[geocommunsv1.CommentResponse], error) {
	caller, err := signedIn(ctx, true)
	if err != nil {
		return nil, err
	}
	id := req.Msg.GetChangesetId()
	ev, err := s.Review.Comment(ctx, caller, id, req.Msg.GetText())
	if err != nil {
		return nil, reviewError(ctx, s.Logger, id, err)
	}
	return connect.NewResponse(&geocommunsv1.CommentResponse{Event: osmproto.ReviewEventToProto(&ev)}), nil
}

// ListAuditLog returns the changeset's review log; anyone may read it.
func (s *Server) ListAuditLog(ctx context.Context, req *connect.Request[geocommunsv1.ListAuditLogRequest]) (*connect.Response[geocommunsv1.ListAuditLogResponse], error) {
	id := req.Msg.GetChangesetId()
	events, err := s.Review.AuditLog(ctx, id)
	if err != nil {
		return nil, reviewError(ctx, s.Logger, id, err)
	}
	out := &geocommunsv1.ListAuditLogResponse{Events: make([]*geocommunsv1.ReviewEvent, len(events))}
	for i := range events {
		out.Events[i] = osmproto.ReviewEventToProto(&events[i])
	}
	return connect.NewResponse(out), nil
}
