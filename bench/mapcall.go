package bench

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/osm"

	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/osmdata/osmfile"
	"github.com/geocommuns/geocommuns/server"
	"github.com/geocommuns/geocommuns/storage"
)

// mapTarget is the issue's target for the largest box on PostgreSQL:
// cgimap's database time for a map call of 48,978 nodes.
const mapTarget = 259 * time.Millisecond

// mapTargetBoxNodes is where the target applies: the box of about 50,000
// nodes (48,978 in cgimap's figure), not the smaller ones.
const mapTargetBoxNodes = 40000

// mapSizes is what the map scenario reads and how much it measures.
type mapSizes struct {
	file string
	// targets are the numbers of nodes in the boxes, each under the map
	// call's limit of 50,000 nodes in the box (storage.MaxMapNodes): the
	// API refuses more, so the largest box holds just under it.
	targets []int
	// calls is how many timed map calls (and bare queries) per box.
	calls int
}

var (
	issueMapSizes = mapSizes{file: delawareFile, targets: []int{1000, 10000, 49000}, calls: 30}
	quickMapSizes = mapSizes{file: delawareFile, targets: []int{1000, 10000, 49000}, calls: 5}
)

func runMap(ctx context.Context, env *environment, b backend) ([]Result, error) {
	sizes := issueMapSizes
	if env.quick {
		sizes = quickMapSizes
	}
	return measureMap(ctx, env, b, sizes)
}

// measureMap finds boxes of about each target number of nodes around the
// densest point of the file and works out their replies in memory, then
// imports the file into a fresh store and times GET /api/0.6/map for each
// box over loopback HTTP against the server's handler, the reply read to
// its last byte, beside the store's nodes-in-box statement run bare on
// the same database. Every reply is counted and the first parsed and
// compared with what the file says before a figure is posted.
func measureMap(ctx context.Context, env *environment, b backend, sizes mapSizes) ([]Result, error) {
	path := env.file(sizes.file)
	elements, err := readAll(path)
	if err != nil {
		return nil, err
	}
	boxes, err := findMapBoxes(elements, sizes.targets)
	if err != nil {
		return nil, err
	}
	// What is left of the file is what the boxes expect; the rest is
	// garbage before the import, so that the peak memory measured is the
	// server's.
	elements = nil
	runtime.GC()

	store, bare, cleanup, err := openWithBareSQL(ctx, b)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	src, err := osmfile.OpenAll([]string{path})
	if err != nil {
		return nil, err
	}
	_, err = store.Import(ctx, src)
	src.Close()
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}

	rig, err := startMapServer(store, b.name(), boxes)
	if err != nil {
		return nil, err
	}
	defer rig.stop()

	var out []Result
	for _, box := range boxes {
		rs, err := measureMapBox(ctx, b, rig, bare, box, sizes.calls)
		if err != nil {
			return nil, fmt.Errorf("box of %d nodes (%s): %w", box.want.inBox, box.bbox, err)
		}
		out = append(out, rs...)
	}
	return out, nil
}

// mapRig is the server's handler on a loopback listener, and a client
// that neither compresses nor pools beyond one keep-alive connection.
type mapRig struct {
	url    string
	client *http.Client
	stop   func()
}

