package bus_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage"
	"github.com/geocommuns/geocommuns/sync/bus"
)

func TestTileOfEdges(t *testing.T) {
	const z = bus.TileZoom
	last := 1<<z - 1
	for _, c := range []struct {
		lat, lon float64
		x, y     int
	}{
		{0, 0, 2048, 2048},
		{90, -180, 0, 0},       // beyond Mercator: the first row
		{-90, 180, last, last}, // the antimeridian's east edge stays in the last column
		{51.5074, -0.1278, 2046, 1362},
		{-33.8688, 151.2093, 3768, 2457},
	} {
		got := bus.TileOf(z, osmdata.RoundCoordToFixed(c.lat), osmdata.RoundCoordToFixed(c.lon))
		if got != (bus.Tile{Z: z, X: c.x, Y: c.y}) {
			t.Errorf("TileOf(%v, %v) = %+v, want %d/%d/%d", c.lat, c.lon, got, z, c.x, c.y)
		}
	}
}

// TestWaysAndRelationsReachTheTilesOfTheirNodes: a way's merge goes to
// the tiles of its nodes as they are, a moved node's to its old and new
// tiles, a relation's to its member nodes' and member ways' nodes'.
func TestWaysAndRelationsReachTheTilesOfTheirNodes(t *testing.T) {
	url := startEmbedded(t, t.TempDir(), "127.0.0.1:0").ClientURL()
	stream, subjects := names(t, url)
	d := newDataset(t, openSQLite(t))
	startRelay(t, d.store, url, bus.RelayConfig{Stream: stream, Subjects: subjects})
	tileOf := func(lat, lon float64) string {
		return subjects.Tile(bus.TileOf(bus.TileZoom, osmdata.RoundCoordToFixed(lat), osmdata.RoundCoordToFixed(lon)))
	}
	north, south, west := tileOf(10, 10), tileOf(-20, -30), tileOf(10, -100)

	// 1: nodes a (north) and b (west), way w over both.
	first := d.merge(createNode(-1, 10, 10), createNode(-2, 10, -100),
		editing.Operation{Action: storage.Create, Element: osmdata.Element{Type: osmdata.Way, ID: -1, Nodes: []int64{-1, -2}}})
	ids := map[osmdata.ElementType][]int64{}
	for _, v := range first.Versions {
		ids[v.Element.Type] = append(ids[v.Element.Type], v.Element.ID)
	}
	a, b, w := ids[osmdata.Node][0], ids[osmdata.Node][1], ids[osmdata.Way][0]
	// 2: a moves south.
	move := createNode(a, -20, -30)
	move.Action, move.Element.Version = storage.Modify, 1
	d.merge(move)
	// 3: w is retagged; its nodes are now south and west.
	d.merge(editing.Operation{Action: storage.Modify, Element: osmdata.Element{Type: osmdata.Way, ID: w, Version: 1,
		Nodes: []int64{a, b}, Tags: osmdata.Tags{{Key: "highway", Value: "track"}}}})
	// 4: relation of node b and way w.
	d.merge(editing.Operation{Action: storage.Create, Element: osmdata.Element{Type: osmdata.Relation, ID: -1,
		Members: []osmdata.Member{{Type: osmdata.Node, Ref: b}, {Type: osmdata.Way, Ref: w, Role: "outer"}}}})

	receive(t, url, stream, subjects.All(), 4)
	want := map[int64][]string{1: {north, west}, 2: {north, south}, 3: {south, west}, 4: {south, west}}
	n := 0
	for _, tiles := range want {
		n += len(tiles)
	}
	got := map[int64]map[string]bool{}
	for _, m := range receiveRaw(t, url, stream, subjects.Prefix+".merges.tile.>", n) {
		seq, _ := strconv.ParseInt(m.Headers().Get(bus.HeaderMergeSeq), 10, 64)
		if got[seq] == nil {
			got[seq] = map[string]bool{}
		}
		got[seq][m.Subject()] = true
	}
	for seq, tiles := range want {
		if len(got[seq]) != len(tiles) {
			t.Errorf("merge %d on %v, want %v", seq, got[seq], tiles)
		}
		for _, tile := range tiles {
			if !got[seq][tile] {
				t.Errorf("merge %d not on %s (on %v)", seq, tile, got[seq])
			}
		}
	}
	// Nothing beyond those.
	js, _ := jetstream.New(connect(t, url))
	st, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background(), jetstream.WithSubjectFilter(subjects.Prefix+".merges.tile.>"))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range info.State.Subjects {
		total += int(c)
	}
	if total != n {
		t.Errorf("%d tile messages, want %d: %v", total, n, info.State.Subjects)
	}
}
