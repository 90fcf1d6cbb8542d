package webapp

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
)

// queueLimit is the most changesets one queue answers, as ReviewService's
// ListQueue.
const queueLimit = 100

// everyReviewState is what a contributor's list shows: their changesets
// in every state a submission can be in.
var everyReviewState = []osmdata.ReviewState{
	osmdata.ReviewSubmitted, osmdata.ReviewApproved, osmdata.ReviewChangesRequested,
	osmdata.ReviewRejected, osmdata.ReviewMerged, osmdata.ReviewConflicted,
}

type queueItem struct {
	ID          int64    `json:"id"`
	User        string   `json:"user"`
	UID         int64    `json:"uid"`
	Comment     string   `json:"comment"`
	State       string   `json:"state"`
	Risk        int      `json:"risk"`
	Findings    int      `json:"findings"`
	Rules       []string `json:"rules"`
	Scopes      []string `json:"scopes"`
	Mine        bool     `json:"mine"`
	SubmittedAt string   `json:"submitted_at"`
	Changes     int      `json:"changes"`
}

type queueAnswer struct {
	Items  []queueItem    `json:"items"`
	Counts map[string]int `json:"counts"`
}

// queue lists the reviewer's queue (their scopes first), or a
// contributor's own changesets.
func (a *App) queue(w http.ResponseWriter, r *http.Request, who signedIn) {
	f, err := queueFilter(r.URL.Query(), time.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var items []storage.QueueItem
	if isReviewer(who.caller) {
		items, err = a.cfg.Service.Queue(r.Context(), who.caller, f)
	} else {
		f.Contributor = who.caller.UID
		f.Scopes, f.OnlyScopes = nil, false
		if len(f.States) == 0 {
			f.States = everyReviewState
		}
		items, err = a.cfg.Store.ReviewQueue(r.Context(), f)
	}
	if err != nil {
		a.reviewError(w, r, 0, err)
		return
	}
	mine := a.cfg.Review.ScopesOf(who.caller.Name, who.caller.Role)
	out := queueAnswer{Items: make([]queueItem, len(items)), Counts: map[string]int{}}
	for i, it := range items {
		cs := &it.Changeset
		comment, _ := cs.Tags.Get("comment")
		qi := queueItem{
			ID: cs.ID, User: cs.User, UID: cs.UID, Comment: comment, State: string(cs.ReviewState),
			Risk: it.Risk, Findings: it.Errors + it.Warnings, Rules: nonNil(it.Rules), Scopes: []string{},
			Changes: cs.NumChanges,
		}
		if !it.SubmittedAt.IsZero() {
			qi.SubmittedAt = it.SubmittedAt.UTC().Format(time.RFC3339)
		}
		for _, sc := range it.Scopes {
			qi.Scopes = append(qi.Scopes, sc.Scope)
			if sc.ApprovedBy == 0 && slices.Contains(mine, sc.Scope) && cs.UID != who.caller.UID {
				qi.Mine = true
			}
		}
		out.Items[i] = qi
		out.Counts[qi.State]++
	}
	writeJSON(w, http.StatusOK, out)
}

func isReviewer(c review.Caller) bool {
	return c.Role == review.RoleReviewer || c.Role == review.RoleAdmin
}

// queueFilter reads the queue's query parameters (doc.go).
func queueFilter(q url.Values, now time.Time) (storage.QueueFilter, error) {
	f := storage.QueueFilter{Limit: queueLimit, Rule: q.Get("rule")}
	for _, s := range strings.Split(q.Get("state"), ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		st := osmdata.ReviewState(s)
		if !slices.Contains(everyReviewState, st) {
			return f, fmt.Errorf("state %q is not a review state a changeset can be in", s)
		}
		f.States = append(f.States, st)
	}
	var err error
	if f.MinRisk, err = intParam(q, "min_risk"); err != nil {
		return f, err
	}
	if s := q.Get("bbox"); s != "" {
		d, err := osmdata.ParseBBox(s)
		if err != nil {
			return f, fmt.Errorf("bbox %q: %w", s, err)
		}
		box := d.Fixed()
		f.Box = &box
	}
	if tag := q.Get("tag"); tag != "" {
		f.TagKey, f.TagValue, _ = strings.Cut(tag, "=")
		if f.TagKey == "" {
			return f, fmt.Errorf("tag %q needs a key", tag)
		}
	}
	if s := q.Get("contributor"); s != "" {
		if f.Contributor, err = strconv.ParseInt(s, 10, 64); err != nil || f.Contributor <= 0 {
			return f, fmt.Errorf("contributor %q is not a user id", s)
		}
	}
	older, err := intParam(q, "older_than")
	if err != nil {
		return f, err
	}
	if older > 0 {
		f.SubmittedBefore = now.Add(-time.Duration(older) * time.Second)
	}
	f.OnlyScopes = q.Get("mine") == "1" || q.Get("mine") == "true"
	return f, nil
}

func intParam(q url.Values, name string) (int, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s %q is not a whole number of at least 0", name, s)
	}
	return n, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
