package connectapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/editing/connectapi"
	"github.com/geocommuns/geocommuns/editing/osmapi"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage"
)

// benchmarkBBox is the bounds of paulmach/osm's benchmark.osm, a real
// /api/0.6/map reply.
const benchmarkBBox = "-122.2558590,37.8228020,-122.2503660,37.8271410"

// datasetEdits are versions applied after the import of benchmark.osm so
// that history has more than one version and the map has a deletion: a
// way node moved with tags out of alphabetical order, a tagged node used
// by no way deleted, and a way renamed.
type datasetEdits struct {
	moved, deleted, way osmdata.Element // the new versions
}

func editDataset(t *testing.T, s storage.Store, box osmdata.Box) datasetEdits {
	t.Helper()
	ctx := context.Background()
	data, err := storage.Map(ctx, s, box, storage.MaxMapNodes)
	if err != nil {
		t.Fatal(err)
	}
	inWay := map[int64]bool{}
	for _, w := range data.Ways {
		for _, id := range w.Nodes {
			inWay[id] = true
		}
	}
	var lone *osmdata.Element
	for i, n := range data.Nodes {
		if !inWay[n.ID] && len(n.Tags) > 0 {
			lone = &data.Nodes[i]
			break
		}
	}
	if lone == nil || len(data.Ways) == 0 {
		t.Fatal("benchmark.osm has no tagged lone node or no way")
	}
	way := data.Ways[0]
	var moved osmdata.Element
	for _, n := range data.Nodes {
		if n.ID == way.Nodes[0] {
			moved = n
		}
	}
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	next := func(e osmdata.Element) osmdata.Element {
		e.Version++
		e.Changeset, e.Timestamp, e.UID, e.User = 99000001, when, 4242, "connect tester"
		return e
	}
	ed := datasetEdits{moved: next(moved), deleted: next(*lone), way: next(way)}
	ed.moved.Lat += 1234
	ed.moved.Tags = osmdata.Tags{{Key: "zebra", Value: "1"}, {Key: "alpha", Value: "2"}}
	ed.deleted.Visible = false
	ed.way.Tags = append(osmdata.Tags{{Key: "name", Value: "Rue de l’Essai"}}, way.Tags...)
	if err := s.Apply(ctx, []osmdata.Element{ed.moved, ed.deleted, ed.way}); err != nil {
		t.Fatal(err)
	}
	return ed
}

func pt(t osmdata.ElementType) geocommunsv1.ElementType {
	return map[osmdata.ElementType]geocommunsv1.ElementType{
		osmdata.Node:     geocommunsv1.ElementType_ELEMENT_TYPE_NODE,
		osmdata.Way:      geocommunsv1.ElementType_ELEMENT_TYPE_WAY,
		osmdata.Relation: geocommunsv1.ElementType_ELEMENT_TYPE_RELATION,
	}[t]
}

func fixedBox(t *testing.T, bbox string) osmdata.Box {
	t.Helper()
	d, err := osmdata.ParseBBox(bbox)
	if err != nil {
		t.Fatal(err)
	}
	return d.Fixed()
}

func protoBox(b osmdata.Box) *geocommunsv1.BoundingBox {
	return &geocommunsv1.BoundingBox{MinLatE7: b.MinLat, MinLonE7: b.MinLon, MaxLatE7: b.MaxLat, MaxLonE7: b.MaxLon}
}

// elementDetail returns the ElementError detail of a Connect error.
func elementDetail(t *testing.T, err error) *geocommunsv1.ElementError {
	t.Helper()
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("not a Connect error: %v", err)
	}
	for _, d := range cerr.Details() {
		v, derr := d.Value()
		if derr != nil {
			t.Fatalf("error detail %s: %v", d.Type(), derr)
		}
		if e, ok := v.(*geocommunsv1.ElementError); ok {
			return e
		}
	}
	t.Fatalf("no ElementError detail in %v", err)
	return nil
}

func wantCode(t *testing.T, what string, err error, code connect.Code) {
	t.Helper()
	if connect.CodeOf(err) != code {
		t.Fatalf("%s: got %v, want code %v", what, err, code)
	}
}

func ptr[T any](v T) *T { return &v }

