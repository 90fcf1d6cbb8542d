package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestMergeAcrossProcesses: three `geocommuns serve` processes on one
// PostgreSQL dataset take changesets of trusted contributors from
// concurrent clients, each changeset stacking on the author's previous
// ones. Every changeset is merged exactly once, merge_seq is gapless and
// follows commit order, every element's versions are gapless and end where
// its author's last diffResult said. One process is killed with SIGKILL
// in the middle of a merge (held there by a lock the test takes on the
// outbox, so the kill cannot miss): nothing of that merge remains, and the
// other two merge its changeset and go on taking work.
func TestMergeAcrossProcesses(t *testing.T) {
	pgURL := os.Getenv(postgresVariable)
	if pgURL == "" {
		t.Skipf("needs PostgreSQL: set %s", postgresVariable)
	}
	schema := testSchema(t, pgURL)
	flags := []string{"--postgres", pgURL, "--schema", schema}
	if r := runBinary(t, nil, append([]string{"migrate"}, flags...)...); r.exit != 0 {
		t.Fatalf("migrate: %d %s", r.exit, r.stderr)
	}
	const nClients = 4
	clients := trustedMappers(t, flags, nClients)
	// Each process's connections carry its name, so the test can tell
	// from pg_stat_activity which process is merging.
	procs := make([]*serveProcess, 3)
	for i := range procs {
		procs[i] = startServe(t, "--postgres", withAppName(t, pgURL, fmt.Sprintf("geocommuns-%d", i)), "--schema", schema,
			"--merge-poll", "300ms")
	}
	db := connectSchema(t, pgURL, schema)

	var changesets []int64
	var mu sync.Mutex
	runClients := func(rounds int, servers []*serveProcess) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, nClients)
		for i, c := range clients {
			wg.Go(func() {
				for r := range rounds {
					s := servers[(i+r)%len(servers)]
					cs, err := c.edit(s.base)
					if err != nil {
						errs <- fmt.Errorf("client %d on %s: %w", i, s.base, err)
						return
					}
					mu.Lock()
					changesets = append(changesets, cs)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			for _, p := range servers {
				t.Log(p.log())
			}
			t.Fatal(err)
		}
	}

	// 160 changesets through all three processes.
	runClients(40, procs)
	waitMerged(t, db, len(changesets))

	// A 9,000-element changeset (one below the changeset limit, so that
	// the client closes it), closed on the third process: whichever
	// process starts merging it stops at the outbox insert, its final
	// versions written but not committed, until the test lets go.
	lockTx, err := db.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockTx.Exec(context.Background(), "LOCK TABLE outbox IN SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	big, bigNodes, err := clients[0].createMany(procs[2].base, 9000)
	if err != nil {
		t.Fatal(err)
	}
	victim := waitForBlockedMerge(t, db)
	t.Logf("process %d is merging changeset %d: killing it", victim, big)
	killed := procs[victim]
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-killed.done
	// Its backend notices the closed connection only when it reads the
	// next command, after its blocked insert: the COMMIT never comes.
	if err := lockTx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitBackendsGone(t, db, fmt.Sprintf("geocommuns-%d", victim))
	var live []*serveProcess
	for i, p := range procs {
		if i != victim {
			live = append(live, p)
		}
	}
	// 40 more changesets through the two processes left, which also
	// merge the killed process's changeset.
	runClients(10, live)
	changesets = append(changesets, big)
	waitMerged(t, db, len(changesets))

	checkMerges(t, db, changesets)
	checkVersions(t, db, clients, bigNodes)
	for _, p := range live {
		if code := p.stop(t); code != 0 {
			t.Errorf("exit status %d after SIGTERM\n%s", code, p.log())
		}
	}
}

func withAppName(t *testing.T, raw, name string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func connectSchema(t *testing.T, pgURL, schema string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "SET search_path TO "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	return conn
}

// waitMerged waits until n changesets are merged and none is left
// approved or submitted.
func waitMerged(t *testing.T, db *pgx.Conn, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var merged, waiting int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE review_state = 'merged'),
			count(*) FILTER (WHERE review_state IN ('submitted', 'approved')) FROM changesets`).Scan(&merged, &waiting); err != nil {
			t.Fatal(err)
		}
		if merged == n && waiting == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d changesets merged, %d waiting; want %d merged", merged, waiting, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitForBlockedMerge returns the process whose merge waits on the
// test's outbox lock.
func waitForBlockedMerge(t *testing.T, db *pgx.Conn) int {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var name string
		// The merge sends its closing writes in one batch, so the
		// statement pg_stat_activity shows is not the insert: the
		// ungranted lock on the outbox is what tells.
		err := db.QueryRow(context.Background(), `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)
			WHERE NOT l.granted AND l.relation = 'outbox'::regclass AND l.mode = 'RowExclusiveLock'
				AND a.application_name LIKE 'geocommuns-%'`).Scan(&name)
		if err == nil {
			var i int
			if _, err := fmt.Sscanf(name, "geocommuns-%d", &i); err != nil {
				t.Fatal(err)
			}
			return i
		}
		if err != pgx.ErrNoRows {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no process started merging the large changeset; the processes' connections:\n%s", activity(db))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitBackendsGone(t *testing.T, db *pgx.Conn, name string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var n int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections of the killed process are still open", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkMerges: one outbox row per changeset, merge_seq 1..n, merge times
// in merge_seq order, every merged change with its final version.
func checkMerges(t *testing.T, db *pgx.Conn, changesets []int64) {
	t.Helper()
	ctx := context.Background()
	rows, err := db.Query(ctx, `SELECT merge_seq, changeset_id, merged_at FROM outbox ORDER BY merge_seq`)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	var last time.Time
	var seq int64
	for rows.Next() {
		var s, cs int64
		var at time.Time
		if err := rows.Scan(&s, &cs, &at); err != nil {
			t.Fatal(err)
		}
		seq++
		if s != seq {
			t.Fatalf("merge_seq %d follows %d: not gapless", s, seq-1)
		}
		if seen[cs] {
			t.Fatalf("changeset %d merged twice", cs)
		}
		seen[cs] = true
		if at.Before(last) {
			t.Fatalf("merge_seq %d merged at %v, before the merge before it (%v)", s, at, last)
		}
		last = at
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, cs := range changesets {
		if !seen[cs] {
			t.Errorf("changeset %d has no merge", cs)
		}
	}
	if len(seen) != len(changesets) {
		t.Errorf("%d merges for %d changesets", len(seen), len(changesets))
	}
	var lastSeq int64
	if err := db.QueryRow(ctx, `SELECT last_seq FROM replication_state`).Scan(&lastSeq); err != nil || lastSeq != seq {
		t.Errorf("replication_state.last_seq %d (%v), want %d", lastSeq, err, seq)
	}
	var unresolved int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM pending_changes p JOIN changesets c ON c.id = p.changeset_id
		WHERE c.review_state = 'merged' AND p.final_version IS NULL`).Scan(&unresolved); err != nil || unresolved != 0 {
		t.Errorf("%d merged pending changes without a final version (%v)", unresolved, err)
	}
}

