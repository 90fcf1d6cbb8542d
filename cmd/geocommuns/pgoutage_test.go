package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geocommuns/geocommuns/storage/postgres/pgtest"
)

// unavailableText is the OSM API's answer while the database is away
// (editing.ErrUnavailable's golden row).
const unavailableText = "Database unavailable, retry later"

// callBound is how long any request may take while PostgreSQL stops,
// is away and starts again: far above a request that fails fast (a
// refused connection answers at once), far below a hang, generous for a
// shared two-core machine.
const callBound = 10 * time.Second

// recoveryBound is how long the server may take to serve writes again
// once PostgreSQL is back.
const recoveryBound = time.Minute

// TestPostgresRestartUnderLoad (issue 9, outages): `geocommuns serve` on a
// PostgreSQL of the test's own, under a load of concurrent clients (map
// and element reads, changeset create, upload and close, a Connect call,
// the readiness probe), while PostgreSQL is stopped (pg_ctl stop -m fast),
// kept down a few seconds and started again. While it is away every
// request is answered at once with 503 and Retry-After (the OSM API's
// text naming the cause, Connect's unavailable, /readyz 503), never 500
// and never a hang; once it is back the same process serves reads and
// writes again, and its merge job, NATS relay and replication cutter
// resume: every changeset closed merges, merge_seq and every element's
// versions are gapless, every diffResult's element is in the dataset, no
// upload is half kept, and a Subscribe consumer whose stream the outage
// ended (unavailable) and who resumed from its last merge_seq holds
// every merge once, in order. Twice: a fast stop (every session ended with
// 57P01, a clean shutdown) and an immediate one (the server's processes
// killed, connections cut, crash recovery at the next start).
func TestPostgresRestartUnderLoad(t *testing.T) {
	for _, mode := range []string{"fast", "immediate"} {
		t.Run(mode, func(t *testing.T) { testRestartUnderLoad(t, mode) })
	}
}

