package reviewapi

import (
	"context"
	"fmt"

	"connectrpc.com/connect"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmproto"
)

// ApproveElements approves part of a changeset and returns the rest to
// its author.
func (s *Server) ApproveElements(ctx context.Context, req *connect.Request[geocommunsv1.ApproveElementsRequest]) (*connect.Response[geocommunsv1.ApproveElementsResponse], error) {
	caller, err := signedIn(ctx, true)
	if err != nil {
		return nil, err
	}
	id := req.Msg.GetChangesetId()
	if len(req.Msg.GetElements()) == 0 {
		return nil, connect.NewError(connect.CodeInvalidArgument,
			fmt.Errorf("changeset %d: name the elements to approve (Approve approves the whole changeset)", id))
	}
	chosen := make([]osmdata.Key, 0, len(req.Msg.GetElements()))
	for i, ref := range req.Msg.GetElements() {
		k, err := osmproto.KeyFromProto(ref)
		if err != nil {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("changeset %d: elements[%d]: %w", id, i, err))
		}
		chosen = append(chosen, k)
	}
	p, err := s.Review.ApproveElements(ctx, caller, id, chosen, req.Msg.GetComment())
	if err != nil {
		return nil, reviewError(ctx, s.Logger, id, err)
	}
	out := &geocommunsv1.ApproveElementsResponse{
		Accepted:            osmproto.KeysToProto(p.Accepted),
		Changeset:           changesetToProto(&p.Approved),
		ReturnedChangesetId: p.Returned.ID,
	}
	for _, a := range p.Added {
		out.Added = append(out.Added, &geocommunsv1.AddedElement{
			Element: osmproto.KeyToProto(a.Element),
			Because: osmproto.KeyToProto(a.Because),
			Reason:  a.Reason,
		})
	}
	return connect.NewResponse(out), nil
}

// Revert undoes a merged changeset in a new changeset of the caller.
func (s *Server) Revert(ctx context.Context, req *connect.Request[geocommunsv1.RevertRequest]) (*connect.Response[geocommunsv1.RevertResponse], error) {
	caller, err := signedIn(ctx, true)
	if err != nil {
		return nil, err
	}
	id := req.Msg.GetChangesetId()
	rv, err := s.Review.RevertChangeset(ctx, caller, id, req.Msg.GetComment())
	if err != nil {
		return nil, reviewError(ctx, s.Logger, id, err)
	}
	out := &geocommunsv1.RevertResponse{
		Changeset: changesetToProto(&rv.Changeset),
		Reverted:  osmproto.KeysToProto(rv.Reverted),
	}
	for _, sk := range rv.Skipped {
		out.Skipped = append(out.Skipped, &geocommunsv1.RevertSkip{
			Element:     osmproto.KeyToProto(sk.Element),
			ByChangeset: sk.By,
			Reason:      sk.Reason,
		})
	}
	return connect.NewResponse(out), nil
}
