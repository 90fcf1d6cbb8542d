package connectapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/geocommuns/geocommuns/auth"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// unaryProcedure is one unary procedure of the Connect API and the
// message types it reads and answers.
type unaryProcedure struct {
	path          string
	input, output protoreflect.MessageType
}

// unaryProcedures lists every unary procedure of every service of
// proto/geocommuns/v1, as the generated descriptors list them, so that
// a procedure added later is fuzzed without anyone remembering to.
// Streams (Subscribe) wait for merges; sync/subscribe fuzzes their
// request's validation.
func unaryProcedures(t testing.TB) []unaryProcedure {
	var out []unaryProcedure
	for _, file := range []protoreflect.FileDescriptor{
		geocommunsv1.File_geocommuns_v1_map_service_proto,
		geocommunsv1.File_geocommuns_v1_changeset_service_proto,
		geocommunsv1.File_geocommuns_v1_review_service_proto,
		geocommunsv1.File_geocommuns_v1_sync_service_proto,
	} {
		services := file.Services()
		for i := range services.Len() {
			svc := services.Get(i)
			methods := svc.Methods()
			for j := range methods.Len() {
				m := methods.Get(j)
				if m.IsStreamingClient() || m.IsStreamingServer() {
					continue
				}
				in, err := protoregistry.GlobalTypes.FindMessageByName(m.Input().FullName())
				if err != nil {
					t.Fatal(err)
				}
				outType, err := protoregistry.GlobalTypes.FindMessageByName(m.Output().FullName())
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, unaryProcedure{path: "/" + string(svc.FullName()) + "/" + string(m.Name()), input: in, output: outType})
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d unary procedures found", len(out))
	}
	return out
}

// FuzzConnectRequests sends any bytes as the request message of every
// unary procedure of the Connect API (MapService, ChangesetService,
// ReviewService, SyncService), anonymously, as a contributor or as a
// reviewer, to the real server (server.New, its middleware and limits)
// over HTTP on a real SQLite store holding a real extract. Whatever the bytes: no
// panic and never a 5xx (internal, unknown) answer; bytes that are not
// the request message are refused as invalid_argument; an answer of 200
// is the procedure's response message.
func FuzzConnectRequests(f *testing.F) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, f.TempDir())
	if err != nil {
		f.Fatalf("open sqlite: %v", err)
	}
	f.Cleanup(func() { store.Close() })
	dir, err := osmfile.ModuleDir()
	if err != nil {
		f.Fatal(err)
	}
	extract, err := osmfile.Open(filepath.Join(dir, "osmgeojson/testdata/benchmark.osm"))
	if err != nil {
		f.Fatal(err)
	}
	_, err = store.Import(ctx, extract)
	extract.Close()
	if err != nil {
		f.Fatalf("import: %v", err)
	}
	// The callers: anonymous, a contributor, a reviewer (who reaches the
	// review decisions), by their API tokens.
	tokens := []string{""}
	for _, a := range []struct {
		name string
		role auth.Role
	}{{"ana", auth.RoleContributor}, {"rui", auth.RoleReviewer}} {
		_, token, err := auth.AddUser(ctx, store, auth.NewUser{Name: a.name, Role: a.role})
		if err != nil {
			f.Fatal(err)
		}
		tokens = append(tokens, token)
	}
	srv := httptest.NewServer(server.New(server.Config{MaxOpenChangesets: -1, MaxUploadBytes: 1 << 20}, store, nil).Handler())
	f.Cleanup(srv.Close)
	procedures := unaryProcedures(f)
	// A changeset of ana's, open, for the seeds to upload to and close.
	created, err := geocommunsv1connect.NewChangesetServiceClient(srv.Client(), srv.URL, bearer(tokens[1])).
		CreateChangeset(ctx, connect.NewRequest(&geocommunsv1.CreateChangesetRequest{}))
	if err != nil {
		f.Fatal(err)
	}
	cs := created.Msg.GetChangeset().GetId()

	seeds := []proto.Message{
		&geocommunsv1.GetMapRequest{Bbox: &geocommunsv1.BoundingBox{MinLatE7: 389000000, MinLonE7: -770400000, MaxLatE7: 389100000, MaxLonE7: -770300000}},
		&geocommunsv1.GetMapRequest{Bbox: &geocommunsv1.BoundingBox{MinLatE7: -900000000, MinLonE7: -1800000000, MaxLatE7: 900000000, MaxLonE7: 1800000000}},
		&geocommunsv1.GetElementRequest{Type: geocommunsv1.ElementType_ELEMENT_TYPE_WAY, Id: 1},
		&geocommunsv1.CreateChangesetRequest{Tags: []*geocommunsv1.Tag{tag("comment", "fuzz"), tag("created_by", "fuzz")}},
		&geocommunsv1.UploadChangesRequest{ChangesetId: cs, Changes: &geocommunsv1.UploadChangesRequest_Structured{Structured: &geocommunsv1.ChangeList{Changes: []*geocommunsv1.Change{{
			Action:  geocommunsv1.Action_ACTION_CREATE,
			Element: &geocommunsv1.Element{Type: geocommunsv1.ElementType_ELEMENT_TYPE_NODE, Id: -1, LatE7: ptr[int32](1), LonE7: ptr[int32](2), Tags: []*geocommunsv1.Tag{tag("a", "b")}},
		}}}}},
		&geocommunsv1.UploadChangesRequest{ChangesetId: cs, Changes: &geocommunsv1.UploadChangesRequest_OsmChange{OsmChange: fmt.Appendf(nil, `<osmChange><create><node id="-1" changeset="%d" lat="1" lon="2"/></create></osmChange>`, cs)}},
		&geocommunsv1.ListChangesetsRequest{Limit: 1000, Bbox: &geocommunsv1.BoundingBox{MaxLatE7: 1, MaxLonE7: 1}},
		&geocommunsv1.CloseChangesetRequest{ChangesetId: cs},
		&geocommunsv1.GetReviewRequest{ChangesetId: cs},
	}
	for _, m := range seeds {
		data, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		for i, p := range procedures {
			if p.input.Descriptor().FullName() == m.ProtoReflect().Descriptor().FullName() {
				for who := range tokens {
					f.Add(uint8(i), uint8(who), data)
				}
			}
		}
	}
	for i := range procedures {
		f.Add(uint8(i), uint8(2), []byte{})
		f.Add(uint8(i), uint8(2), []byte{0x08, 0x01, 0x10, 0x01, 0x1a, 0x02, 0x08, 0x01})
	}

	client := srv.Client()
	f.Fuzz(func(t *testing.T, which, who uint8, data []byte) {
		p := procedures[int(which)%len(procedures)]
		msg := p.input.New().Interface()
		unmarshalErr := proto.Unmarshal(data, msg)
		req, err := http.NewRequest(http.MethodPost, srv.URL+p.path, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/proto")
		if token := tokens[int(who)%len(tokens)]; token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		describe := func() string {
			return fmt.Sprintf("%s (caller %d) %v: %d %s", p.path, int(who)%len(tokens), msg, resp.StatusCode, body)
		}
		switch {
		case resp.StatusCode >= 500:
			t.Fatalf("%s", describe())
		case unmarshalErr != nil && resp.StatusCode != http.StatusBadRequest:
			t.Fatalf("not a %s (%v), yet %s", p.input.Descriptor().Name(), unmarshalErr, describe())
		case resp.StatusCode == http.StatusOK:
			if err := proto.Unmarshal(body, p.output.New().Interface()); err != nil {
				t.Fatalf("answer is no %s (%v): %s", p.output.Descriptor().Name(), err, describe())
			}
		}
	})
}
