package osmapi

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/geocommuns/geocommuns/auth"
	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
)

// versionReads counts the store's reads of named versions, one by one
// and in bulk, on the way from the handlers to the real store.
type versionReads struct {
	storage.Store
	single, bulk atomic.Int64
}

func (c *versionReads) ElementVersion(ctx context.Context, t osmdata.ElementType, id int64, version int) (osmdata.Element, error) {
	c.single.Add(1)
	return c.Store.ElementVersion(ctx, t, id, version)
}

func (c *versionReads) NamedVersions(ctx context.Context, t osmdata.ElementType, versions []storage.IDVersion) ([]osmdata.Element, error) {
	c.bulk.Add(1)
	return c.Store.(storage.VersionsReader).NamedVersions(ctx, t, versions)
}

// TestMultiFetchBounds: a multi-fetch lists at most MaxMultiFetchIDs
// distinct elements (400 beyond, with the golden text), and its
// IDvVERSION items are read in one statement however many there are,
// with a redacted version missing as cgimap has it.
func TestMultiFetchBounds(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store := b.open(t)
			loadDataset(t, store)
			if _, ok := store.(storage.VersionsReader); !ok {
				t.Fatalf("the %s store reads named versions one by one", b.name)
			}
			reads := &versionReads{Store: store}
			srv := httptest.NewServer(newMux(&API{Reader: reads}))
			defer srv.Close()

			ids := func(n int, format string) string {
				items := make([]string, n)
				for i := range items {
					items[i] = fmt.Sprintf(format, i+1)
				}
				return strings.Join(items, ",")
			}
			for _, param := range []string{"nodes", "ways", "relations"} {
				path := "/api/0.6/" + param + "?" + param + "=" + ids(MaxMultiFetchIDs+1, "%d")
				resp, body := do(t, srv, "", path, nil)
				checkError(t, param+" over the limit", resp, body, newError(editing.ErrTooManyIDs, param, MaxMultiFetchIDs+1, MaxMultiFetchIDs))
			}
			// At the limit the list is read: most of these nodes do not
			// exist, so 404; duplicates count once.
			resp, body := do(t, srv, "", "/api/0.6/nodes?nodes="+ids(MaxMultiFetchIDs, "%d")+",1,2", nil)
			checkError(t, "nodes at the limit", resp, body, newError(errNotFound))

			// Many versions of the two nodes that have them, and nothing
			// else: one bulk read, no read per item.
			var many []string
			for range 50 {
				many = append(many, "2v1", "2v2", "3v1", "3v2")
			}
			reads.single.Store(0)
			reads.bulk.Store(0)
			checkRead(t, srv, readCase{want: list(n(1, 1), n(2, 1), n(2, 2), n(3, 1), gone(n(3, 2)))},
				"/api/0.6/nodes?nodes="+strings.Join(many, ",")+",1")
			if s, b := reads.single.Load(), reads.bulk.Load(); s != 0 || b != 1 {
				t.Errorf("named versions read in %d single reads and %d bulk reads, want 0 and 1", s, b)
			}

			ops, ok := store.(interface {
				storage.Operations
				storage.Accounts
			})
			if !ok {
				t.Fatalf("the %s store has no redactions or accounts", b.name)
			}
			admin, err := ops.CreateAccount(t.Context(), storage.NewAccount{DisplayName: "admin", Role: string(auth.RoleAdmin)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ops.Redact(t.Context(), storage.Redaction{Version: storage.VersionKey{
				Element: osmdata.Key{Type: osmdata.Node, ID: 2}, Version: 1}, Reason: "test", AdminID: admin.ID}); err != nil {
				t.Fatal(err)
			}
			resp, body = do(t, srv, "", "/api/0.6/nodes?nodes=2v1,1", nil)
			checkError(t, "a redacted version", resp, body, newError(errNotFound))
			checkRead(t, srv, readCase{want: list(n(1, 1), n(2, 2))}, "/api/0.6/nodes?nodes=2v2,1")
		})
	}
}
