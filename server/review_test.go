package server_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage"
)

// The review end to end, over real HTTP on both backends, with the
// server's merge job running: a contributor's edit of a real OSM extract
// (paulmach/osm's osmgeojson/testdata/benchmark.osm, Oakland) waits for
// review, the reviewers work it over Connect (ReviewService) while the
// discussion runs over the OSM API, and the approved change reaches
// /api/0.6/map.

// The node the contributor edits: traffic signals, version 9 in the
// extract.
const (
	signalsID      = 53018339
	signalsVersion = 9
	signalsLat     = "37.8263696"
	signalsLon     = "-122.2524513"
)

// reviewParty is the dataset's accounts and the server they use.
type reviewParty struct {
	t      *testing.T
	base   string
	tokens map[string]string
	uids   map[string]int64
	review geocommunsv1connect.ReviewServiceClient
}

// serveWithJobs serves store with the background jobs running (Serve,
// not only the handler), so that approvals merge.
func serveWithJobs(t *testing.T, store storage.Store, cfg server.Config) string {
	t.Helper()
	logs := &lockedBuffer{}
	srv := server.New(cfg, store, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
		if t.Failed() {
			t.Logf("server warnings and errors:\n%s", logs)
		}
	})
	return "http://" + ln.Addr().String()
}

func newReviewParty(t *testing.T, store storage.Store, base string, accounts map[string]auth.Role) *reviewParty {
	t.Helper()
	p := &reviewParty{t: t, base: base, tokens: map[string]string{}, uids: map[string]int64{},
		review: geocommunsv1connect.NewReviewServiceClient(http.DefaultClient, base)}
	for name, role := range accounts {
		acc, token, err := auth.AddUser(context.Background(), store, auth.NewUser{Name: name, Role: role})
		if err != nil {
			t.Fatalf("add %s: %v", name, err)
		}
		p.tokens[name], p.uids[name] = token, acc.ID
	}
	return p
}