func testRestartUnderLoad(t *testing.T, stopMode string) {
	ctx := context.Background()
	cluster := pgtest.StartCluster(t)
	dbURL, err := cluster.CreateDatabase(ctx, "geocommuns")
	if err != nil {
		t.Fatal(err)
	}
	flags := []string{"--postgres", dbURL}
	if r := runBinary(t, nil, append([]string{"migrate"}, flags...)...); r.exit != 0 {
		t.Fatalf("migrate: %d %s", r.exit, r.stderr)
	}
	const nWriters = 3
	mappers := trustedMappers(t, flags, nWriters)
	natsAddr := freeAddr(t)
	srv := startServe(t, "--postgres", dbURL, "--data", filepath.Join(t.TempDir(), "data"), "--nats-listen", natsAddr,
		"--merge-poll", "300ms", "--replication-interval", "0", "--write-rate", "0")
	pid := srv.cmd.Process.Pid

	// One edit first, so that the readers have a node and a box to read.
	calls := &outageCalls{}
	writers := make([]*outageWriter, nWriters)
	for i, m := range mappers {
		writers[i] = &outageWriter{mapper: m, base: srv.base, calls: calls, nth: i}
	}
	seed, err := writers[0].round(nil)
	if err != nil {
		t.Fatalf("the first edit: %v\n%s", err, srv.log())
	}
	// Anonymous reads see it once merged.
	waitMerged(t, connectSchema(t, dbURL, "public"), 1)
	subscriber := startOutageSubscriber(t, srv.base)
	var seedNode int64
	for id := range mappers[0].nodes {
		seedNode = id
	}
	reads := []struct{ kind, method, path, token, body string }{
		{"map", http.MethodGet, "/api/0.6/map?bbox=0,1,0.5,1.4", "", ""},
		{"node", http.MethodGet, fmt.Sprintf("/api/0.6/node/%d", seedNode), "", ""},
		{"connect", http.MethodPost, "/geocommuns.v1.MapService/GetElement", mappers[0].token,
			fmt.Sprintf(`{"type":"ELEMENT_TYPE_NODE","id":"%d"}`, seedNode)},
		{"readyz", http.MethodGet, "/readyz", "", ""},
	}

	stop := make(chan struct{})
	var load sync.WaitGroup
	var closedMu sync.Mutex
	closed := []int64{seed}
	for _, w := range writers {
		load.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				cs, err := w.round(stop)
				if err != nil {
					t.Errorf("writer %d: %v", w.nth, err)
					return
				}
				if cs != 0 {
					closedMu.Lock()
					closed = append(closed, cs)
					closedMu.Unlock()
				}
			}
		})
	}
	// The writers wait out the outage inside their changesets: this one
	// opens changesets and closes them empty, so that opening one meets
	// the outage too (and the open changesets stay under the per-user
	// limit). The closes, which wait out the outage, run beside the
	// opening, so that a close waiting cannot keep the opener from
	// meeting the outage.
	opener := &outageWriter{mapper: mappers[nWriters-1], base: srv.base, calls: calls, nth: nWriters - 1}
	var emptyClosed []int64
	toClose := make(chan int64, 4096)
	load.Go(func() {
		defer close(toClose)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if len(toClose) > 50 {
				continue // the closes lag: stay far under the open changesets' limit
			}
			c := calls.do(srv.base, "create", http.MethodPut, "/api/0.6/changeset/create", opener.mapper.token,
				`<osm><changeset><tag k="comment" v="opened during the outage"/></changeset></osm>`)
			var cs int64
			if c.status != http.StatusOK {
				continue
			}
			if _, err := fmt.Sscan(c.body, &cs); err != nil {
				t.Errorf("changeset create: %q: %v", c.body, err)
				return
			}
			toClose <- cs
		}
	})
	load.Go(func() {
		for cs := range toClose {
			if _, err := opener.step(nil, "close", http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", cs), "", true); err != nil {
				t.Errorf("opener: %v", err)
				continue
			}
			emptyClosed = append(emptyClosed, cs)
		}
	})
	for _, rd := range reads {
		load.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				calls.do(srv.base, rd.kind, rd.method, rd.path, rd.token, rd.body)
			}
		})
	}

	time.Sleep(1500 * time.Millisecond)
	stopping := time.Now()
	if err := cluster.Stop(stopMode); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	time.Sleep(4 * time.Second)
	starting := time.Now()
	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	up := time.Now()
	// Load goes on until every writer has closed a changeset it opened
	// after PostgreSQL came back, and a little longer.
	deadline := up.Add(recoveryBound)
	for !calls.allWritersRecovered(up, nWriters) {
		if time.Now().After(deadline) {
			close(stop)
			load.Wait()
			t.Fatalf("writes did not succeed within %s of PostgreSQL's start\n%s\nserver log:\n%s", recoveryBound, calls.summary(up), srv.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	close(stop)
	load.Wait()
	t.Logf("PostgreSQL stopped (-m %s) in %s, down %s, started in %s; %s", stopMode, down.Sub(stopping).Round(time.Millisecond),
		starting.Sub(down).Round(time.Millisecond), up.Sub(starting).Round(time.Millisecond), calls.summary(up))

	checkOutageAnswers(t, calls, down, starting, up)

	// The same process, never restarted.
	select {
	case err := <-srv.done:
		t.Fatalf("serve exited (%v) during the outage\n%s", err, srv.log())
	default:
	}
	if srv.cmd.Process.Pid != pid {
		t.Fatalf("serve's pid changed from %d to %d", pid, srv.cmd.Process.Pid)
	}

	// Nothing lost, nothing half kept, every job back at work.
	db := connectSchema(t, dbURL, "public")
	closed = append(closed, emptyClosed...)
	waitMerged(t, db, len(closed))
	checkMerges(t, db, closed)
	checkVersions(t, db, mappers, nil)
	checkWholeUploads(t, db)
	var merges int
	if err := db.QueryRow(ctx, `SELECT last_seq FROM replication_state`).Scan(&merges); err != nil {
		t.Fatal(err)
	}
	subscriber.check(t, db, int64(merges), stopping, down, starting)
	waitReplicated(t, db, merges)
	published := readMerges(t, "nats://"+natsAddr, merges)
	for i, mc := range published {
		if mc.GetMergeSeq() != int64(i+1) {
			t.Fatalf("NATS message %d carries merge_seq %d, want %d", i, mc.GetMergeSeq(), i+1)
		}
	}
	if code := srv.stop(t); code != 0 {
		t.Errorf("exit status %d after SIGTERM\n%s", code, srv.log())
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// checkOutageAnswers: no answer but 200 and 503, none slower than
// callBound; every request made while PostgreSQL was down answered 503
// with Retry-After and the cause; every kind of request met the outage
// and succeeded again after it.
func checkOutageAnswers(t *testing.T, calls *outageCalls, down, starting, up time.Time) {
	t.Helper()
	unavailable := map[string]int{}
	recovered := map[string]int{}
	for _, c := range calls.all() {
		took := c.end.Sub(c.start)
		switch {
		case c.err != nil:
			t.Errorf("%s %s: %v after %s", c.kind, c.path, c.err, took)
			continue
		case took > callBound:
			t.Errorf("%s %s took %s (answered %d), over %s", c.kind, c.path, took, c.status, callBound)
		case c.status != http.StatusOK && c.status != http.StatusServiceUnavailable:
			t.Errorf("%s %s at %s: %d %q, want 200 or 503", c.kind, c.path, c.start.Format("15:04:05.000"), c.status, c.body)
		}
		if c.status == http.StatusServiceUnavailable {
			unavailable[c.kind]++
			if c.retryAfter == "" {
				t.Errorf("%s %s: 503 without Retry-After", c.kind, c.path)
			}
			switch c.kind {
			case "connect":
				var e struct{ Code, Message string }
				if err := json.Unmarshal([]byte(c.body), &e); err != nil || e.Code != "unavailable" || e.Message != unavailableText {
					t.Errorf("Connect's answer while the database is away: %q, want code unavailable, message %q", c.body, unavailableText)
				}
			case "readyz":
			default:
				if c.body != unavailableText {
					t.Errorf("%s %s: 503 %q, want %q", c.kind, c.path, c.body, unavailableText)
				}
			}
		}
		if c.start.After(down) && c.end.Before(starting) && c.status != http.StatusServiceUnavailable {
			t.Errorf("%s %s made while PostgreSQL was down answered %d %q", c.kind, c.path, c.status, c.body)
		}
		if c.start.After(up) && c.status == http.StatusOK {
			recovered[c.kind]++
		}
	}
	for _, kind := range []string{"map", "node", "connect", "readyz", "create"} {
		if unavailable[kind] == 0 {
			t.Errorf("no %s request met the outage: the test did not test it (%v)", kind, unavailable)
		}
	}
	for _, kind := range []string{"map", "node", "connect", "readyz", "create", "upload", "close"} {
		if recovered[kind] == 0 {
			t.Errorf("no %s request succeeded after PostgreSQL came back (%v)", kind, recovered)
		}
	}
}

// checkWholeUploads: every upload is 3 nodes and a way, so a changeset
// holding a number of changes that is not a multiple of 4 kept part of
// one.
func checkWholeUploads(t *testing.T, db *pgx.Conn) {
	t.Helper()
	var partial int
	if err := db.QueryRow(context.Background(), `SELECT count(*) FROM (SELECT changeset_id FROM pending_changes
		GROUP BY changeset_id HAVING count(*) % 4 <> 0) p`).Scan(&partial); err != nil {
		t.Fatal(err)
	}
	if partial != 0 {
		t.Errorf("%d changesets kept part of an upload", partial)
	}
}

// waitReplicated waits until the replication feed's files cover every
// merge.
func waitReplicated(t *testing.T, db *pgx.Conn, merges int) {
	t.Helper()
	deadline := time.Now().Add(recoveryBound)
	for {
		var covered int
		if err := db.QueryRow(context.Background(), `SELECT coalesce(max(last_merge_seq), 0) FROM replication_files`).Scan(&covered); err != nil {
			t.Fatal(err)
		}
		if covered == merges {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replication files cover merges up to %d of %d", covered, merges)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// outageCall is one request of the load and its answer.
type outageCall struct {
	kind, path string
	start, end time.Time
	status     int
	retryAfter string
	body       string
	err        error
}

type outageCalls struct {
	mu    sync.Mutex
	calls []outageCall
	// closedAt holds, by writer, when each changeset it closed was opened.
	closedAt map[int][]time.Time
}

var outageClient = &http.Client{Timeout: 3 * callBound}

// do makes one request and records it.
func (o *outageCalls) do(base, kind, method, path, token, body string) outageCall {
	c := outageCall{kind: kind, path: path, start: time.Now()}
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		panic(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if kind == "connect" {
		req.Header.Set("Content-Type", "application/json")
	} else if body != "" {
		req.Header.Set("Content-Type", "text/xml")
	}
	resp, err := outageClient.Do(req)
	if err == nil {
		var b []byte
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		c.status, c.body, c.retryAfter = resp.StatusCode, strings.TrimSpace(string(b)), resp.Header.Get("Retry-After")
	}
	c.end, c.err = time.Now(), err
	o.mu.Lock()
	o.calls = append(o.calls, c)
	o.mu.Unlock()
	return c
}

func (o *outageCalls) all() []outageCall {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]outageCall(nil), o.calls...)
}

func (o *outageCalls) recordClose(writer int, opened time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closedAt == nil {
		o.closedAt = map[int][]time.Time{}
	}
	o.closedAt[writer] = append(o.closedAt[writer], opened)
}

// allWritersRecovered tells whether each writer has closed a changeset
// it opened after since.
func (o *outageCalls) allWritersRecovered(since time.Time, writers int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for w := range writers {
		ok := false
		for _, at := range o.closedAt[w] {
			ok = ok || at.After(since)
		}
		if !ok {
			return false
		}
	}
	return true
}

// summary counts the answers by kind and status, before and after up.
func (o *outageCalls) summary(up time.Time) string {
	counts := map[string]int{}
	for _, c := range o.all() {
		phase := "before"
		if c.start.After(up) {
			phase = "after"
		}
		status := fmt.Sprint(c.status)
		if c.err != nil {
			status = "error"
		}
		counts[fmt.Sprintf("%s %s %s", phase, c.kind, status)]++
	}
	return fmt.Sprintf("answers: %v", counts)
}

// outageWriter edits as an OSM editor does: it opens a changeset, uploads
// 3 nodes and a way, closes it; each step answered 503 is retried, as
// Retry-After asks (sooner, to keep the test short).
type outageWriter struct {
	mapper *mapper
	base   string
	calls  *outageCalls
	nth    int
}

// round makes one changeset and returns its id once closed, or 0 when
// stop came first.
func (w *outageWriter) round(stop <-chan struct{}) (int64, error) {
	opened := time.Now()
	b, err := w.step(stop, "create", http.MethodPut, "/api/0.6/changeset/create",
		`<osm><changeset><tag k="comment" v="outage"/></changeset></osm>`, false)
	if b == "" || err != nil {
		return 0, err
	}
	var cs int64
	if _, err := fmt.Sscan(b, &cs); err != nil {
		return 0, fmt.Errorf("changeset create: %q: %w", b, err)
	}
	var osc strings.Builder
	fmt.Fprintf(&osc, `<osmChange version="0.6"><create>`)
	for i := range 3 {
		fmt.Fprintf(&osc, `<node id="-%d" changeset="%d" lat="1.%d" lon="%d.%d"/>`, i+1, cs, w.nth, i, w.nth)
	}
	fmt.Fprintf(&osc, `<way id="-1" changeset="%d"><nd ref="-1"/><nd ref="-2"/><nd ref="-3"/><tag k="highway" v="track"/></way>`, cs)
	osc.WriteString(`</create></osmChange>`)
	// The upload goes on after stop: a changeset left open would never
	// merge, and the test counts on every one it began.
	b, err = w.step(nil, "upload", http.MethodPost, fmt.Sprintf("/api/0.6/changeset/%d/upload", cs), osc.String(), false)
	if err != nil {
		return 0, err
	}
	var doc struct {
		Entries []struct {
			XMLName    xml.Name
			NewID      int64 `xml:"new_id,attr"`
			NewVersion int   `xml:"new_version,attr"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal([]byte(b), &doc); err != nil {
		return 0, fmt.Errorf("diffResult of changeset %d: %w: %q", cs, err, b)
	}
	for _, e := range doc.Entries {
		switch e.XMLName.Local {
		case "node":
			w.mapper.nodes[e.NewID] = e.NewVersion
		case "way":
			w.mapper.ways[e.NewID] = e.NewVersion
		}
	}
	// A close answered 503 may still have committed: a second close then
	// finds the changeset closed (409), which is the close done.
	if _, err := w.step(nil, "close", http.MethodPut, fmt.Sprintf("/api/0.6/changeset/%d/close", cs), "", true); err != nil {
		return 0, err
	}
	w.calls.recordClose(w.nth, opened)
	return cs, nil
}

// step makes one request until it is answered other than 503, and
// returns the body of its 200. Without stop it retries until
// recoveryBound has passed.
func (w *outageWriter) step(stop <-chan struct{}, kind, method, path, body string, closing bool) (string, error) {
	deadline := time.Now().Add(2 * recoveryBound)
	retried := false
	for {
		c := w.calls.do(w.base, kind, method, path, w.mapper.token, body)
		switch {
		case c.err != nil:
			return "", fmt.Errorf("%s %s: %w", method, path, c.err)
		case c.status == http.StatusOK:
			return c.body, nil
		case closing && retried && c.status == http.StatusConflict:
			return c.body, nil
		case c.status != http.StatusServiceUnavailable:
			return "", fmt.Errorf("%s %s: %d %q", method, path, c.status, c.body)
		}
		retried = true
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s %s: still 503 after %s", method, path, 2*recoveryBound)
		}
		select {
		case <-stop:
			return "", nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}
