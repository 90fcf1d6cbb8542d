package connectapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"connectrpc.com/connect"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmproto"
	"github.com/geocommuns/geocommuns/storage"
)

// ChangesetServer implements ChangesetService over editing.Service, the
// same operations the OSM API's changeset calls run.
type ChangesetServer struct {
	Editing *editing.Service
	Logger  *slog.Logger
}

var _ geocommunsv1connect.ChangesetServiceHandler = (*ChangesetServer)(nil)

// CreateChangeset opens a changeset of the caller.
func (c *ChangesetServer) CreateChangeset(ctx context.Context, req *connect.Request[geocommunsv1.CreateChangesetRequest]) (*connect.Response[geocommunsv1.CreateChangesetResponse], error) {
	cs, err := c.Editing.CreateChangeset(ctx, auth.FromContext(ctx), osmproto.TagsFromProto(req.Msg.GetTags()))
	if err != nil {
		return nil, editingError(ctx, c.Logger, 0, err)
	}
	return connect.NewResponse(&geocommunsv1.CreateChangesetResponse{Changeset: changesetToProto(&cs)}), nil
}

// UploadChanges stages structured changes or an osmChange document.
func (c *ChangesetServer) UploadChanges(ctx context.Context, req *connect.Request[geocommunsv1.UploadChangesRequest]) (*connect.Response[geocommunsv1.UploadChangesResponse], error) {
	id := req.Msg.GetChangesetId()
	who := auth.FromContext(ctx)
	var (
		res *editing.DiffResult
		err error
	)
	switch changes := req.Msg.GetChanges().(type) {
	case *geocommunsv1.UploadChangesRequest_Structured:
		ops, cerr := operationsFromProto(id, changes.Structured.GetChanges())
		if cerr != nil {
			return nil, cerr
		}
		res, err = c.Editing.Upload(ctx, who, id, ops)
	case *geocommunsv1.UploadChangesRequest_OsmChange:
		res, err = c.Editing.UploadOsmChange(ctx, who, id, bytes.NewReader(changes.OsmChange))
	default:
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("an upload needs its changes: structured or osm_change"))
	}
	if err != nil {
		return nil, editingError(ctx, c.Logger, id, err)
	}
	out := &geocommunsv1.UploadChangesResponse{
		Results:   make([]*geocommunsv1.DiffResult, len(res.Entries)),
		Changeset: changesetToProto(&res.Changeset),
	}
	for i, e := range res.Entries {
		d := &geocommunsv1.DiffResult{Type: osmproto.TypeToProto(e.Type), OldId: e.OldID}
		// A delete answers its old id only, unless if-unused skipped it:
		// then the element keeps its id and version, as cgimap answers.
		if e.Action != storage.Delete || e.Skipped {
			newID, newVersion := e.NewID, int64(e.NewVersion)
			d.NewId, d.NewVersion = &newID, &newVersion
		}
		out.Results[i] = d
	}
	return connect.NewResponse(out), nil
}

// operationsFromProto converts structured changes, in order. The
// changeset of every element is the upload's: the message has no other
// place for it, so a changeset mismatch cannot happen here.
func operationsFromProto(changeset int64, changes []*geocommunsv1.Change) ([]editing.Operation, error) {
	ops := make([]editing.Operation, len(changes))
	for i, ch := range changes {
		var action storage.Action
		switch ch.GetAction() {
		case geocommunsv1.Action_ACTION_CREATE:
			action = storage.Create
		case geocommunsv1.Action_ACTION_MODIFY:
			action = storage.Modify
		case geocommunsv1.Action_ACTION_DELETE:
			action = storage.Delete
		default:
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("change %d: action must be create, modify or delete, not %v", i, ch.GetAction()))
		}
		pe := ch.GetElement()
		if pe == nil {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("change %d: no element", i))
		}
		t, ok := osmproto.TypeFromProto(pe.GetType())
		if !ok {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("change %d: element type must be node, way or relation, not %v", i, pe.GetType()))
		}
		e := osmdata.Element{
			Type: t, ID: pe.GetId(), Version: int(pe.GetVersion()), Visible: action != storage.Delete,
			Changeset: changeset, Tags: osmproto.TagsFromProto(pe.GetTags()),
		}
		switch t {
		case osmdata.Node:
			// A position is part of a node's content; zero is a place
			// (0,0), so an absent one must not default to it.
			if action != storage.Delete && (pe.LatE7 == nil || pe.LonE7 == nil) {
				return nil, elementError(connect.CodeInvalidArgument, fmt.Errorf("change %d: %s %d has no lat_e7 and lon_e7", i, t, e.ID), t, e.ID, nil, nil)
			}
			e.Lat, e.Lon = pe.GetLatE7(), pe.GetLonE7()
		case osmdata.Way:
			e.Nodes = pe.GetNodes()
		case osmdata.Relation:
			for _, m := range pe.GetMembers() {
				mt, ok := osmproto.TypeFromProto(m.GetType())
				if !ok {
					return nil, elementError(connect.CodeInvalidArgument, fmt.Errorf("change %d: a member of %s %d has type %v", i, t, e.ID, m.GetType()), t, e.ID, nil, nil)
				}
				e.Members = append(e.Members, osmdata.Member{Type: mt, Ref: m.GetRef(), Role: m.GetRole()})
			}
		}
		ops[i] = editing.Operation{Action: action, IfUnused: ch.GetIfUnused(), Element: e}
	}
	return ops, nil
}

