package clientstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/geocommuns/geocommuns/server/servetest"
	"github.com/paulmach/osm"
)

// Debian's python3-osmapi 3.1.0, unmodified, run by Debian's python
// (the python3 on PATH may be another one, without the package), signs
// in with HTTP Basic and the author's password.
const debianPython = "/usr/bin/python3"

// pyOutcome is one step of python/osmapi_session.py: what osmapi
// returned, or the error it raised.
type pyOutcome struct {
	Value json.RawMessage `json:"value"`
	Error *struct {
		Type    string `json:"type"`
		Status  int    `json:"status"`
		Payload string `json:"payload"`
		Message string `json:"message"`
	} `json:"error"`
}

// The dictionaries osmapi returns, as JSON.
type (
	pyNode struct {
		ID        int64             `json:"id"`
		Version   int               `json:"version"`
		Changeset int64             `json:"changeset"`
		User      string            `json:"user"`
		Visible   bool              `json:"visible"`
		Lat       float64           `json:"lat"`
		Lon       float64           `json:"lon"`
		Tag       map[string]string `json:"tag"`
	}
	pyWay struct {
		ID        int64             `json:"id"`
		Version   int               `json:"version"`
		Changeset int64             `json:"changeset"`
		User      string            `json:"user"`
		Nd        []int64           `json:"nd"`
		Tag       map[string]string `json:"tag"`
	}
	pyChange struct {
		Type   string          `json:"type"`
		Action string          `json:"action"`
		Data   json.RawMessage `json:"data"`
	}
	pyChangeset struct {
		ID           int64             `json:"id"`
		Open         bool              `json:"open"`
		User         string            `json:"user"`
		ReviewState  string            `json:"review_state"`
		ChangesCount string            `json:"changes_count"`
		Tag          map[string]string `json:"tag"`
	}
)

type pySession map[string]pyOutcome

// value decodes the step's value; a step that is missing or failed fails
// the test (and answers false).
func pyValue[T any](t *testing.T, out pySession, step string) (T, bool) {
	t.Helper()
	var v T
	o, ok := out[step]
	switch {
	case !ok:
		t.Errorf("osmapi session: no %s (an earlier step failed)", step)
		return v, false
	case o.Error != nil:
		t.Errorf("osmapi %s: %s %d %q (%s)", step, o.Error.Type, o.Error.Status, o.Error.Payload, o.Error.Message)
		return v, false
	}
	if err := json.Unmarshal(o.Value, &v); err != nil {
		t.Errorf("osmapi %s: decode %s: %v", step, o.Value, err)
		return v, false
	}
	return v, true
}

func pyDecode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Errorf("decode %s: %v", raw, err)
	}
	return v
}

func runPythonOsmapi(t *testing.T, s *session) pySession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, debianPython, filepath.Join("python", "osmapi_session.py"))
	cmd.Env = append(os.Environ(),
		"OSM_API_URL="+s.server.Base, "OSM_USER="+s.author, "OSM_PASSWORD="+s.password,
		"CLIENTSTEST_FIXTURE="+fixtureJSON(t))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("python osmapi session: %v\nstdout: %s\nstderr: %s\nserver log:\n%s", err, stdout.String(), stderr.String(), s.server.Log())
	}
	var out pySession
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("python osmapi session printed %q: %v\nstderr: %s", stdout.String(), err, stderr.String())
	}
	return out
}

// TestPythonOsmapi drives create → upload → close → read back with
// python3-osmapi on both backends: single-element creates and an update
// citing the provisional version NodeCreate gave, an osmChange that
// creates, modifies and deletes (osmapi maps its diffResult by
// position), close, the author's reads of everything, then a second
// changeset citing the first one's provisional versions, which stacks.
// An anonymous reader sees none of it.
func TestPythonOsmapi(t *testing.T) {
	_, err := exec.Command(debianPython, "-c", "import osmapi").CombinedOutput()
	servetest.RequireTool(t, "python3-osmapi for "+debianPython, "scripts/setup installs the Debian package python3-osmapi", err)

	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			// python-requests sends Basic credentials in Latin-1, not the
			// UTF-8 the server announces (charset="UTF-8"), so an accented
			// name cannot sign in with osmapi: the author's name is ASCII.
			s := newSession(t, backend, "Elise Mapper")
			out := runPythonOsmapi(t, s)
			checkPythonSession(t, s, out)
			// Whatever the author did, nobody else sees it.
			var created []osm.FeatureID
			for _, step := range []string{"bench_create", "end_create"} {
				if n, ok := pyValue[pyNode](t, out, step); ok {
					created = append(created, osm.NodeID(n.ID).FeatureID())
				}
			}
			if w, ok := pyValue[pyWay](t, out, "footway_create"); ok {
				created = append(created, osm.WayID(w.ID).FeatureID())
			}
			if up, ok := pyValue[[]pyChange](t, out, "upload1"); ok && len(up) > 0 {
				created = append(created, osm.NodeID(pyDecode[pyNode](t, up[0].Data).ID).FeatureID())
			}
			checkAnonymousSeesFixture(t, s.server.Base, created)
		})
	}
}

