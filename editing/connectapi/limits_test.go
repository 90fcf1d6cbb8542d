package connectapi_test

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/geocommuns/geocommuns/editing"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/server"
)

// paddedMapRequest is a GetMap request of exactly size bytes: an
// unknown field of zeros fills it up, which the server must read (and
// decompress) before it can parse anything, as it would an osmChange.
func paddedMapRequest(t *testing.T, size int) *geocommunsv1.GetMapRequest {
	t.Helper()
	req := &geocommunsv1.GetMapRequest{Bbox: protoBox(osmdata.Box{MinLat: 1, MinLon: 1, MaxLat: 2, MaxLon: 2})}
	const field = 1000
	base := proto.Size(req) + protowire.SizeTag(field)
	n := size - base - protowire.SizeVarint(uint64(size))
	for base+protowire.SizeVarint(uint64(n))+n < size {
		n++
	}
	pad := protowire.AppendTag(nil, field, protowire.BytesType)
	pad = protowire.AppendBytes(pad, make([]byte, n))
	req.ProtoReflect().SetUnknown(pad)
	if got := proto.Size(req); got != size {
		t.Fatalf("padded request has %d bytes, want %d", got, size)
	}
	return req
}

// TestReadLimitByDefault sends requests of the default limit (the OSM
// API's upload limit, 50 MB) and one byte more, gzip-compressed (about
// 50 KB on the wire: the limit must hold after decompression) and plain,
// over both transports. The limit belongs to the handlers, not the
// store, so SQLite alone serves.
func TestReadLimitByDefault(t *testing.T) {
	base := serve(t, openSQLite(t), server.Config{})
	limit := int(editing.DefaultMaxUploadBytes)
	ctx := context.Background()
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			for _, c := range []struct {
				name string
				opts []connect.ClientOption
			}{{"gzip", []connect.ClientOption{connect.WithSendGzip()}}, {"plain", nil}} {
				client := tr.mapClient(t, base, c.opts...)
				if _, err := client.GetMap(ctx, connect.NewRequest(paddedMapRequest(t, limit))); err != nil {
					t.Errorf("%s: a request of the limit, %d bytes: %v", c.name, limit, err)
				}
				_, err := client.GetMap(ctx, connect.NewRequest(paddedMapRequest(t, limit+1)))
				if connect.CodeOf(err) != connect.CodeResourceExhausted {
					t.Errorf("%s: a request of %d bytes: %v, want resource_exhausted", c.name, limit+1, err)
				}
				// An osmChange as large as the limit makes a message over it.
				_, err = tr.changesetClient(t, base, c.opts...).UploadChanges(ctx, raw(1, strings.Repeat(" ", limit)))
				if connect.CodeOf(err) != connect.CodeResourceExhausted {
					t.Errorf("%s: an UploadChanges of a %d-byte osmChange: %v, want resource_exhausted", c.name, limit, err)
				}
			}
		})
	}
}

// TestReadLimitConfigured: server.Config.MaxUploadBytes is the limit
// the Connect handlers enforce, as the OSM API's.
func TestReadLimitConfigured(t *testing.T) {
	base := serve(t, openSQLite(t), server.Config{MaxUploadBytes: 1000})
	ctx := context.Background()
	for _, tr := range transports {
		client := tr.mapClient(t, base)
		if _, err := client.GetMap(ctx, connect.NewRequest(paddedMapRequest(t, 1000))); err != nil {
			t.Errorf("%s: a request of the limit: %v", tr.name, err)
		}
		_, err := client.GetMap(ctx, connect.NewRequest(paddedMapRequest(t, 1001)))
		if connect.CodeOf(err) != connect.CodeResourceExhausted {
			t.Errorf("%s: a request over the limit: %v, want resource_exhausted", tr.name, err)
		}
	}
}
