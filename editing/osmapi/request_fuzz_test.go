package osmapi

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/editing"
	"github.com/geocommuns/geocommuns/osmdata"
	"github.com/geocommuns/geocommuns/storage/sqlite"
)

// fuzzMaxArea is a configured map area smaller than openstreetmap.org's,
// so that the property is about the configured limit, not a constant.
const fuzzMaxArea = 0.01

// addQuerySeeds adds the query strings of cgimap's and
// openstreetmap-website's tests of these parameters, and their edges.
func addQuerySeeds(f *testing.F) {
	for _, q := range []string{
		"bbox=-0.1,51.5,0,51.6",
		"bbox=-180,-90,180,90",
		"bbox=1,1,1,1",
		"bbox=+1.5e0,-2,%201.6,-1.9",
		"bbox=NaN,NaN,NaN,NaN",
		"bbox=1,2,3",
		"bbox=1,2,3,4,5",
		"nodes=1,2v1,3v0,,5v2v3,18446744073709551615,x",
		"ways=1&ways=2",
		"relations=1%2C2&relations",
		"user=1&time=2020-01-01T00:00:00Z,2021-01-01&open&closed",
		"display_name=ana%20b&changesets=1,2,-3,a&review_state=submitted,,approved",
		"time=2020-01-01,2020-02-01,2020-03-01",
		"bbox=1,2,3,4=5&user=0",
	} {
		f.Add(q, "application/json;q=0.5, text/*;q=0.1", "gzip;q=1.0, identity; q=0.5, *;q=0")
	}
	f.Add("", "", "")
	f.Add("bbox=0,0,0.1,0.1", "*/*;q=0", "identity;q=0")
	f.Add("nodes=1", "application/xml; q=1.5", "br")
}

func requestWithQuery(path, rawQuery, accept, acceptEncoding string) *http.Request {
	r := &http.Request{
		Method: http.MethodGet,
		URL:    &url.URL{Path: path, RawQuery: rawQuery},
		Header: http.Header{},
	}
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	if acceptEncoding != "" {
		r.Header.Set("Accept-Encoding", acceptEncoding)
	}
	return r.WithContext(context.Background())
}

// FuzzRequestParams checks the parsers of the read calls' query
// parameters and headers on any input: no panic, and nothing over a
// limit is accepted. A map box accepted is a box of the world
// (±180/±90, min <= max, no NaN) whose area is within the configured
// maximum; a changeset query's box is a box of the world and its ids,
// user and limit are positive; a multi-fetch list is sorted, without
// duplicates, and never longer than the items the query holds; a
// negotiated format is one the endpoint offers and the Accept header
// does not refuse.
func FuzzRequestParams(f *testing.F) {
	addQuerySeeds(f)
	f.Fuzz(func(t *testing.T, rawQuery, accept, acceptEncoding string) {
		r := requestWithQuery("/api/0.6/map", rawQuery, accept, acceptEncoding)
		if box, err := parseMapBox(r, fuzzMaxArea); err == nil {
			checkWorldBox(t, box)
			if !(box.Area() <= fuzzMaxArea) {
				t.Fatalf("map box %v of area %g accepted over the maximum %g", box, box.Area(), fuzzMaxArea)
			}
			fixed := box.Fixed()
			if fixed.MinLat > fixed.MaxLat || fixed.MinLon > fixed.MaxLon {
				t.Fatalf("map box %v is %+v in fixed point", box, fixed)
			}
		}

		for _, param := range []string{"nodes", "ways", "relations"} {
			list := parseIDList(r, param)
			items := strings.Count(formDecode(rawQuery), ",") + 1
			if len(list) > items {
				t.Fatalf("%s: %d items out of a query of %d", param, len(list), items)
			}
			if !slices.IsSortedFunc(list, idVersion.compare) {
				t.Fatalf("%s: %v is not sorted", param, list)
			}
			for i := 1; i < len(list); i++ {
				if list[i-1].compare(list[i]) == 0 {
					t.Fatalf("%s: %v twice", param, list[i])
				}
			}
		}

		if q, err := parseChangesetQuery(r); err == nil {
			if q.Box != nil {
				b := *q.Box
				if b.MinLat < -90*osmdata.CoordScale || b.MaxLat > 90*osmdata.CoordScale || b.MinLon < -180*osmdata.CoordScale ||
					b.MaxLon > 180*osmdata.CoordScale || b.MinLat > b.MaxLat || b.MinLon > b.MaxLon {
					t.Fatalf("changeset query box %+v accepted", b)
				}
			}
			if q.UID < 0 || (q.UID != 0 && q.DisplayName != "") {
				t.Fatalf("changeset query user %d, name %q", q.UID, q.DisplayName)
			}
			for _, id := range q.IDs {
				if id <= 0 {
					t.Fatalf("changeset query id %d", id)
				}
			}
			if q.Limit <= 0 || q.Limit > editing.MaxChangesetQueryLimit {
				t.Fatalf("changeset query limit %d", q.Limit)
			}
			if !q.ClosedAfter.IsZero() && q.ClosedAfter.Location() != time.UTC {
				t.Fatalf("changeset query time %v not in UTC", q.ClosedAfter)
			}
		}

		for _, path := range []string{"/api/0.6/map", "/api/0.6/map.json", "/api/0.6/map.xml"} {
			r := requestWithQuery(path, rawQuery, accept, acceptEncoding)
			got, err := negotiate(r, availableFormats)
			if err != nil {
				continue
			}
			if !slices.Contains(availableFormats, got) {
				t.Fatalf("%s, Accept %q: negotiated %v, not offered", path, accept, got)
			}
			if pf := pathFormat(path); pf != formatUnspecified && got != pf {
				t.Fatalf("%s, Accept %q: negotiated %v against the path's suffix", path, accept, got)
			}
			if accept != "" {
				h, herr := parseAccept(accept)
				if herr == nil && !h.acceptable(got) {
					t.Fatalf("Accept %q: negotiated %v, which it does not accept", accept, got)
				}
			}
		}
		if gzip, err := gzipAccepted(acceptEncoding); err == nil && gzip && !strings.Contains(strings.ToLower(acceptEncoding), "gzip") && !strings.Contains(acceptEncoding, "*") {
			t.Fatalf("Accept-Encoding %q: gzip chosen, not asked for", acceptEncoding)
		}
	})
}