// TestMapServiceAgreesWithTheOSMAPI reads imported real data through the
// generated clients, over Connect on HTTP/1.1 and over gRPC on h2c, and
// compares every answer with the OSM API's XML for the same request on
// the same server.
func TestMapServiceAgreesWithTheOSMAPI(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store := b.open(t)
			importFile(t, store, "osmgeojson/testdata/benchmark.osm")
			box := fixedBox(t, benchmarkBBox)
			ed := editDataset(t, store, box)
			base := serve(t, store, server.Config{})
			for _, tr := range transports {
				t.Run(tr.name, func(t *testing.T) {
					testMapService(t, base, tr.mapClient(t, base), box, ed)
				})
			}
		})
	}
}

func testMapService(t *testing.T, base string, client interface {
	GetMap(context.Context, *connect.Request[geocommunsv1.GetMapRequest]) (*connect.Response[geocommunsv1.GetMapResponse], error)
	GetElement(context.Context, *connect.Request[geocommunsv1.GetElementRequest]) (*connect.Response[geocommunsv1.GetElementResponse], error)
	GetHistory(context.Context, *connect.Request[geocommunsv1.GetHistoryRequest]) (*connect.Response[geocommunsv1.GetHistoryResponse], error)
}, box osmdata.Box, ed datasetEdits) {
	ctx := context.Background()

	// The map: the same elements, fields, tag order and positions as
	// /api/0.6/map, with the edits in it.
	res, err := client.GetMap(ctx, connect.NewRequest(&geocommunsv1.GetMapRequest{Bbox: protoBox(box)}))
	if err != nil {
		t.Fatalf("GetMap: %v", err)
	}
	got := flatProtos(res.Msg.GetElements())
	want, status := osmXML(t, base, "/api/0.6/map?bbox="+benchmarkBBox)
	if status != http.StatusOK {
		t.Fatalf("GET /api/0.6/map: %d", status)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("GetMap differs from /api/0.6/map (-xml +connect):\n%s", diff)
	}
	if len(got) < 3000 {
		t.Fatalf("GetMap returned %d elements; benchmark.osm has over 3,300", len(got))
	}
	if !cmp.Equal(res.Msg.GetBounds(), protoBox(box), cmp.Comparer(func(a, b *geocommunsv1.BoundingBox) bool {
		return a.String() == b.String()
	})) {
		t.Errorf("GetMap bounds %v, want %v", res.Msg.GetBounds(), box)
	}
	byKey := map[string]flat{}
	for _, f := range got {
		byKey[fmt.Sprintf("%s/%d", f.Type, f.ID)] = f
	}
	if _, ok := byKey[fmt.Sprintf("node/%d", ed.deleted.ID)]; ok {
		t.Errorf("GetMap returned the deleted node %d", ed.deleted.ID)
	}
	moved := byKey[fmt.Sprintf("node/%d", ed.moved.ID)]
	if moved.Lat != ed.moved.Lat || moved.Version != int64(ed.moved.Version) ||
		!cmp.Equal(moved.Tags, [][2]string{{"zebra", "1"}, {"alpha", "2"}}) {
		t.Errorf("GetMap shows the moved node as %+v", moved)
	}

	// Elements: every way and relation of the map and a sample of
	// nodes, each against /api/0.6/TYPE/ID.
	for i, f := range got {
		if f.Type == "node" && i%40 != 0 && f.ID != ed.moved.ID {
			continue
		}
		typ, _ := osmdata.ParseElementType(f.Type)
		res, err := client.GetElement(ctx, connect.NewRequest(&geocommunsv1.GetElementRequest{Type: pt(typ), Id: f.ID}))
		if err != nil {
			t.Fatalf("GetElement %s %d: %v", f.Type, f.ID, err)
		}
		want, status := osmXML(t, base, fmt.Sprintf("/api/0.6/%s/%d", f.Type, f.ID))
		if status != http.StatusOK || len(want) != 1 {
			t.Fatalf("GET /api/0.6/%s/%d: %d, %d elements", f.Type, f.ID, status, len(want))
		}
		if diff := cmp.Diff(want[0], flatProto(res.Msg.GetElement())); diff != "" {
			t.Fatalf("GetElement %s %d differs (-xml +connect):\n%s", f.Type, f.ID, diff)
		}
	}

	// A deleted element: the OSM API's 410 is NOT_FOUND with the
	// deleted version in the detail; that version reads as deleted,
	// without a position, as /api/0.6/node/ID/VERSION shows it.
	_, err = client.GetElement(ctx, connect.NewRequest(&geocommunsv1.GetElementRequest{Type: pt(osmdata.Node), Id: ed.deleted.ID}))
	wantCode(t, "GetElement of a deleted node", err, connect.CodeNotFound)
	if d := elementDetail(t, err); d.GetType() != pt(osmdata.Node) || d.GetId() != ed.deleted.ID || d.GetServerVersion() != int64(ed.deleted.Version) {
		t.Errorf("GetElement of a deleted node: detail %v, want node %d server_version %d", d, ed.deleted.ID, ed.deleted.Version)
	}
	if _, status := osmXML(t, base, fmt.Sprintf("/api/0.6/node/%d", ed.deleted.ID)); status != http.StatusGone {
		t.Errorf("GET /api/0.6/node/%d: %d, want 410", ed.deleted.ID, status)
	}
	for _, e := range []osmdata.Element{ed.deleted, ed.moved, ed.way} {
		for _, v := range []int{e.Version - 1, e.Version} {
			res, err := client.GetElement(ctx, connect.NewRequest(&geocommunsv1.GetElementRequest{Type: pt(e.Type), Id: e.ID, Version: ptr(int64(v))}))
			if err != nil {
				t.Fatalf("GetElement %s %d version %d: %v", e.Type, e.ID, v, err)
			}
			want, _ := osmXML(t, base, fmt.Sprintf("/api/0.6/%s/%d/%d", e.Type, e.ID, v))
			if diff := cmp.Diff(want, []flat{flatProto(res.Msg.GetElement())}); diff != "" {
				t.Errorf("GetElement %s %d version %d differs (-xml +connect):\n%s", e.Type, e.ID, v, diff)
			}
		}
	}
	if got := flatProto(mustElement(t, client, osmdata.Node, ed.deleted.ID, ed.deleted.Version)); got.Visible || got.HasPos {
		t.Errorf("the deleted version reads as %+v: want invisible, without a position", got)
	}

	// History: every version, oldest first, as /history.
	for _, e := range []osmdata.Element{ed.deleted, ed.moved, ed.way} {
		res, err := client.GetHistory(ctx, connect.NewRequest(&geocommunsv1.GetHistoryRequest{Type: pt(e.Type), Id: e.ID}))
		if err != nil {
			t.Fatalf("GetHistory %s %d: %v", e.Type, e.ID, err)
		}
		want, _ := osmXML(t, base, fmt.Sprintf("/api/0.6/%s/%d/history", e.Type, e.ID))
		got := flatProtos(res.Msg.GetVersions())
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GetHistory %s %d differs (-xml +connect):\n%s", e.Type, e.ID, diff)
		}
		if len(got) != 2 || got[1].Version != int64(e.Version) {
			t.Errorf("GetHistory %s %d: %d versions, want the imported one and the edit", e.Type, e.ID, len(got))
		}
	}

	// What the dataset lacks, and malformed requests.
	const unknown = 1 << 40
	_, err = client.GetElement(ctx, connect.NewRequest(&geocommunsv1.GetElementRequest{Type: pt(osmdata.Way), Id: unknown}))
	wantCode(t, "GetElement of an unknown way", err, connect.CodeNotFound)
	if d := elementDetail(t, err); d.GetId() != unknown || d.GetType() != pt(osmdata.Way) {
		t.Errorf("GetElement of an unknown way: detail %v", d)
	}
	_, err = client.GetElement(ctx, connect.NewRequest(&geocommunsv1.GetElementRequest{Type: pt(osmdata.Node), Id: ed.moved.ID, Version: ptr(int64(ed.moved.Version + 1))}))
	wantCode(t, "GetElement of a version to come", err, connect.CodeNotFound)
	_, err = client.GetHistory(ctx, connect.NewRequest(&geocommunsv1.GetHistoryRequest{Type: pt(osmdata.Relation), Id: unknown}))
	wantCode(t, "GetHistory of an unknown relation", err, connect.CodeNotFound)
	_, err = client.GetElement(ctx, connect.NewRequest(&geocommunsv1.GetElementRequest{Id: ed.moved.ID}))
	wantCode(t, "GetElement without a type", err, connect.CodeInvalidArgument)
	_, err = client.GetHistory(ctx, connect.NewRequest(&geocommunsv1.GetHistoryRequest{Type: pt(osmdata.Node), Id: -5}))
	wantCode(t, "GetHistory of a negative id", err, connect.CodeInvalidArgument)
	_, err = client.GetMap(ctx, connect.NewRequest(&geocommunsv1.GetMapRequest{}))
	wantCode(t, "GetMap without a box", err, connect.CodeInvalidArgument)
	_, err = client.GetMap(ctx, connect.NewRequest(&geocommunsv1.GetMapRequest{Bbox: protoBox(osmdata.Box{MinLat: 10, MaxLat: 5, MaxLon: 5})}))
	wantCode(t, "GetMap with minima over maxima", err, connect.CodeInvalidArgument)

	// Over the area limit: RESOURCE_EXHAUSTED with the OSM API's text.
	_, err = client.GetMap(ctx, connect.NewRequest(&geocommunsv1.GetMapRequest{Bbox: protoBox(fixedBox(t, "0,0,1,1"))}))
	wantCode(t, "GetMap over the area limit", err, connect.CodeResourceExhausted)
	resp, herr := http.Get(base + "/api/0.6/map?bbox=0,0,1,1")
	if herr != nil {
		t.Fatal(herr)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var cerr *connect.Error
	if errors.As(err, &cerr); resp.StatusCode != http.StatusBadRequest || cerr.Message() != strings.TrimSpace(string(text)) {
		t.Errorf("GetMap over the area limit says %q; the OSM API %d %q", cerr.Message(), resp.StatusCode, text)
	}
}

