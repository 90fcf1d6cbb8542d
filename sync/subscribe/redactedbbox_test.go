package subscribe_test

import (
	"context"
	"slices"
	"testing"

	"github.com/geocommuns/geocommuns/auth"
	geocommunsv1 "github.com/geocommuns/geocommuns/gen/geocommuns/v1"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/subscribe"
)

// A redacted version comes withheld, its coordinates reading 0,0: under a
// bbox it must neither put a merge in a box around 0,0 nor take it out of
// the box the element is in. A change is judged by its other version;
// one whose versions are all withheld cannot be placed and goes to every
// box, as the change it is.
func TestBboxFilterWithRedactedVersions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		url := w.serveSubscribe(subscribe.Config{Batch: 4, MarkerEvery: 3})
		moveTo := func(id int64, lat, lon float64) int64 {
			n := w.current(id)
			n.Lat, n.Lon = osmdata.RoundCoordToFixed(lat), osmdata.RoundCoordToFixed(lon)
			e, _ := w.merge(op(storage.Modify, n))
			return e.Seq
		}

		// Node x stays far from both boxes: v1, v2 (to be redacted), v3.
		_, x := w.mergeNode(50, -120)
		moveTo(x, 51, -120)
		moveTo(x, 52, -120)
		// Node z stays in the box near 10, 20: v2 and v3 to be redacted.
		z1, z := w.mergeNode(10.5, 20.5)
		z2 := moveTo(z, 10.6, 20.6)
		z3 := moveTo(z, 10.7, 20.7) // v2 to v3: both withheld
		z4 := moveTo(z, 10.8, 20.8)
		last, _ := w.mergeNode(50, -120)

		ops, ok := w.store.(storage.Operations)
		if !ok {
			t.Fatal("the store has no redactions")
		}
		admin, err := w.store.CreateAccount(ctx, storage.NewAccount{DisplayName: "admin", Role: string(auth.RoleAdmin)})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []storage.VersionKey{
			{Element: osmdata.Key{Type: osmdata.Node, ID: x}, Version: 2},
			{Element: osmdata.Key{Type: osmdata.Node, ID: z}, Version: 2},
			{Element: osmdata.Key{Type: osmdata.Node, ID: z}, Version: 3},
		} {
			if _, err := ops.Redact(ctx, storage.Redaction{Version: v, Reason: "test", AdminID: admin.ID}); err != nil {
				t.Fatalf("redact %v: %v", v, err)
			}
		}

		sentTo := func(box *geocommunsv1.BoundingBox) []int64 {
			sub := subscribeTo(t, url, &geocommunsv1.SubscribeRequest{Bbox: box})
			var sent []int64
			for prev := int64(0); prev < last; {
				ev := sub.next(t)
				prev = ev.GetCaughtUpTo()
				if c := ev.GetChange(); c != nil {
					prev = c.GetMergeSeq()
					sent = append(sent, prev)
				}
			}
			return sent
		}
		aroundZero := &geocommunsv1.BoundingBox{MinLatE7: -10000000, MaxLatE7: 10000000, MinLonE7: -10000000, MaxLonE7: 10000000}
		if got, want := sentTo(aroundZero), []int64{z3}; !slices.Equal(got, want) {
			t.Errorf("box around 0,0 got merges %v, want %v: only the change whose versions are all withheld", got, want)
		}
		nearZ := &geocommunsv1.BoundingBox{MinLatE7: 100000000, MaxLatE7: 110000000, MinLonE7: 200000000, MaxLonE7: 210000000}
		if got, want := sentTo(nearZ), []int64{z1, z2, z3, z4}; !slices.Equal(got, want) {
			t.Errorf("box of node z got merges %v, want %v: each of z's changes", got, want)
		}
	})
}
