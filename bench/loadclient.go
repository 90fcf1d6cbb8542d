package bench

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/geocommuns/geocommuns/osmdata"
)

// requestKind names the requests a contributor makes, for their figures.
type requestKind string

const (
	kindCreate requestKind = "create changeset"
	kindUpload requestKind = "upload"
	kindClose  requestKind = "close"
	kindMerged requestKind = "close → merged"
)

// timings collects the duration of every request by kind, and every
// failure, from all clients at once.
type timings struct {
	mu     sync.Mutex
	took   map[requestKind][]time.Duration
	errors []string
}

func newTimings() *timings { return &timings{took: map[requestKind][]time.Duration{}} }

func (t *timings) add(kind requestKind, d time.Duration) {
	t.mu.Lock()
	t.took[kind] = append(t.took[kind], d)
	t.mu.Unlock()
}

func (t *timings) fail(err error) {
	t.mu.Lock()
	t.errors = append(t.errors, err.Error())
	t.mu.Unlock()
}

// loadClient is one contributor's HTTP client: its API token, and the
// elements it made with what each must hold once merged.
type loadClient struct {
	base   string
	client *http.Client
	token  string
	// user numbers the contributor, which places its elements apart
	// from everyone else's.
	user int
	t    *timings
}

// do sends one request, times it as kind, and fails unless it is
// answered 2xx.
func (c *loadClient) do(ctx context.Context, kind requestKind, method, path string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/xml")
	}
	start := time.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	reply, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the reply: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %.300s", method, path, resp.Status, reply)
	}
	c.t.add(kind, d)
	return reply, nil
}

// madeElement is what one of a contributor's elements must be once its
// changesets merged.
type madeElement struct {
	key     osmdata.Key
	version int
	lat     int32
	lon     int32
	tags    osmdata.Tags
	nodes   []int64
}