// startMapServer serves the server's whole handler (routing, logs,
// metrics, authentication, the per-request deadline) on 127.0.0.1. Each
// request runs under the pprof labels of its box's figure, so that a
// --cpuprofile can be focused on one box's server side.
func startMapServer(store storage.Store, backendName string, boxes []mapBox) (*mapRig, error) {
	h := server.New(server.Config{}, store, nil).Handler()
	labels := map[string]string{}
	for _, box := range boxes {
		labels[box.bbox] = mapFigureName(box)
	}
	labelled := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := labels[r.URL.Query().Get("bbox")]
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		pprof.Do(r.Context(), pprof.Labels("bench", name, "backend", backendName), func(ctx context.Context) {
			h.ServeHTTP(w, r.WithContext(ctx))
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	srv := &http.Server{Handler: labelled, ReadHeaderTimeout: server.DefaultReadHeaderTimeout}
	go srv.Serve(ln)
	// Uncompressed: gzip would add the same work at both ends of a
	// loopback connection, which is not the map call's.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}}
	return &mapRig{url: "http://" + ln.Addr().String(), client: client, stop: func() {
		client.CloseIdleConnections()
		srv.Close()
	}}, nil
}

func mapFigureName(box mapBox) string { return fmt.Sprintf("map %d nodes in box", box.want.inBox) }

// measureMapBox checks one map call's reply in full, then times calls
// map calls and as many bare queries, and checks every timed reply's
// counts.
func measureMapBox(ctx context.Context, b backend, rig *mapRig, bare bareNodesInBox, box mapBox, calls int) ([]Result, error) {
	n, err := bare.nodesInBox(ctx, box.box)
	if err != nil {
		return nil, err
	}
	if n != box.want.inBox {
		return nil, fmt.Errorf("self-check: the bare query finds %d nodes in the box, the file has %d", n, box.want.inBox)
	}
	body, _, err := getMap(ctx, rig, box.bbox)
	if err != nil {
		return nil, err
	}
	if err := checkMapReply(body, box.want); err != nil {
		return nil, fmt.Errorf("self-check: %w", err)
	}

	name := mapFigureName(box)
	took := make([]time.Duration, 0, calls)
	resetPeakRSS()
	pprof.Do(ctx, pprof.Labels("bench", name, "backend", b.name()), func(ctx context.Context) {
		for range calls {
			var d time.Duration
			if body, d, err = getMap(ctx, rig, box.bbox); err != nil {
				return
			}
			if err = checkMapCounts(body, box.want); err != nil {
				err = fmt.Errorf("self-check: %w", err)
				return
			}
			took = append(took, d)
		}
	})
	peak := peakRSSMB()
	if err != nil {
		return nil, err
	}
	bareTook := make([]time.Duration, 0, calls)
	for range calls {
		start := time.Now()
		n, err := bare.nodesInBox(ctx, box.box)
		d := time.Since(start)
		if err != nil {
			return nil, err
		}
		if n != box.want.inBox {
			return nil, fmt.Errorf("self-check: the bare query finds %d nodes in the box, the file has %d", n, box.want.inBox)
		}
		bareTook = append(bareTook, d)
	}

	returned := box.want.nodes
	note := fmt.Sprintf("%d nodes in box %s; reply %d nodes, %d ways, %d relations, %d kB; %d calls",
		box.want.inBox, box.bbox, box.want.nodes, box.want.ways, box.want.rels, len(body)/1024, calls)
	scenarioName := fmt.Sprintf("map %s nodes", formatCount(float64(returned)))
	var out []Result
	for _, q := range []struct {
		name, series string
		q            float64
	}{{"p50", "map", 0.5}, {"p99", "map p99", 0.99}} {
		v, base := percentile(took, q.q), percentile(bareTook, q.q)
		r := Result{
			// The size goes in the scenario, as stage's does, so that
			// the three boxes' rows share a metric and make one curve.
			Scenario: scenarioName, Backend: b.name(), Metric: q.name,
			Value: ms(v), Unit: "ms", BaselineName: "ms bare nodes-in-box SQL " + q.name, Baseline: ms(base), Ratio: ms(v) / ms(base),
			PeakMB: peak, Note: note, Series: q.series, Size: float64(returned),
		}
		if q.name == "p50" {
			r.Samples = msSamples(took)
		}
		if q.name == "p50" && box.target >= mapTargetBoxNodes && b.name() == "postgres" {
			r.Target = fmt.Sprintf("≤ %.0f ms end to end", ms(mapTarget))
			r.Met = boolPtr(v <= mapTarget)
		}
		out = append(out, r)
	}
	perNode := float64(percentile(took, 0.5).Microseconds()) / float64(returned)
	barePerNode := float64(percentile(bareTook, 0.5).Microseconds()) / float64(box.want.inBox)
	out = append(out, Result{
		Scenario: scenarioName, Backend: b.name(), Metric: "µs per returned node",
		Value: perNode, Unit: "µs", BaselineName: "µs per row, bare SQL p50", Baseline: barePerNode, Ratio: perNode / barePerNode,
		PeakMB: peak, Note: "p50 over nodes returned; the bare query's p50 over the rows it reads (the nodes in the box)",
	})
	return out, nil
}

// msSamples is every measurement in milliseconds, for the plots.
func msSamples(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = ms(d)
	}
	return out
}

// getMap is one map call, timed from sending the request to the reply's
// last byte.
func getMap(ctx context.Context, rig *mapRig, bbox string) ([]byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rig.url+"/api/0.6/map?bbox="+bbox, nil)
	if err != nil {
		return nil, 0, err
	}
	start := time.Now()
	resp, err := rig.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("map %s: %w", bbox, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return nil, 0, fmt.Errorf("map %s: read the reply: %w", bbox, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("map %s: %s: %.300s", bbox, resp.Status, body)
	}
	return body, d, nil
}

// checkMapCounts counts the elements of an XML reply by their start tags.
func checkMapCounts(body []byte, want mapExpectation) error {
	nodes := bytes.Count(body, []byte("<node "))
	ways := bytes.Count(body, []byte("<way "))
	rels := bytes.Count(body, []byte("<relation "))
	if nodes != want.nodes || ways != want.ways || rels != want.rels {
		return fmt.Errorf("the reply has %d nodes, %d ways, %d relations; the file gives %d, %d, %d",
			nodes, ways, rels, want.nodes, want.ways, want.rels)
	}
	return nil
}

// checkMapReply parses a whole reply, counts its elements and compares
// the sampled node field by field with the file's.
func checkMapReply(body []byte, want mapExpectation) error {
	if err := checkMapCounts(body, want); err != nil {
		return err
	}
	var doc osm.OSM
	if err := xml.Unmarshal(body, &doc); err != nil {
		return fmt.Errorf("parse the reply: %w", err)
	}
	if len(doc.Nodes) != want.nodes || len(doc.Ways) != want.ways || len(doc.Relations) != want.rels {
		return fmt.Errorf("the parsed reply has %d nodes, %d ways, %d relations; the file gives %d, %d, %d",
			len(doc.Nodes), len(doc.Ways), len(doc.Relations), want.nodes, want.ways, want.rels)
	}
	for _, n := range doc.Nodes {
		if int64(n.ID) != want.sample.ID {
			continue
		}
		got := nodeFromReply(n)
		if d := cmp.Diff(normalize(want.sample), normalize(got)); d != "" {
			return fmt.Errorf("node %d differs from the file (-file +reply):\n%s", want.sample.ID, d)
		}
		return nil
	}
	return fmt.Errorf("the reply lacks node %d (outside the box: %v)", want.sample.ID, want.sampleOutsideTheBox)
}

func nodeFromReply(n *osm.Node) osmdata.Element {
	e := osmdata.Element{
		Type: osmdata.Node, ID: int64(n.ID), Version: n.Version, Visible: n.Visible, Changeset: int64(n.ChangesetID),
		Timestamp: n.Timestamp, UID: int64(n.UserID), User: n.User,
		Lat: osmdata.RoundCoordToFixed(n.Lat), Lon: osmdata.RoundCoordToFixed(n.Lon),
	}
	for _, t := range n.Tags {
		e.Tags = append(e.Tags, osmdata.Tag{Key: t.Key, Value: t.Value})
	}
	return e
}