// osm makes an OSM API call as who ("" for anonymous).
func (p *reviewParty) osm(who, method, path, contentType, body string) (int, string) {
	p.t.Helper()
	req, err := http.NewRequest(method, p.base+path, strings.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+p.tokens[who])
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

// submit opens a changeset for who, uploads osc (%d: the changeset id)
// and closes it, as an OSM editor does.
func (p *reviewParty) submit(who, comment, osc string) int64 {
	p.t.Helper()
	status, body := p.osm(who, http.MethodPut, "/api/0.6/changeset/create", "text/xml",
		`<osm><changeset><tag k="comment" v="`+comment+`"/></changeset></osm>`)
	if status != http.StatusOK {
		p.t.Fatalf("create changeset: %d %s", status, body)
	}
	id, err := strconv.ParseInt(body, 10, 64)
	if err != nil {
		p.t.Fatalf("create changeset answered %q", body)
	}
	if status, body := p.osm(who, http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/upload", id), "text/xml",
		strings.ReplaceAll(osc, "%d", strconv.FormatInt(id, 10))); status != http.StatusOK {
		p.t.Fatalf("upload to changeset %d: %d %s", id, status, body)
	}
	if status, body := p.osm(who, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", id), "", ""); status != http.StatusOK {
		p.t.Fatalf("close changeset %d: %d %s", id, status, body)
	}
	return id
}

// waitForGate waits until the server's policy (the Gate) has looked at
// changeset id: validated it and recorded the scopes it needs, which a
// reviewer's decision counts against. The merge job runs it after the
// submission commits, not within it.
func (p *reviewParty) waitForGate(id int64) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := p.review.GetReview(context.Background(), as(p, "", &geocommunsv1.GetReviewRequest{ChangesetId: id}))
		if err != nil {
			p.t.Fatalf("GetReview %d: %v", id, err)
		}
		if d.Msg.GetValidatedAt() != nil && len(d.Msg.GetScopes()) > 0 {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("changeset %d was not validated within 20 s: %v", id, d.Msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// as is a Connect request with who's credentials ("" for none).
func as[T any](p *reviewParty, who string, msg *T) *connect.Request[T] {
	req := connect.NewRequest(msg)
	if who != "" {
		req.Header().Set("Authorization", "Bearer "+p.tokens[who])
	}
	return req
}

func wantReviewCode(t *testing.T, what string, err error, code connect.Code) {
	t.Helper()
	if connect.CodeOf(err) != code {
		t.Errorf("%s: %v, want %v", what, err, code)
	}
}

// changesetAttrs reads GET /api/0.6/changeset/ID's attributes.
type changesetAttrs struct {
	Changeset struct {
		Open          bool   `xml:"open,attr"`
		ReviewState   string `xml:"review_state,attr"`
		CommentsCount int    `xml:"comments_count,attr"`
		Discussion    []struct {
			UID  int64  `xml:"uid,attr"`
			User string `xml:"user,attr"`
			Text string `xml:"text"`
		} `xml:"discussion>comment"`
	} `xml:"changeset"`
}

func (p *reviewParty) changeset(id int64, query string) changesetAttrs {
	p.t.Helper()
	status, body := p.osm("", http.MethodGet, fmt.Sprintf("/api/0.6/changeset/%d%s", id, query), "", "")
	var doc changesetAttrs
	if err := xml.Unmarshal([]byte(body), &doc); status != http.StatusOK || err != nil {
		p.t.Fatalf("changeset %d: %d %s (%v)", id, status, body, err)
	}
	return doc
}

// signalsOnMap returns the traffic signals' tags as an anonymous reader
// of /api/0.6/map sees them.
func (p *reviewParty) signalsOnMap() map[string]string {
	p.t.Helper()
	status, body := p.osm("", http.MethodGet, "/api/0.6/map.json?bbox=-122.2526,37.8262,-122.2523,37.8265", "", "")
	var doc struct {
		Elements []struct {
			Type string            `json:"type"`
			ID   int64             `json:"id"`
			Tags map[string]string `json:"tags"`
		} `json:"elements"`
	}
	if err := json.Unmarshal([]byte(body), &doc); status != http.StatusOK || err != nil {
		p.t.Fatalf("map: %d %s (%v)", status, body, err)
	}
	for _, e := range doc.Elements {
		if e.Type == "node" && e.ID == signalsID {
			return e.Tags
		}
	}
	p.t.Fatalf("the traffic signals are not on the map: %s", body)
	return nil
}

func importBenchmark(t *testing.T, store storage.Store) {
	t.Helper()
	dir, err := osmfile.ModuleDir()
	if err != nil {
		t.Fatal(err)
	}
	f, err := osmfile.Open(filepath.Join(dir, "osmgeojson/testdata/benchmark.osm"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := store.Import(context.Background(), f); err != nil {
		t.Fatalf("import the extract: %v", err)
	}
}

func TestReviewEndToEnd(t *testing.T) {
	for _, d := range datasets {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			store := d.new(t).open(t)
			importBenchmark(t, store)
			base := serveWithJobs(t, store, server.Config{MergePoll: 200 * time.Millisecond, Review: review.DefaultConfig()})
			p := newReviewParty(t, store, base, map[string]auth.Role{
				"alice": auth.RoleContributor, "carl": auth.RoleContributor, "dana": auth.RoleContributor,
				"rita": auth.RoleReviewer, "rob": auth.RoleReviewer,
			})
			testReviewEndToEnd(t, p)
		})
	}
}

func testReviewEndToEnd(t *testing.T, p *reviewParty) {
	ctx := context.Background()
	// alice, a contributor nobody trusts yet, marks the crossing at the
	// signals.
	edit := p.submit("alice", "crossing at the signals", `<osmChange version="0.6"><modify>
		<node id="53018339" version="9" changeset="%d" lat="`+signalsLat+`" lon="`+signalsLon+`">
			<tag k="highway" v="traffic_signals"/><tag k="crossing" v="marked"/>
		</node></modify></osmChange>`)
	p.waitForGate(edit)
	if cs := p.changeset(edit, ""); cs.Changeset.Open || cs.Changeset.ReviewState != "submitted" {
		t.Fatalf("closed changeset %d: open=%v review_state=%q, want closed and submitted", edit, cs.Changeset.Open, cs.Changeset.ReviewState)
	}
	if tags := p.signalsOnMap(); tags["crossing"] != "" {
		t.Fatalf("the unreviewed edit is on the map for others: %v", tags)
	}

	// Only reviewers see the queue.
	_, err := p.review.ListQueue(ctx, as(p, "", &geocommunsv1.ListQueueRequest{}))
	wantReviewCode(t, "anonymous ListQueue", err, connect.CodeUnauthenticated)
	_, err = p.review.ListQueue(ctx, as(p, "carl", &geocommunsv1.ListQueueRequest{}))
	wantReviewCode(t, "a contributor's ListQueue", err, connect.CodePermissionDenied)
	queue, err := p.review.ListQueue(ctx, as(p, "rita", &geocommunsv1.ListQueueRequest{}))
	if err != nil {
		t.Fatalf("rita's ListQueue: %v", err)
	}
	if !slices.ContainsFunc(queue.Msg.GetItems(), func(it *geocommunsv1.QueueItem) bool {
		return it.GetChangeset().GetId() == edit && it.GetChangeset().GetUid() == p.uids["alice"] &&
			it.GetChangeset().GetReviewState() == geocommunsv1.ReviewState_REVIEW_STATE_SUBMITTED
	}) {
		t.Fatalf("rita's queue lacks alice's changeset %d: %v", edit, queue.Msg)
	}

	// What the reviewer looks at: the node before and after.
	detail, err := p.review.GetReview(ctx, as(p, "", &geocommunsv1.GetReviewRequest{ChangesetId: edit}))
	if err != nil {
		t.Fatalf("GetReview: %v", err)
	}
	if els := detail.Msg.GetElements(); len(els) != 1 {
		t.Fatalf("GetReview elements: %v, want the one node", els)
	} else {
		el := els[0]
		tagsOf := func(e *geocommunsv1.Element) []string {
			var out []string
			for _, tg := range e.GetTags() {
				out = append(out, tg.GetKey()+"="+tg.GetValue())
			}
			return out
		}
		if el.GetAction() != geocommunsv1.Action_ACTION_MODIFY || el.GetOld().GetId() != signalsID ||
			el.GetOld().GetVersion() != signalsVersion || el.GetCurrent().GetVersion() != signalsVersion ||
			!slices.Equal(tagsOf(el.GetOld()), []string{"highway=traffic_signals"}) ||
			!slices.Equal(tagsOf(el.GetNew()), []string{"highway=traffic_signals", "crossing=marked"}) {
			t.Errorf("GetReview element: %v, want a modify of node %d v%d adding crossing=marked", el, signalsID, signalsVersion)
		}
	}
	if cs := detail.Msg.GetChangeset(); cs.GetId() != edit || cs.GetUid() != p.uids["alice"] {
		t.Errorf("GetReview changeset: %v", cs)
	}

	// The discussion: carl over the OSM API, rita over Connect.
	carlSays, ritaSays := "Is it a zebra crossing?", "The survey photo shows zebra stripes."
	if status, body := p.osm("carl", http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/comment", edit),
		"application/x-www-form-urlencoded", url.Values{"text": {carlSays}}.Encode()); status != http.StatusOK {
		t.Fatalf("carl's comment: %d %s", status, body)
	}
	said, err := p.review.Comment(ctx, as(p, "rita", &geocommunsv1.CommentRequest{ChangesetId: edit, Text: ritaSays}))
	if err != nil {
		t.Fatalf("rita's comment: %v", err)
	}
	if ev := said.Msg.GetEvent(); ev.GetKind() != "commented" || ev.GetActorUid() != p.uids["rita"] || ev.GetComment() != ritaSays {
		t.Errorf("Comment answered %v", ev)
	}
	_, err = p.review.Comment(ctx, as(p, "", &geocommunsv1.CommentRequest{ChangesetId: edit, Text: "anonymous"}))
	wantReviewCode(t, "anonymous Comment", err, connect.CodeUnauthenticated)
	cs := p.changeset(edit, "?include_discussion=true")
	var texts []string
	for _, c := range cs.Changeset.Discussion {
		texts = append(texts, c.User+": "+c.Text)
	}
	if want := []string{"carl: " + carlSays, "rita: " + ritaSays}; !slices.Equal(texts, want) || cs.Changeset.CommentsCount != 2 {
		t.Errorf("discussion %q, comments_count %d; want %q, 2", texts, cs.Changeset.CommentsCount, want)
	}

	// dana subscribes, twice.
	subscribe := fmt.Sprintf("/api/0.6/changeset/%d/subscribe", edit)
	if status, body := p.osm("dana", http.MethodPost, subscribe, "", ""); status != http.StatusOK {
		t.Errorf("dana subscribes: %d %s", status, body)
	}
	already := fmt.Sprintf(editing.Golden[editing.ErrAlreadySubscribed].Text, edit)
	if status, body := p.osm("dana", http.MethodPost, subscribe, "", ""); status != http.StatusConflict || body != already {
		t.Errorf("dana subscribes again: %d %q, want 409 %q", status, body, already)
	}

	// Nobody reviews their own changeset: rob, a reviewer, edits too.
	own := p.submit("rob", "a bench", `<osmChange version="0.6"><create>
		<node id="-1" changeset="%d" lat="37.8250000" lon="-122.2530000"><tag k="amenity" v="bench"/></node>
	</create></osmChange>`)
	p.waitForGate(own)
	_, err = p.review.Approve(ctx, as(p, "rob", &geocommunsv1.ApproveRequest{ChangesetId: own}))
	wantReviewCode(t, "rob approving his own changeset", err, connect.CodePermissionDenied)
	var cerr *connect.Error
	if errors.As(err, &cerr) && (!strings.Contains(cerr.Message(), "own changeset") || !strings.Contains(cerr.Message(), strconv.FormatInt(own, 10))) {
		t.Errorf("self-review refused with %q, want the store's self-review refusal naming changeset %d", cerr.Message(), own)
	}
	_, err = p.review.Reject(ctx, as(p, "rita", &geocommunsv1.RejectRequest{ChangesetId: own}))
	wantReviewCode(t, "reject without a comment", err, connect.CodeInvalidArgument)
	asked, err := p.review.RequestChanges(ctx, as(p, "rita", &geocommunsv1.RequestChangesRequest{ChangesetId: own, Comment: "Is the bench on private land?"}))
	if err != nil {
		t.Fatalf("rita requests changes: %v", err)
	}
	if c := asked.Msg.GetChangeset(); !c.GetOpen() || c.GetReviewState() != geocommunsv1.ReviewState_REVIEW_STATE_CHANGES_REQUESTED {
		t.Errorf("RequestChanges answered %v, want the changeset open again, changes_requested", c)
	}
	if cs := p.changeset(own, ""); !cs.Changeset.Open || cs.Changeset.ReviewState != "changes_requested" {
		t.Errorf("changeset %d after changes were requested: open=%v review_state=%q, want open=\"true\" review_state=\"changes_requested\"",
			own, cs.Changeset.Open, cs.Changeset.ReviewState)
	}

	// A changeset open again cannot be approved until it is resubmitted.
	_, err = p.review.Approve(ctx, as(p, "rita", &geocommunsv1.ApproveRequest{ChangesetId: own}))
	wantReviewCode(t, "approving a changeset reopened for changes", err, connect.CodeFailedPrecondition)

	// rita takes alice's edit; the queue filters find it.
	assigned, err := p.review.Assign(ctx, as(p, "rita", &geocommunsv1.AssignRequest{ChangesetId: edit}))
	if err != nil {
		t.Fatalf("rita takes changeset %d: %v", edit, err)
	}
	if ev := assigned.Msg.GetEvent(); ev.GetKind() != "assigned" || ev.GetActorUid() != p.uids["rita"] {
		t.Errorf("Assign answered %v", ev)
	}
	_, err = p.review.Assign(ctx, as(p, "carl", &geocommunsv1.AssignRequest{ChangesetId: edit}))
	wantReviewCode(t, "a contributor taking a changeset", err, connect.CodePermissionDenied)
	for name, filter := range map[string]*geocommunsv1.ListQueueRequest{
		"only mine":   {OnlyMine: true},
		"by alice":    {ContributorUid: p.uids["alice"]},
		"in the bbox": {Bbox: &geocommunsv1.BoundingBox{MinLatE7: 378260000, MinLonE7: -1222530000, MaxLatE7: 378270000, MaxLonE7: -1222520000}},
		"tagged":      {TagKey: "crossing", TagValue: "marked"},
	} {
		q, err := p.review.ListQueue(ctx, as(p, "rita", filter))
		if err != nil {
			t.Errorf("ListQueue %s: %v", name, err)
			continue
		}
		var ids []int64
		for _, it := range q.Msg.GetItems() {
			ids = append(ids, it.GetChangeset().GetId())
			if it.GetChangeset().GetId() == edit && it.GetAssignee() != p.uids["rita"] {
				t.Errorf("ListQueue %s: changeset %d assigned to %d, want rita (%d)", name, edit, it.GetAssignee(), p.uids["rita"])
			}
		}
		if !slices.Contains(ids, edit) {
			t.Errorf("ListQueue %s: %v, want alice's changeset %d", name, ids, edit)
		}
	}
	for name, filter := range map[string]*geocommunsv1.ListQueueRequest{
		"by carl":      {ContributorUid: p.uids["carl"]},
		"elsewhere":    {Bbox: &geocommunsv1.BoundingBox{MinLatE7: 420000000, MinLonE7: 15000000, MaxLatE7: 421000000, MaxLonE7: 16000000}},
		"rejected":     {States: []geocommunsv1.ReviewState{geocommunsv1.ReviewState_REVIEW_STATE_REJECTED}},
		"another tag":  {TagKey: "crossing", TagValue: "uncontrolled"},
		"high risk":    {MinRisk: 1000},
		"before today": {SubmittedBefore: timestamppb.New(time.Now().Add(-24 * time.Hour))},
	} {
		q, err := p.review.ListQueue(ctx, as(p, "rita", filter))
		if err != nil || slices.ContainsFunc(q.Msg.GetItems(), func(it *geocommunsv1.QueueItem) bool { return it.GetChangeset().GetId() == edit }) {
			t.Errorf("ListQueue %s: %v (%v), want alice's changeset %d left out", name, q, err, edit)
		}
	}
	_, err = p.review.ListQueue(ctx, as(p, "rita", &geocommunsv1.ListQueueRequest{Bbox: &geocommunsv1.BoundingBox{MinLatE7: 1, MaxLatE7: 0}}))
	wantReviewCode(t, "ListQueue with an inverted bbox", err, connect.CodeInvalidArgument)

	// rita approves alice's edit: it merges and everyone sees it.
	approved, err := p.review.Approve(ctx, as(p, "rita", &geocommunsv1.ApproveRequest{ChangesetId: edit, Comment: "Thanks!"}))
	if err != nil {
		t.Fatalf("rita approves: %v", err)
	}
	if st := approved.Msg.GetChangeset().GetReviewState(); st != geocommunsv1.ReviewState_REVIEW_STATE_APPROVED && st != geocommunsv1.ReviewState_REVIEW_STATE_MERGED {
		t.Errorf("Approve answered state %v, want approved", st)
	}
	deadline := time.Now().Add(20 * time.Second)
	for p.signalsOnMap()["crossing"] != "marked" {
		if time.Now().After(deadline) {
			t.Fatalf("the approved edit is not on the map after 20 s; changeset %d is %q", edit, p.changeset(edit, "").Changeset.ReviewState)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The audit log, over the OSM API and Connect alike.
	status, body := p.osm("", http.MethodGet, fmt.Sprintf("/api/0.6/changeset/%d/review_log.json", edit), "", "")
	var log struct {
		ReviewLog []struct {
			Kind string `json:"kind"`
			UID  int64  `json:"uid"`
		} `json:"review_log"`
	}
	if err := json.Unmarshal([]byte(body), &log); status != http.StatusOK || err != nil {
		t.Fatalf("review_log: %d %s (%v)", status, body, err)
	}
	var kinds []string
	for _, ev := range log.ReviewLog {
		kinds = append(kinds, ev.Kind)
	}
	if want := []string{"submitted", "commented", "commented", "assigned", "approved", "merged"}; !slices.Equal(kinds, want) {
		t.Errorf("review log of changeset %d: %v, want %v", edit, kinds, want)
	}
	audit, err := p.review.ListAuditLog(ctx, as(p, "", &geocommunsv1.ListAuditLogRequest{ChangesetId: edit}))
	if err != nil {
		t.Fatalf("ListAuditLog: %v", err)
	}
	var rpcKinds []string
	for _, ev := range audit.Msg.GetEvents() {
		rpcKinds = append(rpcKinds, ev.GetKind())
	}
	if !slices.Equal(rpcKinds, kinds) {
		t.Errorf("ListAuditLog %v, review_log %v: want the same log", rpcKinds, kinds)
	}
	_, err = p.review.ListAuditLog(ctx, as(p, "", &geocommunsv1.ListAuditLogRequest{ChangesetId: 987654321}))
	wantReviewCode(t, "ListAuditLog of an unknown changeset", err, connect.CodeNotFound)

	// alice's next edit: carl cannot withdraw it, alice can, and it is
	// hers to work on again; resubmitted, rita rejects it and the map
	// keeps the merged version.
	next := p.submit("alice", "no crossing after all", `<osmChange version="0.6"><modify>
		<node id="53018339" version="10" changeset="%d" lat="`+signalsLat+`" lon="`+signalsLon+`">
			<tag k="highway" v="traffic_signals"/>
		</node></modify></osmChange>`)
	p.waitForGate(next)
	_, err = p.review.Withdraw(ctx, as(p, "carl", &geocommunsv1.WithdrawRequest{ChangesetId: next}))
	wantReviewCode(t, "carl withdrawing alice's changeset", err, connect.CodePermissionDenied)
	withdrawn, err := p.review.Withdraw(ctx, as(p, "alice", &geocommunsv1.WithdrawRequest{ChangesetId: next}))
	if err != nil {
		t.Fatalf("alice withdraws changeset %d: %v", next, err)
	}
	if c := withdrawn.Msg.GetChangeset(); !c.GetOpen() {
		t.Errorf("Withdraw answered %v, want the changeset open again", c)
	}
	if status, body := p.osm("alice", http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", next), "", ""); status != http.StatusOK {
		t.Fatalf("alice closes changeset %d again: %d %s", next, status, body)
	}
	p.waitForGate(next)
	rejected, err := p.review.Reject(ctx, as(p, "rita", &geocommunsv1.RejectRequest{ChangesetId: next, Comment: "The crossing is there."}))
	if err != nil {
		t.Fatalf("rita rejects changeset %d: %v", next, err)
	}
	if st := rejected.Msg.GetChangeset().GetReviewState(); st != geocommunsv1.ReviewState_REVIEW_STATE_REJECTED {
		t.Errorf("Reject answered state %v", st)
	}
	if tags := p.signalsOnMap(); tags["crossing"] != "marked" {
		t.Errorf("after a rejection the map shows %v, want the merged crossing=marked", tags)
	}
	if d := p.changeset(next, "?include_discussion=true").Changeset.Discussion; len(d) == 0 || d[len(d)-1].Text != "Rejected: The crossing is there." {
		t.Errorf("discussion of the rejected changeset %+v, want the rejection's comment last", d)
	}
}
