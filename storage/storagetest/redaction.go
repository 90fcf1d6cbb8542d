package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// testRedactions holds storage.Operations to its contract: a redacted
// historical version is refused to ElementVersion, left out of History and
// withheld (metadata only) by ElementVersions, which every feed reads; the
// current version cannot be redacted; an unredaction shows it again; each
// action leaves an audit entry.
func testRedactions(t *testing.T, open Opener) {
	t.Run("AdministratorsRead", func(t *testing.T) { t.Parallel(); testAdministratorsReadRedacted(t, open) })
	ctx := t.Context()
	s := open(t)
	admin := mustCreateAccount(t, s, "Ada Admin", "admin")

	secret := newNode(1, 1, deg(48.8566), deg(2.3522), "name", "private address", "phone", "+33 1 23 45 67 89")
	v2 := nextVersion(secret)
	v2.Tags = tags("amenity", "bench")
	v3 := nextVersion(v2)
	v3.Lat = deg(48.8567)
	w1 := newWay(10, 1, []int64{1, 1}, "highway", "footway")
	w2 := nextVersion(w1)
	w2.Tags = tags("highway", "path")
	mustApply(t, s, secret, v2, v3, w1, w2)
	node := osmdata.Key{Type: osmdata.Node, ID: 1}
	key := func(k osmdata.Key, v int) storage.VersionKey { return storage.VersionKey{Element: k, Version: v} }

	if _, err := s.Redact(ctx, storage.Redaction{Version: key(node, 3), AdminID: admin.ID, Reason: "x"}); !errors.Is(err, storage.ErrCannotRedactCurrent) {
		t.Errorf("Redact(current node 1 v3) = %v, want ErrCannotRedactCurrent", err)
	}
	if _, err := s.Redact(ctx, storage.Redaction{Version: key(node, 9), AdminID: admin.ID}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Redact(node 1 v9) = %v, want ErrNotFound", err)
	}
	if got, err := s.AdminAudit(ctx, 0, 10); err != nil || len(got) != 0 {
		t.Errorf("AdminAudit after refused redactions = %v, %v; want none", got, err)
	}

	r, err := s.Redact(ctx, storage.Redaction{Version: key(node, 1), RedactionID: 7, AdminID: admin.ID, Reason: "court order 2026-17"})
	if err != nil {
		t.Fatalf("Redact(node 1 v1): %v", err)
	}
	if r.CreatedAt.IsZero() {
		t.Errorf("Redact returned no creation time")
	}
	if _, err := s.ElementVersion(ctx, osmdata.Node, 1, 1); !errors.Is(err, storage.ErrRedacted) {
		t.Errorf("ElementVersion(redacted node 1 v1) = %v, want ErrRedacted", err)
	}
	if got, err := s.ElementVersion(ctx, osmdata.Node, 1, 2); err != nil {
		t.Errorf("ElementVersion(node 1 v2): %v", err)
	} else {
		checkElements(t, "ElementVersion(node 1 v2)", []osmdata.Element{got}, []osmdata.Element{v2})
	}
	hist, err := s.History(ctx, osmdata.Node, 1)
	if err != nil {
		t.Fatalf("History(node 1): %v", err)
	}
	checkElements(t, "History(node 1) with v1 redacted", hist, []osmdata.Element{v2, v3})
	if hist, err := s.History(ctx, osmdata.Way, 10); err != nil || len(hist) != 2 {
		t.Errorf("History(way 10) = %d versions, %v; a node's redaction must not touch way 10", len(hist), err)
	}

	feed, err := s.ElementVersions(ctx, []storage.VersionKey{key(node, 1), key(node, 2), key(osmdata.Key{Type: osmdata.Way, ID: 10}, 1)})
	if err != nil {
		t.Fatalf("ElementVersions: %v", err)
	}
	withheld := secret
	withheld.Tags, withheld.Lat, withheld.Lon, withheld.Redacted = nil, 0, 0, true
	checkElements(t, "ElementVersions (node 1 v1 redacted, v2, way 10 v1)", feed, []osmdata.Element{withheld, v2, w1})

	got, err := s.Redactions(ctx, []osmdata.Key{{Type: osmdata.Way, ID: 10}, node})
	if err != nil {
		t.Fatalf("Redactions: %v", err)
	}
	if len(got) != 1 || got[0].Version != key(node, 1) || got[0].RedactionID != 7 || got[0].Reason != "court order 2026-17" || got[0].AdminID != admin.ID {
		t.Errorf("Redactions = %+v, want node 1 v1 by admin %d, redaction 7, its reason", got, admin.ID)
	}

	if err := s.Unredact(ctx, key(node, 1), admin.ID, "order lifted"); err != nil {
		t.Fatalf("Unredact(node 1 v1): %v", err)
	}
	if err := s.Unredact(ctx, key(node, 1), admin.ID, "again"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Unredact(node 1 v1) twice = %v, want ErrNotFound", err)
	}
	if got, err := s.ElementVersion(ctx, osmdata.Node, 1, 1); err != nil {
		t.Errorf("ElementVersion(unredacted node 1 v1): %v", err)
	} else {
		checkElements(t, "ElementVersion(unredacted node 1 v1)", []osmdata.Element{got}, []osmdata.Element{secret})
	}
	if hist, err := s.History(ctx, osmdata.Node, 1); err != nil || len(hist) != 3 {
		t.Errorf("History(node 1) after unredaction = %d versions, %v; want 3", len(hist), err)
	}

	audit, err := s.AdminAudit(ctx, 0, 10)
	if err != nil {
		t.Fatalf("AdminAudit: %v", err)
	}
	want := []storage.AuditEntry{
		{AdminID: admin.ID, Action: storage.AuditRedact, Target: "node/1/1", Reason: "court order 2026-17"},
		{AdminID: admin.ID, Action: storage.AuditUnredact, Target: "node/1/1", Reason: "order lifted"},
	}
	checkAudit(t, audit, want)
	if len(audit) == 2 {
		if after, err := s.AdminAudit(ctx, audit[0].ID, 10); err != nil || len(after) != 1 || after[0].ID != audit[1].ID {
			t.Errorf("AdminAudit(after %d) = %+v, %v; want the second entry only", audit[0].ID, after, err)
		}
	}
}