// checkVersions: every element's versions are 1..n with one current one,
// and each ends at the version its author's last diffResult gave (the
// stacked changesets merge one version each).
func checkVersions(t *testing.T, db *pgx.Conn, clients []*mapper, bigNodes []int64) {
	t.Helper()
	ctx := context.Background()
	for _, table := range []string{"nodes", "ways"} {
		var gaps, currents, elements int
		if err := db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE version <> rn), count(*) FILTER (WHERE is_current), count(DISTINCT id)
			FROM (SELECT id, version, is_current, row_number() OVER (PARTITION BY id ORDER BY version) AS rn FROM `+table+`) v`).Scan(&gaps, &currents, &elements); err != nil {
			t.Fatal(err)
		}
		if gaps != 0 || currents != elements {
			t.Errorf("%s: %d versions out of sequence, %d current versions for %d elements", table, gaps, currents, elements)
		}
	}
	for i, c := range clients {
		for _, kind := range []struct {
			table    string
			versions map[int64]int
		}{{"nodes", c.nodes}, {"ways", c.ways}} {
			for id, want := range kind.versions {
				var got int
				if err := db.QueryRow(ctx, `SELECT version FROM `+kind.table+` WHERE id = $1 AND is_current`, id).Scan(&got); err != nil {
					t.Fatalf("client %d: %s %d: %v", i, kind.table, id, err)
				}
				if got != want {
					t.Errorf("client %d: %s %d is at version %d, its last diffResult said %d", i, kind.table, id, got, want)
				}
			}
		}
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM nodes WHERE id = ANY($1) AND is_current AND version = 1`, bigNodes).Scan(&n); err != nil || n != len(bigNodes) {
		t.Errorf("%d of the large changeset's %d nodes are in the dataset once (%v)", n, len(bigNodes), err)
	}
}

// mapper is one editor: it creates a small way, then moves its nodes and
// retags its way, one changeset after another, citing the versions of its
// last diffResult (design.md: provisional versions resolve to the
// author's pending or merged changes).
type mapper struct {
	token string
	nodes map[int64]int // node id → version
	ways  map[int64]int // way id → version
	order []int64
	way   int64
	round int
}

