package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Each of mergeKillAuthors trusted contributors uploads a chain of
// mergeKillChain changesets, each creating mergeKillCreates nodes and
// retagging mergeKillRetags nodes of the one before, so that each builds
// on its predecessor (design.md's stacking) and its merge takes a while.
const (
	mergeKillAuthors = 4
	mergeKillChain   = 4
	mergeKillCreates = 1000
	mergeKillRetags  = 40
	mergeKills       = 6
)

// stackedChangeset is one changeset of a chain and what its merge must
// leave: the nodes it retags at version 2 with its tag.
type stackedChangeset struct {
	id      int64
	author  *mapper
	parent  int64 // 0 for the first of a chain
	created []int64
	retags  []int64
}

// TestMergeSurvivesSIGKILL closes 16 stacked changesets of trusted
// contributors at once and kills `serve` on the embedded store again and
// again while its merge job works through them, restarting it each time.
// After every kill, before the restart: each changeset is merged entirely
// (its outbox row, every final version, one history row per element) or
// not at all (still submitted or approved, with nothing of it in the
// element tables); merge_seq is gapless and a child merged after its
// parent; every element's current version is its last. After the last
// restart every changeset merges, and the feed (the outbox) has each
// merge_seq once.
func TestMergeSurvivesSIGKILL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	ds := dataset{"sqlite", []string{"--data", dir}}
	importSmallExtract(t, ds, t.TempDir())
	authors := trustedMappers(t, ds.flags, mergeKillAuthors)

	// The chains are uploaded open, so that nothing merges yet.
	p := startKillable(t, dir)
	var all []*stackedChangeset
	for _, m := range authors {
		var prev *stackedChangeset
		for range mergeKillChain {
			cs := uploadStacked(t, p.Base, m, prev)
			all = append(all, cs)
			prev = cs
		}
	}
	for _, cs := range all {
		if err := cs.author.close(p.Base, cs.id); err != nil {
			t.Fatal(err)
		}
	}

	// Each kill waits for the merge job to make progress (a merge since
	// the last kill), then lands at random within the next merges.
	merged := 0
	for kill := range mergeKills {
		if !waitOutboxRows(t, dir, merged+1) {
			t.Logf("kill %d: everything merged before it", kill+1)
			break
		}
		// Most of the time between merges goes to validating the next
		// changeset; the kill waits for a write transaction to be open
		// (the merge's, mostly: it is the longest) so that it lands in
		// one, and otherwise at a random moment.
		inTx := waitWriteLock(t, dir, time.Duration(rand.IntN(2000))*time.Millisecond)
		p.Kill(t)
		merged = checkMergeState(t, dir, all)
		t.Logf("kill %d (while a write transaction was open: %v): %d of %d changesets merged", kill+1, inTx, merged, len(all))
		p = startKillable(t, dir)
	}
	for _, cs := range all {
		if state := waitDecided(t, p.Base, cs.id); state != "merged" {
			t.Fatalf("changeset %d is %s after the restarts, want merged", cs.id, state)
		}
	}
	p.Stop(t)
	if merged := checkMergeState(t, dir, all); merged != len(all) {
		t.Fatalf("%d of %d changesets merged", merged, len(all))
	}
	checkRetags(t, dir, all)
}

