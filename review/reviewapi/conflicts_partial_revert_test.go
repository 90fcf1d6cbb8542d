package reviewapi_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/geocommuns/geocommuns/auth"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/gen/geocommuns/v1/geocommunsv1connect"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmproto"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// ReviewService's calls of issue 7 (the conflict report, partial accept,
// revert) over real HTTP on both backends, against a whole server with
// its merge job and the review Gate on the defaults, fed by contributors
// editing over the OSM API as their editors do.

type backend struct {
	name string
	open func(t *testing.T) storage.Store
}

var backends = []backend{
	{"sqlite", func(t *testing.T) storage.Store {
		s, err := sqlite.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(t *testing.T) storage.Store { return pgtest.Open(t, pgtest.Config(t)) }},
}

// The café every test starts from: node 1, version 1.
const cafeID = 1

func importCafe(t *testing.T, store storage.Store) {
	t.Helper()
	cafe := osmdata.Element{Type: osmdata.Node, ID: cafeID, Version: 1, Visible: true, Changeset: 1,
		Timestamp: time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC), UID: 1, User: "importer",
		Lat: 425000000, Lon: 15000000,
		Tags: osmdata.Tags{{Key: "amenity", Value: "cafe"}, {Key: "opening_hours", Value: "Mo-Fr 08:00-18:00"}}}
	if _, err := store.Import(context.Background(), &elementList{els: []osmdata.Element{cafe}}); err != nil {
		t.Fatalf("import the café: %v", err)
	}
}

type elementList struct{ els []osmdata.Element }

func (l *elementList) Next() (*osmdata.Element, error) {
	if len(l.els) == 0 {
		return nil, io.EOF
	}
	e := l.els[0]
	l.els = l.els[1:]
	return &e, nil
}

// party is the dataset's accounts and the server they use.
type party struct {
	t      *testing.T
	base   string
	tokens map[string]string
	uids   map[string]int64
	review geocommunsv1connect.ReviewServiceClient
}

