package osmapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
)

// The changeset discussion as openstreetmap.org serves it
// (openstreetmap-website config/routes.rb; cgimap has none of it): POST
// /api/0.6/changeset/ID/comment, …/subscribe and …/unsubscribe, the
// discussion in GET /api/0.6/changeset/ID?include_discussion=true and
// comments_count on the changeset; and geocommuns' own GET
// /api/0.6/changeset/ID/review_log, the public audit log.
//
// The discussion is the review log's comments (review.Service): what an
// OSM editor shows under "Discussion" is what the reviewers and the
// contributor said, so it holds
//   - every commented event (a comment, from here or from ReviewService);
//   - the comment of every decision that has one (changes requested,
//     rejected, approved), of a withdrawal, and the report of a merge
//     conflict, each prefixed with what happened ("Changes requested: …")
//     so that a reader of JOSM's discussion tab, which knows nothing of
//     review states, sees it was a decision and not a remark; a comment
//     of the system (a conflict) has no uid or user.
// Events without text (a submission, an assignment, an approval without
// comment) are in the review log only. comments_count counts what the
// discussion shows.
//
// Two choices differ from openstreetmap.org: a changeset may be commented
// while open (openstreetmap-website answers 409 "is not yet closed"),
// since a changeset reopened for changes is exactly when the contributor
// and the reviewer need to talk; and commenting needs write_api, the one
// write permission geocommuns' tokens know (openstreetmap.org has a
// write_changeset_comments scope).

// discussionRoute is one discussion call.
type discussionRoute struct {
	method, pattern string
	handle          func(a *API, w http.ResponseWriter, r *http.Request)
}

var discussionRoutes = []discussionRoute{
	{http.MethodPost, "/api/0.6/changeset/{id}/comment", (*API).commentChangeset},
	{http.MethodPost, "/api/0.6/changeset/{id}/subscribe", (*API).subscribeChangeset},
	{http.MethodPost, "/api/0.6/changeset/{id}/unsubscribe", (*API).unsubscribeChangeset},
	{http.MethodGet, "/api/0.6/changeset/{id}/review_log", (*API).reviewLog},
}

// registerDiscussion adds the discussion calls; Register calls it when
// the API has a review service.
func (a *API) registerDiscussion(mux *http.ServeMux) {
	for _, rt := range discussionRoutes {
		allow := rt.method + ", OPTIONS"
		if rt.method == http.MethodGet {
			allow = "GET, HEAD, OPTIONS"
		}
		h := a.withCORSMethods(allow, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rt.handle(a, w, r) }))
		for _, p := range patternVariants(rt.pattern) {
			mux.Handle(rt.method+" "+p, h)
			mux.Handle(http.MethodOptions+" "+p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if preflightMethods(w, r, allow) {
					return
				}
				corsHeadersFor(w, r, allow)
				writeError(w, r, newError(errMethodNotAllowed))
			}))
		}
	}
}

// caller is the signed-in caller as the review sees them; zero when
// anonymous.
func caller(r *http.Request) review.Caller {
	id := who(r)
	if id == nil {
		return review.Caller{}
	}
	return review.Caller{UID: id.UserID, Name: id.DisplayName, Role: string(id.Role)}
}

// failReview answers a refusal of review.Service with the status
// openstreetmap.org gives it, anything else as a.fail does.
func (a *API) failReview(w http.ResponseWriter, r *http.Request, id int64, err error) {
	var aerr *apiError
	switch {
	case errors.Is(err, storage.ErrNotFound):
		aerr = newError(editing.ErrChangesetNotFound, id)
	case errors.Is(err, review.ErrAlreadySubscribed):
		aerr = newError(editing.ErrAlreadySubscribed, id)
	case errors.Is(err, review.ErrNotSubscribed):
		aerr = newError(editing.ErrNotSubscribed, id)
		aerr.textOn404 = true
	case errors.Is(err, review.ErrBadRequest):
		aerr = newError(editing.ErrBadRequest, err.Error())
	case errors.Is(err, review.ErrForbidden):
		aerr = newError(editing.ErrUnauthorized)
	default:
		a.fail(w, r, err)
		return
	}
	aerr.cause = err
	writeError(w, r, aerr)
}

// POST /api/0.6/changeset/ID/comment, text= as a form field (or in the
// query string, as openstreetmap-website reads params): the changeset
// with its discussion.
func (a *API) commentChangeset(w http.ResponseWriter, r *http.Request) {
	id, aerr := changesetID(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	if a.checkWriter(w, r) {
		return
	}
	// A form is small; the upload limit bounds it like any other body.
	r.Body = http.MaxBytesReader(w, r.Body, a.maxUploadBytes())
	if err := r.ParseForm(); err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			writeError(w, r, bodyError(err, a.maxUploadBytes()))
			return
		}
		writeError(w, r, newError(editing.ErrBadRequest, fmt.Sprintf("Cannot parse the form: %v", err)))
		return
	}
	text := r.Form.Get("text")
	if strings.TrimSpace(text) == "" {
		writeError(w, r, newError(editing.ErrCommentNoText))
		return
	}
	if _, err := a.Review.Comment(r.Context(), caller(r), id, text); err != nil {
		a.failReview(w, r, id, err)
		return
	}
	a.writeChangesetWithDiscussion(w, r, id, true)
}

