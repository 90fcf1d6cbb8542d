package subscribe

import (
	"errors"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata/osmproto"
)

// FuzzSubscribeRequest reads any bytes as a SubscribeRequest and checks
// it as Subscribe does before it touches the outbox: no panic; a refusal
// is invalid_argument; a request accepted starts at a merge_seq (0 or
// more) and filters on a box of the world (within ±90°/±180°, minimum
// at most maximum), which converts back to the box the client sent.
func FuzzSubscribeRequest(f *testing.F) {
	for _, req := range []*geocommunsv1.SubscribeRequest{
		{},
		{AfterSeq: 42},
		{AfterSeq: -1},
		{Bbox: &geocommunsv1.BoundingBox{MinLatE7: -900000000, MinLonE7: -1800000000, MaxLatE7: 900000000, MaxLonE7: 1800000000}},
		{Bbox: &geocommunsv1.BoundingBox{MinLatE7: 10, MinLonE7: 10, MaxLatE7: 9, MaxLonE7: 11}},
		{Bbox: &geocommunsv1.BoundingBox{MinLatE7: -900000001, MaxLatE7: 0}},
	} {
		data, err := proto.Marshal(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req := &geocommunsv1.SubscribeRequest{}
		if err := proto.Unmarshal(data, req); err != nil {
			return // the Connect codec refuses it before the handler
		}
		box, err := requestBox(req)
		if err != nil {
			var cerr *connect.Error
			if !errors.As(err, &cerr) || cerr.Code() != connect.CodeInvalidArgument {
				t.Fatalf("%v refused with %v", req, err)
			}
			return
		}
		if req.GetAfterSeq() < 0 {
			t.Fatalf("%v accepted", req)
		}
		if (box == nil) != (req.Bbox == nil) {
			t.Fatalf("%v: box %v", req, box)
		}
		if box == nil {
			return
		}
		if box.MinLat > box.MaxLat || box.MinLon > box.MaxLon || box.MinLat < -maxLatE7 || box.MaxLat > maxLatE7 || box.MinLon < -maxLonE7 || box.MaxLon > maxLonE7 {
			t.Fatalf("%v accepted as %+v", req, *box)
		}
		sent := proto.Clone(req.GetBbox()).(*geocommunsv1.BoundingBox)
		sent.ProtoReflect().SetUnknown(nil)
		if back := osmproto.BoxToProto(*box); !proto.Equal(back, sent) {
			t.Fatalf("%v accepted as %+v, which converts back to %v", req, *box, back)
		}
	})
}
