package osmapi

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
)

// newDiscussionServer is the edit server with a review service, as the
// server wires it.
func newDiscussionServer(t *testing.T, b backend) *editServer {
	return newEditServer(t, b, func(a *API) {
		store, ok := a.Reader.(review.Store)
		if !ok {
			t.Fatalf("the %s store keeps no review log or decisions", b.name)
		}
		a.Review = review.NewService(store, review.DefaultConfig())
	})
}

// submitted opens a changeset of ana, uploads a bench and closes it.
func (s *editServer) submitted() int64 {
	s.t.Helper()
	id := s.openChangeset(ana, "comment", "a bench by the road")
	s.mustUpload(ana, id, `<osmChange version="0.6"><create>
		<node id="-1" changeset="%d" lat="0.25" lon="0.25"><tag k="amenity" v="bench"/></node>
	</create></osmChange>`)
	if r := s.call(ana, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", id), nil); r.status != http.StatusOK {
		s.t.Fatalf("close changeset %d: %s", id, r)
	}
	return id
}

func form(text string) []byte { return []byte(url.Values{"text": {text}}.Encode()) }

const formType = "application/x-www-form-urlencoded"

// changesetDoc is GET /api/0.6/changeset/ID as an OSM client reads it.
type changesetDoc struct {
	Changeset struct {
		ID            int64  `xml:"id,attr"`
		CommentsCount int    `xml:"comments_count,attr"`
		Open          bool   `xml:"open,attr"`
		ReviewState   string `xml:"review_state,attr"`
		Discussion    *struct {
			Comments []struct {
				ID   int64  `xml:"id,attr"`
				Date string `xml:"date,attr"`
				UID  int64  `xml:"uid,attr"`
				User string `xml:"user,attr"`
				Text string `xml:"text"`
			} `xml:"comment"`
		} `xml:"discussion"`
	} `xml:"changeset"`
}

func parseChangesetDoc(t *testing.T, body []byte) changesetDoc {
	t.Helper()
	var doc changesetDoc
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("parse changeset: %v\n%s", err, body)
	}
	return doc
}