// CloseChangeset closes an open changeset of the caller and submits it.
func (c *ChangesetServer) CloseChangeset(ctx context.Context, req *connect.Request[geocommunsv1.CloseChangesetRequest]) (*connect.Response[geocommunsv1.CloseChangesetResponse], error) {
	id := req.Msg.GetChangesetId()
	cs, err := c.Editing.CloseChangeset(ctx, auth.FromContext(ctx), id)
	if err != nil {
		return nil, editingError(ctx, c.Logger, id, err)
	}
	return connect.NewResponse(&geocommunsv1.CloseChangesetResponse{Changeset: changesetToProto(&cs)}), nil
}

// GetChangeset reads one changeset; anybody may.
func (c *ChangesetServer) GetChangeset(ctx context.Context, req *connect.Request[geocommunsv1.GetChangesetRequest]) (*connect.Response[geocommunsv1.GetChangesetResponse], error) {
	id := req.Msg.GetChangesetId()
	cs, err := c.Editing.Changeset(ctx, id)
	if err != nil {
		return nil, editingError(ctx, c.Logger, id, err)
	}
	return connect.NewResponse(&geocommunsv1.GetChangesetResponse{Changeset: changesetToProto(&cs)}), nil
}

// ListChangesets answers a changeset query, newest first.
func (c *ChangesetServer) ListChangesets(ctx context.Context, req *connect.Request[geocommunsv1.ListChangesetsRequest]) (*connect.Response[geocommunsv1.ListChangesetsResponse], error) {
	m := req.Msg
	q := storage.ChangesetQuery{
		IDs:           m.GetChangesetIds(),
		UID:           m.GetUid(),
		DisplayName:   m.GetDisplayName(),
		ClosedAfter:   osmproto.TimeFromProto(m.GetClosedAfter()),
		CreatedBefore: osmproto.TimeFromProto(m.GetCreatedBefore()),
		OnlyOpen:      m.GetOnlyOpen(),
		OnlyClosed:    m.GetOnlyClosed(),
		Limit:         min(int(m.GetLimit()), editing.MaxChangesetQueryLimit),
	}
	if m.GetBbox() != nil {
		box := osmproto.BoxFromProto(m.GetBbox())
		if !validBox(box) {
			return nil, connect.NewError(connect.CodeInvalidArgument, golden(editing.ErrBBoxRange))
		}
		q.Box = &box
	}
	for _, s := range m.GetReviewStates() {
		rs, ok := reviewStateFromProto(s)
		if !ok {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("unknown review state %v", s))
		}
		q.ReviewStates = append(q.ReviewStates, rs)
	}
	list, err := c.Editing.Changesets(ctx, q)
	if err != nil {
		return nil, editingError(ctx, c.Logger, 0, err)
	}
	out := &geocommunsv1.ListChangesetsResponse{Changesets: make([]*geocommunsv1.Changeset, len(list))}
	for i := range list {
		out.Changesets[i] = changesetToProto(&list[i])
	}
	return connect.NewResponse(out), nil
}