// round is one changeset: create, upload, close. It returns the
// changeset's id and the elements it made or changed, as they must be
// once it merged.
func (c *loadClient) round(ctx context.Context, n int, previous []madeElement) (int64, []madeElement, error) {
	reply, err := c.do(ctx, kindCreate, http.MethodPut, "/api/0.6/changeset/create",
		fmt.Appendf(nil, `<osm><changeset><tag k="comment" v="load bench: contributor %d, changeset %d"/><tag k="created_by" v="geocommuns bench"/></changeset></osm>`, c.user, n))
	if err != nil {
		return 0, nil, err
	}
	id, err := strconv.ParseInt(strings.TrimSpace(string(reply)), 10, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("changeset create answered %q: %w", reply, err)
	}
	doc, made := c.osmChange(id, n, previous)
	reply, err = c.do(ctx, kindUpload, http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/upload", id), doc)
	if err != nil {
		return 0, nil, err
	}
	if made, err = resolvePlaceholders(reply, made); err != nil {
		return 0, nil, fmt.Errorf("changeset %d: %w", id, err)
	}
	if _, err := c.do(ctx, kindClose, http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", id), nil); err != nil {
		return 0, nil, err
	}
	return id, made, nil
}

// Each changeset holds loadCreates new nodes and a way over three of
// them, and retags the previous changeset's first node and way: ten
// elements, as the merge scenario's small changesets.
const loadCreates = 7

// osmChange writes changeset n's upload: loadCreates nodes and a way
// (negative placeholder ids), then, from the second changeset on, a
// retag of the previous changeset's first node and of its way. Each
// contributor's nodes sit in a square of their own, apart from all
// others', so that no two contributors touch the same place.
func (c *loadClient) osmChange(id int64, n int, previous []madeElement) ([]byte, []madeElement) {
	var b bytes.Buffer
	var made []madeElement
	b.WriteString(`<osmChange version="0.6" generator="geocommuns bench"><create>`)
	baseLat := int32(450_000_000 + c.user*1_000_000 + n*2_000)
	baseLon := int32(50_000_000)
	for i := 1; i <= loadCreates; i++ {
		lat, lon := baseLat, baseLon+int32(i*1_000)
		tags := osmdata.Tags{{Key: "amenity", Value: "bench"}, {Key: "ref", Value: fmt.Sprintf("%d-%d-%d", c.user, n, i)}}
		fmt.Fprintf(&b, `<node id="-%d" changeset="%d" lat="%s" lon="%s">`, i, id, fixedDecimal(lat), fixedDecimal(lon))
		writeTags(&b, tags)
		b.WriteString(`</node>`)
		made = append(made, madeElement{key: osmdata.Key{Type: osmdata.Node, ID: -int64(i)}, version: 1, lat: lat, lon: lon, tags: tags})
	}
	wayTags := osmdata.Tags{{Key: "highway", Value: "footway"}, {Key: "ref", Value: fmt.Sprintf("%d-%d", c.user, n)}}
	fmt.Fprintf(&b, `<way id="-%d" changeset="%d"><nd ref="-1"/><nd ref="-2"/><nd ref="-3"/>`, loadCreates+1, id)
	writeTags(&b, wayTags)
	b.WriteString(`</way></create>`)
	made = append(made, madeElement{key: osmdata.Key{Type: osmdata.Way, ID: -int64(loadCreates + 1)}, version: 1, tags: wayTags, nodes: []int64{-1, -2, -3}})

	if len(previous) > loadCreates {
		// The previous changeset's first node and its way, as it created
		// them.
		b.WriteString(`<modify>`)
		for _, p := range []madeElement{previous[0], previous[loadCreates]} {
			m := p
			m.version = p.version + 1
			m.tags = append(osmdata.Tags{{Key: "name", Value: fmt.Sprintf("retagged in changeset %d", n)}}, p.tags...)
			switch p.key.Type {
			case osmdata.Node:
				fmt.Fprintf(&b, `<node id="%d" version="%d" changeset="%d" lat="%s" lon="%s">`, p.key.ID, p.version, id, fixedDecimal(p.lat), fixedDecimal(p.lon))
				writeTags(&b, m.tags)
				b.WriteString(`</node>`)
			case osmdata.Way:
				fmt.Fprintf(&b, `<way id="%d" version="%d" changeset="%d">`, p.key.ID, p.version, id)
				for _, ref := range p.nodes {
					fmt.Fprintf(&b, `<nd ref="%d"/>`, ref)
				}
				writeTags(&b, m.tags)
				b.WriteString(`</way>`)
			}
			made = append(made, m)
		}
		b.WriteString(`</modify>`)
	}
	b.WriteString(`</osmChange>`)
	return b.Bytes(), made
}

func writeTags(b *bytes.Buffer, tags osmdata.Tags) {
	for _, t := range tags {
		b.WriteString(`<tag k="`)
		xml.EscapeText(b, []byte(t.Key))
		b.WriteString(`" v="`)
		xml.EscapeText(b, []byte(t.Value))
		b.WriteString(`"/>`)
	}
}

// diffResult is the upload's answer, as far as the bench reads it.
type diffResult struct {
	Entries []struct {
		XMLName    xml.Name
		OldID      int64 `xml:"old_id,attr"`
		NewID      int64 `xml:"new_id,attr"`
		NewVersion int   `xml:"new_version,attr"`
	} `xml:",any"`
}

// resolvePlaceholders gives the created elements the ids the diffResult
// allocated (and their ways' node lists too), and checks that it
// answered every element with the version expected.
func resolvePlaceholders(reply []byte, made []madeElement) ([]madeElement, error) {
	var dr diffResult
	if err := xml.Unmarshal(reply, &dr); err != nil {
		return nil, fmt.Errorf("parse the diffResult: %w", err)
	}
	if len(dr.Entries) != len(made) {
		return nil, fmt.Errorf("the diffResult has %d entries for %d elements", len(dr.Entries), len(made))
	}
	ids := map[osmdata.Key]int64{}
	for i, e := range dr.Entries {
		m := &made[i]
		if e.XMLName.Local != m.key.Type.String() || e.OldID != m.key.ID || e.NewVersion != m.version {
			return nil, fmt.Errorf("diffResult entry %d is %s %d → %d v%d, want %s v%d", i, e.XMLName.Local, e.OldID, e.NewID, e.NewVersion, m.key, m.version)
		}
		ids[m.key] = e.NewID
		m.key.ID = e.NewID
	}
	for i := range made {
		for j, ref := range made[i].nodes {
			if ref < 0 {
				made[i].nodes[j] = ids[osmdata.Key{Type: osmdata.Node, ID: ref}]
			}
		}
	}
	return made, nil
}