// TestChangesetDiscussion drives openstreetmap.org's discussion calls
// over real HTTP on both backends: who may comment, the refusals with
// openstreetmap-website's statuses and texts, the discussion and
// comments_count in the changeset reads (XML and JSON), subscriptions,
// and the public review log.
func TestChangesetDiscussion(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newDiscussionServer(t, b)
			id := s.submitted()
			path := func(suffix string) string { return fmt.Sprintf("/api/0.6/changeset/%d%s", id, suffix) }

			// Refusals: nothing is recorded.
			if r := s.call(nil, http.MethodPost, path("/comment"), form("anonymous"), "Content-Type", formType); r.status != http.StatusUnauthorized {
				t.Errorf("anonymous comment: %s, want 401", r)
			}
			if r := s.call(reader, http.MethodPost, path("/comment"), form("read only"), "Content-Type", formType); r.status != http.StatusUnauthorized ||
				string(r.body) != editing.Golden[editing.ErrNoWritePermission].Text {
				t.Errorf("comment with a read_prefs token: %s, want 401 %q", r, editing.Golden[editing.ErrNoWritePermission].Text)
			}
			noText := editing.Golden[editing.ErrCommentNoText].Text
			for name, body := range map[string][]byte{"no text": nil, "empty text": form(""), "blank text": form("  \n")} {
				if r := s.call(bo, http.MethodPost, path("/comment"), body, "Content-Type", formType); r.status != http.StatusBadRequest || string(r.body) != noText {
					t.Errorf("comment with %s: %s, want 400 %q", name, r, noText)
				}
			}
			if r := s.call(bo, http.MethodPost, "/api/0.6/changeset/999999/comment", form("lost"), "Content-Type", formType); r.status != http.StatusNotFound {
				t.Errorf("comment on an unknown changeset: %s, want 404", r)
			}
			if r := s.call(nil, http.MethodGet, path("?include_discussion=true"), nil); r.status != http.StatusOK ||
				parseChangesetDoc(t, r.body).Changeset.CommentsCount != 0 {
				t.Fatalf("changeset before any comment: %s, want comments_count 0", r)
			}

			// bo comments: the reply is the changeset with its discussion.
			text := `Is this bench on the pavement? <"&'>`
			r := s.call(bo, http.MethodPost, path("/comment"), form(text), "Content-Type", formType)
			if r.status != http.StatusOK {
				t.Fatalf("comment: %s", r)
			}
			doc := parseChangesetDoc(t, r.body)
			if doc.Changeset.ID != id || doc.Changeset.CommentsCount != 1 || doc.Changeset.Discussion == nil ||
				len(doc.Changeset.Discussion.Comments) != 1 {
				t.Fatalf("comment answered %s", r.body)
			}
			c := doc.Changeset.Discussion.Comments[0]
			if c.Text != text || c.UID != bo.UserID || c.User != bo.DisplayName || c.ID == 0 {
				t.Errorf("comment in the reply: %+v, want %q by %s (%d)", c, text, bo.DisplayName, bo.UserID)
			}
			if when, err := time.Parse(time.RFC3339, c.Date); err != nil || time.Since(when) > time.Minute {
				t.Errorf("comment date %q: want the time of the comment", c.Date)
			}

			// The plain read counts it, the discussion shows it.
			r = s.call(nil, http.MethodGet, path(""), nil)
			if doc := parseChangesetDoc(t, r.body); r.status != http.StatusOK || doc.Changeset.CommentsCount != 1 || doc.Changeset.Discussion != nil {
				t.Errorf("changeset without include_discussion: %s, want comments_count 1 and no discussion", r)
			}
			r = s.call(nil, http.MethodGet, path("?include_discussion=true"), nil)
			if doc := parseChangesetDoc(t, r.body); doc.Changeset.Discussion == nil || len(doc.Changeset.Discussion.Comments) != 1 ||
				doc.Changeset.Discussion.Comments[0].Text != text || doc.Changeset.ReviewState != "submitted" {
				t.Errorf("changeset with include_discussion: %s", r)
			}
			r = s.call(nil, http.MethodGet, path(".json?include_discussion=true"), nil)
			var js struct {
				Changeset struct {
					CommentsCount int `json:"comments_count"`
					Comments      []struct {
						ID   int64  `json:"id"`
						UID  int64  `json:"uid"`
						User string `json:"user"`
						Text string `json:"text"`
					} `json:"comments"`
				} `json:"changeset"`
			}
			if err := json.Unmarshal(r.body, &js); err != nil || js.Changeset.CommentsCount != 1 || len(js.Changeset.Comments) != 1 ||
				js.Changeset.Comments[0].Text != text || js.Changeset.Comments[0].UID != bo.UserID {
				t.Errorf("changeset JSON with include_discussion: %s (%v)", r, err)
			}

			// Commenting subscribed bo, as on openstreetmap.org.
			already := fmt.Sprintf(editing.Golden[editing.ErrAlreadySubscribed].Text, id)
			if r := s.call(bo, http.MethodPost, path("/subscribe"), nil); r.status != http.StatusConflict || string(r.body) != already {
				t.Errorf("subscribe after commenting: %s, want 409 %q", r, already)
			}
			if r := s.call(bo, http.MethodPost, path("/unsubscribe"), nil); r.status != http.StatusOK || parseChangesetDoc(t, r.body).Changeset.ID != id {
				t.Errorf("unsubscribe: %s, want 200 and the changeset", r)
			}
			notSubscribed := fmt.Sprintf(editing.Golden[editing.ErrNotSubscribed].Text, id)
			if r := s.call(bo, http.MethodPost, path("/unsubscribe"), nil); r.status != http.StatusNotFound || string(r.body) != notSubscribed {
				t.Errorf("unsubscribe twice: %s, want 404 %q", r, notSubscribed)
			}
			if r := s.call(bo, http.MethodPost, path("/subscribe"), nil); r.status != http.StatusOK {
				t.Errorf("subscribe: %s, want 200", r)
			}
			if r := s.call(bo, http.MethodPost, path("/subscribe"), nil); r.status != http.StatusConflict || string(r.body) != already {
				t.Errorf("subscribe twice: %s, want 409 %q", r, already)
			}
			if r := s.call(nil, http.MethodPost, path("/subscribe"), nil); r.status != http.StatusUnauthorized {
				t.Errorf("anonymous subscribe: %s, want 401", r)
			}
			if r := s.call(bo, http.MethodPost, "/api/0.6/changeset/999999/subscribe", nil); r.status != http.StatusNotFound {
				t.Errorf("subscribe to an unknown changeset: %s, want 404", r)
			}

			// The review log, for anyone, in order.
			r = s.call(nil, http.MethodGet, path("/review_log.json"), nil)
			var log struct {
				Changeset int64 `json:"changeset"`
				ReviewLog []struct {
					Seq     int64  `json:"seq"`
					Kind    string `json:"kind"`
					UID     int64  `json:"uid"`
					User    string `json:"user"`
					State   string `json:"state"`
					Comment string `json:"comment"`
				} `json:"review_log"`
			}
			if err := json.Unmarshal(r.body, &log); err != nil || r.status != http.StatusOK {
				t.Fatalf("review_log.json: %s (%v)", r, err)
			}
			var kinds []string
			for _, ev := range log.ReviewLog {
				kinds = append(kinds, ev.Kind)
			}
			if log.Changeset != id || !slices.Equal(kinds, []string{"submitted", "commented"}) {
				t.Fatalf("review log of changeset %d: %s, want submitted then commented", id, r)
			}
			if ev := log.ReviewLog[1]; ev.UID != bo.UserID || ev.User != bo.DisplayName || ev.Comment != text || ev.State != "submitted" ||
				ev.Seq <= log.ReviewLog[0].Seq {
				t.Errorf("commented event %+v, want bo's comment after the submission, the state still submitted", ev)
			}
			if ev := log.ReviewLog[0]; ev.UID != ana.UserID || ev.State != "submitted" {
				t.Errorf("submitted event %+v, want ana's closing", ev)
			}
			r = s.call(nil, http.MethodGet, path("/review_log"), nil)
			var xlog struct {
				XMLName xml.Name
				Log     struct {
					Changeset int64 `xml:"changeset,attr"`
					Events    []struct {
						Kind    string `xml:"kind,attr"`
						UID     int64  `xml:"uid,attr"`
						Comment string `xml:",chardata"`
					} `xml:"event"`
				} `xml:"review_log"`
			}
			if err := xml.Unmarshal(r.body, &xlog); err != nil || xlog.XMLName.Local != "osm" || xlog.Log.Changeset != id ||
				len(xlog.Log.Events) != 2 || xlog.Log.Events[1].Kind != "commented" || xlog.Log.Events[1].Comment != text {
				t.Errorf("review_log XML: %s (%v)", r, err)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
				t.Errorf("review_log Content-Type %q, want application/xml", ct)
			}
			// Accept negotiates as on the other reads.
			r = s.call(nil, http.MethodGet, path("/review_log"), nil, "Accept", "application/json")
			if ct := r.header.Get("Content-Type"); r.status != http.StatusOK || !strings.HasPrefix(ct, "application/json") || !json.Valid(r.body) {
				t.Errorf("review_log with Accept: application/json: %s, Content-Type %q", r, ct)
			}
			if r := s.call(nil, http.MethodGet, "/api/0.6/changeset/999999/review_log", nil); r.status != http.StatusNotFound {
				t.Errorf("review log of an unknown changeset: %s, want 404", r)
			}
		})
	}
}