func checkPythonSession(t *testing.T, s *session, out pySession) {
	t.Helper()
	cs1, ok1 := pyValue[int64](t, out, "changeset1")
	bench, ok2 := pyValue[pyNode](t, out, "bench_create")
	end, ok3 := pyValue[pyNode](t, out, "end_create")
	footway, ok4 := pyValue[pyWay](t, out, "footway_create")
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return
	}
	// Ids are allocated above the imported ones, final at upload.
	if bench.ID <= gate.ID || end.ID <= gate.ID || bench.ID == end.ID || footway.ID <= serviceWay.ID {
		t.Errorf("NodeCreate gave ids %d and %d, WayCreate %d; want new ids above the imported nodes (%d) and ways (%d)",
			bench.ID, end.ID, footway.ID, gate.ID, serviceWay.ID)
	}
	if updated, ok := pyValue[pyNode](t, out, "bench_update"); ok && updated.Version != 2 {
		t.Errorf("NodeUpdate citing version 1 of the node just created answered version %d, want 2", updated.Version)
	}

	up, ok := pyValue[[]pyChange](t, out, "upload1")
	if !ok {
		return
	}
	var entrance pyNode
	if len(up) != 4 {
		t.Fatalf("ChangesetUpload returned %d changes, want the 4 sent", len(up))
	}
	entrance = pyDecode[pyNode](t, up[0].Data)
	if entrance.ID <= gate.ID || entrance.ID == bench.ID || entrance.ID == end.ID || entrance.Version != 1 {
		t.Errorf("the created node came back as id %d v%d; want a new id, version 1", entrance.ID, entrance.Version)
	}
	if w := pyDecode[pyWay](t, up[1].Data); w.ID != footway.ID || w.Version != 2 {
		t.Errorf("the modified way came back as %d v%d, want %d v2", w.ID, w.Version, footway.ID)
	}
	if n := pyDecode[pyNode](t, up[2].Data); n.ID != cafe.ID || n.Version != cafe.Version+1 {
		t.Errorf("the modified café came back as %d v%d, want %d v%d", n.ID, n.Version, cafe.ID, cafe.Version+1)
	}
	if d := pyDecode[map[string]any](t, up[3].Data); d["version"] != nil || d["id"] != float64(gate.ID) {
		t.Errorf("the deleted gate came back as %v; want its id without a version (osmapi drops it for deletes)", d)
	}
	if closed, ok := pyValue[int64](t, out, "close1"); ok && closed != cs1 {
		t.Errorf("ChangesetClose closed %d, want %d", closed, cs1)
	}

	// The author reads back the first changeset's work.
	checkPyNode(t, out, "bench_get", s.author, cs1, bench.ID, 2, map[string]string{"amenity": "bench", "backrest": "no"})
	checkPyNode(t, out, "cafe_get", s.author, cs1, cafe.ID, cafe.Version+1, withTag(cafe.Tags, "name", "Le Nouveau Café"))
	wantNodes := []int64{bench.ID, end.ID, entrance.ID}
	checkPyWay(t, out, "footway_get", s.author, cs1, footway.ID, 2, wantNodes, map[string]string{"highway": "footway", "surface": "gravel"})
	if full, ok := pyValue[[]pyChange](t, out, "footway_full"); ok {
		var got []string
		for _, e := range full {
			d := pyDecode[map[string]any](t, e.Data)
			got = append(got, fmt.Sprintf("%s %v v%v", e.Type, d["id"], d["version"]))
		}
		want := []string{
			fmt.Sprintf("node %d v2", bench.ID), fmt.Sprintf("node %d v1", end.ID), fmt.Sprintf("node %d v1", entrance.ID),
			fmt.Sprintf("way %d v2", footway.ID),
		}
		if !slices.Equal(got, want) {
			t.Errorf("WayFull read %v, want %v", got, want)
		}
	}
	if ways, ok := pyValue[[]pyWay](t, out, "bench_ways"); ok && (len(ways) != 1 || ways[0].ID != footway.ID || ways[0].Version != 2) {
		t.Errorf("NodeWays of the bench read %+v, want the footway at version 2", ways)
	}
	if m, ok := pyValue[[]pyChange](t, out, "map"); ok {
		var got []string
		for _, e := range m {
			d := pyDecode[map[string]any](t, e.Data)
			got = append(got, fmt.Sprintf("%s %v v%v", e.Type, d["id"], d["version"]))
		}
		slices.Sort(got)
		want := []string{
			fmt.Sprintf("node %d v2", bench.ID), fmt.Sprintf("node %d v1", end.ID), fmt.Sprintf("node %d v1", entrance.ID),
			fmt.Sprintf("way %d v2", footway.ID),
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("Map around the footway read %v, want %v", got, want)
		}
	}
	if o := out["gate_get"]; o.Error == nil || o.Error.Type != "ElementDeletedApiError" || o.Error.Status != 410 {
		t.Errorf("NodeGet of the gate the author deleted: %+v; want ElementDeletedApiError (410)", o)
	}
	checkPyWay(t, out, "service_way_get", "importer", 11, serviceWay.ID, serviceWay.Version, serviceWay.Nodes, serviceWay.Tags)
	if cs, ok := pyValue[pyChangeset](t, out, "changeset1_get"); ok {
		if cs.ID != cs1 || cs.Open || cs.ReviewState != "submitted" || cs.User != s.author ||
			cs.Tag["comment"] != "python osmapi: a footway with a bench" || cs.Tag["created_by"] != "osmapi/3.1.0" || cs.ChangesCount != "8" {
			t.Errorf("ChangesetGet after close: %+v; want closed, review_state submitted, by %s, 8 changes, its tags", cs, s.author)
		}
	}
	if dl, ok := pyValue[[]pyChange](t, out, "changeset1_download"); ok {
		var got []string
		for _, c := range dl {
			d := pyDecode[map[string]any](t, c.Data)
			got = append(got, fmt.Sprintf("%s %s %v v%v", c.Action, c.Type, d["id"], d["version"]))
		}
		slices.Sort(got)
		want := []string{
			fmt.Sprintf("create node %d v1", end.ID), fmt.Sprintf("create node %d v1", entrance.ID),
			fmt.Sprintf("create node %d v2", bench.ID), fmt.Sprintf("create way %d v2", footway.ID),
			fmt.Sprintf("delete node %d v%d", gate.ID, gate.Version+1), fmt.Sprintf("modify node %d v%d", cafe.ID, cafe.Version+1),
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("ChangesetDownload of the first changeset: %v; want one version per element, the net change: %v", got, want)
		}
	}

	// The second changeset cites the first one's provisional versions.
	cs2, ok := pyValue[int64](t, out, "changeset2")
	if !ok {
		return
	}
	if cs2 == cs1 {
		t.Errorf("the second ChangesetCreate gave the first changeset's id %d", cs1)
	}
	if n, ok := pyValue[pyNode](t, out, "bench_update2"); ok && n.Version != 3 {
		t.Errorf("NodeUpdate citing the provisional version 2 answered version %d, want 3", n.Version)
	}
	if up2, ok := pyValue[[]pyChange](t, out, "upload2"); ok && len(up2) == 2 {
		w, n := pyDecode[pyWay](t, up2[0].Data), pyDecode[pyNode](t, up2[1].Data)
		if w.ID != footway.ID || w.Version != 3 || n.ID != cafe.ID || n.Version != cafe.Version+2 {
			t.Errorf("the stacked upload answered way %d v%d, node %d v%d; want way %d v3, node %d v%d",
				w.ID, w.Version, n.ID, n.Version, footway.ID, cafe.ID, cafe.Version+2)
		}
	}
	pyValue[int64](t, out, "close2")
	checkPyNode(t, out, "bench_get2", s.author, cs2, bench.ID, 3, map[string]string{"amenity": "bench", "backrest": "yes"})
	checkPyWay(t, out, "footway_get2", s.author, cs2, footway.ID, 3, wantNodes, map[string]string{"highway": "footway", "surface": "gravel", "lit": "no"})
	checkPyNode(t, out, "cafe_get2", s.author, cs2, cafe.ID, cafe.Version+2,
		withTag(withTag(cafe.Tags, "name", "Le Nouveau Café"), "opening_hours", "Mo-Sa 08:00-18:00"))
	if cs, ok := pyValue[pyChangeset](t, out, "changeset2_get"); ok && (cs.ID != cs2 || cs.Open || cs.ReviewState != "submitted") {
		t.Errorf("ChangesetGet of the stacked changeset: %+v; want closed and submitted", cs)
	}
}

