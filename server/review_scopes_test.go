package server_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/geocommuns/geocommuns/auth"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/server"
)

// The review with scopes, end to end over real HTTP on both backends: the
// Oakland extract is cut into a west half that wendy reviews whole and an
// east half whose highways eve reviews; fred reviews what neither covers.
// Each changeset below touches real elements of the extract on one side
// or both, so which reviewers it needs follows from the data, as it would
// for a commune's reviewers.

const (
	scopeWest         = "west"
	scopeEastHighways = "east-highways"
)

// extractBounds reads the <bounds> the Oakland extract declares.
func extractBounds(t *testing.T) (minLon, minLat, maxLon, maxLat float64) {
	t.Helper()
	dir, err := osmfile.ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "osmgeojson/testdata/benchmark.osm"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := xml.NewDecoder(f)
	for {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("the extract declares no <bounds>: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "bounds" {
			var b struct {
				MinLat float64 `xml:"minlat,attr"`
				MinLon float64 `xml:"minlon,attr"`
				MaxLat float64 `xml:"maxlat,attr"`
				MaxLon float64 `xml:"maxlon,attr"`
			}
			if err := dec.DecodeElement(&b, &se); err != nil {
				t.Fatalf("bounds: %v", err)
			}
			return b.MinLon, b.MinLat, b.MaxLon, b.MaxLat
		}
	}
}

