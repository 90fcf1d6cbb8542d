package webapp_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/geocommuns/geocommuns/server/servetest"
)

// The done-when of issue 8, in Debian's chromium: a reviewer approves a
// changeset from the map with the keyboard alone and finds it in
// /api/0.6/map; in French, a reviewer rejects one with a comment and its
// contributor reads that comment.

const password = "correct horse battery staple"

// reviewSite is a served dataset with the extract, a reviewer (rita) and
// two untrusted contributors (alice, bob), each of whom has a footpath
// waiting in the queue; alice's also moves the café.
type reviewSite struct {
	srv          *servetest.Process
	alice, bob   uploadedChangeset
	aliceComment string
}

func newReviewSite(t *testing.T) *reviewSite {
	t.Helper()
	s := newSite(t)
	s.importExtract(t)
	s.addUser(t, "rita", "reviewer", password)
	s.addUser(t, "alice", "contributor", password)
	s.addUser(t, "bob", "contributor", password)
	srv := s.serve(t)
	rs := &reviewSite{srv: srv}
	rs.alice = uploadFootpath(t, srv, "alice", password, "Sentier Alice", 0, true)
	rs.bob = uploadFootpath(t, srv, "bob", password, "Sentier Bob", 0.002, false)
	// Closing submitted them; nobody is trusted, so they wait for rita.
	for _, id := range []int64{rs.alice.ID, rs.bob.ID} {
		waitReviewState(t, srv, id, "submitted")
	}
	return rs
}

func TestReviewInBrowser(t *testing.T) {
	rs := newReviewSite(t)
	b := startBrowser(t, "en-US")
	rita := b.newTab("rita")
	rita.signIn(rs.srv.Base, "rita", password)
	rows := rita.queueRows(rs.alice.ID)
	if !slices.Contains(rows, fmt.Sprint(rs.bob.ID)) {
		t.Errorf("rita's queue lists %v, want alice's %d and bob's %d", rows, rs.alice.ID, rs.bob.ID)
	}
	if count := eval[string](rita, `(document.querySelector('#queue-count') || {}).textContent || ''`); !strings.Contains(count, fmt.Sprint(len(rows))) {
		t.Errorf("#queue-count reads %q beside %d rows", count, len(rows))
	}
	if lang := eval[string](rita, `document.documentElement.lang`); lang != "en" {
		t.Errorf(`<html lang=%q> in a browser in en-US, want "en"`, lang)
	}

	rita.openWithKeyboard(rs.alice.ID)
	rita.waitMapReady()
	drawn := rita.drawnLayers()
	t.Logf("features drawn, by layer: %v", drawn)
	for _, key := range append([]string{rs.alice.wayKey()}, rs.alice.nodeKeys()...) {
		if !slices.Contains(drawn["created"], key) {
			t.Errorf("the map's created layers drew %v, not %s", drawn["created"], key)
		}
	}
	if !slices.Contains(drawn["modified-new"], rs.alice.modifiedKey()) {
		t.Errorf("the map's modified-new layers drew %v, not the moved café %s", drawn["modified-new"], rs.alice.modifiedKey())
	}
	if !slices.Contains(drawn["modified-old"], rs.alice.modifiedKey()) {
		t.Errorf("the map's modified-old layers drew %v, not where the café %s was", drawn["modified-old"], rs.alice.modifiedKey())
	}
	for layer, keys := range drawn {
		if slices.Contains(keys, rs.bob.wayKey()) {
			t.Errorf("alice's changeset page drew bob's footpath %s in %s", rs.bob.wayKey(), layer)
		}
	}
	for _, key := range append([]string{rs.alice.wayKey(), rs.alice.modifiedKey()}, rs.alice.nodeKeys()...) {
		if !eval[bool](rita, fmt.Sprintf(`!!document.querySelector('#elements [data-element=%q]')`, key)) {
			t.Errorf("#elements has no tag diff [data-element=%q]", key)
		}
	}
	rita.saveScreenshot("review-changeset.png")

	rita.decideWithKeyboard("a", "Looks right on the ground")
	if state := rita.waitPageState([]string{"approved", "merged"}, "submitted"); state == "approved" {
		t.Logf("the page shows approved; waiting for the merge")
	}
	cs := waitReviewState(t, rs.srv, rs.alice.ID, "merged", "rejected", "conflicted", "changes_requested")
	if state := rita.pageState(); state != "merged" {
		// The page is not bound to follow the merge job by itself: a
		// reload must show it.
		t.Logf("#state shows %q once the changeset merged; reloading", state)
		rita.do("reload the changeset page", chromedp.Reload())
		rita.waitPageState([]string{"merged"}, "approved")
	}

	var found *mapWay
	ways := anonymousMapWays(t, rs.srv, cs)
	for i := range ways {
		if ways[i].ID == rs.alice.Way {
			found = &ways[i]
		}
	}
	if found == nil {
		t.Fatalf("/api/0.6/map over changeset %d's bbox has no way %d after the approval", rs.alice.ID, rs.alice.Way)
	}
	var refs []int64
	for _, nd := range found.Nodes {
		refs = append(refs, nd.Ref)
	}
	if !slices.Equal(refs, rs.alice.Nodes) || found.tag("name") != "Sentier Alice" || found.tag("highway") != "footway" {
		t.Errorf("way %d in /api/0.6/map: nodes %v, highway=%q name=%q; want nodes %v, the footway Sentier Alice",
			found.ID, refs, found.tag("highway"), found.tag("name"), rs.alice.Nodes)
	}
	if bob := readChangeset(t, rs.srv, rs.bob.ID); bob.ReviewState != "submitted" {
		t.Errorf("bob's changeset %d, which nobody decided, is %q", rs.bob.ID, bob.ReviewState)
	}
	b.checkPolicyInForce(rita)
}

