package connectapi_test

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage"
)

// account creates a contributor and an API token for it.
func account(t *testing.T, s storage.Store, name string) (storage.Account, string) {
	t.Helper()
	ctx := context.Background()
	acc, err := s.CreateAccount(ctx, storage.NewAccount{DisplayName: name, Role: string(auth.RoleContributor)})
	if err != nil {
		t.Fatal(err)
	}
	token, hash, err := auth.NewAPIToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAPIToken(ctx, acc.ID, hash); err != nil {
		t.Fatal(err)
	}
	return acc, token
}

// bearer sends an API token with every call, as any Connect or gRPC
// client sends credentials.
func bearer(token string) connect.ClientOption {
	return connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", "Bearer "+token)
			return next(ctx, req)
		}
	}))
}

// changesetDetail returns the ChangesetError detail of a Connect error.
func changesetDetail(t *testing.T, err error) *geocommunsv1.ChangesetError {
	t.Helper()
	var cerr *connect.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("not a Connect error: %v", err)
	}
	for _, d := range cerr.Details() {
		if v, derr := d.Value(); derr == nil {
			if c, ok := v.(*geocommunsv1.ChangesetError); ok {
				return c
			}
		}
	}
	t.Fatalf("no ChangesetError detail in %v", err)
	return nil
}

func message(err error) string {
	var cerr *connect.Error
	if errors.As(err, &cerr) {
		return cerr.Message()
	}
	return ""
}

func tag(k, v string) *geocommunsv1.Tag { return &geocommunsv1.Tag{Key: k, Value: v} }

func protoNode(id, version int64, lat, lon int32, tags ...*geocommunsv1.Tag) *geocommunsv1.Element {
	return &geocommunsv1.Element{Type: pt(osmdata.Node), Id: id, Version: version, LatE7: &lat, LonE7: &lon, Tags: tags}
}

func change(a geocommunsv1.Action, e *geocommunsv1.Element) *geocommunsv1.Change {
	return &geocommunsv1.Change{Action: a, Element: e}
}

const (
	create = geocommunsv1.Action_ACTION_CREATE
	modify = geocommunsv1.Action_ACTION_MODIFY
	del    = geocommunsv1.Action_ACTION_DELETE
)

func structured(cs int64, changes ...*geocommunsv1.Change) *connect.Request[geocommunsv1.UploadChangesRequest] {
	return connect.NewRequest(&geocommunsv1.UploadChangesRequest{ChangesetId: cs,
		Changes: &geocommunsv1.UploadChangesRequest_Structured{Structured: &geocommunsv1.ChangeList{Changes: changes}}})
}

func raw(cs int64, doc string) *connect.Request[geocommunsv1.UploadChangesRequest] {
	return connect.NewRequest(&geocommunsv1.UploadChangesRequest{ChangesetId: cs,
		Changes: &geocommunsv1.UploadChangesRequest_OsmChange{OsmChange: []byte(doc)}})
}

// diff is a DiffResult as a test states it; -1 for a field left out.
type diff struct {
	Type                     string
	OldID, NewID, NewVersion int64
}

func diffs(res []*geocommunsv1.DiffResult) []diff {
	out := make([]diff, len(res))
	for i, d := range res {
		out[i] = diff{protoTypeNames[d.GetType()], d.GetOldId(), -1, -1}
		if d.NewId != nil {
			out[i].NewID = d.GetNewId()
		}
		if d.NewVersion != nil {
			out[i].NewVersion = d.GetNewVersion()
		}
	}
	return out
}

// TestChangesetFlow drives create → upload (structured, then raw
// osmChange) → close → read back through the generated clients, over
// Connect on HTTP/1.1 and gRPC on h2c, on both backends, with the
// credentials the server's authentication middleware reads; what the
// author reads back is compared with the OSM API's answers to the same
// author, and what an anonymous reader sees with the dataset untouched.
func TestChangesetFlow(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store := b.open(t)
			importFile(t, store, "osmgeojson/testdata/benchmark.osm")
			base := serve(t, store, server.Config{})
			for _, tr := range transports {
				t.Run(tr.name, func(t *testing.T) {
					testChangesetFlow(t, store, base, tr)
				})
			}
		})
	}
}

