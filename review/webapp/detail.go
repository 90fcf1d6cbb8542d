package webapp

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/review"
	"github.com/geocommuns/geocommuns/storage"
)

// The changeset page's JSON (doc.go).

type changesetJSON struct {
	ID        int64             `json:"id"`
	User      string            `json:"user"`
	UID       int64             `json:"uid"`
	Comment   string            `json:"comment"`
	Tags      map[string]string `json:"tags"`
	State     string            `json:"state"`
	Open      bool              `json:"open"`
	CreatedAt string            `json:"created_at"`
	ClosedAt  string            `json:"closed_at"`
	BBox      *[4]float64       `json:"bbox"`
}

type findingJSON struct {
	Rule     string   `json:"rule"`
	Severity string   `json:"severity"`
	Message  string   `json:"message"`
	Elements []string `json:"elements"`
}

type scopeJSON struct {
	Scope      string   `json:"scope"`
	ApprovedBy []string `json:"approved_by"`
}

type tagChange struct {
	Key string  `json:"key"`
	Old *string `json:"old"`
	New *string `json:"new"`
}

type elementJSON struct {
	Key     string      `json:"key"`
	Action  string      `json:"action"`
	Old     *feature    `json:"old"`
	New     *feature    `json:"new"`
	Current *feature    `json:"current"`
	Tags    []tagChange `json:"tags"`
}

type eventJSON struct {
	Seq     int64  `json:"seq"`
	Kind    string `json:"kind"`
	Actor   string `json:"actor"`
	Scope   string `json:"scope"`
	Comment string `json:"comment"`
	State   string `json:"state"`
	Time    string `json:"time"`
}

type conflictFieldJSON struct {
	Kind            string `json:"kind"`
	Key             string `json:"key"`
	Base            string `json:"base"`
	Current         string `json:"current"`
	Pending         string `json:"pending"`
	AbsentInBase    bool   `json:"absent_in_base"`
	AbsentInCurrent bool   `json:"absent_in_current"`
	AbsentInPending bool   `json:"absent_in_pending"`
}

type conflictJSON struct {
	Key            string              `json:"key"`
	Kind           string              `json:"kind"`
	Message        string              `json:"message"`
	BaseVersion    int                 `json:"base_version"`
	CurrentVersion int                 `json:"current_version"`
	Fields         []conflictFieldJSON `json:"fields"`
}

type detailJSON struct {
	Changeset changesetJSON     `json:"changeset"`
	Risk      int               `json:"risk"`
	Findings  []findingJSON     `json:"findings"`
	Scopes    []scopeJSON       `json:"scopes"`
	Elements  []elementJSON     `json:"elements"`
	Context   featureCollection `json:"context"`
	Events    []eventJSON       `json:"events"`
	Conflicts []conflictJSON    `json:"conflicts"`
	CanDecide bool              `json:"can_decide"`
	IsAuthor  bool              `json:"is_author"`
}