// logBuffer keeps the server's warnings for a failing test.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serve runs a server over store with its jobs and the default review
// configuration, and adds the accounts: name → role, a trailing "+" on
// the name marking the account trusted.
func serve(t *testing.T, store storage.Store, accounts map[string]auth.Role) *party {
	t.Helper()
	logs := &logBuffer{}
	srv := server.New(server.Config{MergePoll: 200 * time.Millisecond, Review: review.DefaultConfig()}, store,
		slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
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
	base := "http://" + ln.Addr().String()
	p := &party{t: t, base: base, tokens: map[string]string{}, uids: map[string]int64{},
		review: geocommunsv1connect.NewReviewServiceClient(http.DefaultClient, base)}
	for name, role := range accounts {
		trusted := strings.HasSuffix(name, "+")
		name = strings.TrimSuffix(name, "+")
		acc, token, err := auth.AddUser(context.Background(), store, auth.NewUser{Name: name, Role: role, Trusted: trusted})
		if err != nil {
			t.Fatalf("add %s: %v", name, err)
		}
		p.tokens[name], p.uids[name] = token, acc.ID
	}
	return p
}

// osm makes an OSM API call as who and fails the test unless it answers
// 200.
func (p *party) osm(who, method, path, body string) string {
	p.t.Helper()
	req, err := http.NewRequest(method, p.base+path, strings.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+p.tokens[who])
	req.Header.Set("Content-Type", "text/xml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("%s %s as %s: %d %s", method, path, who, resp.StatusCode, data)
	}
	return string(data)
}

// open opens a changeset for who and uploads osc (%d: its id) to it,
// leaving it open; it returns the changeset and the new ids the upload
// gave, in document order.
func (p *party) open(who, osc string) (int64, []int64) {
	p.t.Helper()
	id, err := strconv.ParseInt(p.osm(who, http.MethodPut, "/api/0.6/changeset/create",
		`<osm><changeset><tag k="comment" v="test edit"/></changeset></osm>`), 10, 64)
	if err != nil {
		p.t.Fatalf("create changeset: %v", err)
	}
	var diff struct {
		Lines []struct {
			NewID int64 `xml:"new_id,attr"`
		} `xml:",any"`
	}
	body := p.osm(who, http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/upload", id), strings.ReplaceAll(osc, "%d", strconv.FormatInt(id, 10)))
	if err := xml.Unmarshal([]byte(body), &diff); err != nil {
		p.t.Fatalf("diffResult %s: %v", body, err)
	}
	var ids []int64
	for _, l := range diff.Lines {
		ids = append(ids, l.NewID)
	}
	return id, ids
}

// close closes changeset id, which submits it.
func (p *party) close(who string, id int64) {
	p.t.Helper()
	p.osm(who, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", id), "")
}

// as is a Connect request with who's credentials ("" for none).
func as[T any](p *party, who string, msg *T) *connect.Request[T] {
	req := connect.NewRequest(msg)
	if who != "" {
		req.Header().Set("Authorization", "Bearer "+p.tokens[who])
	}
	return req
}

// waitFor waits until GetReview of id says done, and returns it.
func (p *party) waitFor(id int64, what string, done func(*geocommunsv1.GetReviewResponse) bool) *geocommunsv1.GetReviewResponse {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := p.review.GetReview(context.Background(), as(p, "", &geocommunsv1.GetReviewRequest{ChangesetId: id}))
		if err != nil {
			p.t.Fatalf("GetReview %d: %v", id, err)
		}
		if done(d.Msg) {
			return d.Msg
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("changeset %d not %s within 30 s: %v", id, what, d.Msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *party) waitState(id int64, state geocommunsv1.ReviewState) *geocommunsv1.GetReviewResponse {
	p.t.Helper()
	return p.waitFor(id, state.String(), func(d *geocommunsv1.GetReviewResponse) bool { return d.GetChangeset().GetReviewState() == state })
}

// waitValidated waits for the Gate to have validated id and recorded
// the scopes a reviewer's decision counts against.
func (p *party) waitValidated(id int64) {
	p.t.Helper()
	p.waitFor(id, "validated", func(d *geocommunsv1.GetReviewResponse) bool {
		return d.GetValidatedAt() != nil && len(d.GetScopes()) > 0
	})
}

func wantCode(t *testing.T, what string, err error, code connect.Code) {
	t.Helper()
	if connect.CodeOf(err) != code {
		t.Errorf("%s: %v, want %v", what, err, code)
	}
}

func refs(els []*geocommunsv1.ElementRef) []string {
	var out []string
	for _, e := range els {
		k, err := osmproto.KeyFromProto(e)
		if err != nil {
			out = append(out, err.Error())
			continue
		}
		out = append(out, k.String())
	}
	return out
}

func tagsOf(e *geocommunsv1.Element) map[string]string {
	out := map[string]string{}
	for _, tg := range e.GetTags() {
		out[tg.GetKey()] = tg.GetValue()
	}
	return out
}

const (
	merged     = geocommunsv1.ReviewState_REVIEW_STATE_MERGED
	conflicted = geocommunsv1.ReviewState_REVIEW_STATE_CONFLICTED
)

// TestGetReviewConflictReport: two trusted contributors set the café's
// opening hours to different values, each citing version 1; the first
// merges, the second is conflicted, and GetReview shows its report: the
// café, edited, versions 1 and 2, the opening_hours field with its three
// values, and the three contents.
func TestGetReviewConflictReport(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			store := b.open(t)
			importCafe(t, store)
			p := serve(t, store, map[string]auth.Role{"cleo+": auth.RoleContributor, "dan+": auth.RoleContributor})
			edit := func(hours string) string {
				return `<osmChange version="0.6"><modify><node id="1" version="1" changeset="%d" lat="42.5" lon="1.5">
					<tag k="amenity" v="cafe"/><tag k="opening_hours" v="` + hours + `"/></node></modify></osmChange>`
			}
			first, _ := p.open("cleo", edit("Mo-Sa 08:00-18:00"))
			second, _ := p.open("dan", edit("Mo-Fr 07:30-19:00"))
			p.close("cleo", first)
			p.waitState(first, merged)
			p.close("dan", second)
			d := p.waitState(second, conflicted)

			if len(d.GetConflicts()) != 1 {
				t.Fatalf("GetReview of conflicted changeset %d: conflicts %v, want one line for the café", second, d.GetConflicts())
			}
			c := d.GetConflicts()[0]
			if got := refs([]*geocommunsv1.ElementRef{c.GetElement()}); !slices.Equal(got, []string{"node 1"}) || c.GetKind() != "edited" ||
				c.GetBaseVersion() != 1 || c.GetCurrentVersion() != 2 || !strings.Contains(c.GetMessage(), "opening_hours") {
				t.Errorf("conflict line: %v, want node 1 edited between versions 1 and 2, its message naming opening_hours", c)
			}
			want := &geocommunsv1.ConflictField{Kind: "tag", Key: "opening_hours",
				Base: "Mo-Fr 08:00-18:00", Current: "Mo-Sa 08:00-18:00", Pending: "Mo-Fr 07:30-19:00"}
			if len(c.GetFields()) != 1 || c.GetFields()[0].String() != want.String() {
				t.Errorf("conflict fields: %v, want %v", c.GetFields(), want)
			}
			for side, e := range map[string]struct {
				el    *geocommunsv1.Element
				hours string
			}{"base": {c.GetBase(), "Mo-Fr 08:00-18:00"}, "current": {c.GetCurrent(), "Mo-Sa 08:00-18:00"}, "pending": {c.GetPending(), "Mo-Fr 07:30-19:00"}} {
				if e.el.GetId() != cafeID || tagsOf(e.el)["opening_hours"] != e.hours || tagsOf(e.el)["amenity"] != "cafe" {
					t.Errorf("%s content: %v, want the café open %s", side, e.el, e.hours)
				}
			}

			// The merged changeset has no report.
			if d := p.waitState(first, merged); len(d.GetConflicts()) != 0 {
				t.Errorf("merged changeset %d has conflicts %v", first, d.GetConflicts())
			}
		})
	}
}

// TestApproveElements: a reviewer approves the way of a contributor's
// changeset that also adds a bench; the way brings its new nodes (said
// so), and the bench goes back to the contributor in a new changeset,
// open, changes requested. The refusals come first: anonymous, a
// contributor, no elements, an element the changeset does not touch, no
// comment for the contributor.
func TestApproveElements(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			store := b.open(t)
			importCafe(t, store)
			p := serve(t, store, map[string]auth.Role{"alice": auth.RoleContributor, "rita": auth.RoleReviewer})
			cs, ids := p.open("alice", `<osmChange version="0.6"><create>
				<node id="-1" changeset="%d" lat="42.5001" lon="1.5001"/>
				<node id="-2" changeset="%d" lat="42.5002" lon="1.5002"/>
				<way id="-1" changeset="%d"><nd ref="-1"/><nd ref="-2"/><tag k="highway" v="footway"/></way>
				<node id="-3" changeset="%d" lat="42.5003" lon="1.5003"><tag k="amenity" v="bench"/></node>
			</create></osmChange>`)
			if len(ids) != 4 {
				t.Fatalf("upload gave ids %v", ids)
			}
			n1, n2, way, bench := ids[0], ids[1], ids[2], ids[3]
			p.close("alice", cs)
			p.waitValidated(cs)

			ctx := context.Background()
			wayRef := &geocommunsv1.ElementRef{Type: geocommunsv1.ElementType_ELEMENT_TYPE_WAY, Id: way}
			req := func(elements ...*geocommunsv1.ElementRef) *geocommunsv1.ApproveElementsRequest {
				return &geocommunsv1.ApproveElementsRequest{ChangesetId: cs, Elements: elements, Comment: "Is the bench on the footway?"}
			}
			_, err := p.review.ApproveElements(ctx, as(p, "", req(wayRef)))
			wantCode(t, "anonymous ApproveElements", err, connect.CodeUnauthenticated)
			_, err = p.review.ApproveElements(ctx, as(p, "alice", req(wayRef)))
			wantCode(t, "a contributor's ApproveElements", err, connect.CodePermissionDenied)
			_, err = p.review.ApproveElements(ctx, as(p, "rita", req()))
			wantCode(t, "ApproveElements of no element", err, connect.CodeInvalidArgument)
			_, err = p.review.ApproveElements(ctx, as(p, "rita", req(&geocommunsv1.ElementRef{Type: geocommunsv1.ElementType_ELEMENT_TYPE_NODE, Id: cafeID})))
			wantCode(t, "ApproveElements of the café, not in the changeset", err, connect.CodeInvalidArgument)

			silent := req(wayRef)
			silent.Comment = ""
			_, err = p.review.ApproveElements(ctx, as(p, "rita", silent))
			wantCode(t, "ApproveElements returning the bench without a comment", err, connect.CodeInvalidArgument)

			res, err := p.review.ApproveElements(ctx, as(p, "rita", req(wayRef)))
			if err != nil {
				t.Fatalf("rita approves way %d: %v", way, err)
			}
			m := res.Msg
			wantAccepted := []string{fmt.Sprintf("node %d", n1), fmt.Sprintf("node %d", n2), fmt.Sprintf("way %d", way)}
			if got := refs(m.GetAccepted()); !slices.Equal(got, wantAccepted) {
				t.Errorf("accepted %v, want %v", got, wantAccepted)
			}
			var added []string
			for _, a := range m.GetAdded() {
				added = append(added, fmt.Sprintf("%s because %s", refs([]*geocommunsv1.ElementRef{a.GetElement()})[0], refs([]*geocommunsv1.ElementRef{a.GetBecause()})[0]))
				if a.GetReason() == "" {
					t.Errorf("added %v without a reason", a)
				}
			}
			slices.Sort(added)
			if want := []string{fmt.Sprintf("node %d because way %d", n1, way), fmt.Sprintf("node %d because way %d", n2, way)}; !slices.Equal(added, want) {
				t.Errorf("added %v, want %v", added, want)
			}
			if c := m.GetChangeset(); c.GetId() != cs || (c.GetReviewState() != geocommunsv1.ReviewState_REVIEW_STATE_APPROVED && c.GetReviewState() != merged) {
				t.Errorf("approved changeset %v, want %d approved", c, cs)
			}
			returned := m.GetReturnedChangesetId()
			if returned == 0 || returned == cs {
				t.Fatalf("returned changeset id %d, want a new changeset holding the bench", returned)
			}
			back := p.waitState(returned, geocommunsv1.ReviewState_REVIEW_STATE_CHANGES_REQUESTED)
			if c := back.GetChangeset(); c.GetUid() != p.uids["alice"] || !c.GetOpen() {
				t.Errorf("returned changeset %v, want alice's, open", c)
			}
			if els := back.GetElements(); len(els) != 1 || els[0].GetNew().GetId() != bench || tagsOf(els[0].GetNew())["amenity"] != "bench" {
				t.Errorf("returned changeset's elements %v, want the bench node %d", els, bench)
			}
			p.waitState(cs, merged)
		})
	}
}