func testChangesetFlow(t *testing.T, store storage.Store, base string, tr transport) {
	ctx := context.Background()
	author, token := account(t, store, "author "+tr.name)
	_, otherToken := account(t, store, "other "+tr.name)
	anon := tr.changesetClient(t, base)
	mine := tr.changesetClient(t, base, bearer(token))
	other := tr.changesetClient(t, base, bearer(otherToken))
	anonMap := tr.mapClient(t, base)
	myMap := tr.mapClient(t, base, bearer(token))

	// Writes without credentials, or with a token nobody issued.
	_, err := anon.CreateChangeset(ctx, connect.NewRequest(&geocommunsv1.CreateChangesetRequest{}))
	wantCode(t, "anonymous CreateChangeset", err, connect.CodeUnauthenticated)
	_, err = tr.changesetClient(t, base, bearer(auth.APITokenPrefix+"nobody-issued-this")).CreateChangeset(ctx, connect.NewRequest(&geocommunsv1.CreateChangesetRequest{}))
	wantCode(t, "CreateChangeset with an unknown token", err, connect.CodeUnauthenticated)

	created, err := mine.CreateChangeset(ctx, connect.NewRequest(&geocommunsv1.CreateChangesetRequest{
		Tags: []*geocommunsv1.Tag{tag("comment", "Connect test"), tag("created_by", "geocommuns tests")}}))
	if err != nil {
		t.Fatalf("CreateChangeset: %v", err)
	}
	cs := created.Msg.GetChangeset()
	if !cs.GetOpen() || cs.GetUid() != author.ID || cs.GetUser() != author.DisplayName ||
		cs.GetReviewState() != geocommunsv1.ReviewState_REVIEW_STATE_UNSPECIFIED || len(cs.GetTags()) != 2 {
		t.Fatalf("CreateChangeset returned %v", cs)
	}
	id := cs.GetId()

	_, err = anon.UploadChanges(ctx, structured(id, change(create, protoNode(-1, 0, 1, 1))))
	wantCode(t, "anonymous UploadChanges", err, connect.CodeUnauthenticated)
	_, err = anon.UploadChanges(ctx, raw(id, `<osmChange version="0.6"/>`))
	wantCode(t, "anonymous UploadChanges of an osmChange", err, connect.CodeUnauthenticated)
	_, err = anon.CloseChangeset(ctx, connect.NewRequest(&geocommunsv1.CloseChangesetRequest{ChangesetId: id}))
	wantCode(t, "anonymous CloseChangeset", err, connect.CodeUnauthenticated)

	// Imported elements to edit: a way, one of its nodes, and a tagged
	// node no way uses.
	data, err := storage.Map(ctx, store, fixedBox(t, benchmarkBBox), storage.MaxMapNodes)
	if err != nil {
		t.Fatal(err)
	}
	wayNode, lone := pickNodes(t, data)
	ids, err := store.NextIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// A structured upload: creates referring to each other through
	// placeholders, a modify and a delete of imported nodes.
	lat, lon := int32(378250000), int32(-1222530000)
	up, err := mine.UploadChanges(ctx, structured(id,
		change(create, protoNode(-1, 0, lat, lon, tag("name", "Connect one"), tag("amenity", "cafe"))),
		change(create, protoNode(-2, 0, lat+100, lon+100)),
		change(create, &geocommunsv1.Element{Type: pt(osmdata.Way), Id: -1, Nodes: []int64{-1, -2}, Tags: []*geocommunsv1.Tag{tag("highway", "footway")}}),
		change(create, &geocommunsv1.Element{Type: pt(osmdata.Relation), Id: -1, Tags: []*geocommunsv1.Tag{tag("type", "route")},
			Members: []*geocommunsv1.Member{{Type: pt(osmdata.Way), Ref: -1, Role: "forward"}, {Type: pt(osmdata.Node), Ref: -2, Role: "stop"}}}),
		change(modify, protoNode(wayNode.ID, int64(wayNode.Version), wayNode.Lat, wayNode.Lon, tag("zebra", "yes"), tag("alpha", "no"))),
		change(del, &geocommunsv1.Element{Type: pt(osmdata.Node), Id: lone.ID, Version: int64(lone.Version)}),
	))
	if err != nil {
		t.Fatalf("structured UploadChanges: %v", err)
	}
	got := diffs(up.Msg.GetResults())
	n1, n2 := got[0].NewID, got[1].NewID
	wantDiff := []diff{
		{"node", -1, n1, 1}, {"node", -2, n2, 1}, {"way", -1, got[2].NewID, 1}, {"relation", -1, got[3].NewID, 1},
		{"node", wayNode.ID, wayNode.ID, int64(wayNode.Version) + 1}, {"node", lone.ID, -1, -1},
	}
	if d := cmp.Diff(wantDiff, got); d != "" {
		t.Fatalf("structured UploadChanges diff (-want +got):\n%s", d)
	}
	if n1 < ids.Node || n2 <= n1 || got[2].NewID < ids.Way || got[3].NewID < ids.Relation {
		t.Errorf("new ids %v are not allocated above the imported ones %+v", got, ids)
	}
	wayID, relID := got[2].NewID, got[3].NewID

	// A raw osmChange in the same changeset: a modify citing the
	// provisional version of the create, and a create.
	doc := fmt.Sprintf(`<osmChange version="0.6" generator="connect test">
 <modify>
  <node id="%d" version="1" changeset="%d" lat="37.8251" lon="-122.2531"><tag k="name" v="Connect one, moved"/></node>
 </modify>
 <create>
  <node id="-7" changeset="%d" lat="37.8252" lon="-122.2532"><tag k="amenity" v="bench"/></node>
 </create>
</osmChange>`, n1, id, id)
	up, err = mine.UploadChanges(ctx, raw(id, doc))
	if err != nil {
		t.Fatalf("osmChange UploadChanges: %v", err)
	}
	got = diffs(up.Msg.GetResults())
	if d := cmp.Diff([]diff{{"node", n1, n1, 2}, {"node", -7, got[1].NewID, 1}}, got); d != "" {
		t.Fatalf("osmChange UploadChanges diff (-want +got):\n%s", d)
	}
	n3 := got[1].NewID
	if up.Msg.GetChangeset().GetChangesCount() != 8 {
		t.Errorf("after two uploads the changeset counts %d changes, want 8", up.Msg.GetChangeset().GetChangesCount())
	}

	// The author reads the work back; MapService agrees with the OSM API
	// read with the same credentials.
	for _, k := range []struct {
		typ osmdata.ElementType
		id  int64
	}{{osmdata.Node, n1}, {osmdata.Node, n2}, {osmdata.Node, n3}, {osmdata.Way, wayID}, {osmdata.Relation, relID}, {osmdata.Node, wayNode.ID}} {
		res, err := myMap.GetElement(ctx, connect.NewRequest(&geocommunsv1.GetElementRequest{Type: pt(k.typ), Id: k.id}))
		if err != nil {
			t.Fatalf("the author's GetElement %s %d: %v", k.typ, k.id, err)
		}
		if cc := res.Header().Get("Cache-Control"); cc != "private" {
			t.Errorf("the author's GetElement %s %d: Cache-Control %q, want private: no shared cache may keep it", k.typ, k.id, cc)
		}
		want, status := osmXMLAs(t, base, fmt.Sprintf("/api/0.6/%s/%d", k.typ, k.id), token)
		if status != http.StatusOK {
			t.Fatalf("the author's GET /api/0.6/%s/%d: %d", k.typ, k.id, status)
		}
		if d := cmp.Diff(want, []flat{flatProto(res.Msg.GetElement())}); d != "" {
			t.Errorf("the author's GetElement %s %d differs from the OSM API (-xml +connect):\n%s", k.typ, k.id, d)
		}
	}
	first := flatProto(mustCurrent(t, myMap, osmdata.Node, n1))
	if first.Version != 2 || first.Lat != 378251000 || !cmp.Equal(first.Tags, [][2]string{{"name", "Connect one, moved"}}) ||
		first.UID != author.ID || first.Changeset != id {
		t.Errorf("the author reads node %d as %+v", n1, first)
	}
	way := flatProto(mustCurrent(t, myMap, osmdata.Way, wayID))
	if !cmp.Equal(way.Nodes, []int64{n1, n2}) {
		t.Errorf("the author reads way %d with nodes %v, want %v", wayID, way.Nodes, []int64{n1, n2})
	}
	rel := flatProto(mustCurrent(t, myMap, osmdata.Relation, relID))
	if !cmp.Equal(rel.Members, []string{fmt.Sprintf("way/%d/forward", wayID), fmt.Sprintf("node/%d/stop", n2)}) {
		t.Errorf("the author reads relation %d with members %v", relID, rel.Members)
	}
	modified := flatProto(mustCurrent(t, myMap, osmdata.Node, wayNode.ID))
	if !cmp.Equal(modified.Tags, [][2]string{{"zebra", "yes"}, {"alpha", "no"}}) || modified.Version != int64(wayNode.Version)+1 {
		t.Errorf("the author reads node %d as %+v", wayNode.ID, modified)
	}
	_, err = myMap.GetElement(ctx, connect.NewRequest(&geocommunsv1.GetElementRequest{Type: pt(osmdata.Node), Id: lone.ID}))
	wantCode(t, "the author's GetElement of the node they deleted", err, connect.CodeNotFound)

	myView, err := myMap.GetMap(ctx, connect.NewRequest(&geocommunsv1.GetMapRequest{Bbox: protoBox(fixedBox(t, benchmarkBBox))}))
	if err != nil {
		t.Fatal(err)
	}
	wantView, _ := osmXMLAs(t, base, "/api/0.6/map?bbox="+benchmarkBBox, token)
	if d := cmp.Diff(wantView, flatProtos(myView.Msg.GetElements())); d != "" {
		t.Errorf("the author's GetMap differs from the OSM API's map for the author (-xml +connect):\n%s", d)
	}
	if !containsElement(myView.Msg.GetElements(), osmdata.Way, wayID) || containsElement(myView.Msg.GetElements(), osmdata.Node, lone.ID) {
		t.Errorf("the author's GetMap misses the new way %d or shows the deleted node %d", wayID, lone.ID)
	}

	// Anybody else sees none of it.
	for _, k := range []struct {
		typ osmdata.ElementType
		id  int64
	}{{osmdata.Node, n1}, {osmdata.Node, n3}, {osmdata.Way, wayID}, {osmdata.Relation, relID}} {
		_, err := anonMap.GetElement(ctx, connect.NewRequest(&geocommunsv1.GetElementRequest{Type: pt(k.typ), Id: k.id}))
		wantCode(t, fmt.Sprintf("anonymous GetElement %s %d", k.typ, k.id), err, connect.CodeNotFound)
	}
	anonRes, err := anonMap.GetElement(ctx, connect.NewRequest(&geocommunsv1.GetElementRequest{Type: pt(osmdata.Node), Id: wayNode.ID}))
	if err != nil {
		t.Fatalf("anonymous GetElement node %d: %v", wayNode.ID, err)
	}
	if cc := anonRes.Header().Get("Cache-Control"); cc == "private" {
		t.Errorf("anonymous GetElement: Cache-Control %q: the authoritative dataset is the same for everybody", cc)
	}
	if got := flatProto(mustCurrent(t, anonMap, osmdata.Node, wayNode.ID)); got.Version != int64(wayNode.Version) {
		t.Errorf("an anonymous reader sees node %d at version %d, want the authoritative %d", wayNode.ID, got.Version, wayNode.Version)
	}
	if got := flatProto(mustCurrent(t, anonMap, osmdata.Node, lone.ID)); !got.Visible {
		t.Errorf("an anonymous reader sees node %d deleted", lone.ID)
	}
	anonView, err := anonMap.GetMap(ctx, connect.NewRequest(&geocommunsv1.GetMapRequest{Bbox: protoBox(fixedBox(t, benchmarkBBox))}))
	if err != nil {
		t.Fatal(err)
	}
	if containsElement(anonView.Msg.GetElements(), osmdata.Way, wayID) || !containsElement(anonView.Msg.GetElements(), osmdata.Node, lone.ID) {
		t.Errorf("an anonymous GetMap shows the author's pending changes")
	}
	history, err := myMap.GetHistory(ctx, connect.NewRequest(&geocommunsv1.GetHistoryRequest{Type: pt(osmdata.Node), Id: wayNode.ID}))
	if err != nil || len(history.Msg.GetVersions()) != 1 {
		t.Errorf("the author's GetHistory of node %d: %v, %d versions; history is authoritative only", wayNode.ID, err, len(history.Msg.GetVersions()))
	}

	// Errors, with their codes, OSM texts and details.
	_, err = mine.UploadChanges(ctx, structured(id, change(modify, protoNode(n1, 7, lat, lon))))
	wantCode(t, "a modify citing a version nobody has", err, connect.CodeAborted)
	if want := fmt.Sprintf(editing.Golden[editing.ErrVersionMismatch].Text, 7, 2, "Node", n1); message(err) != want {
		t.Errorf("version conflict message %q, want %q", message(err), want)
	}
	if d := elementDetail(t, err); d.GetType() != pt(osmdata.Node) || d.GetId() != n1 || d.GetProvidedVersion() != 7 || d.GetServerVersion() != 2 {
		t.Errorf("version conflict detail %v, want node %d provided 7 server 2", d, n1)
	}
	_, err = mine.UploadChanges(ctx, structured(id, change(del, &geocommunsv1.Element{Type: pt(osmdata.Node), Id: n2, Version: 1})))
	wantCode(t, "deleting a node the author's way uses", err, connect.CodeFailedPrecondition)
	if d := elementDetail(t, err); d.GetId() != n2 {
		t.Errorf("still-used detail %v, want node %d", d, n2)
	}
	_, err = mine.UploadChanges(ctx, structured(id, change(create, &geocommunsv1.Element{Type: pt(osmdata.Way), Id: -1, Nodes: []int64{-5}})))
	wantCode(t, "a way citing an unknown placeholder", err, connect.CodeInvalidArgument)
	_, err = mine.UploadChanges(ctx, structured(id, change(create, &geocommunsv1.Element{Type: pt(osmdata.Node), Id: -1})))
	wantCode(t, "a node created without a position", err, connect.CodeInvalidArgument)
	_, err = mine.UploadChanges(ctx, structured(id, &geocommunsv1.Change{Element: protoNode(-1, 0, lat, lon)}))
	wantCode(t, "a change without an action", err, connect.CodeInvalidArgument)
	_, err = mine.UploadChanges(ctx, connect.NewRequest(&geocommunsv1.UploadChangesRequest{ChangesetId: id}))
	wantCode(t, "an upload without changes", err, connect.CodeInvalidArgument)
	_, err = mine.UploadChanges(ctx, raw(id, `<osmChange version="0.6"><create><node id="-1"`))
	wantCode(t, "a truncated osmChange", err, connect.CodeInvalidArgument)
	_, err = mine.UploadChanges(ctx, raw(id, fmt.Sprintf(`<osmChange version="0.6"><create><node id="-1" changeset="%d" lat="1" lon="1"/></create></osmChange>`, id+1000)))
	wantCode(t, "an osmChange naming another changeset", err, connect.CodeInvalidArgument)
	_, err = mine.UploadChanges(ctx, structured(1<<40, change(create, protoNode(-1, 0, lat, lon))))
	wantCode(t, "an upload to an unknown changeset", err, connect.CodeNotFound)
	if d := changesetDetail(t, err); d.GetChangesetId() != 1<<40 {
		t.Errorf("unknown changeset detail %v", d)
	}
	_, err = other.UploadChanges(ctx, structured(id, change(create, protoNode(-1, 0, lat, lon))))
	wantCode(t, "an upload to another user's changeset", err, connect.CodePermissionDenied)
	if d := changesetDetail(t, err); d.GetChangesetId() != id {
		t.Errorf("not-the-owner detail %v", d)
	}
	_, err = other.CloseChangeset(ctx, connect.NewRequest(&geocommunsv1.CloseChangesetRequest{ChangesetId: id}))
	wantCode(t, "closing another user's changeset", err, connect.CodePermissionDenied)
	// None of the failed uploads left anything behind.
	if res, err := mine.GetChangeset(ctx, connect.NewRequest(&geocommunsv1.GetChangesetRequest{ChangesetId: id})); err != nil || res.Msg.GetChangeset().GetChangesCount() != 8 {
		t.Errorf("after the failed uploads: %v, %d changes, want 8", err, res.Msg.GetChangeset().GetChangesCount())
	}

	// Close: submitted for review; no more uploads.
	closed, err := mine.CloseChangeset(ctx, connect.NewRequest(&geocommunsv1.CloseChangesetRequest{ChangesetId: id}))
	if err != nil {
		t.Fatalf("CloseChangeset: %v", err)
	}
	if c := closed.Msg.GetChangeset(); c.GetOpen() || c.GetReviewState() != geocommunsv1.ReviewState_REVIEW_STATE_SUBMITTED {
		t.Errorf("CloseChangeset returned %v", c)
	}
	_, err = mine.UploadChanges(ctx, structured(id, change(create, protoNode(-1, 0, lat, lon))))
	wantCode(t, "an upload to a closed changeset", err, connect.CodeFailedPrecondition)
	if d := changesetDetail(t, err); d.GetChangesetId() != id {
		t.Errorf("closed changeset detail %v", d)
	}

	// Read back by anybody, as the OSM API answers it.
	res, err := anon.GetChangeset(ctx, connect.NewRequest(&geocommunsv1.GetChangesetRequest{ChangesetId: id}))
	if err != nil {
		t.Fatalf("GetChangeset: %v", err)
	}
	c := res.Msg.GetChangeset()
	if d := cmp.Diff(changesetXML(t, base, id), flatChangeset(c)); d != "" {
		t.Errorf("GetChangeset differs from /api/0.6/changeset/%d (-xml +connect):\n%s", id, d)
	}
	if c.GetChangesCount() != 8 || c.GetBbox() == nil || !cmp.Equal(flatChangeset(c).Tags, [][2]string{{"comment", "Connect test"}, {"created_by", "geocommuns tests"}}) {
		t.Errorf("GetChangeset returned %v", c)
	}
	_, err = anon.GetChangeset(ctx, connect.NewRequest(&geocommunsv1.GetChangesetRequest{ChangesetId: 1 << 40}))
	wantCode(t, "GetChangeset of an unknown changeset", err, connect.CodeNotFound)

	for _, q := range []struct {
		name string
		req  *geocommunsv1.ListChangesetsRequest
		want bool
	}{
		{"by uid", &geocommunsv1.ListChangesetsRequest{Uid: author.ID}, true},
		{"by display name", &geocommunsv1.ListChangesetsRequest{DisplayName: author.DisplayName}, true},
		{"submitted", &geocommunsv1.ListChangesetsRequest{Uid: author.ID, ReviewStates: []geocommunsv1.ReviewState{geocommunsv1.ReviewState_REVIEW_STATE_SUBMITTED}}, true},
		{"merged", &geocommunsv1.ListChangesetsRequest{Uid: author.ID, ReviewStates: []geocommunsv1.ReviewState{geocommunsv1.ReviewState_REVIEW_STATE_MERGED}}, false},
		{"closed", &geocommunsv1.ListChangesetsRequest{Uid: author.ID, OnlyClosed: true}, true},
		{"open", &geocommunsv1.ListChangesetsRequest{Uid: author.ID, OnlyOpen: true}, false},
		{"by id", &geocommunsv1.ListChangesetsRequest{ChangesetIds: []int64{id}}, true},
	} {
		list, err := anon.ListChangesets(ctx, connect.NewRequest(q.req))
		if err != nil {
			t.Fatalf("ListChangesets %s: %v", q.name, err)
		}
		found := len(list.Msg.GetChangesets()) == 1 && list.Msg.GetChangesets()[0].GetId() == id
		if found != q.want || len(list.Msg.GetChangesets()) > 1 {
			t.Errorf("ListChangesets %s: %d changesets, want the author's: %v", q.name, len(list.Msg.GetChangesets()), q.want)
		}
	}
}