// testAdministratorsReadRedacted holds ElementVersionWithRedacted and
// HistoryWithRedacted to their contract: an administrator deciding
// whether to unredact reads a redacted version of a node, a way or a
// relation whole (tags, position, way nodes, members) and sees it in its
// place in the history, while the public reads keep refusing it.
func testAdministratorsReadRedacted(t *testing.T, open Opener) {
	ctx := t.Context()
	s := open(t)
	admin := mustCreateAccount(t, s, "Ada Admin", "admin")

	n1 := newNode(1, 1, deg(48.8566), deg(2.3522), "name", "private address")
	n2 := nextVersion(n1)
	n2.Tags, n2.Lat = tags("amenity", "bench"), deg(48.8567)
	other := newNode(2, 1, deg(48.8570), deg(2.3530))
	w1 := newWay(10, 1, []int64{1, 2}, "name", "private driveway")
	w2 := nextVersion(w1)
	w2.Tags = tags("highway", "service")
	r1 := newRelation(20, 1, []osmdata.Member{member(osmdata.Node, 1, "home"), member(osmdata.Way, 10, "")}, "type", "site", "name", "private")
	r2 := nextVersion(r1)
	r2.Members, r2.Tags = []osmdata.Member{member(osmdata.Way, 10, "")}, tags("type", "site")
	mustApply(t, s, n1, n2, other, w1, w2, r1, r2)

	for _, e := range []osmdata.Element{n1, w1, r1} {
		v := storage.VersionKey{Element: e.Key(), Version: e.Version}
		if _, err := s.Redact(ctx, storage.Redaction{Version: v, RedactionID: 1, AdminID: admin.ID, Reason: "privacy"}); err != nil {
			t.Fatalf("Redact(%s): %v", v, err)
		}
	}

	for _, c := range []struct {
		redacted, current osmdata.Element
	}{{n1, n2}, {w1, w2}, {r1, r2}} {
		k := c.redacted.Key()
		if _, err := s.ElementVersion(ctx, k.Type, k.ID, 1); !errors.Is(err, storage.ErrRedacted) {
			t.Errorf("ElementVersion(redacted %s v1) = %v, want ErrRedacted", k, err)
		}
		if got, err := s.ElementVersionWithRedacted(ctx, k.Type, k.ID, 1); err != nil {
			t.Errorf("ElementVersionWithRedacted(redacted %s v1): %v", k, err)
		} else {
			checkElements(t, fmt.Sprintf("ElementVersionWithRedacted(redacted %s v1)", k), []osmdata.Element{got}, []osmdata.Element{c.redacted})
		}
		if got, err := s.ElementVersionWithRedacted(ctx, k.Type, k.ID, 2); err != nil {
			t.Errorf("ElementVersionWithRedacted(%s v2, not redacted): %v", k, err)
		} else {
			checkElements(t, fmt.Sprintf("ElementVersionWithRedacted(%s v2)", k), []osmdata.Element{got}, []osmdata.Element{c.current})
		}
		if _, err := s.ElementVersionWithRedacted(ctx, k.Type, k.ID, 3); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("ElementVersionWithRedacted(%s v3) = %v, want ErrNotFound", k, err)
		}
		hist, err := s.HistoryWithRedacted(ctx, k.Type, k.ID)
		if err != nil {
			t.Errorf("HistoryWithRedacted(%s): %v", k, err)
		} else {
			checkElements(t, fmt.Sprintf("HistoryWithRedacted(%s) with v1 redacted", k), hist, []osmdata.Element{c.redacted, c.current})
		}
		if public, err := s.History(ctx, k.Type, k.ID); err != nil {
			t.Errorf("History(%s): %v", k, err)
		} else {
			checkElements(t, fmt.Sprintf("History(%s) after the administrators' reads", k), public, []osmdata.Element{c.current})
		}
	}
	if hist, err := s.HistoryWithRedacted(ctx, osmdata.Node, 2); err != nil {
		t.Errorf("HistoryWithRedacted(node 2, never redacted): %v", err)
	} else {
		checkElements(t, "HistoryWithRedacted(node 2)", hist, []osmdata.Element{other})
	}
	if _, err := s.HistoryWithRedacted(ctx, osmdata.Node, 99); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("HistoryWithRedacted(node 99) = %v, want ErrNotFound", err)
	}
	if _, err := s.ElementVersionWithRedacted(ctx, osmdata.Node, 99, 1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("ElementVersionWithRedacted(node 99 v1) = %v, want ErrNotFound", err)
	}
}