// TestRevert: cleo adds a bench and a waste basket (merged), dan then
// tags the bench (merged); rob reverts cleo's changeset: the revert is
// his, submitted, removes the basket and skips the bench, naming dan's
// changeset. Reverting a changeset that is not merged is refused, and
// anonymous callers are refused.
func TestRevert(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			store := b.open(t)
			importCafe(t, store)
			p := serve(t, store, map[string]auth.Role{"cleo+": auth.RoleContributor, "dan+": auth.RoleContributor, "rob": auth.RoleContributor})
			original, ids := p.open("cleo", `<osmChange version="0.6"><create>
				<node id="-1" changeset="%d" lat="42.5001" lon="1.5001"><tag k="amenity" v="bench"/></node>
				<node id="-2" changeset="%d" lat="42.5002" lon="1.5002"><tag k="amenity" v="waste_basket"/></node>
			</create></osmChange>`)
			bench, basket := ids[0], ids[1]
			p.close("cleo", original)
			p.waitState(original, merged)
			later, _ := p.open("dan", fmt.Sprintf(`<osmChange version="0.6"><modify>
				<node id="%d" version="1" changeset="%%d" lat="42.5001" lon="1.5001"><tag k="amenity" v="bench"/><tag k="backrest" v="yes"/></node>
			</modify></osmChange>`, bench))
			p.close("dan", later)
			p.waitState(later, merged)

			ctx := context.Background()
			_, err := p.review.Revert(ctx, as(p, "", &geocommunsv1.RevertRequest{ChangesetId: original}))
			wantCode(t, "anonymous Revert", err, connect.CodeUnauthenticated)
			open, _ := p.open("rob", `<osmChange version="0.6"><create>
				<node id="-1" changeset="%d" lat="42.5003" lon="1.5003"><tag k="amenity" v="bicycle_parking"/></node>
			</create></osmChange>`)
			_, err = p.review.Revert(ctx, as(p, "rob", &geocommunsv1.RevertRequest{ChangesetId: open}))
			wantCode(t, "Revert of an open changeset", err, connect.CodeFailedPrecondition)

			res, err := p.review.Revert(ctx, as(p, "rob", &geocommunsv1.RevertRequest{ChangesetId: original, Comment: "not there on the survey"}))
			if err != nil {
				t.Fatalf("rob reverts changeset %d: %v", original, err)
			}
			m := res.Msg
			rv := m.GetChangeset()
			if rv.GetId() == 0 || rv.GetId() == original || rv.GetUid() != p.uids["rob"] {
				t.Errorf("revert changeset %v, want a new changeset of rob", rv)
			}
			if got, want := refs(m.GetReverted()), []string{fmt.Sprintf("node %d", basket)}; !slices.Equal(got, want) {
				t.Errorf("reverted %v, want %v", got, want)
			}
			if s := m.GetSkipped(); len(s) != 1 || refs([]*geocommunsv1.ElementRef{s[0].GetElement()})[0] != fmt.Sprintf("node %d", bench) ||
				s[0].GetByChangeset() != later || s[0].GetReason() == "" {
				t.Errorf("skipped %v, want node %d kept by changeset %d, with a reason", s, bench, later)
			}
			d := p.waitFor(rv.GetId(), "submitted for review", func(d *geocommunsv1.GetReviewResponse) bool {
				return d.GetChangeset().GetReviewState() == geocommunsv1.ReviewState_REVIEW_STATE_SUBMITTED
			})
			if els := d.GetElements(); len(els) != 1 || els[0].GetAction() != geocommunsv1.Action_ACTION_DELETE || els[0].GetOld().GetId() != basket {
				t.Errorf("the revert's elements: %v, want the deletion of node %d", els, basket)
			}
		})
	}
}