func pickNodes(t *testing.T, data *storage.MapData) (wayNode, lone osmdata.Element) {
	t.Helper()
	inWay := map[int64]bool{}
	for _, w := range data.Ways {
		for _, id := range w.Nodes {
			inWay[id] = true
		}
	}
	inRelation := map[int64]bool{}
	for _, r := range data.Relations {
		for _, m := range r.Members {
			if m.Type == osmdata.Node {
				inRelation[m.Ref] = true
			}
		}
	}
	var haveWayNode, haveLone bool
	for _, n := range data.Nodes {
		if !haveWayNode && inWay[n.ID] {
			wayNode, haveWayNode = n, true
		}
		if !haveLone && !inWay[n.ID] && !inRelation[n.ID] && len(n.Tags) > 0 {
			lone, haveLone = n, true
		}
	}
	if !haveWayNode || !haveLone {
		t.Fatal("benchmark.osm has no way node or no tagged lone node")
	}
	return wayNode, lone
}

func containsElement(els []*geocommunsv1.Element, typ osmdata.ElementType, id int64) bool {
	for _, e := range els {
		if e.GetType() == pt(typ) && e.GetId() == id {
			return true
		}
	}
	return false
}

func mustCurrent(t *testing.T, client interface {
	GetElement(context.Context, *connect.Request[geocommunsv1.GetElementRequest]) (*connect.Response[geocommunsv1.GetElementResponse], error)
}, typ osmdata.ElementType, id int64) *geocommunsv1.Element {
	t.Helper()
	res, err := client.GetElement(context.Background(), connect.NewRequest(&geocommunsv1.GetElementRequest{Type: pt(typ), Id: id}))
	if err != nil {
		t.Fatalf("GetElement %s %d: %v", typ, id, err)
	}
	return res.Msg.GetElement()
}