// POST /api/0.6/changeset/ID/subscribe: the changeset.
func (a *API) subscribeChangeset(w http.ResponseWriter, r *http.Request) {
	a.subscription(w, r, a.Review.Subscribe)
}

// POST /api/0.6/changeset/ID/unsubscribe: the changeset.
func (a *API) unsubscribeChangeset(w http.ResponseWriter, r *http.Request) {
	a.subscription(w, r, a.Review.Unsubscribe)
}

func (a *API) subscription(w http.ResponseWriter, r *http.Request, change func(context.Context, review.Caller, int64) error) {
	id, aerr := changesetID(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	if a.checkWriter(w, r) {
		return
	}
	if err := change(r.Context(), caller(r), id); err != nil {
		a.failReview(w, r, id, err)
		return
	}
	a.writeChangesetWithDiscussion(w, r, id, false)
}

// writeChangesetWithDiscussion answers changeset id with its
// comments_count, and its discussion when include is set.
func (a *API) writeChangesetWithDiscussion(w http.ResponseWriter, r *http.Request, id int64, include bool) {
	cs, err := a.editingService().Changeset(r.Context(), id)
	if err == nil {
		err = a.addDiscussion(r.Context(), &cs, include)
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeChangesets(w, r, []osmdata.Changeset{cs}, true)
}

// includeDiscussion reads include_discussion as openstreetmap-website
// does (params[:include_discussion].presence): any value but an empty
// one asks for it.
func includeDiscussion(r *http.Request) bool {
	return r.URL.Query().Get("include_discussion") != ""
}

// addDiscussion sets the changeset's comments_count and, when include is
// set, its discussion. Without a review service there is no discussion
// to show: the count stays 0.
func (a *API) addDiscussion(ctx context.Context, cs *osmdata.Changeset, include bool) error {
	if a.Review == nil {
		return nil
	}
	events, err := a.Review.AuditLog(ctx, cs.ID)
	if err != nil {
		return fmt.Errorf("discussion of changeset %d: %w", cs.ID, err)
	}
	comments := Discussion(events)
	cs.CommentsCount = len(comments)
	if include {
		cs.Discussion = comments
		if cs.Discussion == nil {
			cs.Discussion = []osmdata.ChangesetComment{}
		}
	}
	return nil
}

// addCommentCounts sets comments_count of every changeset of list with
// one read of the review log, counting what Discussion shows; without a
// review service the counts stay 0, as addDiscussion leaves them.
func (a *API) addCommentCounts(ctx context.Context, list []osmdata.Changeset) error {
	if a.Review == nil || len(list) == 0 {
		return nil
	}
	ids := make([]int64, len(list))
	for i := range list {
		ids[i] = list[i].ID
	}
	counts, err := a.Review.CommentCounts(ctx, ids, discussionKinds)
	if err != nil {
		return fmt.Errorf("comments_count of %d changesets: %w", len(list), err)
	}
	for i := range list {
		list[i].CommentsCount = counts[list[i].ID]
	}
	return nil
}

// discussionKinds are the events whose comment Discussion shows.
var discussionKinds = append([]osmdata.ReviewEventKind{osmdata.EventCommented}, slices.Sorted(maps.Keys(decisionPrefixes))...)

// decisionPrefixes name the events other than comments whose text the
// discussion shows, as a reader of the discussion should see them.
var decisionPrefixes = map[osmdata.ReviewEventKind]string{
	osmdata.EventApproved:         "Approved: ",
	osmdata.EventChangesRequested: "Changes requested: ",
	osmdata.EventRejected:         "Rejected: ",
	osmdata.EventWithdrawn:        "Withdrawn: ",
	osmdata.EventConflicted:       "Merge conflict: ",
}

// Discussion is the changeset discussion of a review log (see the top of
// this file for what it holds), in the log's order; comment ids are the
// events' sequence numbers.
func Discussion(events []osmdata.ReviewEvent) []osmdata.ChangesetComment {
	var out []osmdata.ChangesetComment
	for _, ev := range events {
		if strings.TrimSpace(ev.Comment) == "" {
			continue
		}
		text := ev.Comment
		if ev.Kind != osmdata.EventCommented {
			prefix, shown := decisionPrefixes[ev.Kind]
			if !shown {
				continue
			}
			text = prefix + text
		}
		c := osmdata.ChangesetComment{ID: ev.Seq, Date: ev.Time, Text: text}
		if ev.ActorUID != 0 {
			c.UID, c.User = ev.ActorUID, ev.Actor
		}
		out = append(out, c)
	}
	return out
}

// GET /api/0.6/changeset/ID/review_log (.json, .xml): every review event
// of the changeset, in order, for anyone.
//
//	<osm version="0.6" generator="…">
//	 <review_log changeset="ID">
//	  <event seq="…" kind="…" time="…" uid="…" user="…" scope="…" state="…">comment</event>
//	 </review_log>
//	</osm>
//
// uid and user are left out for the system, scope for a decision on
// every scope, state while the changeset was never submitted; JSON has
// the same fields ("comment" for the text) in "review_log".
func (a *API) reviewLog(w http.ResponseWriter, r *http.Request) {
	id, aerr := changesetID(r)
	if aerr != nil {
		writeError(w, r, aerr)
		return
	}
	events, err := a.Review.AuditLog(r.Context(), id)
	if err != nil {
		a.failReview(w, r, id, err)
		return
	}
	body, f, finish, ok := a.startReply(w, r, availableFormats, nil)
	if !ok {
		return
	}
	var b []byte
	if f == formatJSON {
		b, err = reviewLogJSON(a.header(), id, events)
	} else {
		b = reviewLogXML(a.header(), id, events)
	}
	if err == nil {
		_, err = body.Write(b)
	}
	a.finishSmallReply(r, finish, err)
}

// logTime writes an event's time as the OSM API writes times: UTC, whole
// seconds (the event's seq orders events within a second).
func logTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func reviewLogXML(h osmdata.DocumentHeader, id int64, events []osmdata.ReviewEvent) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<osm version="0.6"`)
	for _, attr := range [][2]string{{"generator", h.Generator}, {"copyright", h.Copyright}, {"attribution", h.Attribution}, {"license", h.License}} {
		if attr[1] != "" {
			fmt.Fprintf(&b, ` %s="%s"`, attr[0], xmlEscape(attr[1]))
		}
	}
	fmt.Fprintf(&b, ">\n <review_log changeset=\"%d\"", id)
	if len(events) == 0 {
		b.WriteString("/>\n</osm>\n")
		return []byte(b.String())
	}
	b.WriteString(">\n")
	for _, ev := range events {
		fmt.Fprintf(&b, `  <event seq="%d" kind="%s" time="%s"`, ev.Seq, xmlEscape(string(ev.Kind)), logTime(ev.Time))
		if ev.ActorUID != 0 {
			fmt.Fprintf(&b, ` uid="%d" user="%s"`, ev.ActorUID, xmlEscape(ev.Actor))
		}
		if ev.Scope != "" {
			fmt.Fprintf(&b, ` scope="%s"`, xmlEscape(ev.Scope))
		}
		if ev.State != osmdata.ReviewNone {
			fmt.Fprintf(&b, ` state="%s"`, xmlEscape(string(ev.State)))
		}
		if ev.Comment == "" {
			b.WriteString("/>\n")
			continue
		}
		fmt.Fprintf(&b, ">%s</event>\n", xmlEscape(ev.Comment))
	}
	b.WriteString(" </review_log>\n</osm>\n")
	return []byte(b.String())
}

// reviewLogEvent is one event in the JSON review log.
type reviewLogEvent struct {
	Seq     int64  `json:"seq"`
	Kind    string `json:"kind"`
	Time    string `json:"time"`
	UID     int64  `json:"uid,omitempty"`
	User    string `json:"user,omitempty"`
	Scope   string `json:"scope,omitempty"`
	State   string `json:"state,omitempty"`
	Comment string `json:"comment,omitempty"`
}

func reviewLogJSON(h osmdata.DocumentHeader, id int64, events []osmdata.ReviewEvent) ([]byte, error) {
	doc := struct {
		Version     string           `json:"version"`
		Generator   string           `json:"generator,omitempty"`
		Copyright   string           `json:"copyright,omitempty"`
		Attribution string           `json:"attribution,omitempty"`
		License     string           `json:"license,omitempty"`
		Changeset   int64            `json:"changeset"`
		ReviewLog   []reviewLogEvent `json:"review_log"`
	}{"0.6", h.Generator, h.Copyright, h.Attribution, h.License, id, make([]reviewLogEvent, len(events))}
	for i, ev := range events {
		e := reviewLogEvent{Seq: ev.Seq, Kind: string(ev.Kind), Time: logTime(ev.Time), Scope: ev.Scope, State: string(ev.State), Comment: ev.Comment}
		if ev.ActorUID != 0 {
			e.UID, e.User = ev.ActorUID, ev.Actor
		}
		doc.ReviewLog[i] = e
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("review log of changeset %d as JSON: %w", id, err)
	}
	return append(b, '\n'), nil
}
