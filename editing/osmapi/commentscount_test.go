package osmapi

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/review"
)

// countsOfXML reads comments_count of each changeset of an XML reply.
func countsOfXML(t *testing.T, r answer) map[int64]int {
	t.Helper()
	var doc struct {
		Changesets []struct {
			ID            int64 `xml:"id,attr"`
			CommentsCount int   `xml:"comments_count,attr"`
		} `xml:"changeset"`
	}
	if r.status != http.StatusOK {
		t.Fatalf("changesets: %s", r)
	}
	if err := xml.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("parse changesets: %v\n%s", err, r.body)
	}
	counts := map[int64]int{}
	for _, c := range doc.Changesets {
		counts[c.ID] = c.CommentsCount
	}
	return counts
}

// TestCommentsCountInListsAndUpdates: GET /api/0.6/changesets (XML and
// JSON) and the reply of PUT /api/0.6/changeset/ID show each changeset's
// comments_count as GET /api/0.6/changeset/ID does, a reviewer's request
// for changes counting as the discussion shows it.
func TestCommentsCountInListsAndUpdates(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			var reviews *review.Service
			s := newEditServer(t, b, func(a *API) {
				store, ok := a.Reader.(review.Store)
				if !ok {
					t.Fatalf("the %s store keeps no review log or decisions", b.name)
				}
				reviews = review.NewService(store, review.DefaultConfig())
				a.Review = reviews
			})
			commented, quiet := s.submitted(), s.submitted()
			for _, text := range []string{"Is this bench on the pavement?", "And the other one?"} {
				if r := s.call(bo, http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/comment", commented), form(text),
					"Content-Type", formType); r.status != http.StatusOK {
					t.Fatalf("comment on changeset %d: %s", commented, r)
				}
			}
			list := fmt.Sprintf("/api/0.6/changesets?changesets=%d,%d", commented, quiet)

			want := map[int64]int{commented: 2, quiet: 0}
			if diff := cmp.Diff(want, countsOfXML(t, s.call(nil, http.MethodGet, list, nil))); diff != "" {
				t.Errorf("comments_count in %s (-want +got):\n%s", list, diff)
			}
			listJSON := fmt.Sprintf("/api/0.6/changesets.json?changesets=%d,%d", commented, quiet)
			r := s.call(nil, http.MethodGet, listJSON, nil)
			var js struct {
				Changesets []struct {
					ID            int64 `json:"id"`
					CommentsCount *int  `json:"comments_count"`
				} `json:"changesets"`
			}
			if err := json.Unmarshal(r.body, &js); err != nil || r.status != http.StatusOK {
				t.Fatalf("%s: %s (%v)", listJSON, r, err)
			}
			gotJSON := map[int64]int{}
			for _, c := range js.Changesets {
				if c.CommentsCount == nil {
					t.Errorf("%s: changeset %d without comments_count", listJSON, c.ID)
					continue
				}
				gotJSON[c.ID] = *c.CommentsCount
			}
			if diff := cmp.Diff(want, gotJSON); diff != "" {
				t.Errorf("comments_count in %s (-want +got):\n%s", listJSON, diff)
			}

			// A reviewer asks for changes with a comment: the discussion
			// shows it, so the list counts it too, as the single read does.
			rita, _, err := auth.AddUser(t.Context(), s.store, auth.NewUser{Name: "rita", Role: auth.RoleReviewer})
			if err != nil {
				t.Fatalf("add reviewer: %v", err)
			}
			// The Gate validates a submission before reviewers decide.
			gate, err := review.NewGate(s.store.(review.Store), review.DefaultConfig())
			if err != nil {
				t.Fatal(err)
			}
			cs, err := s.store.Changeset(t.Context(), quiet)
			if err != nil {
				t.Fatal(err)
			}
			author, err := s.store.Account(t.Context(), cs.UID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := gate.Decide(t.Context(), cs, author); err != nil {
				t.Fatalf("the Gate on changeset %d: %v", quiet, err)
			}
			if _, err := reviews.RequestChanges(t.Context(), review.Caller{UID: rita.ID, Name: "rita", Role: review.RoleReviewer},
				quiet, "Add a source tag"); err != nil {
				t.Fatalf("request changes on changeset %d: %v", quiet, err)
			}
			listed := countsOfXML(t, s.call(nil, http.MethodGet, list, nil))
			for _, id := range []int64{commented, quiet} {
				single := countsOfXML(t, s.call(nil, http.MethodGet, fmt.Sprintf("/api/0.6/changeset/%d", id), nil))
				if listed[id] != single[id] {
					t.Errorf("changeset %d: comments_count %d in the list, %d in its own read", id, listed[id], single[id])
				}
			}
			if listed[quiet] != 1 {
				t.Errorf("changeset %d after a request for changes: comments_count %d in the list, want 1", quiet, listed[quiet])
			}

			// The request reopened the changeset: ana retags it, and the
			// reply keeps the count.
			r = s.call(ana, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d", quiet),
				[]byte(`<osm><changeset><tag k="source" v="survey"/></changeset></osm>`))
			if got := countsOfXML(t, r); got[quiet] != 1 {
				t.Errorf("PUT /api/0.6/changeset/%d answered %s, want comments_count 1", quiet, r.body)
			}
		})
	}
}