func TestReviewRejectInFrench(t *testing.T) {
	rs := newReviewSite(t)
	fr, en := catalog(t, "fr"), catalog(t, "en")
	b := startBrowser(t, "fr-FR")

	rita := b.newTab("rita")
	rita.signIn(rs.srv.Base, "rita", password)
	rita.openWithKeyboard(rs.alice.ID)
	rita.waitMapReady()
	const comment = "Ce sentier traverse une propriété privée"
	rita.decideWithKeyboard("x", comment)
	rita.waitPageState([]string{"rejected"}, "submitted")
	waitReviewState(t, rs.srv, rs.alice.ID, "rejected", "approved", "merged")

	if lang := eval[string](rita, `document.documentElement.lang`); lang != "fr" {
		t.Errorf(`<html lang=%q> in a browser in fr-FR, want "fr"`, lang)
	}
	// The page's own texts: what people wrote (the comment, the names in
	// the tag diff) might happen to match a catalog text.
	own := eval[string](rita, `(() => {
	  const page = document.body.cloneNode(true);
	  page.querySelectorAll('#discussion, #elements, script, style').forEach(e => e.remove());
	  return page.textContent;
	})()`)
	if shown := frenchTexts(own, fr, en); len(shown) == 0 {
		t.Errorf("the changeset page in fr-FR shows no text of fr.json that differs from en.json")
	} else {
		t.Logf("French texts on rita's page: %q", shown)
	}

	alice := b.newTab("alice")
	alice.signIn(rs.srv.Base, "alice", password)
	if rows := alice.queueRows(rs.alice.ID); slices.Contains(rows, fmt.Sprint(rs.bob.ID)) {
		t.Errorf("alice's list shows bob's changeset %d: %v", rs.bob.ID, rows)
	}
	alice.openWithKeyboard(rs.alice.ID)
	alice.waitPageState([]string{"rejected"})
	alice.do("wait for the discussion", chromedp.WaitVisible(chromedp.CSS("#discussion .comment")))
	comments := eval[[]string](alice, `[...document.querySelectorAll('#discussion .comment')].map(c => c.innerText)`)
	if !slices.ContainsFunc(comments, func(c string) bool { return strings.Contains(c, comment) }) {
		t.Errorf("alice's #discussion shows %q, not rita's comment %q", comments, comment)
	}
	if lang := eval[string](alice, `document.documentElement.lang`); lang != "fr" {
		t.Errorf(`alice's page: <html lang=%q>, want "fr"`, lang)
	}
	b.checkPolicyInForce(alice)
}

var placeholder = regexp.MustCompile(`\{[^}]*\}`)

// frenchTexts are the texts of the French catalog, as far as they are
// not also English ones, that the page shows: a message with a
// placeholder counts by its longest fixed part.
func frenchTexts(page string, fr, en map[string]string) []string {
	english := map[string]bool{}
	for _, v := range en {
		english[v] = true
	}
	var shown []string
	for key, v := range fr {
		if english[v] || v == en[key] {
			continue
		}
		longest := ""
		for _, part := range placeholder.Split(v, -1) {
			if part = strings.TrimSpace(part); len(part) > len(longest) {
				longest = part
			}
		}
		if len([]rune(longest)) >= 4 && strings.Contains(page, longest) {
			shown = append(shown, longest)
		}
	}
	slices.Sort(shown)
	return slices.Compact(shown)
}