func checkWorldBox(t *testing.T, b osmdata.BoxDegrees) {
	t.Helper()
	for _, v := range []float64{b.MinLon, b.MinLat, b.MaxLon, b.MaxLat} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("box %v accepted", b)
		}
	}
	if b.MinLon < -180 || b.MaxLon > 180 || b.MinLat < -90 || b.MaxLat > 90 || b.MinLon > b.MaxLon || b.MinLat > b.MaxLat {
		t.Fatalf("box %v accepted", b)
	}
}

// readPaths are the read calls FuzzReadCalls asks, each with the query
// and headers of the input: every parser of a read request is reached.
var readPaths = []string{
	"/api/0.6/map", "/api/0.6/map.json", "/api/0.6/nodes", "/api/0.6/ways.json", "/api/0.6/relations",
	"/api/0.6/changesets", "/api/0.6/changesets.json", "/api/0.6/node/1", "/api/0.6/way/1/full",
	"/api/0.6/relation/1/full.json", "/api/0.6/node/1/history", "/api/capabilities",
}

// FuzzReadCalls asks the read calls of the real API, over a real SQLite
// store holding the read tests' dataset, with any query, path suffix,
// Accept and Accept-Encoding: never a 5xx nor a panic, and an answer
// in a format the client may read.
func FuzzReadCalls(f *testing.F) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, f.TempDir())
	if err != nil {
		f.Fatalf("open sqlite: %v", err)
	}
	f.Cleanup(func() { store.Close() })
	if _, err := store.Import(ctx, &sliceSource{els: datasetSnapshot()}); err != nil {
		f.Fatalf("import the test dataset: %v", err)
	}
	if err := store.Apply(ctx, datasetEdits()); err != nil {
		f.Fatalf("apply the test edits: %v", err)
	}
	mux := newMux(&API{Reader: store, MaxMapArea: fuzzMaxArea})

	for i := range readPaths {
		f.Add(uint8(i), "", "bbox=13.3,52.5,13.4,52.55&nodes=1,2v1&ways=1&relations=1,2&time=2020-01-01&user=1", "application/json", "gzip")
	}
	f.Add(uint8(0), "", "bbox=-180,-90,180,90", "", "")
	f.Add(uint8(2), "", "nodes=18446744073709551615,1v4294967295", "text/*;q=0", "identity;q=0")
	f.Add(uint8(7), "0/history.xml", "", "*/*", "")
	f.Fuzz(func(t *testing.T, which uint8, suffix, rawQuery, accept, acceptEncoding string) {
		path := readPaths[int(which)%len(readPaths)] + suffix
		u, err := url.Parse(path)
		if err != nil || u.Path == "" || u.RawQuery != "" {
			return // not a path a client can send
		}
		r := requestWithQuery(u.Path, rawQuery, accept, acceptEncoding)
		r.RequestURI = u.RequestURI()
		r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
		r.Host = "example.org"
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("GET %s?%s, Accept %q: %d %s", u.Path, rawQuery, accept, w.Code, w.Body)
		}
		if w.Code != http.StatusOK || !strings.HasPrefix(u.Path, "/api/0.6/") {
			return
		}
		ct := w.Header().Get("Content-Type")
		if !strings.HasPrefix(ct, "application/xml") && !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "text/xml") {
			t.Fatalf("GET %s?%s, Accept %q: 200 as %q", u.Path, rawQuery, accept, ct)
		}
	})
}