// uploadStacked opens a changeset and uploads into it, without closing
// it: mergeKillCreates new nodes, and a retag of mergeKillRetags nodes
// prev created, citing their provisional version 1.
func uploadStacked(t *testing.T, base string, m *mapper, prev *stackedChangeset) *stackedChangeset {
	t.Helper()
	id, err := m.open(base)
	if err != nil {
		t.Fatal(err)
	}
	cs := &stackedChangeset{id: id, author: m}
	var b strings.Builder
	b.WriteString(`<osmChange version="0.6"><create>`)
	for i := range mergeKillCreates {
		fmt.Fprintf(&b, `<node id="-%d" changeset="%d" lat="%.5f" lon="%.5f"><tag k="survey:point" v="%d"/></node>`,
			i+1, id, 43+float64(i/100)*0.0001, 2+float64(i%100)*0.0001, i)
	}
	b.WriteString(`</create>`)
	if prev != nil {
		cs.parent = prev.id
		cs.retags = prev.created[:mergeKillRetags]
		b.WriteString(`<modify>`)
		for i, n := range cs.retags {
			fmt.Fprintf(&b, `<node id="%d" changeset="%d" version="1" lat="%.5f" lon="%.5f"><tag k="survey:point" v="%d"/><tag k="checked" v="%d"/></node>`,
				n, id, 43+float64(i/100)*0.0001, 2+float64(i%100)*0.0001, i, id)
		}
		b.WriteString(`</modify>`)
	}
	b.WriteString(`</osmChange>`)
	diff, err := m.upload(base, id, b.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(diff) != mergeKillCreates+len(cs.retags) {
		t.Fatalf("changeset %d: diffResult has %d entries, want %d", id, len(diff), mergeKillCreates+len(cs.retags))
	}
	for _, d := range diff[:mergeKillCreates] {
		cs.created = append(cs.created, d.NewID)
	}
	return cs
}

// waitOutboxRows waits until the outbox has n rows, and says false when all
// changesets (mergeKillAuthors × mergeKillChain) have merged before.
func waitOutboxRows(t *testing.T, dir string, n int) bool {
	t.Helper()
	db := openSQLiteFile(t, dir)
	defer db.Close()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var rows int
		if err := db.QueryRowContext(context.Background(), `SELECT count(*) FROM outbox`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		switch {
		case rows >= n:
			return true
		case rows == mergeKillAuthors*mergeKillChain:
			return false
		case time.Now().After(deadline):
			t.Fatalf("%d merges after two minutes, want %d", rows, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkMergeState checks, in the file of a stopped server, that each
// changeset of all merged entirely or not at all, that merge_seq is
// gapless and follows the chains, and that versions are gapless; it
// returns how many merged.
func checkMergeState(t *testing.T, dir string, all []*stackedChangeset) int {
	t.Helper()
	checkSQLiteFile(t, dir)
	checkVersionsGapless(t, dir)
	db := openSQLiteFile(t, dir)
	defer db.Close()
	ctx := context.Background()

	rows, err := db.QueryContext(ctx, `SELECT merge_seq, changeset_id FROM outbox ORDER BY merge_seq`)
	if err != nil {
		t.Fatal(err)
	}
	seqOf := map[int64]int64{}
	var last int64
	for rows.Next() {
		var seq, cs int64
		if err := rows.Scan(&seq, &cs); err != nil {
			t.Fatal(err)
		}
		if seq != last+1 {
			t.Errorf("merge_seq %d follows %d", seq, last)
		}
		if _, twice := seqOf[cs]; twice {
			t.Errorf("changeset %d has two outbox rows", cs)
		}
		seqOf[cs], last = seq, seq
	}
	rows.Close()
	var counter int64
	if err := db.QueryRowContext(ctx, `SELECT last_seq FROM replication_state`).Scan(&counter); err != nil {
		t.Fatal(err)
	}
	if counter != last {
		t.Errorf("the merge_seq counter is at %d, the outbox at %d", counter, last)
	}

	merged := 0
	for _, cs := range all {
		var state string
		var pending, finals, versions int
		if err := db.QueryRowContext(ctx, `SELECT review_state,
				(SELECT count(*) FROM pending_changes WHERE changeset_id = c.id),
				(SELECT count(*) FROM pending_changes WHERE changeset_id = c.id AND final_version IS NOT NULL),
				(SELECT count(*) FROM nodes WHERE changeset_id = c.id) + (SELECT count(*) FROM ways WHERE changeset_id = c.id)
			FROM changesets c WHERE id = ?`, cs.id).Scan(&state, &pending, &finals, &versions); err != nil {
			t.Fatal(err)
		}
		seq, inOutbox := seqOf[cs.id]
		switch state {
		case "merged":
			merged++
			if !inOutbox || finals != pending || versions != pending {
				t.Errorf("changeset %d is merged with %d of %d final versions, %d element versions, outbox row %v",
					cs.id, finals, pending, versions, inOutbox)
			}
			if cs.parent != 0 && (seqOf[cs.parent] == 0 || seqOf[cs.parent] > seq) {
				t.Errorf("changeset %d merged (merge_seq %d) before its parent %d (merge_seq %d)", cs.id, seq, cs.parent, seqOf[cs.parent])
			}
		case "submitted", "approved":
			if inOutbox || finals != 0 || versions != 0 {
				t.Errorf("changeset %d is %s, yet has %d final versions, %d element versions, outbox row %v",
					cs.id, state, finals, versions, inOutbox)
			}
		default:
			t.Errorf("changeset %d is %s: a kill must leave it merged, or waiting to merge", cs.id, state)
		}
		if pending != mergeKillCreates+len(cs.retags) {
			t.Errorf("changeset %d has %d pending changes, its upload %d", cs.id, pending, mergeKillCreates+len(cs.retags))
		}
	}
	return merged
}

// checkRetags: each retagged node is at version 2, with the tag of the
// changeset that retagged it, and that changeset's final version.
func checkRetags(t *testing.T, dir string, all []*stackedChangeset) {
	t.Helper()
	db := openSQLiteFile(t, dir)
	defer db.Close()
	for _, cs := range all {
		for _, n := range cs.retags {
			var version int
			var changeset int64
			var tags string
			if err := db.QueryRowContext(context.Background(), `SELECT version, changeset_id, tags FROM nodes WHERE id = ? AND is_current`, n).
				Scan(&version, &changeset, &tags); err != nil {
				t.Fatalf("node %d: %v", n, err)
			}
			if version != 2 || changeset != cs.id || !strings.Contains(tags, fmt.Sprintf(`"checked","%d"`, cs.id)) {
				t.Errorf("node %d: version %d of changeset %d with tags %s; want version 2 of changeset %d with checked=%d",
					n, version, changeset, tags, cs.id, cs.id)
			}
		}
	}
}
