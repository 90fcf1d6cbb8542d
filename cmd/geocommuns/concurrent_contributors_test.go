package main

import (
	"context"
	"database/sql"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geocommuns/geocommuns/server/servetest"
)

// The shared map the contributors all edit: sharedNodes nodes in a row
// and sharedWays ways over them, imported as an extract.
const (
	sharedNodes        = 20
	sharedWays         = 5
	contributorCount   = 50
	contributorRounds  = 3
	elementsPerRound   = 4
	keysPerContributor = 3
	// uploadAttempts bounds how often a contributor uploads one round
	// again after a 409 (somebody merged the element between its read and
	// its upload, as happens to every editor).
	uploadAttempts = 30
	// conflictAttempts bounds how often a contributor re-uploads a
	// conflicted changeset before leaving it.
	conflictAttempts = 3
)

// TestConcurrentContributors: 50 trusted contributors, each with tag keys
// of its own (u17:k0…), edit the same few nodes and ways at once through
// the real binary on each backend, round after round: read, retag, upload,
// close, wait for the review's auto-approval and the merge. Their
// overlapping edits merge by rebase (the three-way merge keeps other
// keys). Afterwards, from the server's reads and the database: every
// element's versions are 1..n, merge_seq is gapless, every contributor's
// key holds the value of the last merged changeset (in merge_seq order)
// that set it, and is absent when that changeset removed it or none set
// it; no request got a 5xx.
func TestConcurrentContributors(t *testing.T) {
	for _, backend := range backendNames(t) {
		t.Run(backend, func(t *testing.T) {
			ds := newDataset(t, backend)
			importSharedMap(t, ds)
			start := time.Now()
			mappers := trustedMappers(t, ds.flags, contributorCount)
			t.Logf("%d contributors added in %s", contributorCount, time.Since(start).Round(time.Millisecond))
			p := servetest.Start(t, binary, append(slices.Clone(ds.flags), "--write-rate", "0", "--merge-poll", "200ms")...)

			var stats contributorStats
			contributors := make([]*contributor, contributorCount)
			for i, m := range mappers {
				contributors[i] = &contributor{index: i, token: m.token, base: p.Base, stats: &stats,
					rand: rand.New(rand.NewPCG(uint64(i), 17))}
			}
			start = time.Now()
			var wg sync.WaitGroup
			errs := make(chan error, contributorCount)
			for _, c := range contributors {
				wg.Go(func() {
					for round := range contributorRounds {
						if err := c.round(round); err != nil {
							errs <- fmt.Errorf("contributor %d, round %d: %w", c.index, round, err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			elapsed := time.Since(start)
			if t.Failed() {
				t.FailNow()
			}

			merged := mergedEdits(t, contributors, outboxOrder(t, ds))
			checkSharedHistories(t, p.Base, merged, &stats)
			checkContributorKeys(t, p.Base, merged, &stats)
			t.Logf("%s: %d contributors × %d rounds in %s: %d changesets merged, %d conflicted (%d left conflicted), %d uploads answered 409 and retried, %d requests in all",
				backend, contributorCount, contributorRounds, elapsed.Round(time.Millisecond), stats.merged.Load(), stats.conflicts.Load(),
				stats.abandoned.Load(), stats.versionMismatches.Load(), stats.requests.Load())
			if n := stats.serverErrors.Load(); n != 0 {
				t.Errorf("%d requests answered 5xx", n)
			}
		})
	}
}

// importSharedMap imports the nodes and ways every contributor edits.
func importSharedMap(t *testing.T, ds dataset) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<osm version="0.6" generator="test">` + "\n")
	for i := 1; i <= sharedNodes; i++ {
		fmt.Fprintf(&b, `<node id="%d" version="1" timestamp="2024-05-01T10:00:00Z" changeset="7" uid="3" user="importer" lat="45.%04d" lon="4.%04d"><tag k="amenity" v="bench"/></node>`+"\n", i, i*10, i*7)
	}
	per := sharedNodes / sharedWays
	for w := 1; w <= sharedWays; w++ {
		fmt.Fprintf(&b, `<way id="%d" version="1" timestamp="2024-05-01T10:00:00Z" changeset="7" uid="3" user="importer">`, w)
		for n := (w-1)*per + 1; n <= w*per; n++ {
			fmt.Fprintf(&b, `<nd ref="%d"/>`, n)
		}
		b.WriteString(`<tag k="highway" v="path"/></way>` + "\n")
	}
	b.WriteString("</osm>\n")
	file := filepath.Join(t.TempDir(), "shared.osm")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runBinary(t, nil, append([]string{"import"}, append(slices.Clone(ds.flags), file)...)...); r.exit != 0 {
		t.Fatalf("import: %d %s", r.exit, r.stderr)
	}
}

type contributorStats struct {
	requests, serverErrors, versionMismatches atomic.Int64
	merged, conflicts, abandoned              atomic.Int64
}

// contributor is one of the editors: it keeps what each of its
// changesets meant to do to its own keys.
type contributor struct {
	index int
	token string
	base  string
	stats *contributorStats
	rand  *rand.Rand
	// edits are the key changes of each changeset it closed, by id.
	edits map[int64]keyEdits
}

// keyEdits are one changeset's changes to its author's keys: element →
// key → the value set, or nil for a removal.
type keyEdits map[string]map[string]*string

// sharedElement is a node or way as the API answers it.
type sharedElement struct {
	XMLName xml.Name
	ID      int64  `xml:"id,attr"`
	Version int    `xml:"version,attr"`
	Lat     string `xml:"lat,attr"`
	Lon     string `xml:"lon,attr"`
	Nodes   []struct {
		Ref int64 `xml:"ref,attr"`
	} `xml:"nd"`
	Tags []struct {
		K string `xml:"k,attr"`
		V string `xml:"v,attr"`
	} `xml:"tag"`
}

func (e *sharedElement) key() string { return fmt.Sprintf("%s/%d", e.XMLName.Local, e.ID) }

// round edits a few shared elements in one changeset and waits for it to
// merge, re-uploading it when it conflicts.
func (c *contributor) round(round int) error {
	if c.edits == nil {
		c.edits = map[int64]keyEdits{}
	}
	var targets []string
	for _, n := range c.rand.Perm(sharedNodes)[:elementsPerRound-1] {
		targets = append(targets, fmt.Sprintf("node/%d", n+1))
	}
	targets = append(targets, fmt.Sprintf("way/%d", c.rand.IntN(sharedWays)+1))
	edits := keyEdits{}
	for _, target := range targets {
		edits[target] = map[string]*string{}
		for k := range keysPerContributor {
			key := fmt.Sprintf("u%d:k%d", c.index, k)
			switch c.rand.IntN(3) {
			case 0: // left alone
			case 1:
				edits[target][key] = nil
			default:
				v := fmt.Sprintf("round %d value %d", round, c.rand.IntN(1000))
				edits[target][key] = &v
			}
		}
	}

	cs, err := c.createChangeset()
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		if err := c.uploadEdits(cs, targets, edits); err != nil {
			return err
		}
		if err := c.expect(http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", cs), "", http.StatusOK); err != nil {
			return err
		}
		state, err := c.waitDecided(cs)
		if err != nil {
			return err
		}
		switch state {
		case "merged":
			c.stats.merged.Add(1)
			c.edits[cs] = edits
			return nil
		case "conflicted":
			c.stats.conflicts.Add(1)
			if attempt+1 == conflictAttempts {
				c.stats.abandoned.Add(1)
				return nil
			}
			// Reopened: the contributor uploads its edits again on top of
			// the current versions and closes again.
		default:
			return fmt.Errorf("changeset %d is %s, want merged or conflicted", cs, state)
		}
	}
}

// uploadEdits reads the targets as they are now, applies the edits and
// uploads them, reading again after a 409.
func (c *contributor) uploadEdits(cs int64, targets []string, edits keyEdits) error {
	for range uploadAttempts {
		var body strings.Builder
		body.WriteString(`<osmChange version="0.6"><modify>`)
		for _, target := range targets {
			e, err := c.read(target)
			if err != nil {
				return err
			}
			writeModify(&body, e, cs, edits[target])
		}
		body.WriteString(`</modify></osmChange>`)
		status, answer, err := c.do(http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/upload", cs), body.String())
		if err != nil {
			return err
		}
		switch status {
		case http.StatusOK:
			return nil
		case http.StatusConflict:
			c.stats.versionMismatches.Add(1)
			continue
		default:
			return fmt.Errorf("upload to changeset %d: %d %s", cs, status, answer)
		}
	}
	return fmt.Errorf("upload to changeset %d: still 409 after %d attempts", cs, uploadAttempts)
}

// writeModify writes e, with edits applied to its tags, as a modify.
func writeModify(b *strings.Builder, e *sharedElement, cs int64, edits map[string]*string) {
	kind := e.XMLName.Local
	fmt.Fprintf(b, `<%s id="%d" version="%d" changeset="%d"`, kind, e.ID, e.Version, cs)
	if kind == "node" {
		fmt.Fprintf(b, ` lat="%s" lon="%s"`, e.Lat, e.Lon)
	}
	b.WriteString(">")
	for _, n := range e.Nodes {
		fmt.Fprintf(b, `<nd ref="%d"/>`, n.Ref)
	}
	for _, tag := range e.Tags {
		if _, edited := edits[tag.K]; !edited {
			fmt.Fprintf(b, `<tag k="%s" v="%s"/>`, html.EscapeString(tag.K), html.EscapeString(tag.V))
		}
	}
	for _, k := range sortedKeyNames(edits) {
		if v := edits[k]; v != nil {
			fmt.Fprintf(b, `<tag k="%s" v="%s"/>`, html.EscapeString(k), html.EscapeString(*v))
		}
	}
	fmt.Fprintf(b, `</%s>`, kind)
}

func sortedKeyNames[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// read reads an element as anybody sees it (anonymously: the
// authoritative version, not the contributor's overlay).
func (c *contributor) read(target string) (*sharedElement, error) {
	status, body, err := c.request(http.MethodGet, "/api/0.6/"+target, "", false)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %s", target, status, body)
	}
	var doc struct {
		Elements []sharedElement `xml:",any"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil || len(doc.Elements) != 1 {
		return nil, fmt.Errorf("GET %s: %v: %s", target, err, body)
	}
	return &doc.Elements[0], nil
}

func (c *contributor) createChangeset() (int64, error) {
	status, body, err := c.do(http.MethodPut, "/api/0.6/changeset/create",
		fmt.Sprintf(`<osm><changeset><tag k="comment" v="contributor %d"/></changeset></osm>`, c.index))
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("create a changeset: %d %s", status, body)
	}
	var id int64
	_, err = fmt.Sscan(strings.TrimSpace(body), &id)
	return id, err
}

// waitDecided polls the changeset until it has left the merge queue.
func (c *contributor) waitDecided(cs int64) (string, error) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		status, body, err := c.request(http.MethodGet, fmt.Sprintf("/api/0.6/changeset/%d", cs), "", false)
		if err != nil {
			return "", err
		}
		if status != http.StatusOK {
			return "", fmt.Errorf("GET changeset %d: %d %s", cs, status, body)
		}
		var doc struct {
			Changeset struct {
				ReviewState string `xml:"review_state,attr"`
			} `xml:"changeset"`
		}
		if err := xml.Unmarshal([]byte(body), &doc); err != nil {
			return "", err
		}
		if s := doc.Changeset.ReviewState; s != "submitted" && s != "approved" {
			return s, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("changeset %d still %s after two minutes", cs, doc.Changeset.ReviewState)
		}
		time.Sleep(time.Duration(100+c.rand.IntN(200)) * time.Millisecond)
	}
}

func (c *contributor) expect(method, path, body string, want int) error {
	status, answer, err := c.do(method, path, body)
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("%s %s: %d %s", method, path, status, answer)
	}
	return nil
}

// do makes an authenticated request.
func (c *contributor) do(method, path, body string) (int, string, error) {
	return c.request(method, path, body, true)
}

func (c *contributor) request(method, path, body string, signed bool) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if signed {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	c.stats.requests.Add(1)
	if resp.StatusCode >= 500 {
		c.stats.serverErrors.Add(1)
	}
	return resp.StatusCode, string(answer), nil
}

// outboxOrder reads the outbox from the database, checks that merge_seq
// is gapless and that each changeset merged once, and returns the
// changesets in merge_seq order.
func outboxOrder(t *testing.T, ds dataset) []int64 {
	t.Helper()
	const query = `SELECT merge_seq, changeset_id FROM outbox ORDER BY merge_seq`
	var seqs, changesets []int64
	scan := func(next func() bool, scan func(...any) error) {
		for next() {
			var seq, cs int64
			if err := scan(&seq, &cs); err != nil {
				t.Fatal(err)
			}
			seqs, changesets = append(seqs, seq), append(changesets, cs)
		}
	}
	if ds.name == "sqlite" {
		db := openSQLiteFile(t, ds.flags[1])
		defer db.Close()
		rows, err := db.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		scan(rows.Next, rows.Scan)
		rows.Close()
		if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
	} else {
		db := connectSchema(t, ds.flags[1], ds.flags[3])
		rows, err := db.Query(context.Background(), query)
		if err != nil {
			t.Fatal(err)
		}
		scan(rows.Next, rows.Scan)
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[int64]bool{}
	for i, seq := range seqs {
		if seq != int64(i+1) {
			t.Fatalf("merge_seq %d at position %d of the outbox: not gapless", seq, i+1)
		}
		if seen[changesets[i]] {
			t.Fatalf("changeset %d merged twice", changesets[i])
		}
		seen[changesets[i]] = true
	}
	return changesets
}

// historyVersion is one version in a history call's answer.
type historyVersion struct {
	Version int    `xml:"version,attr"`
	Visible string `xml:"visible,attr"`
}

// checkSharedHistories: each shared element's history is versions 1..n,
// all visible, one for the import and one for each merged changeset that
// edited it (a merge makes one version per changeset).
func checkSharedHistories(t *testing.T, base string, merged []keyEdits, stats *contributorStats) {
	t.Helper()
	c := &contributor{base: base, stats: stats}
	for _, target := range sharedTargets() {
		status, body, err := c.request(http.MethodGet, "/api/0.6/"+target+"/history", "", false)
		if err != nil || status != http.StatusOK {
			t.Fatalf("history of %s: %d %v %s", target, status, err, body)
		}
		var doc struct {
			Versions []historyVersion `xml:",any"`
		}
		if err := xml.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatal(err)
		}
		for i, v := range doc.Versions {
			if v.Version != i+1 || v.Visible != "true" {
				t.Errorf("history of %s: version %d (visible %s) at position %d", target, v.Version, v.Visible, i+1)
			}
		}
		want := 1
		for _, edits := range merged {
			if _, edited := edits[target]; edited {
				want++
			}
		}
		if len(doc.Versions) != want {
			t.Errorf("history of %s: %d versions, want %d (the import and %d merged changesets)", target, len(doc.Versions), want, want-1)
		}
	}
}

func sharedTargets() []string {
	var targets []string
	for n := 1; n <= sharedNodes; n++ {
		targets = append(targets, fmt.Sprintf("node/%d", n))
	}
	for w := 1; w <= sharedWays; w++ {
		targets = append(targets, fmt.Sprintf("way/%d", w))
	}
	return targets
}

// mergedEdits gives the key edits of the changesets in order (the
// outbox's), each of which a contributor saw merge.
func mergedEdits(t *testing.T, contributors []*contributor, order []int64) []keyEdits {
	t.Helper()
	editsOf := map[int64]keyEdits{}
	for _, c := range contributors {
		for cs, e := range c.edits {
			editsOf[cs] = e
		}
	}
	if len(order) != len(editsOf) {
		t.Errorf("%d merges in the outbox, %d changesets the contributors saw merged", len(order), len(editsOf))
	}
	var out []keyEdits
	for _, cs := range order {
		edits, ok := editsOf[cs]
		if !ok {
			t.Errorf("changeset %d merged, but no contributor saw it merge", cs)
			continue
		}
		out = append(out, edits)
	}
	return out
}

// checkContributorKeys replays the merged changesets' key edits in
// merge_seq order and holds every shared element's current tags to the
// result: each contributor key set by the last merged changeset that
// touched it, absent when it removed it or none set it; the other tags as
// imported.
func checkContributorKeys(t *testing.T, base string, merged []keyEdits, stats *contributorStats) {
	t.Helper()
	want := map[string]map[string]string{}
	for _, target := range sharedTargets() {
		want[target] = map[string]string{}
		if strings.HasPrefix(target, "node/") {
			want[target]["amenity"] = "bench"
		} else {
			want[target]["highway"] = "path"
		}
	}
	for _, edits := range merged {
		for target, keys := range edits {
			for k, v := range keys {
				if v == nil {
					delete(want[target], k)
				} else {
					want[target][k] = *v
				}
			}
		}
	}
	c := &contributor{base: base, stats: stats}
	for _, target := range sharedTargets() {
		e, err := c.read(target)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, tag := range e.Tags {
			got[tag.K] = tag.V
		}
		for k, v := range want[target] {
			if g, ok := got[k]; !ok || g != v {
				t.Errorf("%s: %s is %q (present %v), the last merged changeset to touch it set %q", target, k, g, ok, v)
			}
		}
		for k, v := range got {
			if _, ok := want[target][k]; !ok {
				t.Errorf("%s: %s=%q is present, though no merged changeset set it last", target, k, v)
			}
		}
	}
}