// detail is everything the changeset page shows. A contributor may read
// their own changesets only.
func (a *App) detail(w http.ResponseWriter, r *http.Request, who signedIn) {
	id, ok := changesetID(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	if !isReviewer(who.caller) {
		cs, err := a.cfg.Store.Changeset(ctx, id)
		if err != nil {
			a.reviewError(w, r, id, err)
			return
		}
		if cs.UID != who.caller.UID {
			writeError(w, http.StatusForbidden, fmt.Sprintf("changeset %d is another contributor's: a contributor reads their own changesets only", id))
			return
		}
	}
	d, err := a.cfg.Service.Review(ctx, id)
	if err != nil {
		a.reviewError(w, r, id, err)
		return
	}
	out := detailJSON{
		Changeset: changesetOf(&d.Changeset),
		Risk:      d.Validation.Risk,
		Findings:  []findingJSON{},
		Scopes:    []scopeJSON{},
		Elements:  make([]elementJSON, 0, len(d.Elements)),
		Events:    make([]eventJSON, 0, len(d.Events)),
		Conflicts: []conflictJSON{},
		IsAuthor:  d.Changeset.UID == who.caller.UID,
	}
	for _, f := range d.Validation.Findings {
		fj := findingJSON{Rule: f.Rule, Severity: f.Severity, Message: f.Message, Elements: []string{}}
		for _, k := range f.Elements {
			fj.Elements = append(fj.Elements, keyString(k))
		}
		out.Findings = append(out.Findings, fj)
	}
	if out.Scopes, err = a.scopesOf(r, d.Scopes); err != nil {
		a.internalError(w, r, fmt.Sprintf("approvers of changeset %d", id), err)
		return
	}
	out.CanDecide = a.canDecide(who.caller, &d)

	at, err := readSides(ctx, a.cfg.Store, d.Elements)
	if err != nil {
		a.internalError(w, r, fmt.Sprintf("geometry of changeset %d", id), err)
		return
	}
	own := make(map[osmdata.Key]bool, len(d.Elements))
	for _, e := range d.Elements {
		key := elementKey(e)
		own[key] = true
		ej := elementJSON{
			Key:     keyString(key),
			Action:  e.Action.String(),
			Old:     featureOf(e.Old, sideOld, at.old),
			New:     featureOf(e.New, sideNew, at.new),
			Current: featureOf(visibleOnly(e.Current), sideCurrent, at.current),
			Tags:    tagDiff(e.Old, e.New),
		}
		out.Elements = append(out.Elements, ej)
	}
	out.Context = emptyCollection()
	if d.Changeset.HasBox {
		if out.Context, err = contextAround(ctx, a.cfg.Store, d.Changeset.Box, own); err != nil {
			a.internalError(w, r, fmt.Sprintf("context of changeset %d", id), err)
			return
		}
	}
	for i := range d.Events {
		out.Events = append(out.Events, eventOf(&d.Events[i]))
	}
	for _, c := range d.Conflicts {
		cj := conflictJSON{Key: keyString(c.Element), Kind: string(c.Kind), Message: c.Message,
			BaseVersion: c.BaseVersion, CurrentVersion: c.CurrentVersion, Fields: []conflictFieldJSON{}}
		for _, f := range c.Fields {
			cj.Fields = append(cj.Fields, conflictFieldJSON{Kind: f.Kind, Key: f.Key, Base: f.Base, Current: f.Current,
				Pending: f.Pending, AbsentInBase: f.AbsentInBase, AbsentInCurrent: f.AbsentInCurrent, AbsentInPending: f.AbsentInPending})
		}
		out.Conflicts = append(out.Conflicts, cj)
	}
	writeJSON(w, http.StatusOK, out)
}

// canDecide says whether the caller may decide now: a reviewer of one of
// the scopes the submitted changeset needs (or an admin), not its author.
func (a *App) canDecide(caller review.Caller, d *review.Detail) bool {
	if !isReviewer(caller) || d.Changeset.UID == caller.UID || d.Changeset.ReviewState != osmdata.ReviewSubmitted || len(d.Scopes) == 0 {
		return false
	}
	if caller.Role == review.RoleAdmin {
		return true
	}
	mine := a.cfg.Review.ScopesOf(caller.Name, caller.Role)
	return slices.ContainsFunc(d.Scopes, func(s storage.ScopeApproval) bool { return slices.Contains(mine, s.Scope) })
}

// scopesOf names the approvers of each scope.
func (a *App) scopesOf(r *http.Request, scopes []storage.ScopeApproval) ([]scopeJSON, error) {
	out := make([]scopeJSON, 0, len(scopes))
	names := map[int64]string{}
	for _, s := range scopes {
		sj := scopeJSON{Scope: s.Scope, ApprovedBy: []string{}}
		if s.ApprovedBy != 0 {
			name, ok := names[s.ApprovedBy]
			if !ok {
				acc, err := a.cfg.Store.Account(r.Context(), s.ApprovedBy)
				switch {
				case errors.Is(err, storage.ErrNotFound):
					name = fmt.Sprintf("user %d", s.ApprovedBy)
				case err != nil:
					return nil, fmt.Errorf("account %d: %w", s.ApprovedBy, err)
				default:
					name = acc.DisplayName
				}
				names[s.ApprovedBy] = name
			}
			sj.ApprovedBy = append(sj.ApprovedBy, name)
		}
		out = append(out, sj)
	}
	return out, nil
}

func elementKey(e review.ElementDetail) osmdata.Key {
	for _, v := range []*osmdata.Element{e.New, e.Old, e.Current} {
		if v != nil {
			return v.Key()
		}
	}
	return osmdata.Key{}
}

func visibleOnly(e *osmdata.Element) *osmdata.Element {
	if e == nil || !e.Visible {
		return nil
	}
	return e
}

// tagDiff lists every key either side has, in the old version's order
// then the keys the new one adds.
func tagDiff(old, new *osmdata.Element) []tagChange {
	out := []tagChange{}
	index := map[string]int{}
	if old != nil {
		for _, t := range old.Tags {
			v := t.Value
			index[t.Key] = len(out)
			out = append(out, tagChange{Key: t.Key, Old: &v})
		}
	}
	if new != nil {
		for _, t := range new.Tags {
			v := t.Value
			if i, ok := index[t.Key]; ok {
				out[i].New = &v
				continue
			}
			out = append(out, tagChange{Key: t.Key, New: &v})
		}
	}
	return out
}

func changesetOf(cs *osmdata.Changeset) changesetJSON {
	comment, _ := cs.Tags.Get("comment")
	out := changesetJSON{
		ID: cs.ID, User: cs.User, UID: cs.UID, Comment: comment, Tags: map[string]string{},
		State: string(cs.ReviewState), Open: cs.Open, CreatedAt: timeString(cs.CreatedAt), ClosedAt: timeString(cs.ClosedAt),
	}
	for _, t := range cs.Tags {
		out.Tags[t.Key] = t.Value
	}
	if cs.HasBox {
		out.BBox = &[4]float64{
			osmdata.FixedToDegrees(cs.Box.MinLon), osmdata.FixedToDegrees(cs.Box.MinLat),
			osmdata.FixedToDegrees(cs.Box.MaxLon), osmdata.FixedToDegrees(cs.Box.MaxLat),
		}
	}
	return out
}

func eventOf(ev *osmdata.ReviewEvent) eventJSON {
	return eventJSON{Seq: ev.Seq, Kind: string(ev.Kind), Actor: ev.Actor, Scope: ev.Scope, Comment: ev.Comment,
		State: string(ev.State), Time: timeString(ev.Time)}
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