func withTag(tags map[string]string, k, v string) map[string]string {
	m := maps.Clone(tags)
	m[k] = v
	return m
}

func checkPyNode(t *testing.T, out pySession, step, user string, changeset, id int64, version int, tags map[string]string) {
	t.Helper()
	n, ok := pyValue[pyNode](t, out, step)
	if ok && (n.ID != id || n.Version != version || n.Changeset != changeset || n.User != user || !n.Visible || !maps.Equal(n.Tag, tags)) {
		t.Errorf("osmapi %s: node %d v%d changeset %d by %q visible=%t %v; want %d v%d changeset %d by %q %v",
			step, n.ID, n.Version, n.Changeset, n.User, n.Visible, n.Tag, id, version, changeset, user, tags)
	}
}

func checkPyWay(t *testing.T, out pySession, step, user string, changeset, id int64, version int, nodes []int64, tags map[string]string) {
	t.Helper()
	w, ok := pyValue[pyWay](t, out, step)
	if ok && (w.ID != id || w.Version != version || w.Changeset != changeset || w.User != user || !slices.Equal(w.Nd, nodes) || !maps.Equal(w.Tag, tags)) {
		t.Errorf("osmapi %s: way %d v%d changeset %d by %q nodes %v %v; want %d v%d changeset %d by %q nodes %v %v",
			step, w.ID, w.Version, w.Changeset, w.User, w.Nd, w.Tag, id, version, changeset, user, nodes, tags)
	}
}