// osmXMLAs is osmXML with an API token.
func osmXMLAs(t *testing.T, base, path, token string) ([]flat, int) {
	t.Helper()
	return osmXMLWith(t, base, path, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) })
}

// flatCS is a changeset as both APIs must agree on it.
type flatCS struct {
	ID                             int64
	CreatedAt, ClosedAt            time.Time
	Open                           bool
	User                           string
	UID                            int64
	HasBox                         bool
	MinLat, MinLon, MaxLat, MaxLon int32
	ChangesCount                   int64
	ReviewState                    string
	Tags                           [][2]string
}

var reviewStateNames = map[geocommunsv1.ReviewState]string{
	geocommunsv1.ReviewState_REVIEW_STATE_UNSPECIFIED:       "",
	geocommunsv1.ReviewState_REVIEW_STATE_SUBMITTED:         "submitted",
	geocommunsv1.ReviewState_REVIEW_STATE_APPROVED:          "approved",
	geocommunsv1.ReviewState_REVIEW_STATE_CHANGES_REQUESTED: "changes_requested",
	geocommunsv1.ReviewState_REVIEW_STATE_REJECTED:          "rejected",
	geocommunsv1.ReviewState_REVIEW_STATE_MERGED:            "merged",
	geocommunsv1.ReviewState_REVIEW_STATE_CONFLICTED:        "conflicted",
}