// scopesConfig writes the review configuration of the two halves to a
// temporary directory and loads it as serve --review-config does.
func scopesConfig(t *testing.T) *review.Config {
	t.Helper()
	minLon, minLat, maxLon, maxLat := extractBounds(t)
	mid := (minLon + maxLon) / 2
	dir := t.TempDir()
	polygon := func(name string, west, east float64) {
		ring := [][2]float64{{west, minLat}, {east, minLat}, {east, maxLat}, {west, maxLat}, {west, minLat}}
		doc, err := json.Marshal(map[string]any{"type": "Feature", "properties": map[string]any{"name": name},
			"geometry": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".geojson"), doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	polygon("west", minLon, mid)
	polygon("east", mid, maxLon)
	file := filepath.Join(dir, "review.yaml")
	if err := os.WriteFile(file, []byte(`policy:
  approvals_required: 1
  auto_approve_despite: [new_contributor, no_source]
scopes:
  - name: `+scopeWest+`
    reviewers: [wendy]
    area: west.geojson
  - name: `+scopeEastHighways+`
    reviewers: [eve]
    area: east.geojson
    tags: [highway]
fallback_reviewers: [fred]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := review.LoadConfig(file)
	if err != nil {
		t.Fatalf("load the scopes configuration: %v", err)
	}
	return c
}

func TestReviewScopesEndToEnd(t *testing.T) {
	for _, d := range datasets {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			store := d.new(t).open(t)
			importBenchmark(t, store)
			base := serveWithJobs(t, store, server.Config{MergePoll: 200 * time.Millisecond, Review: scopesConfig(t)})
			p := newReviewParty(t, store, base, map[string]auth.Role{
				"alice": auth.RoleContributor,
				"wendy": auth.RoleReviewer, "eve": auth.RoleReviewer, "fred": auth.RoleReviewer,
			})
			// tom is trusted by an admin.
			acc, token, err := auth.AddUser(context.Background(), store, auth.NewUser{Name: "tom", Role: auth.RoleContributor, Trusted: true})
			if err != nil {
				t.Fatalf("add tom: %v", err)
			}
			p.tokens["tom"], p.uids["tom"] = token, acc.ID
			testScopesAcrossHalves(t, p)
			testScopeRefusalAndReject(t, p)
			testFallbackScope(t, p)
			testTrustedAutoApproval(t, p)
			testRequestChangesAcrossScopes(t, p)
		})
	}
}

// mappedNode is what /api/0.6/map.json says of a node.
type mappedNode struct {
	Version int               `json:"version"`
	Tags    map[string]string `json:"tags"`
}

// mapNode is node id as an anonymous reader of /api/0.6/map sees it
// around its position; false when the map lacks it.
func (p *reviewParty) mapNode(id int64, lat, lon float64) (mappedNode, bool) {
	p.t.Helper()
	status, body := p.osm("", http.MethodGet, fmt.Sprintf("/api/0.6/map.json?bbox=%.7f,%.7f,%.7f,%.7f",
		lon-0.0002, lat-0.0002, lon+0.0002, lat+0.0002), "", "")
	var doc struct {
		Elements []struct {
			Type string `json:"type"`
			ID   int64  `json:"id"`
			mappedNode
		} `json:"elements"`
	}
	if err := json.Unmarshal([]byte(body), &doc); status != http.StatusOK || err != nil {
		p.t.Fatalf("map around node %d: %d %s (%v)", id, status, body, err)
	}
	for _, e := range doc.Elements {
		if e.Type == "node" && e.ID == id {
			return e.mappedNode, true
		}
	}
	return mappedNode{}, false
}

// waitReviewState waits for changeset id to reach state, as its
// changeset document says.
func (p *reviewParty) waitReviewState(id int64, state string) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := p.changeset(id, "").Changeset.ReviewState
		if got == state {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("changeset %d is %q after 30 s, want %q", id, got, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scopesOf shows a review's scopes as "scope:approver" ("" when open).
func (p *reviewParty) scopesOf(id int64) []string {
	p.t.Helper()
	d, err := p.review.GetReview(context.Background(), as(p, "", &geocommunsv1.GetReviewRequest{ChangesetId: id}))
	if err != nil {
		p.t.Fatalf("GetReview %d: %v", id, err)
	}
	return p.describeScopes(d.Msg.GetScopes())
}

func (p *reviewParty) describeScopes(scopes []*geocommunsv1.ScopeApproval) []string {
	var out []string
	for _, sc := range scopes {
		out = append(out, sc.GetScope()+":"+p.nameOf(sc.GetApprovedBy()))
	}
	return out
}

// nameOf is the account name of uid ("" for nobody, "system" for 0 in a
// log).
func (p *reviewParty) nameOf(uid int64) string {
	for name, id := range p.uids {
		if id == uid {
			return name
		}
	}
	if uid == 0 {
		return ""
	}
	return "uid " + strconv.FormatInt(uid, 10)
}

// auditLog is changeset id's review log as "kind by actor (scope)", read
// over the OSM API; ListAuditLog must answer the same.
func (p *reviewParty) auditLog(id int64) []string {
	p.t.Helper()
	status, body := p.osm("", http.MethodGet, fmt.Sprintf("/api/0.6/changeset/%d/review_log.json", id), "", "")
	var doc struct {
		ReviewLog []struct {
			Seq   int64  `json:"seq"`
			Kind  string `json:"kind"`
			UID   int64  `json:"uid"`
			Scope string `json:"scope"`
		} `json:"review_log"`
	}
	if err := json.Unmarshal([]byte(body), &doc); status != http.StatusOK || err != nil {
		p.t.Fatalf("review_log of %d: %d %s (%v)", id, status, body, err)
	}
	describe := func(kind string, uid int64, scope string) string {
		s := kind
		if who := p.nameOf(uid); who != "" {
			s += " by " + who
		}
		if scope != "" {
			s += " (" + scope + ")"
		}
		return s
	}
	var out []string
	var lastSeq int64
	for _, ev := range doc.ReviewLog {
		if ev.Seq <= lastSeq {
			p.t.Errorf("review_log of %d: seq %d after %d, want increasing", id, ev.Seq, lastSeq)
		}
		lastSeq = ev.Seq
		out = append(out, describe(ev.Kind, ev.UID, ev.Scope))
	}
	rpc, err := p.review.ListAuditLog(context.Background(), as(p, "", &geocommunsv1.ListAuditLogRequest{ChangesetId: id}))
	if err != nil {
		p.t.Fatalf("ListAuditLog %d: %v", id, err)
	}
	var rpcOut []string
	for _, ev := range rpc.Msg.GetEvents() {
		rpcOut = append(rpcOut, describe(ev.GetKind(), ev.GetActorUid(), ev.GetScope()))
	}
	if !slices.Equal(rpcOut, out) {
		p.t.Errorf("changeset %d: ListAuditLog %q, review_log %q: want the same log", id, rpcOut, out)
	}
	return out
}

// approve approves changeset id as who and returns the state it is in.
func (p *reviewParty) approve(who string, id int64) geocommunsv1.ReviewState {
	p.t.Helper()
	res, err := p.review.Approve(context.Background(), as(p, who, &geocommunsv1.ApproveRequest{ChangesetId: id}))
	if err != nil {
		p.t.Fatalf("%s approves changeset %d: %v", who, id, err)
	}
	return res.Msg.GetChangeset().GetReviewState()
}

// Elements of the extract, on either side of the middle longitude.
const (
	// East, highway: the traffic signals (signalsID) and a crossing.
	eastCrossingID  = 2192253661
	eastCrossingLat = 37.8264362
	eastCrossingLon = -122.2523635
	// West: the bank, a crossing and a restaurant.
	bankID            = 248744930
	bankLat, bankLon  = 37.8256884, -122.2537429
	westCrossingID    = 2932394305
	westCrossingLat   = 37.8239657
	westCrossingLon   = -122.2556201
	commisID          = 1205010830
	commisLat         = 37.8246100
	commisLon         = -122.2550330
	eastBarID         = 1086779706 // east, no highway tag: nobody's scope
	eastBarLat        = 37.8270696
	eastBarLon        = -122.2512140
	eastBenchID       = 4358129504
	eastBenchLat      = 37.8266639
	eastBenchLon      = -122.2529755
	eastHydrantID     = 4358129495
	eastHydrantLat    = 37.8266605
	eastHydrantLon    = -122.2519190
	signalsLatDegrees = 37.8263696
	signalsLonDegrees = -122.2524513
)

// testScopesAcrossHalves: alice's changeset touches the signals (east,
// a highway) and the bank (west); it merges only once wendy and eve have
// both approved.
func testScopesAcrossHalves(t *testing.T, p *reviewParty) {
	both := p.submit("alice", "crossing and cash machine", `<osmChange version="0.6"><modify>
		<node id="53018339" version="9" changeset="%d" lat="`+signalsLat+`" lon="`+signalsLon+`">
			<tag k="highway" v="traffic_signals"/><tag k="crossing" v="marked"/>
		</node>
		<node id="248744930" version="3" changeset="%d" lat="37.8256884" lon="-122.2537429">
			<tag k="amenity" v="bank"/><tag k="name" v="Wells Fargo"/><tag k="atm" v="yes"/>
		</node></modify></osmChange>`)
	p.waitForGate(both)
	if got, want := p.scopesOf(both), []string{scopeEastHighways + ":", scopeWest + ":"}; !slices.Equal(got, want) {
		t.Fatalf("scopes of changeset %d across both halves: %q, want %q", both, got, want)
	}

	if st := p.approve("wendy", both); st != geocommunsv1.ReviewState_REVIEW_STATE_SUBMITTED {
		t.Errorf("after wendy's approval of the west alone, Approve answered %v, want still submitted", st)
	}
	if got, want := p.scopesOf(both), []string{scopeEastHighways + ":", scopeWest + ":wendy"}; !slices.Equal(got, want) {
		t.Errorf("scopes after wendy's approval: %q, want %q", got, want)
	}
	// The merge job polls every 200 ms: give it time to do wrong.
	time.Sleep(600 * time.Millisecond)
	if st := p.changeset(both, "").Changeset.ReviewState; st != "submitted" {
		t.Fatalf("changeset %d with one of two scopes approved is %q, want submitted", both, st)
	}
	if n, ok := p.mapNode(signalsID, signalsLatDegrees, signalsLonDegrees); !ok || n.Tags["crossing"] != "" || n.Version != signalsVersion {
		t.Errorf("half approved, others see the signals as %+v (found %v), want v%d without crossing", n, ok, signalsVersion)
	}
	if n, ok := p.mapNode(bankID, bankLat, bankLon); !ok || n.Tags["atm"] != "" {
		t.Errorf("half approved, others see the bank as %+v (found %v), want it without atm", n, ok)
	}

	if st := p.approve("eve", both); st != geocommunsv1.ReviewState_REVIEW_STATE_APPROVED && st != geocommunsv1.ReviewState_REVIEW_STATE_MERGED {
		t.Errorf("after eve's approval, Approve answered %v, want approved", st)
	}
	p.waitReviewState(both, "merged")
	if n, ok := p.mapNode(signalsID, signalsLatDegrees, signalsLonDegrees); !ok || n.Tags["crossing"] != "marked" || n.Version != signalsVersion+1 {
		t.Errorf("merged, the map shows the signals as %+v (found %v), want v%d with crossing=marked", n, ok, signalsVersion+1)
	}
	if n, ok := p.mapNode(bankID, bankLat, bankLon); !ok || n.Tags["atm"] != "yes" || n.Version != 4 {
		t.Errorf("merged, the map shows the bank as %+v (found %v), want v4 with atm=yes", n, ok)
	}
	if got, want := p.auditLog(both), []string{
		"submitted by alice", "approved by wendy (" + scopeWest + ")", "approved by eve (" + scopeEastHighways + ")", "merged",
	}; !slices.Equal(got, want) {
		t.Errorf("audit log of changeset %d: %q, want %q", both, got, want)
	}
}

// testScopeRefusalAndReject: eve cannot decide on a west-only changeset,
// her queue puts east highways first, and wendy's rejection leaves the
// restaurant as it was.
func testScopeRefusalAndReject(t *testing.T, p *reviewParty) {
	ctx := context.Background()
	historyPath := fmt.Sprintf("/api/0.6/node/%d/history", commisID)
	status, historyBefore := p.osm("", http.MethodGet, historyPath, "", "")
	if status != http.StatusOK {
		t.Fatalf("history of node %d: %d %s", commisID, status, historyBefore)
	}
	before, ok := p.mapNode(commisID, commisLat, commisLon)
	if !ok {
		t.Fatalf("node %d is not on the map", commisID)
	}
	west := p.submit("alice", "renamed", `<osmChange version="0.6"><modify>
		<node id="1205010830" version="4" changeset="%d" lat="37.8246100" lon="-122.2550330">
			<tag k="amenity" v="restaurant"/><tag k="name" v="Commis Two"/>
		</node></modify></osmChange>`)
	// An east highway waits beside it, for eve's queue.
	east := p.submit("alice", "button", `<osmChange version="0.6"><modify>
		<node id="2910190064" version="2" changeset="%d" lat="37.8264501" lon="-122.2525455">
			<tag k="crossing" v="traffic_signals"/><tag k="highway" v="crossing"/><tag k="button_operated" v="yes"/>
		</node></modify></osmChange>`)
	p.waitForGate(west)
	p.waitForGate(east)
	if got, want := p.scopesOf(west), []string{scopeWest + ":"}; !slices.Equal(got, want) {
		t.Fatalf("scopes of the west changeset %d: %q, want %q", west, got, want)
	}

	_, err := p.review.Approve(ctx, as(p, "eve", &geocommunsv1.ApproveRequest{ChangesetId: west}))
	wantReviewCode(t, "eve approving a west changeset", err, connect.CodePermissionDenied)
	if cerr := new(connect.Error); err != nil && (!errors.As(err, &cerr) || !strings.Contains(cerr.Message(), "needs the review of "+scopeWest+",")) {
		t.Errorf("eve refused with %q, want the message to name the scope it needs, %s", err, scopeWest)
	}
	_, err = p.review.Reject(ctx, as(p, "eve", &geocommunsv1.RejectRequest{ChangesetId: west, Comment: "no"}))
	wantReviewCode(t, "eve rejecting a west changeset", err, connect.CodePermissionDenied)
	if got := p.scopesOf(west); !slices.Equal(got, []string{scopeWest + ":"}) {
		t.Errorf("after eve's refused decisions the scopes are %q, want west still open", got)
	}

	queue, err := p.review.ListQueue(ctx, as(p, "eve", &geocommunsv1.ListQueueRequest{}))
	if err != nil {
		t.Fatalf("eve's ListQueue: %v", err)
	}
	var order []int64
	lastMine := -1
	firstOther := len(queue.Msg.GetItems())
	for i, it := range queue.Msg.GetItems() {
		order = append(order, it.GetChangeset().GetId())
		mine := slices.ContainsFunc(it.GetScopes(), func(sc *geocommunsv1.ScopeApproval) bool {
			return sc.GetScope() == scopeEastHighways && sc.GetApprovedBy() == 0
		})
		if mine {
			lastMine = i
		} else {
			firstOther = min(firstOther, i)
		}
	}
	if !slices.Contains(order, east) || !slices.Contains(order, west) || lastMine > firstOther {
		t.Errorf("eve's queue %v: want her east highway changeset %d before the west one %d, and every changeset needing %s before the rest",
			order, east, west, scopeEastHighways)
	}
	if i, j := slices.Index(order, east), slices.Index(order, west); i > j {
		t.Errorf("eve's queue %v lists the west changeset %d before her own scope's %d", order, west, east)
	}
	if st := p.approve("eve", east); st != geocommunsv1.ReviewState_REVIEW_STATE_APPROVED && st != geocommunsv1.ReviewState_REVIEW_STATE_MERGED {
		t.Errorf("eve approving her own scope's changeset %d: %v", east, st)
	}

	rejected, err := p.review.Reject(ctx, as(p, "wendy", &geocommunsv1.RejectRequest{ChangesetId: west, Comment: "Commis kept its name."}))
	if err != nil {
		t.Fatalf("wendy rejects changeset %d: %v", west, err)
	}
	if st := rejected.Msg.GetChangeset().GetReviewState(); st != geocommunsv1.ReviewState_REVIEW_STATE_REJECTED {
		t.Errorf("Reject answered %v", st)
	}
	p.waitReviewState(east, "merged")
	after, ok := p.mapNode(commisID, commisLat, commisLon)
	if !ok || after.Version != before.Version || after.Tags["name"] != before.Tags["name"] || len(after.Tags) != len(before.Tags) {
		t.Errorf("after the rejection the map shows node %d as %+v (found %v), want it as before: %+v", commisID, after, ok, before)
	}
	if status, historyAfter := p.osm("", http.MethodGet, historyPath, "", ""); status != http.StatusOK || historyAfter != historyBefore {
		t.Errorf("history of node %d after the rejection: %d\n%s\nwant as before:\n%s", commisID, status, historyAfter, historyBefore)
	}
	if got, want := p.auditLog(west), []string{"submitted by alice", "rejected by wendy (" + scopeWest + ")"}; !slices.Equal(got, want) {
		t.Errorf("audit log of the rejected changeset %d: %q, want %q", west, got, want)
	}
}

// testFallbackScope: a bar in the east half is no highway, so no scope
// covers it and fred, the fallback reviewer, decides.
func testFallbackScope(t *testing.T, p *reviewParty) {
	ctx := context.Background()
	bar := p.submit("alice", "seats outside", `<osmChange version="0.6"><modify>
		<node id="1086779706" version="2" changeset="%d" lat="37.8270696" lon="-122.2512140">
			<tag k="amenity" v="restaurant"/><tag k="cuisine" v="american"/><tag k="name" v="Park Avenue Bar &amp; Grill"/><tag k="outdoor_seating" v="yes"/>
		</node></modify></osmChange>`)
	p.waitForGate(bar)
	if got, want := p.scopesOf(bar), []string{review.FallbackScope + ":"}; !slices.Equal(got, want) {
		t.Fatalf("scopes of the uncovered changeset %d: %q, want %q", bar, got, want)
	}
	for _, who := range []string{"wendy", "eve"} {
		_, err := p.review.Approve(ctx, as(p, who, &geocommunsv1.ApproveRequest{ChangesetId: bar}))
		wantReviewCode(t, who+" approving the fallback's changeset", err, connect.CodePermissionDenied)
	}
	queue, err := p.review.ListQueue(ctx, as(p, "fred", &geocommunsv1.ListQueueRequest{}))
	if err != nil {
		t.Fatalf("fred's ListQueue: %v", err)
	}
	if items := queue.Msg.GetItems(); len(items) == 0 || items[0].GetChangeset().GetId() != bar ||
		!slices.Equal(p.describeScopes(items[0].GetScopes()), []string{review.FallbackScope + ":"}) {
		t.Fatalf("fred's queue %v: want the uncovered changeset %d first, needing the fallback scope", queue.Msg, bar)
	}
	if st := p.approve("fred", bar); st != geocommunsv1.ReviewState_REVIEW_STATE_APPROVED && st != geocommunsv1.ReviewState_REVIEW_STATE_MERGED {
		t.Errorf("fred's approval answered %v", st)
	}
	p.waitReviewState(bar, "merged")
	if n, ok := p.mapNode(eastBarID, eastBarLat, eastBarLon); !ok || n.Tags["outdoor_seating"] != "yes" || n.Version != 3 {
		t.Errorf("merged, the map shows the bar as %+v (found %v), want v3 with outdoor_seating=yes", n, ok)
	}
	if got, want := p.auditLog(bar), []string{"submitted by alice", "approved by fred (" + review.FallbackScope + ")", "merged"}; !slices.Equal(got, want) {
		t.Errorf("audit log of changeset %d: %q, want %q", bar, got, want)
	}
}

// testTrustedAutoApproval: tom's clean edit merges by itself; his next,
// with deprecated tagging, waits for a reviewer with the finding shown.
func testTrustedAutoApproval(t *testing.T, p *reviewParty) {
	ctx := context.Background()
	clean := p.submit("tom", "bench colour", `<osmChange version="0.6"><modify>
		<node id="4358129504" version="1" changeset="%d" lat="37.8266639" lon="-122.2529755">
			<tag k="amenity" v="bench"/><tag k="backrest" v="yes"/><tag k="colour" v="green"/>
		</node></modify></osmChange>`)
	p.waitReviewState(clean, "merged")
	if n, ok := p.mapNode(eastBenchID, eastBenchLat, eastBenchLon); !ok || n.Tags["colour"] != "green" || n.Version != 2 {
		t.Errorf("tom's clean edit merged, yet the map shows the bench as %+v (found %v), want v2 with colour=green", n, ok)
	}
	if got, want := p.auditLog(clean), []string{"submitted by tom", "approved", "merged"}; !slices.Equal(got, want) {
		t.Errorf("audit log of tom's clean changeset %d: %q, want %q (the policy approving, no reviewer)", clean, got, want)
	}

	warned := p.submit("tom", "hydrant", `<osmChange version="0.6"><modify>
		<node id="4358129495" version="1" changeset="%d" lat="37.8266605" lon="-122.2519190">
			<tag k="amenity" v="fire_hydrant"/>
		</node></modify></osmChange>`)
	p.waitForGate(warned)
	time.Sleep(600 * time.Millisecond)
	detail, err := p.review.GetReview(ctx, as(p, "", &geocommunsv1.GetReviewRequest{ChangesetId: warned}))
	if err != nil {
		t.Fatalf("GetReview %d: %v", warned, err)
	}
	if st := detail.Msg.GetChangeset().GetReviewState(); st != geocommunsv1.ReviewState_REVIEW_STATE_SUBMITTED {
		t.Fatalf("tom's changeset %d with deprecated tagging is %v, want submitted, waiting for a reviewer", warned, st)
	}
	var found bool
	for _, f := range detail.Msg.GetFindings() {
		if f.GetRule() == "deprecated_tag" && f.GetSeverity() == "warning" && strings.Contains(f.GetMessage(), "amenity=fire_hydrant") &&
			slices.ContainsFunc(f.GetElements(), func(e *geocommunsv1.ElementRef) bool {
				return e.GetType() == geocommunsv1.ElementType_ELEMENT_TYPE_NODE && e.GetId() == eastHydrantID
			}) {
			found = true
		}
	}
	if !found {
		t.Errorf("GetReview of changeset %d: findings %v, want a deprecated_tag warning on node %d naming amenity=fire_hydrant", warned, detail.Msg.GetFindings(), eastHydrantID)
	}
	if n, ok := p.mapNode(eastHydrantID, eastHydrantLat, eastHydrantLon); !ok || n.Tags["amenity"] != "" {
		t.Errorf("the waiting edit is on the map for others: %+v (found %v)", n, ok)
	}
	queue, err := p.review.ListQueue(ctx, as(p, "fred", &geocommunsv1.ListQueueRequest{Rule: "deprecated_tag"}))
	if err != nil {
		t.Fatalf("fred's ListQueue: %v", err)
	}
	if !slices.ContainsFunc(queue.Msg.GetItems(), func(it *geocommunsv1.QueueItem) bool { return it.GetChangeset().GetId() == warned }) {
		t.Errorf("fred's queue of deprecated tagging %v lacks tom's changeset %d", queue.Msg, warned)
	}
	if got, want := p.auditLog(warned), []string{"submitted by tom"}; !slices.Equal(got, want) {
		t.Errorf("audit log of tom's waiting changeset %d: %q, want %q", warned, got, want)
	}
}

// testRequestChangesAcrossScopes: eve asks for a fix of alice's east
// crossing after wendy approved the west one; alice's fix to the same
// changeset resubmits it, both approve again, and the fix merges.
func testRequestChangesAcrossScopes(t *testing.T, p *reviewParty) {
	ctx := context.Background()
	cs := p.submit("alice", "crossings", `<osmChange version="0.6"><modify>
		<node id="2932394305" version="1" changeset="%d" lat="37.8239657" lon="-122.2556201">
			<tag k="crossing" v="marked"/><tag k="highway" v="crossing"/>
		</node>
		<node id="2192253661" version="4" changeset="%d" lat="37.8264362" lon="-122.2523635">
			<tag k="crossing" v="traffic_signals"/><tag k="highway" v="crossing"/><tag k="button_operated" v="yes"/>
		</node></modify></osmChange>`)
	p.waitForGate(cs)
	if st := p.approve("wendy", cs); st != geocommunsv1.ReviewState_REVIEW_STATE_SUBMITTED {
		t.Errorf("wendy's approval of the west alone answered %v, want submitted", st)
	}
	asked, err := p.review.RequestChanges(ctx, as(p, "eve", &geocommunsv1.RequestChangesRequest{ChangesetId: cs, Comment: "That crossing has no button."}))
	if err != nil {
		t.Fatalf("eve requests changes: %v", err)
	}
	if c := asked.Msg.GetChangeset(); !c.GetOpen() || c.GetReviewState() != geocommunsv1.ReviewState_REVIEW_STATE_CHANGES_REQUESTED {
		t.Fatalf("RequestChanges answered %v, want the changeset open again, changes_requested", c)
	}
	if doc := p.changeset(cs, ""); !doc.Changeset.Open || doc.Changeset.ReviewState != "changes_requested" {
		t.Fatalf("changeset %d after eve's request: open=%v review_state=%q", cs, doc.Changeset.Open, doc.Changeset.ReviewState)
	}
	before, err := p.review.GetReview(ctx, as(p, "", &geocommunsv1.GetReviewRequest{ChangesetId: cs}))
	if err != nil {
		t.Fatal(err)
	}
	// Validation times are whole seconds: let one pass so that the
	// resubmission's validation is told from the first.
	time.Sleep(time.Until(before.Msg.GetValidatedAt().AsTime().Add(time.Second)))

	// The fix cites the version alice's upload was given (5), as an
	// editor that read the diffResult does.
	if status, body := p.osm("alice", http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/upload", cs), "text/xml",
		fmt.Sprintf(`<osmChange version="0.6"><modify>
		<node id="2192253661" version="5" changeset="%d" lat="37.8264362" lon="-122.2523635">
			<tag k="crossing" v="traffic_signals"/><tag k="highway" v="crossing"/><tag k="button_operated" v="no"/>
		</node></modify></osmChange>`, cs)); status != http.StatusOK {
		t.Fatalf("alice uploads her fix to changeset %d: %d %s", cs, status, body)
	}
	if status, body := p.osm("alice", http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", cs), "", ""); status != http.StatusOK {
		t.Fatalf("alice closes changeset %d again: %d %s", cs, status, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := p.review.GetReview(ctx, as(p, "", &geocommunsv1.GetReviewRequest{ChangesetId: cs}))
		if err != nil {
			t.Fatalf("GetReview %d: %v", cs, err)
		}
		if d.Msg.GetValidatedAt().AsTime().After(before.Msg.GetValidatedAt().AsTime()) {
			if st := d.Msg.GetChangeset().GetReviewState(); st != geocommunsv1.ReviewState_REVIEW_STATE_SUBMITTED {
				t.Fatalf("resubmitted changeset %d is %v, want submitted", cs, st)
			}
			if got, want := p.describeScopes(d.Msg.GetScopes()), []string{scopeEastHighways + ":", scopeWest + ":"}; !slices.Equal(got, want) {
				t.Fatalf("scopes of the resubmitted changeset %d: %q, want %q (wendy's approval of before cleared)", cs, got, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the resubmitted changeset %d was not validated again within 20 s: %v", cs, d.Msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n, ok := p.mapNode(eastCrossingID, eastCrossingLat, eastCrossingLon); !ok || n.Tags["button_operated"] != "" {
		t.Errorf("resubmitted, others see the crossing as %+v (found %v), want it untouched", n, ok)
	}

	if st := p.approve("eve", cs); st != geocommunsv1.ReviewState_REVIEW_STATE_SUBMITTED {
		t.Errorf("eve's approval of the east alone answered %v, want submitted", st)
	}
	p.approve("wendy", cs)
	p.waitReviewState(cs, "merged")
	if n, ok := p.mapNode(eastCrossingID, eastCrossingLat, eastCrossingLon); !ok || n.Tags["button_operated"] != "no" || n.Version != 5 {
		t.Errorf("merged, the map shows the east crossing as %+v (found %v), want v5 with the fix, button_operated=no", n, ok)
	}
	if n, ok := p.mapNode(westCrossingID, westCrossingLat, westCrossingLon); !ok || n.Tags["crossing"] != "marked" || n.Version != 2 {
		t.Errorf("merged, the map shows the west crossing as %+v (found %v), want v2 with crossing=marked", n, ok)
	}
	if got, want := p.auditLog(cs), []string{
		"submitted by alice",
		"approved by wendy (" + scopeWest + ")",
		"changes_requested by eve (" + scopeEastHighways + ")",
		"submitted by alice",
		"approved by eve (" + scopeEastHighways + ")",
		"approved by wendy (" + scopeWest + ")",
		"merged",
	}; !slices.Equal(got, want) {
		t.Errorf("audit log of changeset %d: %q, want %q", cs, got, want)
	}
}

// TestReviewResubmissionForgetsApprovals: approvals given to a changeset
// before the contributor changed it must not count for the resubmitted
// content, not even in the moment between the resubmission and the
// Gate's next look at it. No merge job runs here (the handler alone), so
// that moment lasts: the test plays the merge job's call of the Gate
// itself, with the real Gate.
func TestReviewResubmissionForgetsApprovals(t *testing.T) {
	for _, d := range datasets {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := d.new(t).open(t)
			importBenchmark(t, store)
			cfg := scopesConfig(t)
			base := startServer(t, store, server.Config{Review: cfg}, &lockedBuffer{})
			p := newReviewParty(t, store, base, map[string]auth.Role{
				"alice": auth.RoleContributor, "wendy": auth.RoleReviewer, "eve": auth.RoleReviewer,
			})
			reviewStore, ok := store.(review.Store)
			if !ok {
				t.Fatalf("%T is not a review.Store", store)
			}
			gate, err := review.NewGate(reviewStore, cfg)
			if err != nil {
				t.Fatal(err)
			}
			runGate := func(id int64) {
				t.Helper()
				cs, err := store.Changeset(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				author, err := reviewStore.Account(ctx, cs.UID)
				if err != nil {
					t.Fatal(err)
				}
				if v, err := gate.Decide(ctx, cs, author); err != nil || v.Approve || v.Reject {
					t.Fatalf("the Gate on changeset %d: %+v, %v; want it queued for reviewers", id, v, err)
				}
			}

			cs := p.submit("alice", "crossings", `<osmChange version="0.6"><modify>
				<node id="2932394305" version="1" changeset="%d" lat="37.8239657" lon="-122.2556201">
					<tag k="crossing" v="marked"/><tag k="highway" v="crossing"/>
				</node>
				<node id="2192253661" version="4" changeset="%d" lat="37.8264362" lon="-122.2523635">
					<tag k="crossing" v="traffic_signals"/><tag k="highway" v="crossing"/><tag k="button_operated" v="yes"/>
				</node></modify></osmChange>`)
			runGate(cs)
			if st := p.approve("wendy", cs); st != geocommunsv1.ReviewState_REVIEW_STATE_SUBMITTED {
				t.Fatalf("wendy's approval of the west alone answered %v, want submitted", st)
			}
			if _, err := p.review.RequestChanges(ctx, as(p, "eve", &geocommunsv1.RequestChangesRequest{ChangesetId: cs, Comment: "No button there."})); err != nil {
				t.Fatalf("eve requests changes: %v", err)
			}
			// alice moves the west crossing, which wendy approved where it
			// was, and closes.
			if status, body := p.osm("alice", http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/upload", cs), "text/xml",
				fmt.Sprintf(`<osmChange version="0.6"><modify>
				<node id="2932394305" version="2" changeset="%d" lat="37.8240657" lon="-122.2556201">
					<tag k="crossing" v="marked"/><tag k="highway" v="crossing"/>
				</node></modify></osmChange>`, cs)); status != http.StatusOK {
				t.Fatalf("alice's fix: %d %s", status, body)
			}
			if status, body := p.osm("alice", http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", cs), "", ""); status != http.StatusOK {
				t.Fatalf("alice closes again: %d %s", status, body)
			}
			for _, sc := range p.scopesOf(cs) {
				if !strings.HasSuffix(sc, ":") {
					t.Errorf("resubmitted changeset %d keeps the approval %s given to its earlier content", cs, sc)
				}
			}
			// Until the Gate has validated the new content, nobody decides.
			_, err = p.review.Approve(ctx, as(p, "eve", &geocommunsv1.ApproveRequest{ChangesetId: cs}))
			wantReviewCode(t, "eve approves before the Gate saw the fix", err, connect.CodeFailedPrecondition)
			runGate(cs)
			if st := p.approve("eve", cs); st != geocommunsv1.ReviewState_REVIEW_STATE_SUBMITTED {
				t.Errorf("eve's approval of the east alone made the resubmitted changeset %d %v; wendy has not seen the moved crossing", cs, st)
			}
		})
	}
}