func (m *mapper) edit(base string) (int64, error) {
	cs, err := m.open(base)
	if err != nil {
		return 0, err
	}
	var body strings.Builder
	fmt.Fprintf(&body, "<osmChange version=\"0.6\">")
	if m.way == 0 {
		body.WriteString("<create>")
		for i := range 3 {
			fmt.Fprintf(&body, `<node id="-%d" changeset="%d" lat="%d.5" lon="%d.25"/>`, i+1, cs, m.round%80, i)
		}
		fmt.Fprintf(&body, `<way id="-1" changeset="%d"><nd ref="-1"/><nd ref="-2"/><nd ref="-3"/><tag k="highway" v="track"/></way>`, cs)
		body.WriteString("</create>")
	} else {
		id := m.order[m.round%len(m.order)]
		fmt.Fprintf(&body, `<modify><node id="%d" changeset="%d" version="%d" lat="%d.125" lon="%d.5"/>`, id, cs, m.nodes[id], m.round%80, m.round%170)
		if m.round%4 == 0 {
			fmt.Fprintf(&body, `<way id="%d" changeset="%d" version="%d">`, m.way, cs, m.ways[m.way])
			for _, n := range m.order {
				fmt.Fprintf(&body, `<nd ref="%d"/>`, n)
			}
			fmt.Fprintf(&body, `<tag k="highway" v="track"/><tag k="note" v="round %d"/></way>`, m.round)
		}
		body.WriteString("</modify>")
	}
	body.WriteString("</osmChange>")
	diff, err := m.upload(base, cs, body.String())
	if err != nil {
		return 0, err
	}
	for _, d := range diff {
		switch d.kind {
		case "node":
			if _, known := m.nodes[d.NewID]; !known {
				m.order = append(m.order, d.NewID)
			}
			m.nodes[d.NewID] = d.NewVersion
		case "way":
			m.way = d.NewID
			m.ways[d.NewID] = d.NewVersion
		}
	}
	m.round++
	return cs, m.close(base, cs)
}

// createMany uploads n new nodes in one changeset and closes it.
func (m *mapper) createMany(base string, n int) (int64, []int64, error) {
	cs, err := m.open(base)
	if err != nil {
		return 0, nil, err
	}
	var body strings.Builder
	body.WriteString(`<osmChange version="0.6"><create>`)
	for i := range n {
		fmt.Fprintf(&body, `<node id="-%d" changeset="%d" lat="%.5f" lon="%.5f"><tag k="survey" v="%d"/></node>`, i+1, cs, 10+float64(i/100)*0.001, 20+float64(i%100)*0.001, i)
	}
	body.WriteString(`</create></osmChange>`)
	diff, err := m.upload(base, cs, body.String())
	if err != nil {
		return 0, nil, err
	}
	ids := make([]int64, len(diff))
	for i, d := range diff {
		ids[i] = d.NewID
	}
	return cs, ids, m.close(base, cs)
}

type diffEntry struct {
	kind       string
	NewID      int64 `xml:"new_id,attr"`
	NewVersion int   `xml:"new_version,attr"`
}

func (m *mapper) do(method, u, body string) (string, error) {
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+m.token)
	req.Header.Set("Content-Type", "text/xml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, b)
	}
	return string(b), nil
}

func (m *mapper) open(base string) (int64, error) {
	b, err := m.do(http.MethodPut, base+"/api/0.6/changeset/create",
		`<osm><changeset><tag k="comment" v="merge across processes"/></changeset></osm>`)
	if err != nil {
		return 0, err
	}
	var id int64
	_, err = fmt.Sscan(strings.TrimSpace(b), &id)
	return id, err
}

func (m *mapper) upload(base string, cs int64, osc string) ([]diffEntry, error) {
	b, err := m.do(http.MethodPost, fmt.Sprintf("%s/api/0.6/changeset/%d/upload", base, cs), osc)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Entries []struct {
			XMLName xml.Name
			diffEntry
		} `xml:",any"`
	}
	if err := xml.Unmarshal([]byte(b), &doc); err != nil {
		return nil, fmt.Errorf("diffResult: %w", err)
	}
	out := make([]diffEntry, len(doc.Entries))
	for i, e := range doc.Entries {
		out[i] = e.diffEntry
		out[i].kind = e.XMLName.Local
	}
	return out, nil
}

func (m *mapper) close(base string, cs int64) error {
	_, err := m.do(http.MethodPut, fmt.Sprintf("%s/api/0.6/changeset/%d/close", base, cs), "")
	return err
}

// activity describes the processes' busy connections and the locks they
// wait for, for failure messages.
func activity(db *pgx.Conn) string {
	rows, err := db.Query(context.Background(), `SELECT a.application_name, a.pid, pg_blocking_pids(a.pid)::text,
			coalesce(a.wait_event_type || ':' || a.wait_event, ''),
			coalesce((SELECT string_agg(l.mode || ' on ' || coalesce(l.relation::regclass::text, l.locktype), ', ')
				FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted), ''),
			left(regexp_replace(a.query, '\s+', ' ', 'g'), 90)
		FROM pg_stat_activity a WHERE a.state <> 'idle' AND a.pid <> pg_backend_pid() ORDER BY 1, 2`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var app, blockers, wait, waitsFor, query string
		var pid int
		if err := rows.Scan(&app, &pid, &blockers, &wait, &waitsFor, &query); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "%s pid %d blocked by %s, %s, waits for [%s]: %s\n", app, pid, blockers, wait, waitsFor, query)
	}
	return b.String()
}