func flatChangeset(c *geocommunsv1.Changeset) flatCS {
	f := flatCS{ID: c.GetId(), CreatedAt: c.GetCreatedAt().AsTime(), Open: c.GetOpen(), User: c.GetUser(), UID: c.GetUid(),
		ChangesCount: c.GetChangesCount(), ReviewState: reviewStateNames[c.GetReviewState()]}
	if !c.GetOpen() {
		f.ClosedAt = c.GetClosedAt().AsTime()
	}
	if b := c.GetBbox(); b != nil {
		f.HasBox, f.MinLat, f.MinLon, f.MaxLat, f.MaxLon = true, b.GetMinLatE7(), b.GetMinLonE7(), b.GetMaxLatE7(), b.GetMaxLonE7()
	}
	for _, t := range c.GetTags() {
		f.Tags = append(f.Tags, [2]string{t.GetKey(), t.GetValue()})
	}
	return f
}

// changesetXML reads GET /api/0.6/changeset/ID with encoding/xml.
func changesetXML(t *testing.T, base string, id int64) flatCS {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/api/0.6/changeset/%d", base, id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/0.6/changeset/%d: %d %s", id, resp.StatusCode, body)
	}
	var doc struct {
		Changeset struct {
			ID           int64   `xml:"id,attr"`
			CreatedAt    string  `xml:"created_at,attr"`
			ClosedAt     string  `xml:"closed_at,attr"`
			Open         bool    `xml:"open,attr"`
			User         string  `xml:"user,attr"`
			UID          int64   `xml:"uid,attr"`
			MinLat       *string `xml:"min_lat,attr"`
			MinLon       string  `xml:"min_lon,attr"`
			MaxLat       string  `xml:"max_lat,attr"`
			MaxLon       string  `xml:"max_lon,attr"`
			ChangesCount int64   `xml:"changes_count,attr"`
			ReviewState  string  `xml:"review_state,attr"`
			Tags         []struct {
				K string `xml:"k,attr"`
				V string `xml:"v,attr"`
			} `xml:"tag"`
		} `xml:"changeset"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	x := doc.Changeset
	f := flatCS{ID: x.ID, Open: x.Open, User: x.User, UID: x.UID, ChangesCount: x.ChangesCount, ReviewState: x.ReviewState}
	parseTime := func(s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	f.CreatedAt, f.ClosedAt = parseTime(x.CreatedAt), parseTime(x.ClosedAt)
	if x.MinLat != nil {
		f.HasBox = true
		for _, c := range []struct {
			s string
			v *int32
		}{{*x.MinLat, &f.MinLat}, {x.MinLon, &f.MinLon}, {x.MaxLat, &f.MaxLat}, {x.MaxLon, &f.MaxLon}} {
			if *c.v, err = osmdata.ParseFixedCoord(c.s); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tg := range x.Tags {
		f.Tags = append(f.Tags, [2]string{tg.K, tg.V})
	}
	return f
}
