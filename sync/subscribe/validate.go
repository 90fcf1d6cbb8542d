package subscribe

import (
	"errors"
	"fmt"

	"connectrpc.com/connect"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmproto"
)

const (
	maxLatE7 = 90 * osmdata.CoordScale
	maxLonE7 = 180 * osmdata.CoordScale
)

// requestBox checks the request and returns its box, nil for none.
func requestBox(req *geocommunsv1.SubscribeRequest) (*osmdata.Box, error) {
	if req.GetAfterSeq() < 0 {
		return nil, connect.NewError(connect.CodeInvalidArgument,
			fmt.Errorf("after_seq is %d; it is a merge_seq, 0 to start with the first merge", req.GetAfterSeq()))
	}
	if req.GetBbox() == nil {
		return nil, nil
	}
	b := osmproto.BoxFromProto(req.GetBbox())
	switch {
	case b.MinLat > b.MaxLat || b.MinLon > b.MaxLon:
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf(
			"bbox is inverted: min_lat_e7 %d, max_lat_e7 %d, min_lon_e7 %d, max_lon_e7 %d; the minimum must not exceed the maximum (a box across the antimeridian is two subscriptions)",
			b.MinLat, b.MaxLat, b.MinLon, b.MaxLon))
	case b.MinLat < -maxLatE7 || b.MaxLat > maxLatE7 || b.MinLon < -maxLonE7 || b.MaxLon > maxLonE7:
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New(
			"bbox is outside the world: latitudes are within ±90°, longitudes within ±180° (in 1e-7 degrees: ±900000000 and ±1800000000)"))
	}
	return &b, nil
}