func mustElement(t *testing.T, client interface {
	GetElement(context.Context, *connect.Request[geocommunsv1.GetElementRequest]) (*connect.Response[geocommunsv1.GetElementResponse], error)
}, typ osmdata.ElementType, id int64, version int) *geocommunsv1.Element {
	t.Helper()
	res, err := client.GetElement(context.Background(), connect.NewRequest(&geocommunsv1.GetElementRequest{Type: pt(typ), Id: id, Version: ptr(int64(version))}))
	if err != nil {
		t.Fatalf("GetElement %s %d v%d: %v", typ, id, version, err)
	}
	return res.Msg.GetElement()
}

// TestMapNodeLimit: over the node limit GetMap is RESOURCE_EXHAUSTED
// with the text the OSM API answers for the same box under the same
// limit, both mounted on one mux. A configured limit stands in for the
// 50,000 nodes no test file fits in a small box; the handlers, not the
// store, enforce it, so SQLite alone serves.
func TestMapNodeLimit(t *testing.T) {
	store := openSQLite(t)
	importFile(t, store, "osmgeojson/testdata/benchmark.osm")
	mux := http.NewServeMux()
	(&osmapi.API{Reader: store, MaxMapNodes: 10}).Register(mux)
	connectapi.Register(mux, connectapi.Config{Reader: store, MaxMapNodes: 10})
	ts := httptest.NewServer(mux)
	defer ts.Close()

	client := geocommunsv1connect.NewMapServiceClient(ts.Client(), ts.URL)
	_, err := client.GetMap(context.Background(), connect.NewRequest(&geocommunsv1.GetMapRequest{Bbox: protoBox(fixedBox(t, benchmarkBBox))}))
	wantCode(t, "GetMap over the node limit", err, connect.CodeResourceExhausted)
	resp, herr := http.Get(ts.URL + "/api/0.6/map?bbox=" + benchmarkBBox)
	if herr != nil {
		t.Fatal(herr)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := fmt.Sprintf(editing.Golden[editing.ErrTooManyNodes].Text, 10); message(err) != want || strings.TrimSpace(string(text)) != want {
		t.Errorf("over the node limit Connect says %q and the OSM API %d %q; want %q", message(err), resp.StatusCode, text, want)
	}
}
