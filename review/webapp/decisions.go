package webapp

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
)

// changesetID reads the route's {id}; false after answering 400.
func changesetID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%q is not a changeset id", r.PathValue("id")))
		return 0, false
	}
	return id, true
}

type decideFunc func(ctx context.Context, caller review.Caller, id int64, comment string) (osmdata.Changeset, error)

// decision serves approve, request_changes and reject: {"comment"} in,
// the changeset's review state after it out.
func (a *App) decision(decide decideFunc) sessionHandler {
	return func(w http.ResponseWriter, r *http.Request, who signedIn) {
		id, ok := changesetID(w, r)
		if !ok {
			return
		}
		var body struct {
			Comment string `json:"comment"`
		}
		if !readJSON(w, r, &body) {
			return
		}
		cs, err := decide(r.Context(), who.caller, id, body.Comment)
		if err != nil {
			a.reviewError(w, r, id, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"state": string(cs.ReviewState)})
	}
}

func (a *App) approve(w http.ResponseWriter, r *http.Request, who signedIn) {
	a.decision(a.cfg.Service.Approve)(w, r, who)
}

func (a *App) requestChanges(w http.ResponseWriter, r *http.Request, who signedIn) {
	a.decision(a.cfg.Service.RequestChanges)(w, r, who)
}

func (a *App) reject(w http.ResponseWriter, r *http.Request, who signedIn) {
	a.decision(a.cfg.Service.Reject)(w, r, who)
}

type addedElement struct {
	Key     string `json:"key"`
	Because string `json:"because"`
	Reason  string `json:"reason"`
}

// approveElements is the partial accept: the chosen elements (and what
// they need) approved, the rest returned to the contributor.
func (a *App) approveElements(w http.ResponseWriter, r *http.Request, who signedIn) {
	id, ok := changesetID(w, r)
	if !ok {
		return
	}
	var body struct {
		Elements []string `json:"elements"`
		Comment  string   `json:"comment"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	chosen := make([]osmdata.Key, 0, len(body.Elements))
	for _, s := range body.Elements {
		k, err := parseKey(s)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		chosen = append(chosen, k)
	}
	part, err := a.cfg.Service.ApproveElements(r.Context(), who.caller, id, chosen, body.Comment)
	if err != nil {
		a.reviewError(w, r, id, err)
		return
	}
	out := struct {
		Accepted []string       `json:"accepted"`
		Added    []addedElement `json:"added"`
		Returned int64          `json:"returned"`
		State    string         `json:"state"`
	}{Accepted: []string{}, Added: []addedElement{}, Returned: part.Returned.ID, State: string(part.Approved.ReviewState)}
	for _, k := range part.Accepted {
		out.Accepted = append(out.Accepted, keyString(k))
	}
	for _, ad := range part.Added {
		out.Added = append(out.Added, addedElement{Key: keyString(ad.Element), Because: keyString(ad.Because), Reason: ad.Reason})
	}
	writeJSON(w, http.StatusOK, out)
}

// comment adds {"text"} to the changeset's discussion.
func (a *App) comment(w http.ResponseWriter, r *http.Request, who signedIn) {
	id, ok := changesetID(w, r)
	if !ok {
		return
	}
	var body struct {
		Text string `json:"text"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	ev, err := a.cfg.Service.Comment(r.Context(), who.caller, id, body.Text)
	if err != nil {
		a.reviewError(w, r, id, err)
		return
	}
	writeJSON(w, http.StatusOK, eventOf(&ev))
}

// keyString is an element key as the pages and OSM's URLs write it:
// "way/7".
func keyString(k osmdata.Key) string { return k.Type.String() + "/" + strconv.FormatInt(k.ID, 10) }

func parseKey(s string) (osmdata.Key, error) {
	t, id, ok := strings.Cut(s, "/")
	if !ok {
		return osmdata.Key{}, fmt.Errorf("element %q: want type/id, way/7 for example", s)
	}
	et, err := osmdata.ParseElementType(t)
	if err != nil {
		return osmdata.Key{}, fmt.Errorf("element %q: %w", s, err)
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return osmdata.Key{}, fmt.Errorf("element %q: the id is not a positive number", s)
	}
	return osmdata.Key{Type: et, ID: n}, nil
}
