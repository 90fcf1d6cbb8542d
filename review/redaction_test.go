package review_test

import (
	"context"
	"strings"
	"testing"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// Reverting a changeset whose element's previous version was redacted
// since leaves that element, saying why (here the only one: the revert
// is refused): history lacks the version and
// ElementVersions withholds it, so a revert would otherwise restore an
// empty element (or an older version) in its place. The review detail
// of the changeset that made the redacted version withholds it too.
func TestRevertAndReviewOfARedactedVersion(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			w := newReviewWorld(t, b.open(t))
			ctx := context.Background()
			ana, carl := w.contributor("ana", true), w.contributor("carl", true)
			rita := w.reviewer("rita")
			admin, err := w.store.CreateAccount(ctx, storage.NewAccount{DisplayName: "ada", Role: "admin"})
			if err != nil {
				t.Fatal(err)
			}

			secret, res := w.edit(ana, createNode(-1, 2, 2, tag("name", "Jane Doe's home")))
			node := res.Entries[0].NewID
			fix, _ := w.edit(carl, modifyNode(node, 1, 2, 2, tag("amenity", "bench")))
			w.mustState(secret, osmdata.ReviewMerged)
			w.mustState(fix, osmdata.ReviewMerged)
			if _, err := w.store.Redact(ctx, storage.Redaction{Version: storage.VersionKey{Element: nodeKey(node), Version: 1},
				AdminID: admin.ID, Reason: "privacy"}); err != nil {
				t.Fatalf("redact node %d v1: %v", node, err)
			}

			if rev, err := w.svc.RevertChangeset(ctx, rita, fix, ""); err == nil || !strings.Contains(err.Error(), "(v1) is redacted") {
				t.Errorf("revert of changeset %d: %+v, %v; want it refused, node %d's v1 being redacted", fix, rev, err, node)
			}

			d, err := w.svc.Review(ctx, secret)
			if err != nil {
				t.Fatalf("review of changeset %d: %v", secret, err)
			}
			if len(d.Elements) != 1 || d.Elements[0].New == nil || !d.Elements[0].New.Redacted || len(d.Elements[0].New.Tags) != 0 {
				t.Errorf("review of changeset %d shows %+v, want node %d's new content withheld", secret, d.Elements, node)
			}
		})
	}
}