// TestDiscussionOfReviewLog pins what the discussion shows of a review
// log: comments, and the texts of decisions marked as such; nothing of
// events without text.
func TestDiscussionOfReviewLog(t *testing.T) {
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	events := []osmdata.ReviewEvent{
		{Seq: 1, Kind: osmdata.EventSubmitted, ActorUID: 7, Actor: "ana", Time: at},
		{Seq: 2, Kind: osmdata.EventCommented, ActorUID: 8, Actor: "rita", Comment: "Which survey?", Time: at},
		{Seq: 3, Kind: osmdata.EventAssigned, ActorUID: 8, Actor: "rita", Time: at},
		{Seq: 4, Kind: osmdata.EventChangesRequested, ActorUID: 8, Actor: "rita", Comment: "Add a source tag", Time: at},
		{Seq: 5, Kind: osmdata.EventApproved, ActorUID: 8, Actor: "rita", Time: at},
		{Seq: 6, Kind: osmdata.EventConflicted, Comment: "node 12: base moved from v3 to v4", Time: at},
		{Seq: 7, Kind: osmdata.EventRejected, ActorUID: 9, Actor: "rob", Comment: "Vandalism", Time: at},
	}
	got := Discussion(events)
	want := []osmdata.ChangesetComment{
		{ID: 2, Date: at, UID: 8, User: "rita", Text: "Which survey?"},
		{ID: 4, Date: at, UID: 8, User: "rita", Text: "Changes requested: Add a source tag"},
		{ID: 6, Date: at, Text: "Merge conflict: node 12: base moved from v3 to v4"},
		{ID: 7, Date: at, UID: 9, User: "rob", Text: "Rejected: Vandalism"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("discussion:\n got %+v\nwant %+v", got, want)
	}
}
