package connectapi

import (
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

// MapServer implements MapService over a storage.Reader, with the
// caller's overlay when Editing is set. Its fields are Config's.
type MapServer struct {
	Reader      storage.Reader
	Editing     *editing.Service
	MaxMapNodes int
	MaxMapArea  float64
	Logger      *slog.Logger
}

var _ geocommunsv1connect.MapServiceHandler = (*MapServer)(nil)

// reader is what the caller reads: the authoritative dataset, with an
// authenticated author's own pending changes laid over it.
func (m *MapServer) reader(ctx context.Context) storage.Reader {
	if m.Editing == nil {
		return m.Reader
	}
	return m.Editing.Reader(auth.FromContext(ctx))
}

// private marks replies that show someone's pending changes, so that no
// shared cache hands them to anybody else (GET requests of
// NO_SIDE_EFFECTS methods are cacheable).
func private[T any](r storage.Reader, res *connect.Response[T]) *connect.Response[T] {
	if editing.IsOverlaid(r) {
		res.Header().Set("Cache-Control", "private")
	}
	return res
}

// GetMap runs the map call's steps over the caller's reader.
func (m *MapServer) GetMap(ctx context.Context, req *connect.Request[geocommunsv1.GetMapRequest]) (*connect.Response[geocommunsv1.GetMapResponse], error) {
	if req.Msg.GetBbox() == nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, golden(editing.ErrBBoxFormat))
	}
	box := osmproto.BoxFromProto(req.Msg.GetBbox())
	if !validBox(box) {
		return nil, connect.NewError(connect.CodeInvalidArgument, golden(editing.ErrBBoxRange))
	}
	if box.AreaDegrees() > m.MaxMapArea {
		return nil, connect.NewError(connect.CodeResourceExhausted, golden(editing.ErrBBoxTooLarge, m.MaxMapArea))
	}
	r := m.reader(ctx)
	data, err := storage.Map(ctx, r, box, m.MaxMapNodes)
	var tooMany *storage.TooManyNodesError
	if errors.As(err, &tooMany) {
		return nil, connect.NewError(connect.CodeResourceExhausted, golden(editing.ErrTooManyNodes, tooMany.Limit))
	}
	if err != nil {
		return nil, internalError(ctx, m.Logger, fmt.Errorf("map %v: %w", box, err))
	}
	els := make([]*geocommunsv1.Element, 0, len(data.Nodes)+len(data.Ways)+len(data.Relations))
	for _, list := range [][]osmdata.Element{data.Nodes, data.Ways, data.Relations} {
		els = append(els, osmproto.ElementsToProto(list)...)
	}
	return private(r, connect.NewResponse(&geocommunsv1.GetMapResponse{Bounds: osmproto.BoxToProto(box), Elements: els})), nil
}

// validBox is osmdata.ParseBBox's range check on a box in fixed point
// (cgimap's ErrBBoxRange).
func validBox(b osmdata.Box) bool {
	const maxLat, maxLon = 90 * osmdata.CoordScale, 180 * osmdata.CoordScale
	return b.MinLat >= -maxLat && b.MaxLat <= maxLat && b.MinLon >= -maxLon && b.MaxLon <= maxLon &&
		b.MinLat <= b.MaxLat && b.MinLon <= b.MaxLon
}

// golden returns the text of a row of editing's golden table, the one
// table of every text the OSM API answers, so that Connect says the same.
func golden(kind editing.ErrorKind, args ...any) error {
	return errors.New(fmt.Sprintf(editing.Golden[kind].Text, args...))
}

// GetElement reads the current version of an element as the caller sees
// it, or one authoritative version.
func (m *MapServer) GetElement(ctx context.Context, req *connect.Request[geocommunsv1.GetElementRequest]) (*connect.Response[geocommunsv1.GetElementResponse], error) {
	t, id, err := elementArgs(req.Msg.GetType(), req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	r := m.reader(ctx)
	if req.Msg.Version != nil {
		v := req.Msg.GetVersion()
		if v <= 0 {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("version must be positive, not %d", v))
		}
		e, err := r.ElementVersion(ctx, t, id, int(v))
		if errors.Is(err, storage.ErrNotFound) {
			return nil, elementError(connect.CodeNotFound, fmt.Errorf("%s %d has no version %d", t, id, v), t, id, &v, nil)
		}
		if errors.Is(err, storage.ErrRedacted) {
			// The OSM API's 403 for a redacted version.
			return nil, elementError(connect.CodePermissionDenied, fmt.Errorf("version %d of %s %d has been redacted", v, t, id), t, id, &v, nil)
		}
		if err != nil {
			return nil, internalError(ctx, m.Logger, fmt.Errorf("%s %d v%d: %w", t, id, v, err))
		}
		return private(r, connect.NewResponse(&geocommunsv1.GetElementResponse{Element: osmproto.ElementToProto(&e)})), nil
	}
	els, err := r.CurrentElements(ctx, t, []int64{id})
	if err != nil {
		return nil, internalError(ctx, m.Logger, fmt.Errorf("read %s %d: %w", t, id, err))
	}
	if len(els) == 0 {
		return nil, elementError(connect.CodeNotFound, fmt.Errorf("%s %d not found", t, id), t, id, nil, nil)
	}
	e := els[0]
	if !e.Visible {
		// The OSM API's 410 Gone; the detail's server_version is the
		// deleted version, which GetElement with that version returns.
		v := int64(e.Version)
		return nil, elementError(connect.CodeNotFound, golden(editing.ErrAlreadyDeleted, t, id), t, id, nil, &v)
	}
	return private(r, connect.NewResponse(&geocommunsv1.GetElementResponse{Element: osmproto.ElementToProto(&e)})), nil
}

// GetHistory reads every authoritative version of an element; pending
// changes have no place in history (design.md).
func (m *MapServer) GetHistory(ctx context.Context, req *connect.Request[geocommunsv1.GetHistoryRequest]) (*connect.Response[geocommunsv1.GetHistoryResponse], error) {
	t, id, err := elementArgs(req.Msg.GetType(), req.Msg.GetId())
	if err != nil {
		return nil, err
	}
	versions, err := m.Reader.History(ctx, t, id)
	if errors.Is(err, storage.ErrNotFound) || err == nil && len(versions) == 0 {
		return nil, elementError(connect.CodeNotFound, fmt.Errorf("%s %d not found", t, id), t, id, nil, nil)
	}
	if err != nil {
		return nil, internalError(ctx, m.Logger, fmt.Errorf("history of %s %d: %w", t, id, err))
	}
	return connect.NewResponse(&geocommunsv1.GetHistoryResponse{Versions: osmproto.ElementsToProto(versions)}), nil
}

// elementArgs checks an element's type and id as a request names them.
func elementArgs(pt geocommunsv1.ElementType, id int64) (osmdata.ElementType, int64, error) {
	t, ok := osmproto.TypeFromProto(pt)
	if !ok {
		return 0, 0, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("element type must be node, way or relation, not %v", pt))
	}
	if id <= 0 {
		return 0, 0, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("element ids are positive, not %d", id))
	}
	return t, id, nil
}