// testDeleteAccount holds DeleteAccount to its contract: the account
// can no longer sign in or be found, its versions and changesets keep
// their uid under the pseudonym, its sessions are gone, and an audit
// entry says who did it.
func testDeleteAccount(t *testing.T, open Opener) {
	ctx := t.Context()
	s := open(t)
	admin := mustCreateAccount(t, s, "Ada Admin", "admin")
	leaving := mustCreateAccount(t, s, "Léa Leaving", "contributor")
	staying := mustCreateAccount(t, s, "Sam Staying", "contributor")

	n1 := newNode(1, 1, deg(45.76), deg(4.83), "amenity", "bench")
	n1.UID, n1.User = leaving.ID, leaving.DisplayName
	n2 := nextVersion(n1)
	n2.UID, n2.User = staying.ID, staying.DisplayName
	mustApply(t, s, n1, n2)
	cs, err := s.CreateChangeset(ctx, storage.NewChangeset{UID: leaving.ID, User: leaving.DisplayName})
	if err != nil {
		t.Fatalf("CreateChangeset: %v", err)
	}
	session := []byte("0123456789abcdef0123456789abcdef")
	if err := s.CreateWebSession(ctx, storage.WebSession{Hash: session, UserID: leaving.ID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("CreateWebSession: %v", err)
	}

	if _, err := s.DeleteAccount(ctx, 999999, admin.ID, "x"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DeleteAccount(unknown user) = %v, want ErrNotFound", err)
	}
	got, err := s.DeleteAccount(ctx, leaving.ID, admin.ID, "GDPR erasure request")
	if err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	pseudonym := storage.Pseudonym(leaving.ID)
	if got.ID != leaving.ID || got.DisplayName != pseudonym {
		t.Errorf("DeleteAccount = %+v, want id %d named %q", got, leaving.ID, pseudonym)
	}
	if _, err := s.Account(ctx, leaving.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Account(deleted) = %v, want ErrNotFound", err)
	}
	if _, err := s.AccountByName(ctx, leaving.DisplayName); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("AccountByName(deleted's old name) = %v, want ErrNotFound", err)
	}
	if _, err := s.DeleteAccount(ctx, leaving.ID, admin.ID, "twice"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DeleteAccount twice = %v, want ErrNotFound", err)
	}
	hist, err := s.History(ctx, osmdata.Node, 1)
	if err != nil || len(hist) != 2 {
		t.Fatalf("History(node 1) = %d versions, %v", len(hist), err)
	}
	if hist[0].UID != leaving.ID || hist[0].User != pseudonym {
		t.Errorf("node 1 v1 by uid %d %q, want uid %d %q", hist[0].UID, hist[0].User, leaving.ID, pseudonym)
	}
	if hist[1].UID != staying.ID || hist[1].User != staying.DisplayName {
		t.Errorf("node 1 v2 by uid %d %q, want uid %d %q untouched", hist[1].UID, hist[1].User, staying.ID, staying.DisplayName)
	}
	if c, err := s.Changeset(ctx, cs.ID); err != nil || c.UID != leaving.ID || c.User != pseudonym {
		t.Errorf("Changeset(%d) = uid %d %q, %v; want uid %d %q", cs.ID, c.UID, c.User, err, leaving.ID, pseudonym)
	}
	if _, err := s.WebSession(ctx, session); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("web session of the deleted account = %v, want ErrNotFound (signed out)", err)
	}
	if _, err := s.AccountByName(ctx, staying.DisplayName); err != nil {
		t.Errorf("AccountByName(another account): %v", err)
	}
	audit, err := s.AdminAudit(ctx, 0, 10)
	if err != nil {
		t.Fatalf("AdminAudit: %v", err)
	}
	checkAudit(t, audit, []storage.AuditEntry{{AdminID: admin.ID, Action: storage.AuditDeleteAccount,
		Target: storage.AccountTarget(leaving.ID), Reason: "GDPR erasure request"}})
}

// checkAudit compares entries but their ids and times, which it checks
// are increasing and set.
func checkAudit(t *testing.T, got, want []storage.AuditEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("AdminAudit = %+v, want %d entries", got, len(want))
	}
	for i := range got {
		if got[i].CreatedAt.IsZero() || i > 0 && got[i].ID <= got[i-1].ID {
			t.Errorf("audit entry %d = %+v: want a time and an id above the previous one", i, got[i])
		}
		g := got[i]
		g.ID, g.CreatedAt = 0, want[i].CreatedAt
		if g != want[i] {
			t.Errorf("audit entry %d = %+v, want %+v", i, g, want[i])
		}
	}
}
